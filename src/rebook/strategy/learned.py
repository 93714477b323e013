"""Learning from the seller: which of Rebook's suggestions on replies does this seller apply, and which dismiss?

Pure: decisions in, a model as plain data out. Every Apply and Dismiss is a label. Once a seller has decided
enough suggestions (``MIN_DECISIONS``, with both answers among them), a small text model is fitted on their
own decisions: TF-IDF word (1-2) and character (3-5) n-grams of the reply and the kind the rules read,
a regularised logistic regression (scikit-learn), and a Platt calibration fitted on out-of-fold scores, so
"0.2" means the seller applies about one in five such suggestions.

The rules still decide and explain what a reply asks for; the model only moves borderline cases (see
``mailbox.services``) and says why in the seller's own terms: "you dismissed 4 of 5 replies like this".
The model is stored as data (vocabularies, IDF weights, coefficients, two calibration numbers), never pickled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MIN_DECISIONS = 30  # below this, or without at least MIN_EACH of each answer, there is no model
MIN_EACH = 5
KEEP = 2000  # the most recent decisions a model learns from
SIMILAR = 0.35  # cosine similarity from which a past reply counts as "like this one"
UNLIKELY, LIKELY = 0.25, 0.75


@dataclass(frozen=True)
class Decision:
    """One decided suggestion: what the reply said, the kind the rules read, and whether the seller applied it."""

    text: str
    kind: str
    applied: bool
    sure: bool = False  # the rules read it with high confidence: the model never holds such a suggestion back


@dataclass(frozen=True)
class Judgement:
    probability: float  # that the seller applies this suggestion
    applied_like: int  # of the past replies most like this one, how many the seller applied
    dismissed_like: int

    @property
    def explanation(self) -> str:
        like = self.applied_like + self.dismissed_like
        if not like:
            return ""
        if self.dismissed_like >= self.applied_like:
            return f"you dismissed {self.dismissed_like} of {like} replies like this"
        return f"you applied {self.applied_like} of {like} replies like this"

    @property
    def unlikely(self) -> bool:
        return self.probability < UNLIKELY

    @property
    def likely(self) -> bool:
        return self.probability > LIKELY


def document(text: str, kind: str) -> str:
    """What the model reads: the kind the rules found, as a word of its own, and the reply."""
    return f"__{kind}__ {text}"


def enough(decisions: Sequence[Decision]) -> str | None:
    """Why no model can be fitted on ``decisions``, or None when one can."""
    applied = sum(d.applied for d in decisions)
    dismissed = len(decisions) - applied
    if len(decisions) < MIN_DECISIONS:
        return f"{len(decisions)} decided suggestions; a model needs {MIN_DECISIONS}"
    if min(applied, dismissed) < MIN_EACH:
        return f"{applied} applied and {dismissed} dismissed; a model needs {MIN_EACH} of each"
    return None


def _vectorizers(data: dict | None = None):
    from sklearn.feature_extraction.text import TfidfVectorizer

    words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), lowercase=True, sublinear_tf=True,
                            token_pattern=r"(?u)\b\w[\w']*\b", min_df=1, max_features=5000)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=True, sublinear_tf=True,
                            min_df=2, max_features=20000)
    if data is not None:
        import numpy as np

        for vec, key in ((words, "words"), (chars, "chars")):
            vec.vocabulary_ = {term: i for i, term in enumerate(data[key]["terms"])}
            vec.idf_ = np.asarray(data[key]["idf"], dtype=float)
    return words, chars


def _matrix(words, chars, docs: Sequence[str]):
    from scipy.sparse import hstack
    from sklearn.preprocessing import normalize

    return normalize(hstack([words.transform(docs), chars.transform(docs)]).tocsr())


def fit(decisions: Sequence[Decision]) -> dict:
    """A model of which suggestions the seller applies, as plain data; ``enough`` must allow it."""
    import numpy as np
    from scipy.sparse import hstack
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import normalize

    why = enough(decisions)
    if why:
        raise ValueError(why)
    decisions = list(decisions)[-KEEP:]
    docs = [document(d.text, d.kind) for d in decisions]
    y = np.array([int(d.applied) for d in decisions])
    words, chars = _vectorizers()
    x = normalize(hstack([words.fit_transform(docs), chars.fit_transform(docs)]).tocsr())

    def model():
        return LogisticRegression(C=4.0, class_weight="balanced", max_iter=1000)

    # Out-of-fold scores for a calibration not fitted on the rows it calibrates (Platt: one slope, one offset).
    folds = min(5, int(min(y.sum(), len(y) - y.sum())))
    raw = np.zeros(len(y))
    for train, test in StratifiedKFold(n_splits=folds, shuffle=True, random_state=1).split(x, y):
        raw[test] = model().fit(x[train], y[train]).decision_function(x[test])
    platt = LogisticRegression(C=1e6).fit(raw.reshape(-1, 1), y)
    final = model().fit(x, y)
    terms = {name: sorted(vec.vocabulary_, key=vec.vocabulary_.get) for name, vec in (("words", words),
                                                                                        ("chars", chars))}
    return {
        "version": 1,
        "words": {"terms": terms["words"], "idf": words.idf_.tolist()},
        "chars": {"terms": terms["chars"], "idf": chars.idf_.tolist()},
        "coef": final.coef_[0].tolist(), "intercept": float(final.intercept_[0]),
        "platt": [float(platt.coef_[0][0]), float(platt.intercept_[0])],
        "decisions": len(decisions),
    }


class Model:
    """A fitted model, loaded from its data, with the seller's past decisions to explain by."""

    def __init__(self, data: dict, past: Sequence[Decision] = ()):
        import numpy as np

        self.words, self.chars = _vectorizers(data)
        self.coef = np.asarray(data["coef"], dtype=float)
        self.intercept = data["intercept"]
        self.platt = data["platt"]
        self.past = list(past)[-KEEP:]
        self._past_x = _matrix(self.words, self.chars, [document(d.text, d.kind) for d in self.past]) \
            if self.past else None

    def probabilities(self, docs: Sequence[str]):
        x = _matrix(self.words, self.chars, docs)
        raw = x @ self.coef + self.intercept
        a, b = self.platt
        return [1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, a * r + b)))) for r in raw]

    def judge(self, text: str, kind: str) -> Judgement:
        doc = document(text, kind)
        probability = self.probabilities([doc])[0]
        applied = dismissed = 0
        if self._past_x is not None:
            sims = (self._past_x @ _matrix(self.words, self.chars, [doc]).T).toarray().ravel()
            for i in sims.argsort()[::-1][:5]:
                if sims[i] >= SIMILAR and self.past[i].kind == kind:
                    applied += self.past[i].applied
                    dismissed += not self.past[i].applied
        return Judgement(probability, applied, dismissed)


