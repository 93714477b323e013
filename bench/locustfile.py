"""The load bench/load.py drives with Locust: prospects on the pages behind their links, and sellers on Today,
lead pages and bookings, against a real `rebook serve`. The plan (sessions, lead ids, prospects' links) comes
from the JSON file in LOAD_PLAN, written by bench/load.py."""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from datetime import UTC, datetime, timedelta

from locust import HttpUser, between, constant, task

with open(os.environ["LOAD_PLAN"]) as plan_file:
    PLAN = json.load(plan_file)
SELLERS = itertools.cycle(PLAN["sellers"])
ADDRESSES = itertools.count(1)
NO_WAIT = os.environ.get("LOAD_NO_WAIT") == "1"  # the capacity run: every user sends as fast as answered
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Prospect(HttpUser):
    """A prospect opening the link in their mail: the meeting's page (with the times to move it to), its calendar
    file, or (after a cancellation) the page of more times. Each from an address of their own, through the proxy the
    server trusts, as many prospects would be; none changes anything."""

    fixed_count = int(os.environ.get("LOAD_PROSPECTS", "50"))
    wait_time = constant(0) if NO_WAIT else between(2, 4)  # a person reading a page: inside the 30 a minute

    def on_start(self):
        n = next(ADDRESSES)
        self.client.headers["X-Forwarded-For"] = f"198.51.{n // 250}.{n % 250 + 1}"
        self.client.headers["Connection"] = "close"  # each a person on a device of their own: a connection each
        self.rng = random.Random(n)

    @task(4)
    def meeting(self):
        self.client.get(self.rng.choice(PLAN["manage"]), name="prospect: meeting page")

    @task(1)
    def ics(self):
        self.client.get(self.rng.choice(PLAN["manage"]) + "meeting.ics", name="prospect: calendar file")

    @task(1)
    def more(self):
        if PLAN["more"]:
            self.client.get(self.rng.choice(PLAN["more"]), name="prospect: more times")


class Seller(HttpUser):
    """A seller at work: Today most often, a lead's page, the lead list, and now and then a booking through the
    form (CSRF token from the form, as a browser sends it)."""

    fixed_count = int(os.environ.get("LOAD_SELLERS", "10"))
    wait_time = constant(0) if NO_WAIT else between(1, 3)

    def on_start(self):
        seller = next(SELLERS)
        self.client.cookies.set("sessionid", seller["session"])
        self.leads, self.to_book = seller["leads"], list(seller["to_book"])
        self.rng = random.Random(seller["session"])
        self.next_start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(
            days=200 + self.rng.randrange(400))

    @task(5)
    def today(self):
        self.client.get("/", name="seller: Today")

    @task(4)
    def lead(self):
        self.client.get(f"/leads/{self.rng.choice(self.leads)}/", name="seller: a lead's page")

    @task(1)
    def lead_list(self):
        self.client.get("/leads/", name="seller: lead list")

    @task(1)
    def book(self):
        if not self.to_book:
            return
        lead = self.to_book.pop()
        form = self.client.get(f"/leads/{lead}/book/", name="seller: booking form")
        found = TOKEN.search(form.text)
        if not found:
            return
        self.next_start += timedelta(minutes=50)
        with self.client.post(f"/leads/{lead}/book/", name="seller: book a meeting", allow_redirects=False,
                              data={"csrfmiddlewaretoken": found.group(1),
                                    "start": self.next_start.strftime("%Y-%m-%dT%H:%M"), "duration": "45m",
                                    "location": "", "booked_by": "seller"},
                              headers={"Referer": self.client.base_url + f"/leads/{lead}/book/"},
                              catch_response=True) as answer:
            if answer.status_code != 302:
                answer.failure(f"booking answered {answer.status_code}")
