"""Training, evaluating and using the cancellation forecast.

Training reads every finished meeting (the seller's own; for the team model, everyone's), builds the
features each had when it was booked (``rebook.strategy.risk``), fits a regularised logistic regression
(scikit-learn), and calibrates it with isotonic regression on out-of-fold predictions, so "30%" means
three in ten. The result is stored as plain numbers in the database, versioned; scoring is a dot product.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from rebook.errors import RebookError
from rebook.forecast.models import RiskModel
from rebook.leads.models import Activity, Appointment, Cancellation, Lead
from rebook.sellers.models import Seller
from rebook.strategy import risk
from rebook.writes import update_rows

MIN_FINISHED, MIN_POSITIVE = 200, 30  # below this, no number is shown
SELLER_WEIGHT = 3.0  # a seller's own meetings count this much more than the team's in a blended model
RETRAIN_AFTER = 50  # new finished meetings before the worker trains again


@dataclass(frozen=True)
class Risk:
    probability: float
    level: str
    reasons: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"probability": round(self.probability, 3), "level": self.level, "reasons": list(self.reasons)}

    def __str__(self) -> str:
        return f"{self.level}, {round(self.probability * 100)}%"


# --------------------------------------------------------------------------- history as the forecast sees it


def meetings(where: Q, tz_of: dict[int, ZoneInfo] | None = None, batch: int = 20_000,
             vocab: risk.Vocabulary | None = None) -> Iterator[risk.Meeting]:
    """The meetings matching ``where``, grouped by lead (ordered by lead, then id), as plain facts; with
    ``vocab``, each carries its lead's traits (source and attributes)."""
    zones = tz_of or {s.pk: s.tz for s in Seller.objects.all()}
    wants_traits = vocab is not None and bool(vocab.numeric or vocab.categories)
    fields = ("id", "lead_id", "seller_id", "start", "booked_at", "booked_by", "status", "chain") + (
        ("lead__source", "lead__attributes") if wants_traits else ())
    lead_traits: tuple = ()
    rows = Appointment.objects.filter(where).order_by("lead_id", "id").values_list(*fields)
    by = dict(Cancellation.objects.filter(appointment__in=Appointment.objects.filter(where))
              .exclude(kind=Cancellation.Kind.NO_SHOW).values_list("appointment_id", "by"))
    contacts: dict[int, list[datetime]] = defaultdict(list)
    for lead_id, at in (Activity.objects.filter(lead__in=Appointment.objects.filter(where).values("lead_id"))
                        .order_by("lead_id", "at").values_list("lead_id", "at").iterator(chunk_size=batch)):
        contacts[lead_id].append(at)
    lead, chains, times = None, defaultdict(int), []
    for pk, lead_id, seller_id, start, booked_at, booked_by, status, chain, *lead_facts in rows.iterator(chunk_size=batch):
        if lead_id != lead:
            lead, chains, times = lead_id, defaultdict(int), contacts.get(lead_id, [])
            lead_traits = risk.traits(lead_facts[0], lead_facts[1], vocab) if wants_traits else ()
        local = start.astimezone(zones.get(seller_id, ZoneInfo("UTC")))
        last = bisect_left(times, booked_at)  # contacts strictly before the booking
        yield risk.Meeting(pk, lead_id, start, booked_at, booked_by, status, by.get(pk), chains[chain], local.hour,
                           local.weekday(), lead_traits, times[last - 1] if last else None)
        chains[chain] += 1


def lead_vocabulary(where: Q) -> risk.Vocabulary:
    """Which lead attributes become features, from the leads of the meetings in ``where``."""
    leads = Lead.objects.filter(pk__in=Appointment.objects.filter(where).values("lead_id"))
    return risk.vocabulary(leads.values_list("source", "attributes").iterator(chunk_size=20_000))


