"""The forecast, evaluated honestly: no look-ahead (coin flips give an AUC near 0.5), a known rule is found,
storage order changes nothing; the model is stored, versioned and scored."""

from __future__ import annotations

import math
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Q

from rebook.errors import RebookError
from rebook.forecast import services
from rebook.leads.models import Appointment, Cancellation, Lead

START = datetime(2025, 1, 6, 15, 0, tzinfo=UTC)


def history(seller, *, leads: int, rule, seed: int = 1, shuffle: bool = False) -> list[float]:
    """Generated meetings over a year; ``rule(prior_cancels, rng) -> (p_cancel)`` decides each outcome.
    Returns the true probabilities of the meetings in the last fifth (by start), in start order."""
    rng = random.Random(seed)
    lead_rows = Lead.objects.bulk_create([Lead(seller=seller, name=f"Lead {i}", email=f"l{i}@example.com", status="active")
                                          for i in range(leads)])
    plans = []
    for lead in lead_rows:
        t = START + timedelta(days=rng.randrange(0, 300))
        cancels = 0
        for _ in range(rng.randint(2, 6)):
            ahead = timedelta(days=rng.choice([1, 3, 7, 14, 30]))
            start = t + ahead
            p = rule(cancels, rng)
            cancelled = rng.random() < p
            plans.append((lead, t, start, cancelled, p))
            if cancelled:
                cancels += 1
            t = start + timedelta(days=rng.randint(1, 20))
    if shuffle:
        rng.shuffle(plans)
    appts = Appointment.objects.bulk_create([
        Appointment(lead=lead, seller=seller, start=start, end=start + timedelta(minutes=45), timezone="UTC",
                    status="cancelled" if c else "held", booked_at=booked, booked_by="seller", chain=uuid.uuid4())
        for lead, booked, start, c, _ in plans])
    Cancellation.objects.bulk_create([
        Cancellation(appointment=a, lead_id=a.lead_id, seller=seller, by="prospect", kind="cancel",
                     at=a.start - timedelta(hours=5), category="vague", suggested_valid=False)
        for a, (_, _, _, c, _) in zip(appts, plans, strict=True) if c])
    ordered = sorted(plans, key=lambda r: r[2])
    return [p for *_, p in ordered[int(len(ordered) * 0.8):]]


def test_coin_flips_give_an_auc_near_one_half(alice):
    history(alice, leads=400, rule=lambda cancels, rng: 0.3)
    result = services.evaluate(seller=alice)
    print(f"\ncoin flips: {result['auc']} AUC, Brier {result['brier']} against {result['base_brier']}")
    assert 0.45 <= result["auc"] <= 0.55
    assert result["brier"] >= result["base_brier"] * 0.97  # nothing to learn, nothing learnt


def test_a_known_rule_is_found_close_to_its_own_auc(alice):
    from sklearn.metrics import roc_auc_score

    history(alice, leads=500, rule=lambda cancels, rng: 0.65 if cancels else 0.12)
    result = services.evaluate(seller=alice)
    # The rule's own AUC: the true probabilities of the test meetings against what happened.
    test = Appointment.objects.filter(start__gte=result["split"]).order_by("start")
    truth = [1 if a.status == "cancelled" else 0 for a in test]
    own = roc_auc_score(truth, [0.65 if Cancellation.objects.filter(
        lead_id=a.lead_id, appointment__start__lt=a.booked_at).exists() else 0.12 for a in test])
    print(f"\nknown rule: {result['auc']} AUC against the rule's own {own:.3f}; "
          f"Brier {result['brier']} against {result['base_brier']}")
    assert result["auc"] >= own - 0.05
    assert result["brier"] < result["base_brier"] * 0.92
    assert len(result["calibration"]) >= 2 and sum(b["n"] for b in result["calibration"]) == result["n_test"]


def test_the_order_rows_were_stored_in_changes_nothing(alice):
    history(alice, leads=300, rule=lambda cancels, rng: 0.6 if cancels else 0.15, seed=4)
    a = services.evaluate(seller=alice)
    Lead.objects.filter(seller=alice).delete()
    history(alice, leads=300, rule=lambda cancels, rng: 0.6 if cancels else 0.15, seed=4, shuffle=True)
    b = services.evaluate(seller=alice)
    assert (a["auc"], a["brier"], a["n_test"], a["calibration"]) == (b["auc"], b["brier"], b["n_test"], b["calibration"])


