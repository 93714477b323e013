"""Rebook under concurrent load, through a real HTTP server: `rebook serve` (gunicorn, and the outbox worker
beside it) on PostgreSQL, driven by Locust (bench/locustfile.py) with 50 prospects on the pages behind their
links and 10 sellers on Today, lead pages, the lead list and bookings, for 60 s at 1, 2 and 4 web processes, and
then the capacity: the same mix with no pauses, for 30 s.

    .venv/bin/pip install -e '.[test,bench]' && .venv/bin/python bench/load.py

The data: `rebook demo --scale 10 --leads-per-seller 1000` (10 sellers, 10,000 leads, about 40,000 meetings)
in a fresh database `rebook_load` beside the one in REBOOK_BENCH_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432/postgres). Locust runs on the same machine as the server, and takes CPU
from it. Writes bench/results/load.json and load.md: requests per second, p50/p95/p99 per route, failures.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
REBOOK = str(Path(sys.executable).with_name("rebook"))
LOCUST = str(Path(sys.executable).with_name("locust"))
P99_TARGET_MS = 150
WARMUP_S = 15
SPAWN_RATE = 10  # users a second
CAPACITY_S = 30
CAPACITY_USERS = 12  # 10 prospects and 2 sellers, none pausing


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database(url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(url)
    return parts._replace(path=f"/{name}").geturl()


def plan(out: Path, per_seller: int) -> None:
    """Run inside Rebook (DATABASE_URL and REBOOK_HOME set): a signed-in session for each seller, the leads
    they visit and book, and prospects' links to meetings ahead and after cancellations."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rebook.settings")
    import django

    django.setup()
    from django.test import Client
    from django.utils import timezone

    from rebook.leads.models import Appointment, Cancellation, Lead
    from rebook.prospects.links import manage_url, more_times_url
    from rebook.sellers.models import Seller

    now = timezone.now()
    sellers = []
    for seller in Seller.objects.select_related("user").order_by("id"):
        client = Client()
        client.force_login(seller.user)
        leads = Lead.objects.filter(seller=seller).order_by("id")
        sellers.append({
            "username": seller.username, "session": client.cookies["sessionid"].value,
            "leads": list(leads.values_list("id", flat=True)[:per_seller]),
            "to_book": list(leads.filter(status__in=["new", "qualified"]).values_list("id", flat=True)[:per_seller]),
        })
    ahead = Appointment.objects.filter(status=Appointment.Status.SCHEDULED, start__gt=now).order_by("start")[:300]
    cancelled = (Cancellation.objects.filter(by="prospect", appointment__start__gt=now)
                 .exclude(kind=Cancellation.Kind.RESCHEDULE).select_related("lead__seller", "appointment")[:100])
    path = lambda url: urlsplit(url).path  # noqa: E731  (the server's own address is Locust's --host)
    out.write_text(json.dumps({"sellers": sellers, "manage": [path(manage_url(a)) for a in ahead],
                               "more": [path(more_times_url(c)) for c in cancelled]}))


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def stats(path: Path) -> dict:
    routes = {}
    with path.open() as f:
        for row in csv.DictReader(f):
            routes[row["Name"]] = {
                "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                "rps": round(float(row["Requests/s"]), 1),
                **{f"p{q}_ms": float(row[f"{q}%"]) for q in (50, 95, 99)},
            }
    return routes


