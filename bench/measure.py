"""Measurements inside one Rebook database, run by bench/run.py in a child process (DATABASE_URL set).

    python bench/measure.py pages|services|feed|prospect [--seller USERNAME] [--reps N]

Prints one JSON object. Times are milliseconds of server time: the whole Django request (middleware,
view, templates, queries) through the test client, without a network in between.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rebook.settings")
    import django

    django.setup()
    from django.core.signals import request_started
    from django.db import reset_queries

    request_started.disconnect(reset_queries)  # else each request empties the log the query counts read


def stats(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": round(statistics.median(ordered), 3), "p95_ms": round(p95, 3), "n": len(ordered)}


def _client_for(seller):
    from django.test import Client

    client = Client(raise_request_exception=True)
    client.force_login(seller.user)
    return client


def pages(username: str, reps: int, budget: float) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rebook.api.services import token_create
    from rebook.sellers.models import Seller
    from rebook.sellers.services import seller_create
    from rebook.tour import tour

    seller = Seller.objects.select_related("user").get(user__username=username)
    manager = Seller.objects.filter(user__username="bench-manager").first() or seller_create(
        username="bench-manager", is_manager=True
    )
    _, token = token_create(seller=seller, name="bench")
    clients = {False: _client_for(seller), True: _client_for(manager)}
    out = {}
    for stop in tour(seller):
        client = clients[stop.manager]
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if stop.api else {}
        for _ in range(2):
            response = client.get(stop.path, **headers)
            assert response.status_code == 200, (stop, response.status_code)
        with CaptureQueriesContext(connection) as queries:
            client.get(stop.path, **headers)
        count = len(queries)  # now: the log is emptied at the next request
        samples: list[float] = []
        started = time.perf_counter()
        while len(samples) < reps and (len(samples) < 5 or time.perf_counter() - started < budget):
            t = time.perf_counter()
            response = client.get(stop.path, **headers)
            samples.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200
        out[stop.name] = {"path": stop.path, "queries": count, **stats(samples)}
    return out


def services(reps: int, seed: int) -> dict:
    """Book fresh meetings for distinct bookable leads (untimed), then time cancelling half of them and
    rescheduling the other half, as the seller's prospect would: the services with strikes, messages and
    checklist, committed, as in the app."""
    from datetime import timedelta

    from django.db import connection, transaction
    from django.utils import timezone

    from rebook.leads import services as s
    from rebook.leads.models import Appointment, Lead
    from rebook.leads.selectors import appointment_get

    now = timezone.now()
    leads = Lead.objects.filter(status__in=["active", "qualified", "new"], unsubscribed_at__isnull=True)
    if Lead.objects.exclude(seller__user__username="seller001").exists():
        # At team size, leave seller001 alone: the pages are measured on that seller's data, run after run.
        leads = leads.exclude(seller__user__username="seller001")
    ids = list(leads.values_list("id", flat=True))
    rng = random.Random(seed)
    leads = rng.sample(ids, min(len(ids), 2 * reps + 10))
    booked, book_ms = [], []
    for i, lead_id in enumerate(leads):
        lead = Lead.objects.select_related("seller__user").get(pk=lead_id)
        start = (now + timedelta(days=3 + i % 20)).replace(hour=15, minute=0, second=0, microsecond=0)
        t = time.perf_counter()
        appt = s.appointment_book(lead=lead, start=start, end=start + timedelta(minutes=45), now=now)
        book_ms.append((time.perf_counter() - t) * 1000)
        booked.append(appt.pk)
    reasons = ["Something came up", "My son is sick", "", "Double booked", "Flight was cancelled"]
    results = {"book": stats(book_ms[5:])}
    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    for name, chosen in (("cancel", booked[0::2]), ("reschedule", booked[1::2])):
        samples, work, counts = [], [], []
        for i, pk in enumerate(chosen):
            appt = appointment_get(seller=Appointment.objects.get(pk=pk).lead.seller, appointment_id=pk)
            queries[0] = 0
            with connection.execute_wrapper(count):
                t = time.perf_counter()
                # The service's own transaction joins this one, so the time to its return is the work
                # Rebook controls, and the rest is the commit (on SQLite, the fsync that makes it durable).
                with transaction.atomic():
                    if name == "cancel":
                        s.appointment_cancel(appointment=appt, by="prospect", reason=reasons[i % len(reasons)], now=now)
                    else:
                        s.appointment_reschedule(appointment=appt, to=appt.start + timedelta(days=7), by="prospect",
                                                 reason=reasons[i % len(reasons)], now=now)
                    done = time.perf_counter()
                end = time.perf_counter()
            samples.append((end - t) * 1000)
            work.append((done - t) * 1000)
            counts.append(queries[0])
        results[name] = stats(samples[5:])  # the first few warm caches and connections
        results[name]["without_commit"] = stats(work[5:])
        results[name]["queries"] = sorted(counts)[len(counts) // 2]
    counts = {"appointments": Appointment.objects.count(), "leads": Lead.objects.count()}
    return {"operations": results, "size": counts}


def prospect(username: str, reps: int, seed: int) -> dict:
    """The prospect's pages: the manage page (GET) and confirming an offered time (POST, committed: a
    booking with its messages and the note to the seller). The unsubscribe page, the smallest public
    page, is measured in the same run as the baseline."""
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone

    from rebook.leads import services as s
    from rebook.leads.models import Lead
    from rebook.outbox.mail import unsubscribe_url
    from rebook.prospects.links import links_for, manage_url

    def path(url: str) -> str:
        return "/" + url.split("://", 1)[1].split("/", 1)[1]

    from rebook.sellers.models import Seller

    now = timezone.now()
    client = Client()
    # Each run books on a seller chosen by the seed, so repeated runs do not fill one calendar.
    names = sorted(Seller.objects.values_list("user__username", flat=True))
    username = random.Random(seed).choice(names) if len(names) > 1 else username
    leads = Lead.objects.filter(status__in=["active", "qualified", "new"], unsubscribed_at__isnull=True,
                                seller__user__username=username)
    ids = random.Random(seed).sample(list(leads.values_list("id", flat=True)), reps + 10)
    lead = Lead.objects.select_related("seller").get(pk=ids[0])
    start = (now + timedelta(days=9)).replace(hour=15, minute=0, second=0, microsecond=0)
    ahead = s.appointment_book(lead=lead, start=start, end=start + timedelta(minutes=45), now=now)

    def timed_get(p: str) -> list[float]:
        for _ in range(3):
            assert client.get(p).status_code == 200
        samples = []
        for _ in range(reps):
            t = time.perf_counter()
            response = client.get(p)
            samples.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200
        return samples

    manage = timed_get(path(manage_url(ahead)))
    baseline = timed_get(path(unsubscribe_url(lead.pk)))
    confirm = []
    for i, lead_id in enumerate(ids[1:]):
        lead = Lead.objects.select_related("seller").get(pk=lead_id)
        start = (now + timedelta(days=4 + i % 15)).replace(hour=14, minute=0, second=0, microsecond=0)
        meeting = s.appointment_book(lead=lead, start=start, end=start + timedelta(minutes=45), now=now)
        s.appointment_cancel(appointment=meeting, by="prospect", reason="my son is sick", now=now)
        offered = links_for(meeting, now)["slots"]
        if not offered:
            continue  # that seller's calendar has no free time left in the offer's horizon
        pick = path(offered[0]["url"])
        assert client.get(pick).status_code == 200
        t = time.perf_counter()
        response = client.post(pick + "confirm/")
        confirm.append((time.perf_counter() - t) * 1000)
        assert response.status_code in (302, 409), response.status_code  # 409: another rep took that time
    result = {"manage_page": stats(manage), "confirm": stats(confirm[5:]), "baseline_unsubscribe_page": stats(baseline),
              "seller": username}
    result["ratio_to_baseline"] = {k: round(result[k]["median_ms"] / result["baseline_unsubscribe_page"]["median_ms"], 2)
                                   for k in ("manage_page", "confirm")}
    return result


def feed(username: str, reps: int) -> dict:
    """The feed as a calendar app fetches it: whole, then polled with If-None-Match (304); beside it, the
    same events built with icalendar (how the feed was built before), in the same run."""
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from rebook.calendars.feed import feed_token_rotate
    from rebook.leads.models import Appointment
    from rebook.sellers.models import Seller

    seller = Seller.objects.get(user__username=username)
    if not seller.feed_token:
        feed_token_rotate(seller=seller)
    client = Client(raise_request_exception=True)
    path = reverse("feed", args=[seller.feed_token])
    client.get(path)
    samples, size = [], 0
    for _ in range(reps):
        t = time.perf_counter()
        response = client.get(path)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        samples.append((time.perf_counter() - t) * 1000)
        size = len(body)
    etag = response["ETag"]
    polls = []
    for _ in range(reps * 20):
        t = time.perf_counter()
        answer = client.get(path, HTTP_IF_NONE_MATCH=etag)
        polls.append((time.perf_counter() - t) * 1000)
        assert answer.status_code == 304, answer.status_code
    baseline = []
    for _ in range(max(2, reps // 2)):
        t = time.perf_counter()
        _feed_with_icalendar(seller, timezone.now())
        baseline.append((time.perf_counter() - t) * 1000)
    result = {"feed": {**stats(samples), "bytes": size, "events": body.count(b"BEGIN:VEVENT"),
                       "appointments": Appointment.objects.filter(lead__seller=seller).count()},
              "not_modified": stats(polls), "baseline_icalendar": stats(baseline)}
    result["ratio_to_baseline"] = round(result["feed"]["median_ms"] / result["baseline_icalendar"]["median_ms"], 3)
    return result


def _feed_with_icalendar(seller, now):
    """The feed's events built and serialised with icalendar, one object per property: the baseline."""
    from datetime import UTC

    import icalendar

    from rebook.calendars.feed import PAST, REMINDER
    from rebook.leads.models import Appointment
    from rebook.outbox.models import PlannedMessage

    cal = icalendar.Calendar()
    cal.add("prodid", "-//Rebook//Rebook//EN")
    cal.add("version", "2.0")
    for a in (Appointment.objects.filter(seller=seller, start__gte=now - PAST).exclude(status="rescheduled")
              .select_related("lead").order_by("start", "id").iterator(chunk_size=2000)):
        event = icalendar.Event()
        event.add("uid", f"{a.chain}@rebook")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", a.start.astimezone(UTC))
        event.add("dtend", a.end.astimezone(UTC))
        event.add("summary", f"{a.title or 'Meeting'} with {a.lead.name}")
        event.add("status", "CANCELLED" if a.status == "cancelled" else "CONFIRMED")
        event.add("transp", "OPAQUE")
        event.add("url", f"http://127.0.0.1:8000/leads/{a.lead_id}/")
        cal.add_component(event)
    for m in (PlannedMessage.objects.filter(seller=seller, status__in=PlannedMessage.PENDING, due__gte=now - PAST)
              .select_related("lead").order_by("due", "id").iterator(chunk_size=2000)):
        event = icalendar.Event()
        event.add("uid", f"message-{m.pk}@rebook")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", m.due.astimezone(UTC))
        event.add("dtend", (m.due + REMINDER).astimezone(UTC))
        event.add("summary", f"{m.get_kind_display()} for {m.lead.name}")
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()


