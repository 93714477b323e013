"""Two kinds of forecast, chosen per seller on their own history in time order: logistic regression, and
gradient-boosted trees stored as plain numbers and scored in pure Python exactly as scikit-learn scores them."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from rebook.forecast import services
from rebook.forecast.models import RiskModel
from rebook.leads.models import Appointment, Cancellation, Lead
from rebook.strategy import risk

START = datetime(2025, 1, 6, tzinfo=UTC)


def crossed_history(seller, *, leads: int, seed: int = 3) -> None:
    """Meetings whose fate depends on two things together, which no weighted sum can express: an early
    meeting booked far ahead, or a late one booked days ahead, is cancelled 55% of the time; the other two
    combinations 8%. Each alone says nothing."""
    rng = random.Random(seed)
    rows = Lead.objects.bulk_create([Lead(seller=seller, name=f"L{i}", email=f"x{i}@example.com", status="active")
                                     for i in range(leads)])
    plans = []
    for lead in rows:
        booked = START + timedelta(days=rng.randrange(0, 300), hours=9)
        for _ in range(rng.randint(2, 5)):
            far, early = rng.random() < 0.5, rng.random() < 0.5
            start = (booked + timedelta(days=30 if far else 2)).replace(hour=9 if early else 15)
            cancelled = rng.random() < (0.55 if far == early else 0.08)
            plans.append((lead, booked, start, cancelled))
            booked = start + timedelta(days=rng.randint(1, 10))
    appts = Appointment.objects.bulk_create([
        Appointment(lead=lead, seller=seller, start=start, end=start + timedelta(minutes=45), timezone="UTC",
                    status="cancelled" if c else "held", booked_at=booked, booked_by="seller", chain=uuid.uuid4())
        for lead, booked, start, c in plans])
    Cancellation.objects.bulk_create([
        Cancellation(appointment=a, lead_id=a.lead_id, seller=seller, by="prospect", kind="cancel",
                     at=a.start - timedelta(hours=3), category="vague", suggested_valid=False)
        for a, (*_, c) in zip(appts, plans, strict=True) if c])


def simple_history(seller, *, leads: int, seed: int = 5) -> None:
    """Few meetings, with one plain signal: a lead who cancelled before cancels again more often."""
    from tests.forecast.test_forecast import history

    history(seller, leads=leads, rule=lambda cancels, rng: 0.6 if cancels else 0.15, seed=seed)


def test_trees_stored_as_numbers_score_exactly_as_scikit_learn_does():
    rng = np.random.default_rng(7)
    xs = rng.normal(size=(3000, 4))
    ys = (rng.random(3000) < 1 / (1 + np.exp(-(xs[:, 0] * xs[:, 1] * 2 + (xs[:, 2] > 1))))).astype(int)
    names = ("a", "b", "c", "d")
    fitted = services._fit(xs, ys, names=names, kind="trees")
    stored = json.loads(json.dumps(services._as_json(fitted.model)))  # what the database keeps
    model = services._from_json(stored)
    assert stored["kind"] == "trees" and model.kind == "trees" and len(model.trees) > 10
    probe = rng.normal(size=(400, 4))
    ours = [model.probability(dict(zip(names, row, strict=True))) for row in probe.tolist()]
    assert np.allclose(ours, fitted.predict(probe), atol=1e-12, rtol=0)
    # The reasons add up: each tree's moves along a meeting's path sum to its leaf's score less its average.
    row = dict(zip(names, probe[0].tolist(), strict=True))
    total = model.intercept + sum(t.value[0] for t in model.trees) + sum(model.pushes(row).values())
    assert total == pytest.approx(model.intercept + sum(t.score(probe[0].tolist()) for t in model.trees), abs=1e-9)


def test_a_model_stored_before_trees_existed_still_scores():
    old = {"vocabulary": {"numeric": [], "categories": []}, "names": ["prior_cancels"], "means": [0.5],
           "scales": [1.0], "weights": [1.2], "intercept": -1.0, "calibration_x": [], "calibration_y": []}
    model = services._from_json(old)
    assert model.kind == "logistic" and model.trees == ()
    assert model.probability({"prior_cancels": 2.0}) > model.probability({"prior_cancels": 0.0})
    assert model.reasons({"prior_cancels": 2.0}) == ["cancelled twice before"]


def test_trees_are_chosen_where_two_things_matter_together_and_explain_it(alice):
    crossed_history(alice, leads=700)
    result = services.evaluate(seller=alice)
    print(f"\ncrossed: chose {result['model']} ({result['choice']['why']}); test AUC by kind {result['kinds']}")
    assert result["model"] == "trees" and result["choice"]["chosen"] == "trees"
    assert result["kinds"]["trees"]["auc"] > result["kinds"]["logistic"]["auc"] + 0.1
    assert result["auc"] == result["kinds"]["trees"]["auc"] and result["auc"] > 0.68

    row = services.train(seller=alice)
    assert row.parameters["kind"] == "trees" and row.parameters["choice"]["chosen"] == "trees"
    model = services.model_for(alice)
    assert model.kind == "trees"
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    lead = Lead.objects.filter(seller=alice).first()
    risky = Appointment.objects.create(lead=lead, seller=alice, start=(now + timedelta(days=30)).replace(hour=9),
                                       end=(now + timedelta(days=30)).replace(hour=10), timezone="UTC", booked_at=now)
    calm = Appointment.objects.create(lead=lead, seller=alice, start=(now + timedelta(days=30)).replace(hour=15),
                                      end=(now + timedelta(days=30)).replace(hour=16), timezone="UTC", booked_at=now)
    found = services.risks([risky, calm], alice)
    print("trees' reasons:", found[risky.pk].reasons, str(found[risky.pk]), "/", str(found[calm.pk]))
    assert found[risky.pk].probability > 2 * found[calm.pk].probability
    assert any("weeks ahead" in r or "early in the day" in r for r in found[risky.pk].reasons)


def test_with_little_history_the_simpler_kind_is_kept(alice):
    simple_history(alice, leads=90)
    row = services.train(seller=alice)
    choice = row.parameters["choice"]
    print(f"\nlittle history: {row.n_train} meetings; {choice['why']}")
    assert row.parameters["kind"] == "logistic" and choice["chosen"] == "logistic"
    assert choice["scores"]["logistic"]["brier"] <= choice["scores"]["trees"]["brier"]

    # Too few meetings left on either side of the validation split to compare: logistic, and it says why.
    rng = np.random.default_rng(1)
    xs, ys = rng.normal(size=(230, 3)), (rng.random(230) < 0.3).astype(int)
    fitted, choice = services._choose(xs, ys, np.arange(230.0), names=("a", "b", "c"))
    assert fitted.model.kind == "logistic" and choice["scores"] == {}
    assert choice["why"].startswith("too little history to compare")


def test_the_choice_reads_the_latest_meetings_only_past_a_cap(monkeypatch):
    rng = np.random.default_rng(2)
    xs = rng.normal(size=(3000, 2))
    ys = (rng.random(3000) < 1 / (1 + np.exp(-xs[:, 0]))).astype(int)
    monkeypatch.setattr(services, "CHOOSE_ON", 1000)
    fitted, choice = services._choose(xs, ys, rng.permutation(3000).astype(float), names=("a", "b"))
    assert choice["n_validation"] == 200 and set(choice["scores"]) == {"logistic", "trees"}
    assert fitted.predict(xs).shape == (3000,)  # and the chosen kind is fitted on all 3,000


def test_each_seller_gets_the_kind_their_own_history_chose(alice, bob):
    crossed_history(alice, leads=700)
    simple_history(bob, leads=90)
    services.train(seller=alice)
    services.train(seller=bob)
    kinds = {r.seller_id: (r.parameters["kind"], r.parameters["choice"]) for r in RiskModel.objects.all()}
    print(f"\nalice: {kinds[alice.pk][1]['why']}\nbob: {kinds[bob.pk][1]['why']}")
    assert kinds[alice.pk][0] == "trees"
    assert kinds[bob.pk][0] == "logistic"  # a few hundred meetings, one plain signal: trees only overfit
    assert set(kinds[bob.pk][1]["scores"]) == {"logistic", "trees"}


def test_reasons_from_trees_name_what_pushed_the_risk_up():
    # A hand-built model: one tree splitting on prior cancellations.
    tree = risk.Tree(feature=(0, -1, -1), threshold=(0.5, 0.0, 0.0), left=(1, 0, 0), right=(2, 0, 0),
                     value=(0.0, -0.4, 1.6))
    model = risk.Model(("prior_cancels",), (), (), (), -1.0, trees=(tree,))
    assert model.reasons({"prior_cancels": 2.0}) == ["cancelled twice before"]
    assert model.reasons({"prior_cancels": 0.0}) == []
    assert model.probability({"prior_cancels": 2.0}) == pytest.approx(1 / (1 + np.exp(-0.6)))


def test_a_seller_leaning_on_the_teams_history_keeps_the_simpler_kind(alice, bob):
    crossed_history(bob, leads=700)  # the team has plenty, and trees would win on it
    simple_history(alice, leads=30)  # Alice has too little of her own: her model is blended
    row = services.train(seller=alice)
    assert row.parameters["kind"] == "logistic"
    assert "too little history of your own" in row.parameters["choice"]["why"]
    assert services.train(seller=None).parameters["kind"] == "trees"  # the team's own model may be trees
