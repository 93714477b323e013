"""Rebook beside an established open-source Django CRM, DjangoCRM (DjangoCRM/django-crm at 4a0caf5), on the
same machine, in one interleaved run, at the same data size: four pages of each, through Django's test client.

    git clone https://github.com/DjangoCRM/django-crm /tmp/django-crm && git -C /tmp/django-crm checkout 4a0caf5
    .venv/bin/python bench/peer.py --peer /tmp/django-crm

The peer is AGPL-3.0: it is not part of this repository, and nothing in its checkout is changed. bench/peer.py
makes the peer its own virtual environment (bench/.data/peer-venv, Python 3.12: --python, else `python3.12`;
its requirements.txt without mysqlclient), runs it on SQLite with DEBUG off and without its background threads
(bench/peer_side/bench_settings.py), and builds both data sets afresh in bench/.data/: the peer's `setupdata`
and bench/peer_side/generate.py (5,000 leads, 20,000 reminders), Rebook's `rebook demo --scale 1` (5,000
leads, about 20,000 meetings). Then each side runs in a child process of its own (bench/peer_timer.py), and
the rounds alternate: for each page, N requests of the peer, then N of Rebook, round after round.

Writes bench/results/peer.json and peer.md (p50 and p95 per page, the queries of one request, the ratio of
the medians, and the machine).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
COMMIT = "4a0caf5"
PAGES = {  # name: (the peer's page, Rebook's page)
    "lead_list": ("lead list (its admin list, 100 a page)", "lead list (/leads/)"),
    "lead_page": ("one lead: its edit form", "one lead: details, history, strikes, interest, next steps, checklists"),
    "daily": ("its reminders list", "Today (meetings, to do, pipeline, freed time)"),
    "write": ("add a reminder", "book a meeting by the form (re-evaluate the lead, plan its messages)"),
}
TARGETS = {"lead_list": 10.0, "lead_page": 5.0, "daily": 5.0, "write": 1.0}


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def run(args: list[str], **kw) -> None:
    done = subprocess.run(args, capture_output=True, text=True, **kw)
    if done.returncode:
        raise SystemExit(f"{' '.join(map(str, args))} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")


def python312(given: str | None) -> str:
    for candidate in [given, *sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python")), shutil.which("python3.12")]:
        if candidate and subprocess.run([candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 12)"],
                                        capture_output=True).returncode == 0:
            return str(candidate)
    raise SystemExit("DjangoCRM needs Python 3.12: give its path with --python")


def peer_env(peer: Path, db: Path) -> dict[str, str]:
    return {**os.environ, "PEER_DB": str(db), "DJANGO_SETTINGS_MODULE": "bench_settings",
            "PYTHONPATH": os.pathsep.join([str(HERE / "peer_side"), str(peer)])}


def setup_peer(peer: Path, python: str) -> tuple[Path, Path]:
    if not (peer / "manage.py").exists() or not (peer / "requirements.txt").exists():
        raise SystemExit(f"{peer} is not a DjangoCRM checkout")
    head = subprocess.run(["git", "-C", str(peer), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    if head and not head.startswith(COMMIT):
        log(f"note: the checkout is at {head[:7]}, not {COMMIT}")
    venv = DATA / "peer-venv"
    if not (venv / "bin" / "python").exists():
        log(f"making the peer's environment ({python})")
        run([python, "-m", "venv", str(venv)])
        wanted = [line for line in (peer / "requirements.txt").read_text().splitlines()
                  if not line.strip().lower().startswith("mysqlclient")]  # SQLite here: no MySQL client to build
        requirements = DATA / "peer-requirements.txt"
        requirements.write_text("\n".join(wanted) + "\n")
        run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "-r", str(requirements)])
    db = DATA / "peer.sqlite3"
    db.unlink(missing_ok=True)
    env = peer_env(peer, db)
    log("the peer's data: migrate, setupdata, 5,000 leads and 20,000 reminders")
    run([str(venv / "bin" / "python"), "manage.py", "migrate", "-v0"], cwd=peer, env=env)
    run([str(venv / "bin" / "python"), "manage.py", "setupdata"], cwd=peer, env=env)
    run([str(venv / "bin" / "python"), str(HERE / "peer_side" / "generate.py")], cwd=peer, env=env)
    return venv, db


def setup_rebook() -> Path:
    home = DATA / "peer-rebook"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    log("Rebook's data: rebook demo --scale 1")
    run([str(Path(sys.executable).with_name("rebook")), "demo", "--scale", "1"],
        env={**os.environ, "REBOOK_HOME": str(home)})
    return home


class Side:
    def __init__(self, name: str, args: list[str], **kw) -> None:
        self.name = name
        self.process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, **kw)

    def ask(self, page: str, count: int) -> dict:
        self.process.stdin.write(f"{page} {count}\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the {self.name} side stopped (see its error above)")
        return json.loads(line)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def stats(times: list[float]) -> dict:
    ordered = sorted(times)
    return {"p50_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 2), "n": len(ordered)}


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        f"Measured {results['finished']} on {m['cpus']} CPUs ({m['cpu']}), {m['memory']}; Rebook on Python "
        f"{m['python']} and Django {m['django']}, DjangoCRM {COMMIT} on Python {results['peer_python']} and Django "
        f"{results['peer_django']}; SQLite {m['sqlite']}, DEBUG off, both sides signed in as the data's owner. "
        f"{results['rounds']} interleaved rounds of {results['requests']} requests per page and side; server time "
        "through Django's test client, in ms.",
        "",
        "| page | DjangoCRM p50 / p95 (queries) | Rebook p50 / p95 (queries) | ratio of p50s | target |",
        "|---|---|---|---|---|",
    ]
    for page, (theirs, ours) in PAGES.items():
        p, r = results["pages"][page]["peer"], results["pages"][page]["rebook"]
        ratio = results["pages"][page]["ratio"]
        mark = "met" if ratio >= TARGETS[page] else "missed"
        lines.append(f"| {page.replace('_', ' ')}: {theirs} / {ours} | {p['p50_ms']:.1f} / {p['p95_ms']:.1f} "
                     f"({p['queries']}) | {r['p50_ms']:.1f} / {r['p95_ms']:.1f} ({r['queries']}) | {ratio:.2f}x | "
                     f"{TARGETS[page]:g}x, {mark} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer", required=True, type=Path, help=f"a checkout of DjangoCRM/django-crm at {COMMIT}")
    parser.add_argument("--python", help="Python 3.12 for the peer (default: python3.12, or pyenv's)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--requests", type=int, default=20, help="requests per page, side and round (default 20)")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="where peer.json and peer.md go")
    parser.add_argument("--update-docs", action="store_true", help="put the table in docs/performance.md")
    args = parser.parse_args()

    DATA.mkdir(exist_ok=True)
    peer = args.peer.resolve()
    venv, db = setup_peer(peer, python312(args.python))
    home = setup_rebook()
    timer = str(HERE / "peer_timer.py")
    sides = {
        "peer": Side("peer", [str(venv / "bin" / "python"), timer, "peer"], cwd=peer, env=peer_env(peer, db)),
        "rebook": Side("rebook", [sys.executable, timer, "rebook"],
                       env={**os.environ, "REBOOK_HOME": str(home), "REBOOK_ALLOWED_HOSTS": "testserver"}),
    }
    times = {page: {side: [] for side in sides} for page in PAGES}
    queries = {page: {} for page in PAGES}
    for page in PAGES:  # one request each first: imports, caches, templates
        for side in sides.values():
            side.ask(page, 1)
    for n in range(args.rounds):
        log(f"round {n + 1} of {args.rounds}")
        for page in PAGES:
            for name, side in sides.items():
                answer = side.ask(page, args.requests)
                times[page][name] += answer["times_ms"]
                queries[page][name] = answer["queries"]
    peer_versions = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import django, platform; print(platform.python_version(), "
         "django.get_version())"], capture_output=True, text=True).stdout.split()
    for side in sides.values():
        side.close()

    sys.path.insert(0, str(HERE))
    from run import machine, publish

    results = {"finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine("", ["sqlite"]),
               "peer_commit": COMMIT, "peer_python": peer_versions[0], "peer_django": peer_versions[1],
               "rounds": args.rounds, "requests": args.requests, "pages": {}}
    for page in PAGES:
        entry = {name: {**stats(times[page][name]), "queries": queries[page][name]} for name in sides}
        entry["ratio"] = round(entry["peer"]["p50_ms"] / entry["rebook"]["p50_ms"], 2)
        results["pages"][page] = entry
    publish(results, "peer", markdown(results), args.out, args.update_docs)


if __name__ == "__main__":
    main()
