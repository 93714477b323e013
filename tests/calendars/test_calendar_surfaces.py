"""`rebook calendar ...`, and a seller booking over a busy time: allowed, with a clear warning, on the
command line, the web and the API; a prospect is never offered that time."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client

from rebook.api.services import token_create
from rebook.calendars.models import BusyTime, Connection
from rebook.leads import selectors
from rebook.leads.services import lead_create
from tests.calendars.test_connections import ics_server  # noqa: F401  (a fixture)
from tests.clirunner import Rebook
from tests.conftest import NOW

pytestmark = pytest.mark.usefixtures("frozen")

# Team meeting every weekday at 10:00 New York time, from the frozen "now" on.
TEAM = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Google Inc//Google Calendar 70.9054//EN
X-WR-TIMEZONE:America/New_York
BEGIN:VEVENT
UID:standup@google.com
DTSTAMP:20260101T000000Z
DTSTART;TZID=America/New_York:20260302T100000
DTEND;TZID=America/New_York:20260302T110000
RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR
SUMMARY:Team meeting
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture(autouse=True)
def private_allowed(settings):
    settings.REBOOK_CALENDAR_ALLOW_PRIVATE = True


@pytest.fixture
def connected(alice, ics_server):  # noqa: F811
    handler, url = ics_server
    handler.body = TEAM.encode()
    data = Rebook().json("calendar", "add", url, "--name", "Work", "--user", "alice")
    return data, url


def test_the_calendar_commands(alice, connected):
    data, url = connected
    assert {"id", "name", "kind", "url", "login", "busy_only", "writes", "busy_times", "last_sync", "last_error",
            "problems"} <= set(data)
    assert (data["name"], data["kind"], data["url"], data["last_error"]) == ("Work", "ics", url, None)
    assert data["busy_times"] == BusyTime.objects.count() > 50  # five a week for 90 days
    rebook = Rebook()
    assert [c["name"] for c in rebook.json("calendar", "list")] == ["Work"]
    assert rebook.json("calendar", "show", "Work")["id"] == data["id"]
    assert rebook.json("calendar", "test", str(data["id"]))["error"] is None
    synced = rebook.json("calendar", "sync")
    assert synced[0]["changed"] is False and synced[0]["busy"] == data["busy_times"]  # 304: nothing new
    assert "already have a calendar named 'Work'" in rebook.error("calendar", "add", url, "--name", "Work")
    assert "no calendar 'Home'" in rebook.error("calendar", "show", "Home")
    assert rebook.json("calendar", "remove", "Work") == {"removed": "Work"}
    assert not Connection.objects.exists() and not BusyTime.objects.exists()
    assert "No calendar connected" in rebook("calendar", "list").stdout


def test_booking_over_a_busy_time_warns_everywhere_and_prospects_never_get_it(alice, alice_client, connected):
    lead = lead_create(seller=alice, name="Dana Reyes", email="dana@reyes.example")
    tomorrow_ten = (NOW.astimezone(alice.tz) + timedelta(days=1)).replace(hour=10, minute=30)
    rebook = Rebook()
    out = rebook("appt", "book", str(lead.pk), "--at", tomorrow_ten.strftime("%Y-%m-%d %H:%M")).stdout
    assert "Note: it clashes with Team meeting 10:00-11:00 in your calendar." in out
    assert rebook.json("appt", "book", str(lead.pk), "--at", tomorrow_ten.strftime("%Y-%m-%d 15:00"))["clashes"] == []

    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(seller=alice, name='t')[1]}")
    made = api.post("/api/v1/appointments", json.dumps({"lead_id": lead.pk, "start": tomorrow_ten.isoformat()}),
                    content_type="application/json")
    assert made.status_code == 201 and made.json()["clashes"] == ["Team meeting 10:00-11:00"]

    page = alice_client.post(f"/leads/{lead.pk}/book/", {"start": tomorrow_ten.strftime("%Y-%m-%d %H:%M"),
                                                         "duration": "45m", "booked_by": "seller"}, follow=True)
    assert "clashes with Team meeting 10:00-11:00 in your calendar" in page.content.decode()

    hour = timedelta(hours=1)
    for start in selectors.open_times(seller=alice, length=hour, after=NOW):
        local = start.astimezone(alice.tz)
        assert not (local.weekday() < 5 and local.hour < 11 and local + hour > local.replace(hour=10, minute=0))


def test_the_settings_page_adds_reads_and_removes_a_calendar(alice, alice_client, ics_server):  # noqa: F811
    handler, url = ics_server
    handler.body = TEAM.encode()
    page = alice_client.get("/settings/").content.decode()
    assert "Your calendars" in page and "No calendar connected yet." in page
    wrong = alice_client.post("/settings/calendars/", {"calendar-url": "ftp://me:s3cret@nowhere", "calendar-password": "pw"})
    assert wrong.status_code == 400 and "give an https://" in wrong.content.decode()
    assert 'value="pw"' not in wrong.content.decode() and "s3cret" not in wrong.content.decode()
    assert not Connection.objects.exists()
    refused = alice_client.post("/settings/calendars/", {"calendar-url": url, "calendar-writes": "on"})
    assert refused.status_code == 400 and "writes its meetings into one CalDAV calendar" in refused.content.decode()
    added = alice_client.post("/settings/calendars/", {"calendar-url": url, "calendar-name": "Work"}, follow=True)
    assert "Calendar Work added" in added.content.decode()
    c = Connection.objects.get()
    assert alice_client.get(f"/settings/calendars/{c.pk}/sync/").status_code == 405  # changes are POSTs
    read = alice_client.post(f"/settings/calendars/{c.pk}/sync/", follow=True).content.decode()
    assert "Work read:" in read and "unchanged" in read
    handler.etag, handler.body = '"v9"', b"not a calendar"
    Connection.objects.update(read_at=None)
    failed = alice_client.post(f"/settings/calendars/{c.pk}/sync/", follow=True).content.decode()
    assert "did not give a calendar" in failed and "may be out of date" in failed
    assert BusyTime.objects.filter(connection=c).exists()  # the last good busy times are kept
    alice_client.post(f"/settings/calendars/{c.pk}/remove/")
    assert not Connection.objects.exists()


def test_another_sellers_calendar_is_not_found(alice, bob_client, connected):
    c = Connection.objects.get()
    assert bob_client.post(f"/settings/calendars/{c.pk}/remove/").status_code == 404
    assert Connection.objects.filter(pk=c.pk).exists()


WITH_DANA = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Apple Inc.//macOS 14.5//EN
BEGIN:VEVENT
UID:coffee-with-dana@icloud.com
DTSTAMP:20260101T000000Z
DTSTART;TZID=America/New_York:20260305T150000
DTEND;TZID=America/New_York:20260305T153000
SUMMARY:Coffee with Dana
ORGANIZER;CN=Alice Adams:mailto:alice@example.com
ATTENDEE;CN=Dana Reyes;PARTSTAT=ACCEPTED:mailto:Dana@Reyes.example
END:VEVENT
END:VCALENDAR
"""