def test_too_little_history_says_so(alice):
    history(alice, leads=10, rule=lambda cancels, rng: 0.3)
    with pytest.raises(RebookError, match="too little history"):
        services.evaluate(seller=alice)
    with pytest.raises(RebookError, match="too little history"):
        services.train(seller=alice)


def test_a_trained_model_is_stored_versioned_and_scores_upcoming_meetings(alice):
    history(alice, leads=400, rule=lambda cancels, rng: 0.7 if cancels else 0.1)
    first = services.train(seller=alice)
    second = services.train(seller=alice)
    assert (first.version, second.version) == (1, 2) and second.n_train > 200
    lead = Lead.objects.filter(seller=alice, cancellations__isnull=False).first()
    now = datetime.now(UTC)
    ahead = Appointment.objects.create(lead=lead, seller=alice, start=now + timedelta(days=30),
                                       end=now + timedelta(days=30, hours=1), timezone="UTC", booked_at=now)
    clean = Lead.objects.filter(seller=alice, cancellations__isnull=True).first()
    calm = Appointment.objects.create(lead=clean, seller=alice, start=now + timedelta(days=2),
                                      end=now + timedelta(days=2, hours=1), timezone="UTC", booked_at=now)
    found = services.risks([ahead, calm], alice)
    assert found[ahead.pk].probability > found[calm.pk].probability
    print("\nreasons:", found[ahead.pk].reasons, str(found[ahead.pk]))
    assert any("cancel" in r for r in found[ahead.pk].reasons)
    assert str(found[ahead.pk]).startswith(("high", "medium"))


def test_the_pipeline_expects_what_the_forecast_says_when_there_is_one(alice):
    from django.utils import timezone

    from rebook.leads.selectors import pipeline

    history(alice, leads=400, rule=lambda cancels, rng: 0.7 if cancels else 0.1)
    now = timezone.now()
    flat = pipeline(seller=alice, now=now)
    assert "by the forecast" not in " ".join(flat.sentences)
    services.train(seller=alice)
    risky = Lead.objects.filter(seller=alice, cancellations__isnull=False).first()
    for days in (1, 2, 3):
        Appointment.objects.create(lead=risky, seller=alice, start=now + timedelta(days=days),
                                   end=now + timedelta(days=days, hours=1), timezone="UTC", booked_at=now)
    forecast = services.held_forecast(alice)
    health = pipeline(seller=alice, now=now, forecast=forecast)
    chances = forecast(list(Appointment.objects.filter(seller=alice, status="scheduled", start__gt=now)))
    assert health.expected_meetings_7_days == pytest.approx(sum(1 - p for p in chances.values()), abs=0.01)
    assert "by the forecast" in " ".join(health.sentences)


def test_lead_attributes_and_source_are_features(alice):
    """Imported attributes (a plan, an age) and the lead's source are used when they carry signal."""
    plans = {}

    def rule(cancels, rng):
        return 0.6 if plans["current"] == "basic" else 0.08

    rng = random.Random(9)
    for i in range(300):
        plans["current"] = "basic" if i % 2 else "gold"
        lead = Lead.objects.create(seller=alice, name=f"P {i}", email=f"p{i}@example.com", status="active",
                                   attributes={"Plan": plans["current"], "Age": 20 + i % 50}, source="fair")
        t = START + timedelta(days=rng.randrange(0, 300))
        for _ in range(rng.randint(2, 5)):
            start = t + timedelta(days=rng.choice([1, 3, 7]))
            cancelled = rng.random() < rule(0, rng)
            a = Appointment.objects.create(lead=lead, seller=alice, start=start, end=start + timedelta(minutes=45),
                                           timezone="UTC", status="cancelled" if cancelled else "held", booked_at=t)
            if cancelled:
                Cancellation.objects.create(appointment=a, lead=lead, seller=alice, by="prospect", kind="cancel",
                                            at=start - timedelta(hours=3), category="vague", suggested_valid=False)
            t = start + timedelta(days=rng.randint(1, 20))
    result = services.evaluate(seller=alice)
    print(f"\nan attribute with signal: AUC {result['auc']}, Brier {result['brier']} against {result['base_brier']}")
    assert result["auc"] > 0.75
    row = services.train(seller=alice)
    assert "attr:Plan=basic" in row.parameters["names"] and "attr:Age" in row.parameters["names"]
    assert row.parameters["vocabulary"]["categories"] == [["Plan", ["basic", "gold"]], ["source", ["fair"]]]


