"""How likely a meeting is to be cancelled or missed: the features, known when it was booked, and the
scoring of a trained model. Pure: no Django, no numpy; training lives in ``rebook.forecast``.

No look-ahead: a meeting's features count only what happened to the lead's meetings that *started before
it was booked*, and how it was booked. Its label is what became of it: cancelled or moved by the prospect,
or a no-show (1), or held (0); meetings the seller called off, and meetings not yet over, have none.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

HELD, CANCELLED, RESCHEDULED, NO_SHOW, SCHEDULED = "held", "cancelled", "rescheduled", "no_show", "scheduled"
PROSPECT = "prospect"

FEATURES = (
    "lead_days", "same_week", "far_ahead", "morning", "late_afternoon", "monday", "friday", "booked_by_prospect",
    "prior_cancels", "prior_no_shows", "prior_held", "prior_meetings", "moves_in_chain", "is_rebooking",
    "never_held", "contact_days", "never_contacted",
)


@dataclass(frozen=True)
class Meeting:
    """One meeting of one lead, as the forecast sees it."""

    id: int
    lead_id: int
    start: datetime
    booked_at: datetime
    booked_by: str
    status: str
    cancelled_by: str | None = None  # who called it off (cancel or move), for those that were
    chain_position: int = 0  # earlier meetings in its reschedule chain
    local_hour: int = 12
    local_weekday: int = 2
    lead_traits: tuple[tuple[str, float], ...] = ()  # from the lead's source and attributes (see ``traits``)
    last_contact: datetime | None = None  # the lead's latest logged contact before it was booked


def label(m: Meeting) -> int | None:
    if m.status == HELD:
        return 0
    if m.status == NO_SHOW:
        return 1
    if m.status in (CANCELLED, RESCHEDULED):
        return 1 if m.cancelled_by == PROSPECT else None
    return None


def features(m: Meeting, earlier: Iterable[Meeting]) -> dict[str, float]:
    """The features of ``m`` from the lead's meetings that started before ``m`` was booked."""
    before = [e for e in earlier if e.start < m.booked_at and e.id != m.id]
    cancels = sum(1 for e in before if e.status in (CANCELLED, RESCHEDULED) and e.cancelled_by == PROSPECT)
    no_shows = sum(1 for e in before if e.status == NO_SHOW)
    held = sum(1 for e in before if e.status == HELD)
    ahead = max((m.start - m.booked_at).total_seconds() / 86400, 0.0)
    return {
        "lead_days": math.log1p(ahead),
        "same_week": float(ahead < 7),
        "far_ahead": float(ahead >= 21),
        "morning": float(m.local_hour < 11),
        "late_afternoon": float(m.local_hour >= 16),
        "monday": float(m.local_weekday == 0),
        "friday": float(m.local_weekday == 4),
        "booked_by_prospect": float(m.booked_by == PROSPECT),
        "prior_cancels": float(min(cancels, 5)),
        "prior_no_shows": float(min(no_shows, 5)),
        "prior_held": float(min(held, 5)),
        "prior_meetings": float(min(len(before), 10)),
        "moves_in_chain": float(min(m.chain_position, 5)),
        "is_rebooking": float(m.chain_position > 0 or cancels > 0),
        "never_held": float(bool(before) and held == 0),
        # Days since the last logged contact before the booking (capped at a year; none at all is its own signal).
        "contact_days": math.log1p(min(max((m.booked_at - m.last_contact).total_seconds() / 86400, 0), 365))
        if m.last_contact else math.log1p(365),
        "never_contacted": float(m.last_contact is None),
        **dict(m.lead_traits),
    }


MAX_CATEGORIES = 20  # per attribute: the most common values get a feature each; the rest count as "other"


@dataclass(frozen=True)
class Vocabulary:
    """Which of the leads' attributes (and their source) become features: numbers as they are, and for a
    word attribute its most common values, one feature each. Decided from the data at training time."""

    numeric: tuple[str, ...] = ()
    categories: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def names(self) -> tuple[str, ...]:
        return tuple(f"attr:{n}" for n in self.numeric) + tuple(
            f"attr:{n}={v}" for n, values in self.categories for v in values)


