"""Business-card reading: the reader (PP-OCR's detector and recogniser, with Tesseract's second reading of each
line) beside the previous one (Tesseract alone, three page-segmentation modes combined), in one run on the
same cards: per-field accuracy, seconds per card (median and 95th percentile) and each reader's peak memory.
Writes bench/results/cards.json and cards.md.

    .venv/bin/python bench/cards.py

The cards are the suite's card set (tests/cards/test_card_set.py): the real photographs in
tests/fixtures/cards/ (sources in tests/fixtures/SOURCES.md) and the photos tests/cards/photos.py makes hard
on purpose, the part held out of tuning counted apart. Each reader runs in a child process of its own, so that
its peak memory (the process's maximum resident size) is its own; they run one after the other, never side by
side, so that each has the machine's CPUs as a worker would.
"""

from __future__ import annotations

import json
import os
import platform
import resource
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
READERS = {"ppocr": "PP-OCR + Tesseract (now)", "tesseract": "Tesseract alone (before)"}


def cards() -> list[tuple[str, str, bytes, dict]]:
    """(set, file, bytes, expected) for every card of the suite's set."""
    from tests.cards import photos
    from tests.cards.test_card_set import HELD_OUT, real_cards

    out = [("real photos", path.name, path.read_bytes(), expected) for path, expected in real_cards()]
    for n in range(photos.COUNT):
        p = photos.photo(n)
        out.append(("made, tuned on" if n < HELD_OUT else "made, held out", f"card-{n:02d}.jpg", p.data, p.expected))
    return out


def run_reader(using: str) -> dict:
    """In this (child) process: every card through card_scan with one reader."""
    import django

    Path(os.environ["REBOOK_HOME"]).mkdir(parents=True, exist_ok=True)
    django.setup()
    from tests.cards.test_card_set import score

    from rebook.cards.services import card_scan

    sets: dict[str, dict] = {}
    for part, name, data, expected in cards():
        started = time.perf_counter()
        scan = card_scan(data=data, name=name, region="US", using=using)
        seconds = time.perf_counter() - started
        tally = sets.setdefault(part, {"cards": 0, "right": dict.fromkeys(FIELDS, 0),
                                       "scored": dict.fromkeys(FIELDS, 0), "seconds": []})
        tally["cards"] += 1
        tally["seconds"].append(round(seconds, 3))
        for field, ok in score(scan, expected).items():
            if field not in expected.get("unscored", ()):
                tally["scored"][field] += 1
                tally["right"][field] += ok
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"sets": sets, "peak_mb": round(peak_mb)}


def _quantile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * q))] if s else 0.0


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(run_reader(sys.argv[2])))
        return
    started = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    tesseract = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.machine()) if Path("/proc/cpuinfo").exists() else platform.machine()
    results: dict = {"started": started, "machine": f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
                                                    f"{tesseract}", "readers": {}}
    for using in READERS:
        child = subprocess.run([sys.executable, __file__, "--child", using], capture_output=True, text=True, check=True)
        results["readers"][using] = json.loads(child.stdout.strip().splitlines()[-1])
    results["finished"] = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "cards.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [f"# Business cards ({results['started']}; {results['machine']})", "",
             "| cards | reader | " + " | ".join(FIELDS) + " | s/card median | p95 | peak MB |",
             "|---|---|" + "---|" * (len(FIELDS) + 3)]
    parts = list(next(iter(results["readers"].values()))["sets"])
    for part in [*parts, "all"]:
        for using, label in READERS.items():
            r = results["readers"][using]
            chosen = [r["sets"][p] for p in parts] if part == "all" else [r["sets"][part]]
            n = sum(t["cards"] for t in chosen)
            cells = []
            for f in FIELDS:
                right, scored = sum(t["right"][f] for t in chosen), sum(t["scored"][f] for t in chosen)
                cells.append(f"{right}/{scored} ({right / max(scored, 1):.0%})")
            seconds = [s for t in chosen for s in t["seconds"]]
            lines.append(f"| {part} ({n}) | {label} | " + " | ".join(cells)
                         + f" | {_quantile(seconds, 0.5):.2f} | {_quantile(seconds, 0.95):.2f} | {r['peak_mb']} |")
    lines += ["", "Targets (issue 30), on the whole set: e-mail 90%, phone 85%, name 75%, company 65%; at most 3 s a "
              "card (median) with 2 CPUs, under 1 GB. Peak MB is the reader's whole process (Django, the models, "
              "the cards). See bench/cards.py.", ""]
    (out / "cards.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
