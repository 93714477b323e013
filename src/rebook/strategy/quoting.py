"""A prospect's own words, made safe to show inside Rebook's text: nothing invisible may reorder or hide what
follows (a right-to-left override can make "(valid)" typed by the prospect read as Rebook's verdict), and the
words are quoted so they read as theirs."""

from __future__ import annotations

import unicodedata

# The embeddings and overrides, the isolates, and the marks that steer bidirectional text.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def visible(text: str) -> str:
    """The text without bidirectional controls or other invisible control and format characters, its
    whitespace (line breaks too) collapsed to single spaces."""
    kept = "".join(" " if ch.isspace() else ch for ch in text if ch.isspace() or not _invisible(ch))
    return " ".join(kept.split())


def _invisible(ch: str) -> bool:
    return ch in BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cf")


def quoted(text: str, limit: int = 300) -> str:
    """Someone else's words as a quotation in Rebook's text: visible, cut to ``limit`` characters with "…",
    in “typographic quotes” (any of their own become plain ones, so the quotation cannot be closed early)."""
    words = visible(text).replace("\u201c", '"').replace("\u201d", '"')
    if len(words) > limit:
        words = words[: max(limit - 1, 0)].rstrip() + "…"
    return f"\u201c{words}\u201d"
