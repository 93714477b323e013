"""Two changes to one lead at the same moment, on PostgreSQL: the row lock makes them queue up."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections

from rebook.leads import services as s
from rebook.leads.models import Cancellation, Lead

START = datetime(2030, 1, 7, 15, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_concurrent_cancellations_of_one_lead_all_count(alice):
    if connection.vendor != "postgresql":
        pytest.skip("needs a database that several connections share (PostgreSQL)")
    lead = s.lead_create(seller=alice, name="Dana")
    appointments = [
        s.appointment_book(lead=lead, start=START + timedelta(days=d), end=START + timedelta(days=d, hours=1))
        for d in range(3)
    ]
    barrier = threading.Barrier(len(appointments))
    errors: list[BaseException] = []

    def cancel(appointment) -> None:
        try:
            barrier.wait(timeout=10)
            s.appointment_cancel(appointment=appointment, by="prospect", reason="something came up")
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=cancel, args=(a,)) for a in appointments]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    lead = Lead.objects.get(pk=lead.pk)
    # Without the lock, each transaction would re-evaluate without seeing the others' cancellations.
    assert Cancellation.objects.filter(lead=lead, is_strike=True).count() == 3
    assert (lead.strikes, lead.status) == (3, "nurture")