def worker_prepare(ids_file: str) -> dict:
    """Queue, due now, every message the strategy wants: the generator's pending ones, as if the seller
    approved them all (the same ones again in later rounds, their ids kept in ``ids_file``); unrendered,
    as with auto-send. The history's sent messages stay sent: the strategy no longer wants them, and the
    worker would withdraw them. Quiet hours are off so that nothing is held, whatever the time of day."""
    from datetime import timedelta
    from pathlib import Path

    from django.utils import timezone

    from rebook.outbox.models import PlannedMessage
    from rebook.sellers.models import Seller
    from rebook.sellers.services import seller_policy_set

    for seller in Seller.objects.all():
        seller_policy_set(seller=seller, key="quiet_hours", value="off")
    path = Path(ids_file)
    if path.exists():
        ids = json.loads(path.read_text())
    else:
        ids = list(PlannedMessage.objects.filter(status__in=["review", "scheduled"]).values_list("id", flat=True))
        path.write_text(json.dumps(ids))
    queued = PlannedMessage.objects.filter(id__in=ids).update(
        status="scheduled", frozen=False, subject="", body="", html_body="", message_id="", attempts=0,
        sent_at=None, last_error="", claimed_by="", lease_until=None, due=timezone.now() - timedelta(minutes=1),
    )
    return {"queued": queued}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["pages", "services", "feed", "prospect", "worker-prepare"])
    parser.add_argument("--seller", default="seller001")
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--budget", type=float, default=8.0, help="seconds per page at most (at least 5 runs)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ids", help="worker-prepare: the file that keeps the ids of the messages to queue")
    args = parser.parse_args()
    _setup()
    if args.what == "pages":
        result = pages(args.seller, args.reps, args.budget)
    elif args.what == "services":
        result = services(args.reps, args.seed)
    elif args.what == "feed":
        result = feed(args.seller, args.reps)
    elif args.what == "prospect":
        result = prospect(args.seller, args.reps, args.seed)
    else:
        result = worker_prepare(args.ids)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
