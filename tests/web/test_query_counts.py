"""An N+1 query is a test failure: every main page and API list issues the same number of SQL queries
for a small history and for one several times larger (issue 6; the timings live in bench/)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import NOW

pytestmark = pytest.mark.usefixtures("frozen")


def _counts(client, seller, token: str) -> dict[str, int]:
    from rebook.tour import tour

    counts = {}
    for stop in tour(seller):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if stop.api else {}
        client.get(stop.path, **headers)  # warm: sessions, caches, lazily created rows
        with CaptureQueriesContext(connection) as queries:
            response = client.get(stop.path, **headers)
        assert response.status_code == 200, (stop, response.status_code)
        counts[stop.name] = len(queries)
    return counts


@pytest.mark.django_db
def test_queries_per_page_do_not_grow_with_the_data(client):
    from rebook.api.services import token_create
    from rebook.leads.services import appointment_book, appointment_cancel, lead_create
    from rebook.scale import generate
    from rebook.sellers.models import Seller

    def measure(prefix: str, leads: int, sellers: int) -> dict[str, int]:
        generate(sellers=sellers, leads_per_seller=leads, now=NOW, seed=11, username_prefix=prefix)
        seller = Seller.objects.get(user__username=f"{prefix}001")
        seller.is_manager = True
        seller.save(update_fields=["is_manager"])
        # Small histories may have nothing ahead: a booked meeting (the cancel and reschedule pages) and a
        # cancelled one (freed time on Today) make both sizes show every section.
        lead = lead_create(seller=seller, name="Pat Upcoming", email="pat@upcoming.example", now=NOW)
        appointment_book(lead=lead, start=NOW + timedelta(days=3), end=NOW + timedelta(days=3, hours=1), now=NOW)
        other = lead_create(seller=seller, name="Lee Freed", email="lee@freed.example", now=NOW)
        freed = appointment_book(lead=other, start=NOW + timedelta(days=2), end=NOW + timedelta(days=2, hours=1), now=NOW)
        appointment_cancel(appointment=freed, by="prospect", reason="Something came up", now=NOW)
        client.force_login(seller.user)
        _, token = token_create(seller=seller, name="queries")
        return _counts(client, seller, token)

    small = measure("small", leads=25, sellers=2)
    large = measure("large", leads=100, sellers=3)  # four times the leads, and more sellers on the team page
    assert set(small) == set(large)
    grew = {name: (small[name], large[name]) for name in small if small[name] != large[name]}
    assert not grew, f"queries per page grew with the data (small, large): {grew}"