def _dataset(where: Q, vocab: risk.Vocabulary | None = None):
    """Features (n x f), labels (n) and start times (epoch seconds, n) of every finished meeting, as numpy
    arrays, in an order that depends on the data alone (not on row ids), so the same history gives the same
    model however it was stored. Memory stays near 130 bytes a meeting."""
    from array import array

    import numpy as np

    names = _names(vocab)
    flat, labels, starts = array("d"), array("b"), array("d")
    for m, x, y in risk.rows(meetings(where, vocab=vocab)):
        if y is not None:
            flat.extend(x.get(n, 0.0) for n in names)
            labels.append(y)
            starts.append(m.start.timestamp())
    xs = np.frombuffer(flat, dtype=float).reshape(-1, len(names)) if labels else np.zeros((0, len(names)))
    ys, ts = np.frombuffer(labels, dtype=np.int8).astype(int), np.frombuffer(starts, dtype=float)
    order = np.lexsort([ys] + [xs[:, j] for j in reversed(range(xs.shape[1]))] + [ts]) if len(ys) else np.arange(0)
    return xs[order], ys[order], ts[order]


# --------------------------------------------------------------------------- fitting


def _names(vocab: risk.Vocabulary | None) -> tuple[str, ...]:
    return tuple(risk.FEATURES) + (vocab.names() if vocab else ())


def _fit(xs, ys, weights=None, names: tuple[str, ...] = tuple(risk.FEATURES)) -> risk.Model:
    import numpy as np
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=int)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    means, scales = x.mean(axis=0), x.std(axis=0)
    scales[scales == 0] = 1.0
    z = (x - means) / scales

    def logistic():
        return LogisticRegression(C=1.0, max_iter=500)

    # Out-of-fold raw predictions, for a calibration that was not fitted on the rows it calibrates.
    raw = np.zeros(len(y))
    for train, test in StratifiedKFold(n_splits=5, shuffle=True, random_state=1).split(z, y):
        raw[test] = logistic().fit(z[train], y[train], sample_weight=w[train]).predict_proba(z[test])[:, 1]
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y, sample_weight=w)
    final = logistic().fit(z, y, sample_weight=w)
    return risk.Model(tuple(names), tuple(means.tolist()), tuple(scales.tolist()),
                      tuple(final.coef_[0].tolist()), float(final.intercept_[0]),
                      tuple(iso.X_thresholds_.tolist()), tuple(iso.y_thresholds_.tolist()))


def _enough(ys) -> str | None:
    finished, positive = len(ys), int(sum(ys))
    if finished < MIN_FINISHED or positive < MIN_POSITIVE:
        return (f"too little history to forecast: {finished} finished meetings and {positive} cancellations or "
                f"no-shows; at least {MIN_FINISHED} and {MIN_POSITIVE} are needed")
    return None


@transaction.atomic
def train(*, seller: Seller | None, now: datetime | None = None) -> RiskModel:
    """Train and store a new version: the seller's own model (blended with the team's history, the seller's
    meetings weighted more, when the seller has too little alone), or with ``seller=None`` the team's."""
    import numpy as np

    now = now or timezone.now()
    if seller is None:
        vocab = lead_vocabulary(Q())
        xs, ys, _ = _dataset(Q(), vocab)
        weights = None
    else:
        vocab = lead_vocabulary(Q(seller=seller))
        xs, ys, _ = _dataset(Q(seller=seller), vocab)
        weights = np.full(len(ys), SELLER_WEIGHT)
        if _enough(ys):
            oxs, oys, _ = _dataset(~Q(seller=seller), vocab)
            xs, ys = np.concatenate([xs, oxs]), np.concatenate([ys, oys])
            weights = np.concatenate([weights, np.ones(len(oys))])
    problem = _enough(ys)
    if problem:
        raise RebookError(problem)
    model = _fit(xs, ys, weights, _names(vocab))
    last = RiskModel.objects.filter(seller=seller).order_by("-version").values_list("version", flat=True).first() or 0
    return RiskModel.objects.create(seller=seller, version=last + 1, trained_at=now, parameters=_as_json(model, vocab),
                                    n_train=len(ys), n_positive=int(sum(ys)), outcomes_at_training=_finished(seller))


