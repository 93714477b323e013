"""Syncing a seller's calendar, against a real Radicale started here, beside the caldav library's own full
fetch of the same calendar in the same run; and what three connected calendars add to the prospect's
"Move it" times.

    .venv/bin/python bench/calendar_sync.py [--events 5000] [--out bench/results/calendar_sync]

Targets (issue 32): a first sync of a 5,000-event calendar under 20 s; a sync with nothing new under 50 ms
and at most 2 requests; the busy-time lookup adds under 5 ms to the "Move it" page with three calendars.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def calendar_text(n: int, first: datetime) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Rebook bench//EN"]
    for i in range(n):  # spread over the next 90 days, some weekly series among them
        start = first + timedelta(hours=(i * 5) % (24 * 88))
        lines += ["BEGIN:VEVENT", f"UID:bench-{i}@example.com", "DTSTAMP:20260101T000000Z",
                  f"DTSTART:{start:%Y%m%dT%H%M%SZ}", f"DTEND:{start + timedelta(minutes=30):%Y%m%dT%H%M%SZ}",
                  f"SUMMARY:Event {i}"]
        if i % 100 == 0:
            lines.append("RRULE:FREQ=WEEKLY;COUNT=12")
        lines.append("END:VEVENT")
    return "\r\n".join([*lines, "END:VCALENDAR", ""])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "calendar_sync"))
    args = parser.parse_args()

    os.environ.update(REBOOK_HOME=tempfile.mkdtemp(prefix="rebook-calbench-"), DJANGO_SETTINGS_MODULE="rebook.settings",
                      REBOOK_CALENDAR_ALLOW_PRIVATE="true")
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import caldav
    from bench.forecast import machine
    from tests.calendars.servers import radicale

    from rebook.calendars import connections
    from rebook.leads import selectors
    from rebook.sellers.services import seller_create

    seller = seller_create(username="bench", display_name="Bench", email="bench@example.com",
                           timezone_name="America/New_York")
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    results: dict = {"machine": machine(), "events": args.events}
    with radicale(Path(tempfile.mkdtemp())) as server:
        urls = []
        for k in range(3):
            calendar = server.new_calendar(f"Bench {k}")
            n = args.events if k == 0 else 300
            with server.client() as client:  # one PUT of the whole calendar (Radicale splits it into its events)
                client.put(str(calendar.url), calendar_text(n, now - timedelta(days=1)),
                           {"Content-Type": "text/calendar"})
            urls.append(str(calendar.url))

        requests: list[float] = []  # how long each request waited for the server
        real = caldav.DAVClient.request

        def counted(self, *a, **k):
            began = time.perf_counter()
            try:
                return real(self, *a, **k)
            finally:
                requests.append(time.perf_counter() - began)

        caldav.DAVClient.request = counted
        began = time.perf_counter()
        first = connections.connection_add(seller=seller, url=urls[0], login=server.login, password=server.password,
                                           name="Big", now=now)
        results["first_sync_s"] = round(time.perf_counter() - began, 2)
        results["first_sync_requests"] = len(requests)
        results["busy_times"] = first.events
        times, counts, own = [], [], []
        for i in range(20):
            requests.clear()
            began = time.perf_counter()
            report = connections.connection_sync(connection=first, now=now + timedelta(minutes=i + 1))
            times.append((time.perf_counter() - began) * 1000)
            own.append(times[-1] - sum(requests) * 1000)
            counts.append(len(requests))
            assert not report.changed
        results["nothing_new_ms_p50"] = round(statistics.median(times), 1)
        results["nothing_new_own_ms_p50"] = round(statistics.median(own), 1)
        results["nothing_new_requests"] = max(counts)
        caldav.DAVClient.request = real

        # Baseline in the same run: the caldav library's own fetch of every event of the same calendar.
        with server.client() as client:
            began = time.perf_counter()
            fetched = caldav.Calendar(client=client, url=urls[0]).events()
            [e.data for e in fetched]
            results["baseline_caldav_full_fetch_s"] = round(time.perf_counter() - began, 2)

        # The prospect's "Move it" times for a seller with no calendar and one with three, interleaved.
        for k, url in enumerate(urls[1:], start=1):
            connections.connection_add(seller=seller, url=url, login=server.login, password=server.password,
                                       name=f"Calendar {k}", now=now)
        plain = seller_create(username="plain", display_name="Plain", email="plain@example.com",
                              timezone_name="America/New_York")
        samples: dict = {plain.pk: [], seller.pk: []}
        for _ in range(200):
            for who in (plain, seller):
                began = time.perf_counter()
                selectors.open_times(seller=who, length=timedelta(minutes=45), after=now)
                samples[who.pk].append((time.perf_counter() - began) * 1000)
        without, with_three = statistics.median(samples[plain.pk]), statistics.median(samples[seller.pk])
        results["move_it_ms_without"] = round(without, 2)
        results["move_it_ms_with_three"] = round(with_three, 2)
        results["move_it_added_ms"] = round(with_three - without, 2)

    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    md = "\n".join([
        "# Syncing a calendar (Radicale, started by the bench)", "",
        f"Machine: {results['machine']}. SQLite. A calendar of {args.events:,} events (one in a hundred a weekly "
        f"series of 12), {results['busy_times']:,} busy times in the next 90 days.", "",
        "| measure | result | target |", "|---|---|---|",
        f"| first sync (`rebook calendar add`) | {results['first_sync_s']} s, {results['first_sync_requests']} requests "
        f"| under 20 s |",
        f"| the caldav library's own fetch of every event, same calendar, same run | "
        f"{results['baseline_caldav_full_fetch_s']} s | (baseline) |",
        f"| a sync with nothing new, p50 of 20 | {results['nothing_new_ms_p50']} ms in all, of which Rebook's own "
        f"{results['nothing_new_own_ms_p50']} ms (the rest is Radicale answering), at most "
        f"{results['nothing_new_requests']} request(s) | under 50 ms, at most 2 |",
        f"| the \"Move it\" times, p50 of 200 interleaved: no calendar / three connected | {results['move_it_ms_without']} ms / "
        f"{results['move_it_ms_with_three']} ms (+{results['move_it_added_ms']} ms) | adds under 5 ms |", ""])
    out.with_suffix(".md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