def test_a_meeting_likely_to_fall_through_is_confirmed_earlier_and_its_slot_offered(alice, alice_client):
    from django.utils import timezone

    from rebook.leads.services import appointment_book
    from rebook.outbox.models import PlannedMessage
    from rebook.sellers.services import seller_policy_set

    history(alice, leads=400, rule=lambda cancels, rng: 0.8 if cancels else 0.05)
    seller_policy_set(seller=alice, key="risk_confirm_threshold", value="0.4")
    alice.refresh_from_db()
    services.train(seller=alice)
    now = timezone.now()
    risky_lead = Lead.objects.filter(seller=alice, cancellations__isnull=False).order_by("id").first()
    calm_lead = Lead.objects.filter(seller=alice, cancellations__isnull=True).order_by("id").first()
    start = (now + timedelta(days=3)).replace(hour=15, minute=0, second=0, microsecond=0)
    risky = appointment_book(lead=risky_lead, start=start, end=start + timedelta(hours=1))
    calm = appointment_book(lead=calm_lead, start=start + timedelta(hours=2), end=start + timedelta(hours=3))
    assert not PlannedMessage.objects.filter(appointment=risky, kind="confirmation").exists()
    assert services.score_upcoming(seller=alice) >= 2
    risky.refresh_from_db()
    calm.refresh_from_db()
    assert risky.risk >= 0.4 > calm.risk
    confirmation = PlannedMessage.objects.get(appointment=risky, kind="confirmation")
    assert confirmation.due <= risky.start - timedelta(days=2)  # twice the usual day ahead
    assert not PlannedMessage.objects.filter(appointment=calm, kind="confirmation").exists()
    html = alice_client.get("/").content.decode()
    assert "at risk" in html and "confirm by phone" in html


def test_contact_recency_counts_and_contacts_after_the_booking_do_not():
    from rebook.strategy import risk

    booked = datetime(2026, 3, 1, 10, tzinfo=UTC)
    m = risk.Meeting(1, 1, booked + timedelta(days=7), booked, "seller", "held",
                     last_contact=booked - timedelta(days=2))
    x = risk.features(m, [])
    assert x["never_contacted"] == 0 and round(math.expm1(x["contact_days"])) == 2
    cold = risk.features(risk.Meeting(2, 1, booked + timedelta(days=7), booked, "seller", "held"), [])
    assert cold["never_contacted"] == 1


def test_the_last_contact_is_taken_from_before_the_booking_only(alice):
    from rebook.leads.models import Activity

    lead = Lead.objects.create(seller=alice, name="Q", email="q@example.com", status="active")
    booked = START + timedelta(days=10)
    a = Appointment.objects.create(lead=lead, seller=alice, start=booked + timedelta(days=5),
                                   end=booked + timedelta(days=5, hours=1), timezone="UTC", status="held", booked_at=booked)
    Activity.objects.create(lead=lead, kind="call", direction="outbound", at=booked - timedelta(days=3))
    Activity.objects.create(lead=lead, kind="call", direction="outbound", at=booked + timedelta(days=1))  # after
    [m] = list(services.meetings(Q(pk=a.pk)))
    assert m.last_contact == booked - timedelta(days=3)


def test_the_page_stamp_names_the_model_model_for_reads_and_a_retrained_one_is_read_anew(alice, bob):
    """Today learns which model is the latest in its stamp query and keeps the parsed model by row id: the
    seller's own latest version first, else the team's; a retraining shows at once."""
    from rebook.leads.selectors import change_stamp

    def latest(seller):
        row_id = change_stamp(seller, services.model_id_sql(seller))[-1]
        return row_id, services.model_by_id(row_id)

    assert latest(alice) == (None, None)
    history(alice, leads=400, rule=lambda cancels, rng: 0.7 if cancels else 0.1)
    team = services.train(seller=None)
    assert latest(alice) == (team.pk, services.model_for(alice)) and latest(bob)[0] == team.pk
    own = services.train(seller=alice)
    assert latest(alice) == (own.pk, services.model_for(alice)) and latest(bob)[0] == team.pk
    again = services.train(seller=alice)
    row_id, model = latest(alice)
    assert row_id == again.pk and model == services.model_for(alice) and model is services.model_by_id(again.pk)