def _finished(seller: Seller | None) -> int:
    rows = Appointment.objects.filter(status__in=[risk.HELD, risk.NO_SHOW, risk.CANCELLED, risk.RESCHEDULED])
    return (rows.filter(seller=seller) if seller else rows).count()


def _as_json(m: risk.Model, vocab: risk.Vocabulary | None = None) -> dict:
    return {"vocabulary": {"numeric": list(vocab.numeric), "categories": [[k, list(v)] for k, v in vocab.categories]}
            if vocab else {"numeric": [], "categories": []},
            "names": list(m.names), "means": list(m.means), "scales": list(m.scales), "weights": list(m.weights),
            "intercept": m.intercept, "calibration_x": list(m.calibration_x), "calibration_y": list(m.calibration_y)}


def _from_json(p: dict) -> risk.Model:
    return risk.Model(tuple(p["names"]), tuple(p["means"]), tuple(p["scales"]), tuple(p["weights"]), p["intercept"],
                      tuple(p["calibration_x"]), tuple(p["calibration_y"]), _vocab_json(p))


def _vocab_json(p: dict) -> risk.Vocabulary:
    v = p.get("vocabulary") or {}
    return risk.Vocabulary(tuple(v.get("numeric", ())), tuple((k, tuple(vals)) for k, vals in v.get("categories", ())))


def model_for(seller: Seller) -> risk.Model | None:
    """The seller's latest model, else the team's: one query for which, and the model itself read once."""
    sql, params = model_id_sql(seller)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return model_by_id(row[0] if row else None)


# Models by their row's id, as read: a model is written once and never changed (retraining adds a version).
_MODELS: dict[int, risk.Model] = {}


def model_id_sql(seller: Seller) -> tuple[str, list]:
    """The id of the seller's latest model, else the team's, as a scalar subquery (SQL, params): with it in
    ``change_stamp``, a page learns in its one stamp query whether the model it holds is still the latest."""
    return (f"SELECT id FROM {RiskModel._meta.db_table} WHERE seller_id = %s OR seller_id IS NULL "
            "ORDER BY CASE WHEN seller_id IS NULL THEN 1 ELSE 0 END, version DESC LIMIT 1", [seller.pk])


def model_by_id(row_id: int | None) -> risk.Model | None:
    """The model with this row id (from ``model_id_sql``), read once per process; None for None."""
    if row_id is None:
        return None
    if row_id not in _MODELS:
        row = RiskModel.objects.filter(pk=row_id).values_list("parameters", flat=True).first()
        if row is None:  # deleted since the stamp was read
            return None
        if len(_MODELS) > 1000:
            _MODELS.clear()
        _MODELS[row_id] = _from_json(row)
    return _MODELS[row_id]


def retrain_due(seller: Seller) -> bool:
    row = RiskModel.objects.filter(seller=seller).order_by("-version").first()
    return _finished(seller) - (row.outcomes_at_training if row else 0) >= (RETRAIN_AFTER if row else MIN_FINISHED)


# --------------------------------------------------------------------------- evaluating


def evaluate(*, seller: Seller | None, at: datetime | None = None) -> dict:
    """Train on meetings that started before the split and report on the later ones (default split: the
    last 20% of finished meetings by start time are the test set)."""
    import numpy as np
    from sklearn.metrics import brier_score_loss, roc_auc_score

    where = Q(seller=seller) if seller else Q()
    vocab = lead_vocabulary(where)
    names = _names(vocab)
    xs, ys, starts = _dataset(where, vocab)
    problem = _enough(ys)
    if problem:
        raise RebookError(problem)
    split = at.timestamp() if at else float(np.sort(starts)[int(len(starts) * 0.8)])
    train_mask, test_mask = starts < split, starts >= split
    if _enough(ys[train_mask]) or test_mask.sum() < 20 or len(set(ys[test_mask].tolist())) < 2:
        raise RebookError(f"the split at {datetime.fromtimestamp(split, UTC):%Y-%m-%d} leaves too little history "
                          "on one side")
    model = _fit(xs[train_mask], ys[train_mask], names=names)
    p = np.array([model.probability(dict(zip(names, row, strict=True))) for row in xs[test_mask].tolist()])
    y = ys[test_mask]
    base = float(ys[train_mask].mean())
    bins = []
    for b in range(10):
        inside = (p >= b / 10) & ((p < (b + 1) / 10) if b < 9 else (p <= 1))
        if inside.any():
            bins.append({"from": b / 10, "to": (b + 1) / 10, "n": int(inside.sum()),
                         "predicted": round(float(p[inside].mean()), 3), "observed": round(float(y[inside].mean()), 3)})
    return {
        "auc": round(float(roc_auc_score(y, p)), 4),
        "brier": round(float(brier_score_loss(y, p)), 4),
        "base_brier": round(float(brier_score_loss(y, np.full(len(y), base))), 4),
        "n_train": int(train_mask.sum()), "n_test": int(test_mask.sum()),
        "split": datetime.fromtimestamp(split, UTC).isoformat(),
        "calibration": bins,
    }


