"""The private calendar feed and `rebook export ics`."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest

from rebook.calendars.feed import feed, feed_token_rotate, feed_url
from rebook.leads.services import appointment_book, appointment_cancel, appointment_reschedule
from tests.conftest import NOW

pytestmark = pytest.mark.usefixtures("frozen")


def test_the_feed_has_one_event_per_appointment_chain_and_the_planned_follow_ups(alice, charlie):
    first = appointment_book(lead=charlie, start=NOW + timedelta(days=2), end=NOW + timedelta(days=2, hours=1))
    _, moved = appointment_reschedule(appointment=first, to=NOW + timedelta(days=4), by="seller", reason="clash")
    other = appointment_book(lead=charlie, start=NOW + timedelta(days=9), end=NOW + timedelta(days=9, hours=1))
    appointment_cancel(appointment=other, by="prospect", reason="my son is sick")
    cal = icalendar.Calendar.from_ical(feed(alice, now=NOW))
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    meeting = events[f"{first.chain}@rebook"]
    assert meeting["DTSTART"].dt == moved.start and str(meeting["STATUS"]) == "CONFIRMED"
    assert str(events[f"{other.chain}@rebook"]["STATUS"]) == "CANCELLED"
    reminders = [e for uid, e in events.items() if uid.startswith("message-")]
    assert reminders and all(str(e["TRANSP"]) == "TRANSPARENT" for e in reminders)
    assert any("Connecting moment for Charlie Chen" in str(e["SUMMARY"]) for e in reminders)
    assert len([uid for uid in events if not uid.startswith("message-")]) == 2


def test_the_feed_url_works_without_login_and_stops_working_when_rotated(client, alice, charlie):
    appointment_book(lead=charlie, start=NOW + timedelta(days=2), end=NOW + timedelta(days=2, hours=1))
    url = feed_url(alice)
    path = url.removeprefix("http://127.0.0.1:8000")
    response = client.get(path)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    assert b"Charlie Chen" in response.content
    feed_token_rotate(seller=alice)
    assert client.get(path).status_code == 404
    assert client.get("/feed/.ics").status_code == 404


def test_export_ics_writes_the_feed(alice, charlie, tmp_path):
    from tests.clirunner import Rebook

    appointment_book(lead=charlie, start=NOW + timedelta(days=2), end=NOW + timedelta(days=2, hours=1))
    out = tmp_path / "mine.ics"
    Rebook()("export", "ics", "--output", str(out))
    cal = icalendar.Calendar.from_ical(out.read_bytes())
    assert any("Charlie Chen" in str(e["SUMMARY"]) for e in cal.walk("VEVENT"))
