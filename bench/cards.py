"""Business-card reading: per-field accuracy and time per card, Rebook against a plain Tesseract pass, in one
run on the same cards. Writes bench/results/cards.json and cards.md.

    .venv/bin/python bench/cards.py

The cards: the real photographs in tests/fixtures/cards/ (sources in tests/fixtures/SOURCES.md) and the
twelve cards tests/cards/test_cards.py renders. The baseline is what the issue calls a plain pass: Tesseract
on the image as it is (automatic page segmentation), a regular expression for the e-mail, phonenumbers'
matcher over the whole text, and "the first line is the name, the second the company".
"""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rebook.settings")
os.environ.setdefault("REBOOK_HOME", str(HERE / ".data" / "cards-home"))
FIELDS = ("email", "phone", "name", "company", "title")


def baseline(data: bytes) -> dict:
    import phonenumbers

    text = subprocess.run(["tesseract", "stdin", "stdout", "--psm", "3"], input=data, capture_output=True,
                          check=False).stdout.decode(errors="replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return {"emails": [e.lower() for e in re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", text)],
            "phones": [phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)
                       for m in phonenumbers.PhoneNumberMatcher(text, "US")],
            "name": lines[0] if lines else "", "company": lines[1] if len(lines) > 1 else "", "title": ""}


def right(got: dict, expected: dict) -> dict[str, bool]:
    return {"email": expected["email"] in got["emails"], "phone": expected["phone"] in got["phones"],
            "name": got["name"].casefold() == expected["name"].casefold(),
            "company": got["company"].casefold() == expected["company"].casefold(),
            "title": got["title"].casefold() == expected["title"].casefold()}


def cards() -> dict[str, list[tuple[str, bytes, dict]]]:
    from tests.cards.test_cards import CARDS, render
    from tests.cards.test_real_cards import real_cards

    real = [(path.name, path.read_bytes(), expected) for path, expected in real_cards()]
    rendered = []
    for variant in range(12):
        card = CARDS[variant % len(CARDS)]
        rendered.append((f"rendered-{variant}.jpg", render(card, variant=variant),
                         {**card, "phone": card["e164"]}))
    return {"real": real, "rendered": rendered}


def main() -> None:
    import django

    Path(os.environ["REBOOK_HOME"]).mkdir(parents=True, exist_ok=True)
    django.setup()
    from rebook.cards.services import card_scan

    results: dict = {"started": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
                     "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
                                f"Python {platform.python_version()}, "
                                + subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.split("\n")[0],
                     "sets": {}}
    for name, items in cards().items():
        tally = {"rebook": dict.fromkeys(FIELDS, 0), "baseline": dict.fromkeys(FIELDS, 0)}
        seconds = {"rebook": [], "baseline": []}
        misses = []
        for file, data, expected in items:
            t = time.perf_counter()
            scan = card_scan(data=data, name=file, region="US")
            seconds["rebook"].append(time.perf_counter() - t)
            got = scan.as_dict()
            for field, ok in right(got, expected).items():
                tally["rebook"][field] += ok
                if not ok:
                    misses.append(f"{file} {field}: {got.get(field if field in ('name', 'company', 'title') else field + 's')!r}")
            t = time.perf_counter()
            plain = baseline(data)
            seconds["baseline"].append(time.perf_counter() - t)
            for field, ok in right(plain, expected).items():
                tally["baseline"][field] += ok
        n = len(items)
        results["sets"][name] = {
            "cards": n, "misses": misses,
            **{who: {"right": tally[who], "accuracy": {f: round(tally[who][f] / n, 2) for f in FIELDS},
                     "median_s": round(statistics.median(seconds[who]), 2)} for who in tally}}
    results["finished"] = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "cards.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [f"# Business cards ({results['started']}; {results['machine']})", "",
             "| cards | reader | " + " | ".join(FIELDS) + " | median s/card |", "|---|---|" + "---|" * (len(FIELDS) + 1)]
    for name, r in results["sets"].items():
        for who in ("rebook", "baseline"):
            lines.append(f"| {name} ({r['cards']}) | {who} | " + " | ".join(
                f"{r[who]['right'][f]}/{r['cards']}" for f in FIELDS) + f" | {r[who]['median_s']} |")
    lines += ["", "Targets (issue 15), on real photographs: e-mail 90%, phone 85%, name 75%, company 65%, under 3 s "
              "a card (median). The baseline is a plain Tesseract pass (see bench/cards.py).", ""]
    (out / "cards.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
