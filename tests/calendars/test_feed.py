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


def test_icalendar_reads_back_every_event_as_written_with_escapes_folding_and_all_day(alice):
    """The feed is written as text (not through icalendar): icalendar must still parse it and get every
    event's values back exactly, long and non-ASCII lines folded, commas and semicolons escaped."""
    from rebook.leads.models import Appointment
    from rebook.leads.services import lead_create

    lead = lead_create(seller=alice, name="Zoë d'Ørsted; Café, Bäckerei \\ Söhne " + "ü" * 60)
    plain = appointment_book(lead=lead, start=NOW + timedelta(days=1), end=NOW + timedelta(days=1, hours=1),
                             location="Rue de l'Église 4, 75001 Paris;\nsecond floor — " + "é" * 80)
    whole_day = appointment_book(lead=lead, start=NOW + timedelta(days=3), end=NOW + timedelta(days=3, hours=2))
    Appointment.objects.filter(pk=whole_day.pk).update(all_day=True, title="Trade fair, day 1")
    raw = feed(alice, now=NOW)
    assert all(len(line) <= 75 for line in raw.split(b"\r\n")), "a line longer than 75 octets"
    assert raw.decode()  # valid UTF-8: no character cut by a fold
    cal = icalendar.Calendar.from_ical(raw)
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    rows = Appointment.objects.filter(seller=alice).exclude(status="rescheduled")
    assert {f"{a.chain}@rebook" for a in rows} <= set(events)
    for a in rows:
        e = events[f"{a.chain}@rebook"]
        assert str(e["SUMMARY"]) == f"{a.title or 'Meeting'} with {lead.name}"
        assert e["DTSTAMP"].dt == a.updated_at.replace(microsecond=0)
        if a.all_day:
            assert e["DTSTART"].dt == a.start.astimezone(alice.tz).date()
        else:
            assert (e["DTSTART"].dt, e["DTEND"].dt) == (a.start, a.end)
    assert str(events[f"{plain.chain}@rebook"]["LOCATION"]) == plain.location
    assert str(cal["X-WR-CALNAME"]) == f"Rebook: {alice.name}"
    messages = [e for uid, e in events.items() if uid.startswith("message-")]
    assert messages and all(f"for {lead.name}" in str(e["SUMMARY"]) for e in messages)


def test_a_calendar_app_polling_an_unchanged_feed_gets_304_and_a_change_is_seen(client, alice, charlie, frozen):
    appointment = appointment_book(lead=charlie, start=NOW + timedelta(days=2), end=NOW + timedelta(days=2, hours=1))
    path = feed_url(alice).removeprefix("http://127.0.0.1:8000")
    first = client.get(path)
    etag, modified = first["ETag"], first["Last-Modified"]
    assert first.status_code == 200 and etag.startswith('"') and modified
    again = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert client.get(path, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    assert client.get(path, HTTP_IF_NONE_MATCH='"something else"').status_code == 200

    # Each kind of change is a new ETag: a cancellation, a renamed lead, a new day (the window moves).
    frozen.shift(timedelta(minutes=5))
    appointment_cancel(appointment=appointment, by="prospect", reason="my son is sick")
    after_cancel = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert after_cancel.status_code == 200 and b"STATUS:CANCELLED" in after_cancel.content
    from rebook.leads.services import lead_update

    frozen.shift(timedelta(minutes=5))
    lead_update(lead=charlie, name="Charles Chen")
    renamed = client.get(path, HTTP_IF_NONE_MATCH=after_cancel["ETag"])
    assert renamed.status_code == 200 and b"Charles Chen" in renamed.content
    assert client.get(path, HTTP_IF_NONE_MATCH=renamed["ETag"]).status_code == 304
    frozen.shift(timedelta(hours=2))  # the same day: still unchanged
    assert client.get(path, HTTP_IF_NONE_MATCH=renamed["ETag"]).status_code == 304
    frozen.shift(timedelta(days=1))
    assert client.get(path, HTTP_IF_NONE_MATCH=renamed["ETag"]).status_code == 200