def vocabulary(leads: Iterable[tuple[str, dict]], min_share: float = 0.005) -> Vocabulary:
    """From (source, attributes) of the leads: attributes that are numbers on most leads, and common words."""
    numbers: dict[str, int] = {}
    words: dict[str, dict[str, int]] = {}
    total = 0
    for source, attributes in leads:
        total += 1
        items = dict(attributes or {})
        if source:
            items["source"] = source
        for key, value in items.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                numbers[key] = numbers.get(key, 0) + 1
            else:
                bucket = words.setdefault(key, {})
                bucket[str(value)] = bucket.get(str(value), 0) + 1
    floor = max(1, int(total * min_share))
    numeric = tuple(sorted(k for k, n in numbers.items() if n >= floor and k not in words))
    categories = []
    for key in sorted(words):
        common = sorted(((n, v) for v, n in words[key].items() if n >= floor), reverse=True)[:MAX_CATEGORIES]
        if common:
            categories.append((key, tuple(sorted(v for _, v in common))))
    return Vocabulary(numeric, tuple(categories))


def traits(source: str, attributes: dict | None, vocab: Vocabulary) -> tuple[tuple[str, float], ...]:
    items = dict(attributes or {})
    if source:
        items["source"] = source
    out = []
    for name in vocab.numeric:
        value = items.get(name)
        out.append((f"attr:{name}", float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0))
    for name, values in vocab.categories:
        value = str(items.get(name, ""))
        out.extend((f"attr:{name}={v}", float(value == v)) for v in values)
    return tuple(out)


def rows(meetings: Iterable[Meeting]) -> Iterator[tuple[Meeting, dict[str, float], int | None]]:
    """Every meeting with its features and label, lead by lead. Meetings must come grouped by lead."""
    current: list[Meeting] = []
    lead = None
    for m in meetings:
        if m.lead_id != lead:
            yield from _lead_rows(current)
            current, lead = [], m.lead_id
        current.append(m)
    yield from _lead_rows(current)


def _lead_rows(meetings: list[Meeting]) -> Iterator[tuple[Meeting, dict[str, float], int | None]]:
    ordered = sorted(meetings, key=lambda m: m.start)
    starts = [m.start for m in ordered]
    for m in meetings:
        earlier = ordered[: bisect_right(starts, m.booked_at)]
        yield m, features(m, earlier), label(m)


# --------------------------------------------------------------------------- a trained model, scored


@dataclass(frozen=True)
class Tree:
    """One regression tree of a gradient-boosted model, as flat lists: node ``i`` splits on feature
    ``feature[i]`` (an index into the model's names; -1 at a leaf) and sends a meeting left when its value is
    at most ``threshold[i]``. ``value[i]`` is a leaf's score, and inside the tree the average score of the
    leaves under the node (weighted by how many training meetings reached each), so walking down a path
    says how much each split moved the score."""

    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    value: tuple[float, ...]

    def path(self, row: list[float]) -> Iterator[tuple[int, float]]:
        """(feature, how much its split moved the score) along the meeting's path, root to leaf."""
        node, feature, value = 0, self.feature, self.value
        while (f := feature[node]) >= 0:
            child = self.left[node] if row[f] <= self.threshold[node] else self.right[node]
            yield f, value[child] - value[node]
            node = child

    def score(self, row: list[float]) -> float:
        node, feature, threshold, left, right = 0, self.feature, self.threshold, self.left, self.right
        while (f := feature[node]) >= 0:
            node = left[node] if row[f] <= threshold[node] else right[node]
        return self.value[node]


