"""Reading real replies: today's reader beside the reader as it was before issue 31 (taken from git, same run,
same mails), and the hand-written cutter beside mail-parser-reply for finding a reply's new text.

    .venv/bin/python bench/replies.py [--before COMMIT] [--json]

The mails are tests/fixtures/replies (real, labelled, with a "held_out" third never tuned on); the figures per
part are what the docs (docs/replies.md) report. mail-parser-reply is measured only when installed (pip install
mail-parser-reply); Rebook does not depend on it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.strategy.test_real_replies import load  # noqa: E402

from rebook.strategy import replies  # noqa: E402

BEFORE = "fd9f9c3"  # main before issue 31's reader


def _old_reader(commit: str):
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:src/rebook/strategy/replies.py"],
                            capture_output=True, text=True, check=True).stdout
    path = Path(tempfile.mkdtemp()) / "replies_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("replies_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["replies_before"] = module
    spec.loader.exec_module(module)
    return module


def score(items, read) -> dict:
    predicted, expected, right = Counter(), Counter(), Counter()
    started = time.perf_counter()
    for item in items:
        kind = None if item["kind"] == "none" else item["kind"]
        got = read(item)
        predicted[got] += 1
        expected[kind] += 1
        right[kind] += got == kind
    out = {"n": len(items), "accuracy": round(sum(right.values()) / len(items), 3),
           "ms_per_mail": round((time.perf_counter() - started) * 1000 / len(items), 2)}
    for kind in replies.KINDS:
        out[kind] = {"precision": round(right[kind] / predicted[kind], 2) if predicted[kind] else None,
                     "recall": round(right[kind] / expected[kind], 2) if expected[kind] else None,
                     "n": expected[kind]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    items = load()
    old = _old_reader(args.before)
    readers = {
        "now": lambda i: replies.detect(replies.new_text(i["body"]), subject=i.get("subject") or "").kind,
        f"before ({args.before})": lambda i: old.detect(old.new_text(i["body"])).kind,
    }
    try:
        from mailparser_reply import EmailReplyParser

        parser_ = EmailReplyParser(languages=["en"])
        readers["now, new text by mail-parser-reply"] = lambda i: replies.detect(
            parser_.parse_reply(text=i["body"]) or "", subject=i.get("subject") or "").kind
    except ImportError:
        pass
    results = {name: {part: score([i for i in items if i["split"] == part], read) for part in ("tune", "held_out")}
               for name, read in readers.items()}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for name, parts in results.items():
        print(f"\n{name}")
        for part, r in parts.items():
            kinds = ", ".join(f"{k} {r[k]['precision']}/{r[k]['recall']}" for k in replies.KINDS if r[k]["n"])
            print(f"  {part:9} {r['n']:4} mails, {r['accuracy']:.0%} right, {r['ms_per_mail']} ms a mail; "
                  f"precision/recall: {kinds}")


if __name__ == "__main__":
    main()
