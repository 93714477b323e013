"""Generate a benchmark database: migrate, then write N sellers' histories in bulk (rebook.scale).

    DATABASE_URL=postgres://.../rebook_bench_team python bench/generate.py --sellers 100
    python bench/generate.py --size seller          # 1 seller: 5,000 leads, 20,000 appointments
    python bench/generate.py --size team            # 100 sellers: 500,000 leads, 2,000,000 appointments

The same as `rebook demo --scale N`, except that every seller is new (seller001, seller002, ...) and the
database comes from DATABASE_URL (default: the SQLite file in REBOOK_HOME). Deterministic for a seed,
a size and --now.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime

SIZES = {"small": (1, 250), "seller": (1, 5_000), "team": (100, 5_000)}  # (sellers, leads per seller)
NOW = "2026-11-02T15:00:00+00:00"  # a fixed "now", so a seed gives the same rows on any day


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=SIZES, help="a named size (sellers and leads per seller)")
    parser.add_argument("--sellers", type=int, help="number of sellers (overrides --size)")
    parser.add_argument("--leads-per-seller", type=int, help="leads per seller (overrides --size)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--now", default=NOW, help="the generator's idea of now (ISO 8601)")
    args = parser.parse_args()
    sellers, leads = SIZES[args.size or "seller"]
    sellers, leads = args.sellers or sellers, args.leads_per_seller or leads

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rebook.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from rebook.scale import generate

    call_command("migrate", verbosity=0)
    started = time.perf_counter()

    def progress(done, total) -> None:
        if done % 10 == 0 or done == sellers:
            print(f"  {done}/{sellers} sellers, {total.appointments:,} appointments, "
                  f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)

    summary = generate(sellers=sellers, leads_per_seller=leads, seed=args.seed,
                       now=datetime.fromisoformat(args.now), progress=progress)
    out = {k: v for k, v in vars(summary).items() if k != "seller_usernames"}
    json.dump(out | {"seconds": round(time.perf_counter() - started, 1)}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
