"""Today lists every meeting of today, the first few of the rest of the week and how many more, and the pipeline
still weighs every meeting of the fortnight (read lightly; only the shown ones in full)."""

from __future__ import annotations

from datetime import timedelta

from rebook.leads.services import appointment_book, lead_create
from tests.conftest import NOW


def test_today_shows_todays_meetings_the_first_of_the_week_and_counts_the_rest(alice, alice_client, frozen):
    # NOW is 09:00 in New York on Monday 2 March 2026: today's meetings are until midnight there.
    plan = [("Today", timedelta(hours=h)) for h in (1, 2, 3)]
    plan += [(f"Week {i}", timedelta(days=1, hours=i)) for i in range(8)]
    plan += [(f"Later {i}", timedelta(days=9, hours=i)) for i in range(3)]
    for n, (name, offset) in enumerate(plan):
        lead = lead_create(seller=alice, name=f"{name} {n}", email=f"p{n}@example.com")
        appointment_book(lead=lead, start=NOW + offset, end=NOW + offset + timedelta(minutes=30), location=f"Room {n}")
    page = alice_client.get("/").content.decode()
    for n in range(3):
        assert f"Today {n}" in page and f"Room {n}" in page  # each of today's, with where
    shown = [i for i in range(8) if f"Week {i} " in page]
    assert shown == [0, 1, 2, 3, 4]  # the first five of the week, in order
    assert "and 3 more this week" in page
    assert "Later" not in page
    pipeline = alice_client.get("/").context["pipeline"]
    assert (pipeline.next_7_days, pipeline.next_14_days) == (11, 14)