def run_load(env: dict, workers: int, seconds: int, prospects: int, sellers: int, work: Path,
             with_worker: bool = True) -> dict:
    port = free_port()
    server_env = {**env, "REBOOK_TRUSTED_PROXIES": "127.0.0.1", "REBOOK_ALLOWED_HOSTS": "127.0.0.1",
                  # Still counted, never reached: the capacity run's prospects ask far more than 30 a minute.
                  "REBOOK_PUBLIC_RATE_LIMIT": "1000000"}
    server = subprocess.Popen([REBOOK, "serve", "--port", str(port), "--workers", str(workers),
                               *([] if with_worker else ["--no-worker"])], env=server_env,
                              stdin=subprocess.DEVNULL, stdout=(work / f"serve-{workers}.log").open("w"),
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/login/")
        # A warm-up run first, not counted (the processes' first requests: imports, templates, each seller's
        # first forecast), then the measured one on the same server. Users arrive SPAWN_RATE a second, and
        # the figures count from when all have arrived (--reset-stats): started all at once, their first
        # requests came together, queued behind each other, and made the slowest percent of the run.
        users = prospects + sellers
        ramp = -(-users // SPAWN_RATE)
        # Then the capacity: the same mix with no pause between requests (CAPACITY_USERS users), what the
        # server answers per second when it is the limit.
        runs = (("warmup", WARMUP_S, users, {}), ("w", seconds, users, {}),
                ("capacity", CAPACITY_S, CAPACITY_USERS, {"LOAD_NO_WAIT": "1"}))
        for label, length, count, extra in runs:
            prefix = work / f"{label}{workers}"
            share = {"LOAD_PROSPECTS": str(count * prospects // users), "LOAD_SELLERS": str(count * sellers // users)}
            subprocess.run([LOCUST, "-f", str(HERE / "locustfile.py"), "--headless", "--users", str(count),
                            "--spawn-rate", str(SPAWN_RATE), "--reset-stats", "--run-time", f"{length + ramp}s",
                            "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix), "--only-summary",
                            "--loglevel", "WARNING"],
                           env={**env, **share, **extra}, check=False,
                           stdout=(work / f"locust-{label}{workers}.log").open("w"), stderr=subprocess.STDOUT)
        measured = stats(work / f"w{workers}_stats.csv")
        capacity = stats(work / f"capacity{workers}_stats.csv")["Aggregated"]
        measured["Aggregated"]["capacity_rps"] = capacity["rps"]
        measured["Aggregated"]["capacity_failures"] = capacity["failures"]
        return measured
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [f"Measured {results['finished']} on {m['cpus']} CPUs ({m['cpu']}), {m['memory']}; Python {m['python']}, "
             f"Django {m['django']}, PostgreSQL {m.get('postgresql', '?')}. `rebook serve` with its worker; Locust on "
             f"the same machine: {results['prospects']} prospects and {results['sellers']} sellers for "
             f"{results['seconds']} s per run. Times in ms.", ""]
    lines += ["| web processes | requests/s | failures | p50 | p95 | p99 | capacity (requests/s, no pauses) |",
              "|---|---|---|---|---|---|---|"]
    for workers, routes in results["runs"].items():
        total = routes["Aggregated"]
        lines.append(f"| {workers} | {total['rps']} | {total['failures']} | {total['p50_ms']:g} | {total['p95_ms']:g} | "
                     f"{total['p99_ms']:g} | {total.get('capacity_rps', '-')}"
                     + (f" ({total['capacity_failures']} failed)" if total.get("capacity_failures") else "") + " |")
    lines += ["", "Per route (p50 / p95 / p99, and failures), by web processes:", "",
              "| route | " + " | ".join(f"{w} process{'es' if w != '1' else ''}" for w in results["runs"]) + " |",
              "|---|" + "---|" * len(results["runs"])]
    names = [n for n in next(iter(results["runs"].values())) if n != "Aggregated"]
    for name in sorted(names):
        cells = []
        for routes in results["runs"].values():
            r = routes.get(name)
            cells.append("-" if r is None else f"{r['p50_ms']:g} / {r['p95_ms']:g} / {r['p99_ms']:g}"
                         + (f" ({r['failures']} failed)" if r["failures"] else ""))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    for workers, routes in results["runs"].items():
        over = [n for n, r in sorted(routes.items()) if n != "Aggregated" and r["p99_ms"] >= P99_TARGET_MS]
        failed = routes["Aggregated"]["failures"]
        lines.append(f"- {workers} web process{'es' if workers != '1' else ''}: p99 under {P99_TARGET_MS} ms on "
                     + ("every route" if not over else f"all but {', '.join(over)}")
                     + (", no failure." if not failed else f"; {failed} failed."))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres-url", default=os.environ.get(
        "REBOOK_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--workers", default="1,2,4", help="web process counts (default 1,2,4)")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--prospects", type=int, default=50)
    parser.add_argument("--sellers", type=int, default=10)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--update-docs", action="store_true", help="put the table in docs/performance.md")
    parser.add_argument("--no-worker", action="store_true", help="serve without its outbox worker (to compare)")
    parser.add_argument("--plan", type=Path, help=argparse.SUPPRESS)  # inside Rebook: write the plan there
    args = parser.parse_args()
    if args.plan:
        plan(args.plan, 200)
        return

    work = DATA / "load"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = {**os.environ, "DATABASE_URL": fresh_database(args.postgres_url, "rebook_load"),
           "REBOOK_HOME": str(work / "home"), "REBOOK_PASSWORD": "load-bench-password-1"}
    log(f"data: rebook demo --scale {args.sellers} --leads-per-seller 1000 (PostgreSQL)")
    subprocess.run([REBOOK, "demo", "--scale", str(args.sellers), "--leads-per-seller", "1000"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    first = subprocess.run([REBOOK, "user", "list", "--json"], env=env, check=True, capture_output=True, text=True)
    for seller in json.loads(first.stdout):  # so that `rebook serve` finds someone who can sign in
        subprocess.run([REBOOK, "user", "password", seller["username"]], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([REBOOK, "init", "--user", seller["username"], "--name", f"Seller {seller['username']}",
                        "--email", f"{seller['username']}@example.com"], env=env, check=True, stdout=subprocess.DEVNULL)
    plan_file = work / "plan.json"
    subprocess.run([sys.executable, __file__, "--plan", str(plan_file)], env=env, check=True)
    env["LOAD_PLAN"] = str(plan_file)
    log("the worker's first pass (each seller's forecast trained) before any run")
    subprocess.run([REBOOK, "worker", "--until-idle"], env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    runs = {}
    for workers in [int(w) for w in args.workers.split(",")]:
        log(f"{args.prospects} prospects and {args.sellers} sellers for {args.seconds} s, {workers} web process"
            + ("es" if workers > 1 else ""))
        runs[str(workers)] = run_load(env, workers, args.seconds, args.prospects, args.sellers, work,
                                      with_worker=not args.no_worker)
        total = runs[str(workers)]["Aggregated"]
        log(f"  {total['rps']} requests/s, p99 {total['p99_ms']:g} ms, {total['failures']} failed")

    sys.path.insert(0, str(HERE))
    from run import machine, publish

    results = {"finished": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
               "machine": machine(args.postgres_url, ["postgres"]), "seconds": args.seconds,
               "prospects": args.prospects, "sellers": args.sellers, "runs": runs}
    publish(results, "load", markdown(results), args.out, args.update_docs)


if __name__ == "__main__":
    main()
