"""The card reader scored field by field on the suite's card set, through the same service as an upload:

- real photographs of printed cards (tests/fixtures/cards, sources and licences in SOURCES.md);
- photos made hard on purpose (tests/cards/photos.py: layouts, fonts, languages, dark and coloured stock,
  perspective, glare, shadow, blur, JPEG at quality 40, 12-megapixel frames): numbers below HELD_OUT were
  looked at while the reader was tuned, the rest never were.

Prints the table (run with -s to see it among other output) and asserts the issue's targets on the whole set.
Time per card is printed, not asserted: bench/cards.py measures it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.cards import photos

REAL = Path(__file__).parent.parent / "fixtures" / "cards"
FIELDS = ("email", "phone", "name", "company", "title")
TARGETS = {"email": 0.90, "phone": 0.85, "name": 0.75, "company": 0.65}
HELD_OUT = 36  # photos.photo(n) for n >= HELD_OUT were never looked at while tuning
COUNT = photos.COUNT


@dataclass
class Tally:
    cards: int = 0
    right: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    scored: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    seconds: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.cards += other.cards
        for f in FIELDS:
            self.right[f] += other.right[f]
            self.scored[f] += other.scored[f]
        self.seconds += other.seconds

    def row(self, label: str) -> str:
        cells = [f"{self.right[f]}/{self.scored[f]} ({self.right[f] / max(self.scored[f], 1):.0%})" for f in FIELDS]
        s = sorted(self.seconds)
        median = s[len(s) // 2] if s else 0.0
        p95 = s[min(len(s) - 1, int(len(s) * 0.95))] if s else 0.0
        return f"| {label} | {self.cards} | " + " | ".join(cells) + f" | {median:.2f} / {p95:.2f} |"


def score(scan, expected: dict) -> dict[str, bool]:
    """Which fields of one card were read right: the e-mail and the phone among those read, the name, company
    and title whole (without regard to case)."""
    f = scan.fields
    if f is None:
        return dict.fromkeys(FIELDS, False)
    return {"email": expected["email"].lower() in f.emails,
            "phone": expected["phone"] in [p.number for p in f.phones],
            "name": f.name.casefold() == expected["name"].casefold(),
            "company": f.company.casefold() == expected["company"].casefold(),
            "title": f.title.casefold() == expected["title"].casefold()}


def real_cards() -> list[tuple[Path, dict]]:
    out = []
    for listing in sorted(REAL.glob("*/expected.json")):
        out += [(listing.parent / card["file"], card) for card in json.loads(listing.read_text())]
    return out


def _read(tally: Tally, label: str, data: bytes, name: str, expected: dict) -> None:
    from rebook.cards.services import card_scan

    started = time.perf_counter()
    scan = card_scan(data=data, name=name, region="US")
    tally.seconds.append(time.perf_counter() - started)
    tally.cards += 1
    for f, ok in score(scan, expected).items():
        if f in expected.get("unscored", ()):
            continue
        tally.scored[f] += 1
        tally.right[f] += ok
        if not ok:
            got = scan.error or (scan.fields.emails if f == "email" else [p.number for p in scan.fields.phones]
                                 if f == "phone" else getattr(scan.fields, f))
            tally.misses.append(f"{label} {name} {f}: expected {expected[f]!r}, read {got!r}")


@pytest.mark.usefixtures("tesseract")
def test_the_card_set_is_read_field_by_field(capsys):
    real, tuned, held = Tally(), Tally(), Tally()
    for path, expected in real_cards():
        _read(real, "real", path.read_bytes(), path.name, expected)
    for n in range(COUNT):
        p = photos.photo(n)
        _read(tuned if n < HELD_OUT else held, "made", p.data, f"card-{n:02d}.jpg ({p.how})", p.expected)
    everything = Tally()
    for part in (real, tuned, held):
        everything.add(part)
    header = "| cards | n | " + " | ".join(FIELDS) + " | seconds a card, median / p95 |"
    with capsys.disabled():
        print("\n" + "\n".join([header, "|" + "---|" * (len(FIELDS) + 3),
                                real.row("real photos"), tuned.row("made hard, tuned on"),
                                held.row("made hard, held out"), everything.row("all")]))
        print(*(real.misses + tuned.misses)[:30], sep="\n  ")  # the held-out part's misses stay unread
    assert real.cards >= 4 and everything.cards >= 40
    for f, target in TARGETS.items():
        assert everything.right[f] >= target * everything.scored[f], (f, everything.right[f], everything.scored[f])
