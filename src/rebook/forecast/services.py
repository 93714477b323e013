"""Training, evaluating and using the cancellation forecast.

Training reads every finished meeting (the seller's own; for the team model, everyone's), builds the
features each had when it was booked (``rebook.strategy.risk``), fits a regularised logistic regression
(scikit-learn), and calibrates it with isotonic regression on out-of-fold predictions, so "30%" means
three in ten. The result is stored as plain numbers in the database, versioned; scoring is a dot product.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
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


KINDS = ("logistic", "trees")
KIND_WORDS = {"logistic": "logistic regression", "trees": "gradient-boosted trees"}
VALIDATION_SHARE = 0.2  # the latest fifth of the training meetings (by start) chooses between the kinds
CHOOSE_ON = 200_000  # meetings at most (the latest) for that choice: enough to tell, and quick at team size
TIE = 0.005  # the trees must lower the Brier score by more than this share to be chosen over the simpler kind
TREES = {"max_iter": 150, "learning_rate": 0.1, "max_depth": 4, "min_samples_leaf": 100, "early_stopping": True,
         "n_iter_no_change": 10, "validation_fraction": 0.1, "random_state": 1}


@dataclass(frozen=True)
class Fitted:
    """A fitted model: the stored form (scored in pure Python) and the same model scoring many rows at once."""

    model: risk.Model
    predict: Callable  # features (n x f) -> calibrated probabilities (n)


def _estimator(kind: str):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    return HistGradientBoostingClassifier(**TREES) if kind == "trees" else LogisticRegression(C=1.0, max_iter=500)


def _fit(xs, ys, weights=None, names: tuple[str, ...] = tuple(risk.FEATURES), kind: str = "logistic") -> Fitted:
    """Fit one kind of model and calibrate it with isotonic regression on out-of-fold predictions (a
    calibration not fitted on the rows it calibrates). Logistic regression sees standardised features;
    trees see them as they are."""
    import numpy as np
    from sklearn.isotonic import IsotonicRegression
    from sklearn.model_selection import StratifiedKFold

    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=int)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    means, scales = x.mean(axis=0), x.std(axis=0)
    scales[scales == 0] = 1.0
    if kind == "trees":  # trees split on the values as they are: no standardising, and no copy
        means, scales = np.zeros(x.shape[1]), np.ones(x.shape[1])
    z = x if kind == "trees" else (x - means) / scales

    # Trees take no weights when all are equal: scikit-learn bins weighted rows some 25 times slower.
    sw = None if kind == "trees" and len(w) and bool((w == w[0]).all()) else w
    raw = np.zeros(len(y))
    for train, test in StratifiedKFold(n_splits=5, shuffle=True, random_state=1).split(z, y):
        raw[test] = _estimator(kind).fit(z[train], y[train], sample_weight=None if sw is None else sw[train]
                                         ).predict_proba(z[test])[:, 1]
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y, sample_weight=w)
    final = _estimator(kind).fit(z, y, sample_weight=sw)
    calibration = (tuple(iso.X_thresholds_.tolist()), tuple(iso.y_thresholds_.tolist()))
    if kind == "trees":
        intercept, trees = _trees(final)
        model = risk.Model(tuple(names), (), (), (), intercept, *calibration, trees=trees)
    else:
        model = risk.Model(tuple(names), tuple(means.tolist()), tuple(scales.tolist()),
                           tuple(final.coef_[0].tolist()), float(final.intercept_[0]), *calibration)
    def predict(rows):
        rows = np.asarray(rows, dtype=float)
        return iso.predict(final.predict_proba(rows if kind == "trees" else (rows - means) / scales)[:, 1])

    return Fitted(model, predict)


def _trees(fitted) -> tuple[float, tuple[risk.Tree, ...]]:
    """A fitted HistGradientBoostingClassifier as plain numbers: its baseline score and its trees. Each
    inner node gets the average of the leaves below it (weighted by training meetings), for the reasons."""
    import math

    baseline = float(fitted._baseline_prediction.ravel()[0])
    out = []
    for (predictor,) in fitted._predictors:
        nodes = predictor.nodes
        if nodes["is_categorical"].any():
            raise ValueError("categorical splits are not stored")
        leaf, count = nodes["is_leaf"].tolist(), nodes["count"].tolist()
        left, right, value = nodes["left"].tolist(), nodes["right"].tolist(), nodes["value"].tolist()
        for i in reversed(range(len(nodes))):  # nodes are stored parent first, so children come before parents here
            if not leaf[i]:
                n = count[left[i]] + count[right[i]]
                value[i] = (value[left[i]] * count[left[i]] + value[right[i]] * count[right[i]]) / n if n else 0.0
        out.append(risk.Tree(
            tuple(-1 if leaf[i] else f for i, f in enumerate(nodes["feature_idx"].tolist())),
            tuple(t if math.isfinite(t) else 1e308 for t in nodes["num_threshold"].tolist()),
            tuple(0 if leaf[i] else v for i, v in enumerate(left)),
            tuple(0 if leaf[i] else v for i, v in enumerate(right)), tuple(value)))
    return baseline, tuple(out)


def _scores(y, p, w=None) -> dict:
    from sklearn.metrics import brier_score_loss, roc_auc_score

    return {"auc": round(float(roc_auc_score(y, p, sample_weight=w)), 4),
            "brier": round(float(brier_score_loss(y, p, sample_weight=w)), 4)}


def _choose(xs, ys, starts, weights=None, names: tuple[str, ...] = tuple(risk.FEATURES)) -> tuple[Fitted, dict]:
    """Fit each kind on the earlier 80% of the meetings (by start; of the latest ``CHOOSE_ON`` when there are
    more), score both on the latest 20%, and fit the kind with the lower Brier score on all the meetings;
    logistic regression (simpler, and explained by its weights) when too little history is left to compare,
    or on a tie (the trees less than ``TIE`` better). Returns the model and the choice."""
    import numpy as np

    w = np.ones(len(ys)) if weights is None else np.asarray(weights, dtype=float)
    recent = starts >= (np.sort(starts)[-CHOOSE_ON] if len(starts) > CHOOSE_ON else -np.inf)
    cut = float(np.sort(starts[recent])[int(recent.sum() * (1 - VALIDATION_SHARE))]) if len(starts) else 0.0
    early, late = recent & (starts < cut), recent & (starts >= cut)
    choice: dict = {"chosen": "logistic", "share": VALIDATION_SHARE, "n_validation": int(late.sum()), "scores": {}}
    if _enough(ys[early]) or late.sum() < 50 or ys[late].sum() < 10 or ys[late].sum() == late.sum():
        choice["why"] = "too little history to compare the kinds; logistic regression"
    elif len(w) and not bool((w == w[0]).all()):
        choice["why"] = ("too little history of your own to compare the kinds (the model leans on the team's); "
                         "logistic regression")
    else:
        for kind in KINDS:
            fitted = _fit(xs[early], ys[early], w[early], names, kind)
            choice["scores"][kind] = _scores(ys[late], fitted.predict(xs[late]), w[late])
        scores = choice["scores"]
        if scores["trees"]["brier"] < scores["logistic"]["brier"] * (1 - TIE):
            choice["chosen"] = "trees"
        chosen, other = choice["chosen"], "logistic" if choice["chosen"] == "trees" else "trees"
        choice["why"] = (f"{KIND_WORDS[chosen]}: Brier {scores[chosen]['brier']:.4f} against "
                         f"{scores[other]['brier']:.4f} for {KIND_WORDS[other]} on the latest "
                         f"{round(VALIDATION_SHARE * 100)}% of the training meetings")
    return _fit(xs, ys, w, names, choice["chosen"]), choice


def _enough(ys) -> str | None:
    finished, positive = len(ys), int(sum(ys))
    if finished < MIN_FINISHED or positive < MIN_POSITIVE:
        return (f"too little history to forecast: {finished} finished meetings and {positive} cancellations or "
                f"no-shows; at least {MIN_FINISHED} and {MIN_POSITIVE} are needed")
    return None


@transaction.atomic
def train(*, seller: Seller | None, now: datetime | None = None) -> RiskModel:
    """Train and store a new version: the seller's own model (blended with the team's history, the seller's
    meetings weighted more, when the seller has too little alone), or with ``seller=None`` the team's. The
    kind (logistic regression or gradient-boosted trees) is chosen on this history (``_choose``)."""
    import numpy as np

    now = now or timezone.now()
    if seller is None:
        vocab = lead_vocabulary(Q())
        xs, ys, starts = _dataset(Q(), vocab)
        weights = None
    else:
        vocab = lead_vocabulary(Q(seller=seller))
        xs, ys, starts = _dataset(Q(seller=seller), vocab)
        weights = np.full(len(ys), SELLER_WEIGHT)
        if _enough(ys):
            oxs, oys, ostarts = _dataset(~Q(seller=seller), vocab)
            xs, ys, starts = np.concatenate([xs, oxs]), np.concatenate([ys, oys]), np.concatenate([starts, ostarts])
            weights = np.concatenate([weights, np.ones(len(oys))])
    problem = _enough(ys)
    if problem:
        raise RebookError(problem)
    fitted, choice = _choose(xs, ys, starts, weights, _names(vocab))
    last = RiskModel.objects.filter(seller=seller).order_by("-version").values_list("version", flat=True).first() or 0
    return RiskModel.objects.create(seller=seller, version=last + 1, trained_at=now,
                                    parameters={**_as_json(fitted.model, vocab), "choice": choice},
                                    n_train=len(ys), n_positive=int(sum(ys)), outcomes_at_training=_finished(seller))


def _finished(seller: Seller | None) -> int:
    rows = Appointment.objects.filter(status__in=[risk.HELD, risk.NO_SHOW, risk.CANCELLED, risk.RESCHEDULED])
    return (rows.filter(seller=seller) if seller else rows).count()


def _as_json(m: risk.Model, vocab: risk.Vocabulary | None = None) -> dict:
    return {"kind": m.kind,
            "vocabulary": {"numeric": list(vocab.numeric), "categories": [[k, list(v)] for k, v in vocab.categories]}
            if vocab else {"numeric": [], "categories": []},
            "names": list(m.names), "means": list(m.means), "scales": list(m.scales), "weights": list(m.weights),
            "intercept": m.intercept, "calibration_x": list(m.calibration_x), "calibration_y": list(m.calibration_y),
            "trees": [[list(t.feature), list(t.threshold), list(t.left), list(t.right), list(t.value)] for t in m.trees]}


def _from_json(p: dict) -> risk.Model:
    """A stored model (every version so far: those before trees have no ``kind`` and no ``trees``)."""
    trees = tuple(risk.Tree(*(tuple(part) for part in t)) for t in p.get("trees") or ())
    return risk.Model(tuple(p["names"]), tuple(p["means"]), tuple(p["scales"]), tuple(p["weights"]), p["intercept"],
                      tuple(p["calibration_x"]), tuple(p["calibration_y"]), _vocab_json(p), trees)


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
    where = Q(seller=seller) if seller else Q()
    vocab = lead_vocabulary(where)
    xs, ys, starts = _dataset(where, vocab)
    problem = _enough(ys)
    if problem:
        raise RebookError(problem)
    return report(xs, ys, starts, _names(vocab), at.timestamp() if at else None)


def report(xs, ys, starts, names: tuple[str, ...], split: float | None = None) -> dict:
    """``evaluate`` on arrays (features, labels, start times in epoch seconds): the kind is chosen and
    fitted on the meetings before ``split`` alone, and scored on the rest. The bench runs it on relabelled
    copies of a real history to check it is honest."""
    import numpy as np
    from sklearn.metrics import brier_score_loss

    split = split if split is not None else float(np.sort(starts)[int(len(starts) * 0.8)])
    train_mask, test_mask = starts < split, starts >= split
    if _enough(ys[train_mask]) or test_mask.sum() < 20 or len(set(ys[test_mask].tolist())) < 2:
        raise RebookError(f"the split at {datetime.fromtimestamp(split, UTC):%Y-%m-%d} leaves too little history "
                          "on one side")
    fitted, choice = _choose(xs[train_mask], ys[train_mask], starts[train_mask], names=names)
    p = fitted.predict(xs[test_mask])
    y = ys[test_mask]
    # What the other kind would have scored on the same test meetings (reported, never used to choose).
    kinds = {fitted.model.kind: _scores(y, p)}
    for kind in KINDS:
        if kind not in kinds:
            kinds[kind] = _scores(y, _fit(xs[train_mask], ys[train_mask], names=names, kind=kind).predict(xs[test_mask]))
    base = float(ys[train_mask].mean())
    bins = []
    for b in range(10):
        inside = (p >= b / 10) & ((p < (b + 1) / 10) if b < 9 else (p <= 1))
        if inside.any():
            bins.append({"from": b / 10, "to": (b + 1) / 10, "n": int(inside.sum()),
                         "predicted": round(float(p[inside].mean()), 3), "observed": round(float(y[inside].mean()), 3)})
    return {
        **_scores(y, p),
        "base_brier": round(float(brier_score_loss(y, np.full(len(y), base))), 4),
        "n_train": int(train_mask.sum()), "n_test": int(test_mask.sum()),
        "split": datetime.fromtimestamp(split, UTC).isoformat(),
        "calibration": bins,
        "model": fitted.model.kind,
        "choice": choice,
        "kinds": dict(sorted(kinds.items())),
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
    key = (stamp, model, frozenset(wanted)) if stamp is not None else None  # the same model object compares at once
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