@dataclass(frozen=True)
class KindFigures:
    kind: str
    suggested: int  # suggestions of this kind in the evaluated part
    applied: int  # of them, applied by the seller
    kept: int  # suggestions the model would still make
    kept_applied: int

    @property
    def precision_rules(self) -> float | None:
        return self.applied / self.suggested if self.suggested else None

    @property
    def precision_learned(self) -> float | None:
        return self.kept_applied / self.kept if self.kept else None

    @property
    def recall_learned(self) -> float | None:
        return self.kept_applied / self.applied if self.applied else None

    def as_dict(self) -> dict:
        def r(v):
            return None if v is None else round(v, 3)

        return {"kind": self.kind, "suggested": self.suggested, "applied": self.applied, "kept": self.kept,
                "kept_applied": self.kept_applied, "precision_rules": r(self.precision_rules),
                "precision_learned": r(self.precision_learned), "recall_learned": r(self.recall_learned)}


def evaluate(decisions: Sequence[Decision], kinds: Sequence[str], *, step: int = 10) -> list[KindFigures]:
    """In time order, as it would have run: each decision after the first ``MIN_DECISIONS`` is judged by a model
    fitted only on the decisions before it (refitted every ``step``). A low-confidence suggestion the model
    finds unlikely would not have been made (a high-confidence one always is); figures per kind compare the rules alone with rules and model.
    ``decisions`` must be in the order they were made. Raises ValueError when there are too few."""
    why = enough(decisions)
    if why:
        raise ValueError(why)
    later = len(decisions) - MIN_DECISIONS
    if later < 10:
        raise ValueError(f"{len(decisions)} decided suggestions; an evaluation needs {MIN_DECISIONS + 10}")
    kept: list[bool] = []
    i = MIN_DECISIONS
    while i < len(decisions):
        before, block = decisions[:i], decisions[i:i + step]
        if enough(before) is None:
            model = Model(fit(before))
            ps = model.probabilities([document(d.text, d.kind) for d in block])
            kept.extend(d.sure or p >= UNLIKELY for d, p in zip(block, ps, strict=True))
        else:
            kept.extend(True for _ in block)
        i += step
    judged = list(zip(decisions[MIN_DECISIONS:], kept, strict=True))
    out = []
    for kind in kinds:
        mine = [(d, k) for d, k in judged if d.kind == kind]
        out.append(KindFigures(kind, len(mine), sum(d.applied for d, _ in mine), sum(k for _, k in mine),
                               sum(d.applied and k for d, k in mine)))
    return out
