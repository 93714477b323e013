"""One side of bench/peer.py: a Django app (Rebook, or the peer DjangoCRM) answering the four requests of the
comparison through Django's test client, signed in as the data's owner, on the orders bench/peer.py writes to
its standard input (one line: a page's name and how many requests), with one JSON line back per order.

    python bench/peer_timer.py rebook          # REBOOK_HOME holds the `rebook demo --scale 1` database
    python bench/peer_timer.py peer            # PEER_DB, and the peer and bench/peer_side on sys.path

Only the standard library and the side's own Django are imported: the peer runs it in its own environment
(Python 3.12, Django 6). Server time: the whole request (middleware, view, templates, queries), no network.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta

PAGES = ("lead_list", "lead_page", "daily", "write")


def rebook_side():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rebook.settings")
    import django

    django.setup()
    from django.test import Client
    from django.utils import timezone

    from rebook.leads.models import Lead
    from rebook.sellers.models import Seller

    seller = Seller.objects.select_related("user").order_by("id").first()
    client = Client(raise_request_exception=True)
    client.force_login(seller.user)
    leads = Lead.objects.filter(seller=seller).order_by("id")
    lead = leads[leads.count() // 2]  # as on the peer's side: a lead from the middle of the list
    # Each booking is a new meeting for a lead with none ahead (the form's own path: parse the typed time,
    # book, re-evaluate the lead and plan its messages in the same transaction), 50 minutes apart.
    to_book = list(leads.filter(status__in=["new", "qualified"]).values_list("id", flat=True)[:2000])
    first = timezone.now().astimezone(seller.tz).replace(hour=7, minute=0, second=0, microsecond=0) + timedelta(days=120)
    made = [0]

    def write():
        n = made[0]
        made[0] += 1
        at = first + timedelta(days=n // 12, minutes=50 * (n % 12))
        return client.post(f"/leads/{to_book[n % len(to_book)]}/book/", {
            "start": f"{at:%Y-%m-%d %H:%M}", "duration": "45m", "location": "", "booked_by": "seller"})

    return {
        "lead_list": (lambda: client.get("/leads/"), 200),
        "lead_page": (lambda: client.get(f"/leads/{lead.pk}/"), 200),
        "daily": (lambda: client.get("/"), 200),
        "write": (write, 302),
    }


def peer_side():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_settings")
    import django

    django.setup()
    from crm.models import Lead
    from django.contrib.auth.models import User
    from django.contrib.contenttypes.models import ContentType
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone, translation

    user = User.objects.get(username="IamSALES")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    leads = Lead.objects.filter(owner=user).order_by("id")
    lead = leads[leads.count() // 2]
    kind = ContentType.objects.get_for_model(Lead)
    with translation.override("en"):
        lead_list = reverse("site:crm_lead_changelist")  # the manager's default: their own leads, 100 a page
        lead_page = reverse("site:crm_lead_change", args=(lead.pk,))  # its edit form: the peer's lead page
        daily = reverse("site:common_reminder_changelist")  # the user's reminders: its daily list
        add = reverse("site:common_reminder_add") + f"?content_type={kind.pk}&object_id={lead.pk}"
    made = [0]

    def write():
        made[0] += 1
        when = timezone.localtime(timezone.now() + timedelta(days=1))
        return client.post(add, {"subject": f"Bench meeting {made[0]}", "description": "bench", "active": "on",
                                 "reminder_date_0": f"{when:%Y-%m-%d}", "reminder_date_1": "10:30:00", "_save": "Save"})

    return {
        "lead_list": (lambda: client.get(lead_list), 200),
        "lead_page": (lambda: client.get(lead_page), 200),
        "daily": (lambda: client.get(daily), 200),
        "write": (write, 302),
    }


def main() -> None:
    pages = rebook_side() if sys.argv[1] == "rebook" else peer_side()
    from django.core.signals import request_started
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    request_started.disconnect(reset_queries)  # else each request empties the log the query count reads

    for line in sys.stdin:
        name, count = line.split()
        do, status = pages[name]
        with CaptureQueriesContext(connection) as queries:
            answer = do()
        counted = len(queries)  # now: the next request's connection handling may empty the log
        if answer.status_code != status:
            raise SystemExit(f"{sys.argv[1]} {name}: status {answer.status_code}, not {status}")
        times = []
        for _ in range(int(count)):
            started = time.perf_counter()
            answer = do()
            times.append((time.perf_counter() - started) * 1000)
            if answer.status_code != status:
                raise SystemExit(f"{sys.argv[1]} {name}: status {answer.status_code}, not {status}")
        print(json.dumps({"page": name, "queries": counted, "times_ms": times}), flush=True)


if __name__ == "__main__":
    main()