# --------------------------------------------------------------------------- using it


# seller id -> (what the risks were computed from, the risks): kept by this process while the seller's
# change stamp, the model and the meetings asked about are the same.
_RISKS: dict[int, tuple[tuple, dict[int, Risk]]] = {}


def risks(appointments: Iterable[Appointment], seller: Seller, model: risk.Model | None = None,
          stamp: tuple | None = None) -> dict[int, Risk]:
    """The risk of each upcoming meeting (by id), from one read of those leads' meetings; empty with no model.

    With ``stamp`` (``change_stamp(seller)``, which moves with every change to the seller's leads and
    meetings, contacts and cancellations included, since each re-evaluates its lead), the answer is kept
    and given again while the stamp, the model and the meetings are the same: a meeting's features are
    what was known when it was booked, so nothing else changes them."""
    appointments = list(appointments)
    if not appointments:
        return {}
    model = model or model_for(seller)
    if model is None:
        return {}
    wanted = {a.pk for a in appointments}
    key = ((stamp, model.names, model.weights, model.intercept, model.calibration_x, model.calibration_y,
            frozenset(wanted)) if stamp is not None else None)
    cached = _RISKS.get(seller.pk)
    if key is not None and cached is not None and cached[0] == key:
        return cached[1]
    out = {}
    vocab = model.vocabulary
    for m, x, _ in risk.rows(meetings(Q(lead_id__in={a.lead_id for a in appointments}), {seller.pk: seller.tz},
                                      vocab=vocab)):
        if m.id in wanted:
            p = model.probability(x)
            out[m.id] = Risk(p, risk.level(p), tuple(model.reasons(x)))
    if key is not None:
        _RISKS[seller.pk] = (key, out)
    return out


def held_forecast(seller: Seller, model: risk.Model | None = None):
    """For the pipeline: appointments -> {id: chance of being cancelled or missed}, from the seller's model."""
    model = model or model_for(seller)
    if model is None:
        return None
    return lambda appointments: {k: v.probability for k, v in risks(appointments, seller, model).items()}


def score_upcoming(*, seller: Seller, now: datetime | None = None) -> int:
    """Keep each meeting ahead's forecast on its row, and re-plan the leads whose meetings crossed the seller's
    ``risk_confirm_threshold`` (their confirmation moves). Returns how many meetings changed."""
    from rebook.leads.services import lead_reevaluate

    now = now or timezone.now()
    ahead = list(Appointment.objects.filter(seller=seller, status=Appointment.Status.SCHEDULED, start__gt=now)
                 .select_related("lead"))
    found = risks(ahead, seller)
    threshold = seller.risk_confirm_threshold
    changed, replan = [], set()
    for a in ahead:
        new = round(found[a.pk].probability, 3) if a.pk in found else None
        if new != a.risk:
            if (a.risk is not None and a.risk >= threshold) != (new is not None and new >= threshold):
                replan.add(a.lead_id)
            a.risk = new
            changed.append(a)
    update_rows(Appointment, changed, ["risk"])
    for lead in Lead.objects.filter(pk__in=replan).select_related("seller"):
        lead_reevaluate(lead=lead, now=now)
    return len(changed)