@dataclass(frozen=True)
class Model:
    """A trained forecast, then isotonic calibration: either a regularised logistic regression on
    standardised features (``weights``), or gradient-boosted trees (``trees``, whose scores add up on top
    of ``intercept``). ``kind`` says which; both give a probability and the reasons that pushed it up."""

    names: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    intercept: float
    calibration_x: tuple[float, ...] = field(default_factory=tuple)  # raw probability thresholds
    calibration_y: tuple[float, ...] = field(default_factory=tuple)  # calibrated probabilities
    vocabulary: Vocabulary | None = None  # the lead traits it was trained with
    trees: tuple[Tree, ...] = ()

    @property
    def kind(self) -> str:
        return "trees" if self.trees else "logistic"

    def raw(self, x: dict[str, float]) -> float:
        if self.trees:
            row = [x.get(n, 0.0) for n in self.names]
            z = self.intercept + sum(t.score(row) for t in self.trees)
        else:
            z = self.intercept + sum(w * (x.get(n, 0.0) - mu) / s
                                     for n, mu, s, w in zip(self.names, self.means, self.scales, self.weights, strict=True))
        return 1 / (1 + math.exp(-max(min(z, 40), -40)))

    def probability(self, x: dict[str, float]) -> float:
        p = self.raw(x)
        xs, ys = self.calibration_x, self.calibration_y
        if not xs:
            return p
        if p <= xs[0]:
            return ys[0]
        if p >= xs[-1]:
            return ys[-1]
        i = bisect_right(xs, p)
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        return y0 if x1 == x0 else y0 + (y1 - y0) * (p - x0) / (x1 - x0)

    def pushes(self, x: dict[str, float]) -> dict[str, float]:
        """How far each feature moves this meeting's score (log-odds) from an average meeting's: the
        weight times the standardised value, or for trees the sum of its splits' moves along the paths."""
        if not self.trees:
            return {n: w * (x.get(n, 0.0) - mu) / s
                    for n, mu, s, w in zip(self.names, self.means, self.scales, self.weights, strict=True)}
        row = [x.get(n, 0.0) for n in self.names]
        moved = [0.0] * len(self.names)
        for tree in self.trees:
            for f, by in tree.path(row):
                moved[f] += by
        return dict(zip(self.names, moved, strict=True))

    def reasons(self, x: dict[str, float], limit: int = 3) -> list[str]:
        """The strongest reasons this meeting is riskier than most, in plain words."""
        out = []
        for name, push in sorted(self.pushes(x).items(), key=lambda item: (-item[1], item[0])):
            if push <= 0.05 or len(out) == limit:
                break
            words = describe(name, x)
            if words and words not in out:
                out.append(words)
        return out


def describe(name: str, x: dict[str, float]) -> str:
    n = x.get(name, 0.0)
    days = math.expm1(x.get("lead_days", 0.0))
    return {
        "prior_cancels": f"cancelled {_times(n)} before" if n else "",
        "prior_no_shows": f"did not show up {_times(n)} before" if n else "",
        "moves_in_chain": f"already moved {_times(n)}" if n else "",
        "lead_days": f"booked {round(days / 7)} weeks ahead" if days >= 14 else "",
        "far_ahead": f"booked {round(days / 7)} weeks ahead" if n else "",
        "never_held": "no meeting with them has been held yet" if n else "",
        "contact_days": f"no contact for {round(math.expm1(n))} days before booking" if math.expm1(n) >= 30 else "",
        "never_contacted": "no contact logged before booking" if n else "",
        "is_rebooking": "a rebooking after a cancellation" if n else "",
        "booked_by_prospect": "",
        "same_week": "booked for this week" if n else "",
        "monday": "on a Monday" if n else "",
        "friday": "on a Friday" if n else "",
        "morning": "early in the day" if n else "",
        "late_afternoon": "late in the day" if n else "",
        "prior_held": "",
        "prior_meetings": "",
    }.get(name, "") or (_trait_words(name) if name.startswith("attr:") and n else "")


def _trait_words(name: str) -> str:
    key, _, value = name[len("attr:"):].partition("=")
    return f"{key}: {value}" if value else ""


def _times(n: float) -> str:
    return {1: "once", 2: "twice"}.get(int(n), f"{int(n)} times")


def level(p: float) -> str:
    return "high" if p >= 0.35 else ("medium" if p >= 0.2 else "low")
