"""Is a cancellation reason valid? A word-list classifier a seller can read and edit.

Each category has phrases; the first category (in ``CATEGORY_ORDER``) with a phrase found in
the reason wins, and the verdict names the phrase, so every judgement can be explained.
The verdict is only a default: the seller's own judgement always overrides it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

NOT_INTERESTED = "not_interested"
NO_REASON = "no_reason"
NO_SHOW = "no_show"
UNKNOWN = "unknown"
VAGUE = "vague"

VALID_CATEGORIES = (
    "illness",
    "family_emergency",
    "bereavement",
    "accident",
    "severe_weather",
    "travel_disruption",
    "work_emergency",
)
# "Not interested" is checked first: it is a decision, not an excuse, whatever else is said.
CATEGORY_ORDER = (NOT_INTERESTED, *VALID_CATEGORIES, VAGUE)
ALL_CATEGORIES = (*CATEGORY_ORDER, NO_REASON, NO_SHOW, UNKNOWN)

CATEGORY_LABELS = {
    NOT_INTERESTED: "not interested",
    "illness": "illness",
    "family_emergency": "family emergency",
    "bereavement": "bereavement",
    "accident": "accident",
    "severe_weather": "severe weather",
    "travel_disruption": "travel disruption",
    "work_emergency": "work emergency",
    VAGUE: "vague",
    NO_REASON: "no reason given",
    NO_SHOW: "no-show",
    UNKNOWN: "unrecognised (judge it yourself)",
}

DEFAULT_PHRASES: dict[str, tuple[str, ...]] = {
    NOT_INTERESTED: (
        "not interested", "no longer interested", "not really interested", "lost interest",
        "don't need", "do not need", "doesn't need", "not for me", "no thanks", "no thank you",
        "went with another", "going with another", "chose another", "decided against",
        "decided not to", "stop contacting", "stop calling", "remove me", "not buying",
    ),
    "illness": (
        "sick", "ill", "illness", "flu", "fever", "covid", "virus", "cold", "unwell",
        "not feeling well", "under the weather", "doctor", "hospital", "hospitalised",
        "hospitalized", "emergency room", "surgery", "migraine", "stomach bug",
        "food poisoning", "vomiting", "throwing up", "infection", "pneumonia", "contagious",
        "medical", "diagnosed", "chemo", "in labour", "in labor", "went into labour",
    ),
    "family_emergency": (
        "family emergency", "emergency at home", "childcare fell through", "babysitter cancelled",
        "babysitter canceled", "no babysitter", "daycare closed", "school called",
        "pick up my son", "pick up my daughter", "pick up my child", "pick up my kid",
        "my mother fell", "my father fell", "house fire", "burst pipe", "flooded house",
    ),
    "bereavement": (
        "funeral", "passed away", "died", "death in the family", "bereavement", "memorial",
        "grieving",
    ),
    "accident": (
        "accident", "car crash", "crashed", "injured", "injury", "hurt my", "broke my",
        "broken leg", "broken arm", "fell and",
    ),
    "severe_weather": (
        "snowstorm", "snow storm", "blizzard", "storm", "hurricane", "tornado", "flood",
        "flooding", "icy roads", "ice storm", "heat wave", "heatwave", "wildfire", "evacuated",
        "evacuation", "weather warning", "roads are closed", "power outage", "power cut", "snowed in",
    ),
    "travel_disruption": (
        "flight cancelled", "flight canceled", "flight delayed", "delayed flight", "flight was cancelled",
        "flight was canceled", "flight got cancelled", "flight got canceled", "flight was delayed",
        "flight is delayed", "flight got delayed", "train was cancelled", "train was canceled", "train is delayed",
        "missed my flight", "train cancelled", "train canceled", "train delayed", "rail strike",
        "transit strike", "car broke down", "car won't start", "flat tire", "flat tyre",
        "road closed", "stranded", "stuck at the airport",
    ),
    "work_emergency": (
        "work emergency", "emergency at work", "called into work", "called in to work",
        "called in for work", "on call", "outage at work", "production outage",
        "crisis at work", "urgent issue at work", "client emergency",
    ),
    VAGUE: (
        "something came up", "came up", "too busy", "busy", "swamped", "slammed", "tied up",
        "forgot", "forgotten", "not a good time", "bad time", "can't make it", "cannot make it",
        "can not make it", "won't make it", "schedule conflict", "scheduling conflict",
        "conflict", "double booked", "double-booked", "overbooked", "personal reasons",
        "rain check", "another time", "other plans", "change of plans", "running late",
        "need to reschedule", "have to reschedule", "reschedule",
    ),
}


@dataclass(frozen=True)
class ReasonVerdict:
    category: str
    valid: bool
    needs_review: bool
    matched: str | None

    @property
    def explanation(self) -> str:
        """Why, without the verdict itself (shown beside it): 'vague ("something came up")'."""
        label = CATEGORY_LABELS[self.category]
        return f'{label} ("{self.matched}")' if self.matched else label


def _normalise(text: str) -> str:
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(re.sub(r"[^\w'\s-]", " ", text).split())


def _pattern(phrase: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in _normalise(phrase).split()]
    return re.compile(r"(?<![\w'])" + r"\s+".join(words) + r"(?![\w'])")


@dataclass(frozen=True)
class ReasonClassifier:
    """Phrase lists per category; build one from a seller's edited lists with ``from_phrases``."""

    phrases: Mapping[str, Sequence[str]]

    @classmethod
    def from_phrases(cls, overrides: Mapping[str, Sequence[str]] | None = None) -> ReasonClassifier:
        merged = dict(DEFAULT_PHRASES)
        for category, phrases in (overrides or {}).items():
            if category in merged:
                merged[category] = tuple(phrases)
        return cls(phrases=merged)

    def classify(self, reason: str | None) -> ReasonVerdict:
        text = _normalise(reason or "")
        if not text:
            return ReasonVerdict(NO_REASON, valid=False, needs_review=False, matched=None)
        for category in CATEGORY_ORDER:
            for phrase in self.phrases.get(category, ()):
                if phrase.strip() and _pattern(phrase).search(text):
                    return ReasonVerdict(category, category in VALID_CATEGORIES, False, phrase)
        return ReasonVerdict(UNKNOWN, valid=False, needs_review=True, matched=None)


DEFAULT_CLASSIFIER = ReasonClassifier.from_phrases()


def classify_reason(reason: str | None) -> ReasonVerdict:
    """Classify with the shipped word lists."""
    return DEFAULT_CLASSIFIER.classify(reason)