def test_a_meeting_with_a_lead_booked_outside_rebook_is_offered_as_a_booking(alice, alice_client, ics_server):  # noqa: F811
    from rebook.leads.models import Appointment

    handler, url = ics_server
    handler.body = WITH_DANA.encode()
    lead = lead_create(seller=alice, name="Dana Reyes", email="dana@reyes.example")
    rebook = Rebook()
    rebook("calendar", "add", url, "--name", "iCloud")
    offers = rebook.json("calendar", "show", "iCloud")["to_book"]
    assert [(o["lead_id"], o["summary"], o["start"][:16]) for o in offers] == [(lead.pk, "Coffee with Dana",
                                                                                "2026-03-05T15:00")]
    assert "Book it in Rebook" in alice_client.get("/settings/").content.decode()
    booked = rebook.json("calendar", "book", str(offers[0]["id"]))
    meeting = Appointment.objects.get(pk=booked["id"])
    assert (meeting.lead_id, meeting.channel, meeting.ical_uid) == (lead.pk, "calendar", "coffee-with-dana@icloud.com")
    assert "no meeting" in rebook.error("calendar", "book", str(offers[0]["id"]))  # once
    Connection.objects.update(read_at=None)
    rebook("calendar", "sync")
    # Now Rebook's own meeting: neither offered again nor busy time.
    assert rebook.json("calendar", "show", "iCloud")["to_book"] == [] and not BusyTime.objects.exists()
