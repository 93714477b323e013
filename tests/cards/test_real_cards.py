"""Real photographs of printed cards (tests/fixtures/cards, sources in SOURCES.md): each field scored, the
accuracy and the time per card printed, and the issue's targets asserted."""

from __future__ import annotations

import json
import time
from pathlib import Path

REAL = Path(__file__).parent.parent / "fixtures" / "cards"
TARGETS = {"email": 0.9, "phone": 0.85, "name": 0.75, "company": 0.65}


def score(scan, expected: dict) -> dict[str, bool]:
    """Which fields of one card were read right (names and companies compared without case)."""
    f = scan.fields
    if f is None:
        return dict.fromkeys(("email", "phone", "name", "company", "title"), False)
    return {"email": expected["email"] in f.emails,
            "phone": expected["phone"] in [p.number for p in f.phones],
            "name": f.name.casefold() == expected["name"].casefold(),
            "company": f.company.casefold() == expected["company"].casefold(),
            "title": f.title.casefold() == expected["title"].casefold()}


def real_cards() -> list[tuple[Path, dict]]:
    out = []
    for listing in sorted(REAL.glob("*/expected.json")):
        out += [(listing.parent / card["file"], card) for card in json.loads(listing.read_text())]
    return out


def test_real_card_photos_are_read_field_by_field(tesseract, capsys):
    from rebook.cards.services import card_scan

    cards = real_cards()
    assert len(cards) >= 2
    right = dict.fromkeys(("email", "phone", "name", "company", "title"), 0)
    seconds, misses = [], []
    for path, expected in cards:
        t = time.perf_counter()
        scan = card_scan(data=path.read_bytes(), name=path.name, region="US")
        seconds.append(time.perf_counter() - t)
        for field, ok in score(scan, expected).items():
            right[field] += ok
            if not ok:
                misses.append(f"{path.name} {field}: {scan.error or scan.as_dict()}")
    seconds.sort()
    n = len(cards)
    with capsys.disabled():
        print(f"\nreal card photos: {n}; right: " + ", ".join(f"{k} {v}/{n}" for k, v in right.items())
              + f"; median {seconds[len(seconds) // 2]:.2f} s a card", *misses[:10], sep="\n  ")
    for field, target in TARGETS.items():
        assert right[field] >= target * n, (field, right[field], n)
