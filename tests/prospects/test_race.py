"""Two prospects confirm the same offered time at the same moment: exactly one gets it. Threads with their
own connections on PostgreSQL (SQLite's test database is one connection, and lets one writer in anyway)."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client

from rebook.leads.models import Appointment
from rebook.prospects.links import links_for
from tests.conftest import NOW
from tests.prospects.conftest import path_of

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("frozen")]


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs connections that really run at once (PostgreSQL)")


def test_two_prospects_confirming_one_time_at_once_exactly_one_gets_it(alice, charlie):
    from rebook.leads.services import appointment_book, appointment_cancel, lead_create

    dana = lead_create(seller=alice, name="Dana Diaz", email="dana@example.com")
    start = NOW + timedelta(days=2)
    urls = []
    for lead in (charlie, dana):
        meeting = appointment_book(lead=lead, start=start, end=start + timedelta(minutes=45))
        appointment_cancel(appointment=meeting, by="prospect", reason="my daughter is sick")
        urls.append(path_of(links_for(meeting, NOW)["slots"][0]["url"]))
    assert urls[0] != urls[1]
    # Both were offered the same first time (the same length, cancelled at the same moment).
    pages = [(Client(enforce_csrf_checks=True), url) for url in urls]
    forms = []
    for client, url in pages:
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(url).content).group(1).decode()
        forms.append((client, url, token))
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def confirm(client, url, token):
        barrier.wait()
        answers.append(client.post(url + "confirm/", {"csrfmiddlewaretoken": token}).status_code)
        connection.close()

    threads = [threading.Thread(target=confirm, args=form) for form in forms]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(answers) == [302, 409], answers
    booked = Appointment.objects.filter(seller=alice, status="scheduled")
    assert booked.count() == 1
