"""Two ways with a CalDAV calendar, against Radicale and Xandikos: Rebook's meetings are written into the
calendar the seller chose (same UID as the invitations, no server-sent invitations, If-Match on every
change), and what is done to them there comes back through the same services, with channel "calendar"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from rebook.calendars import connections, remote
from rebook.calendars.models import BusyTime, CalendarCopy
from rebook.leads.models import Appointment, Cancellation
from rebook.leads.services import appointment_book, appointment_cancel, appointment_reschedule, lead_create
from tests.calendars.test_connections import private_allowed, server  # noqa: F401  (fixtures)

NOW = datetime(2027, 3, 8, 13, 0, tzinfo=UTC)


@pytest.fixture
def setup(alice, server):  # noqa: F811
    calendar = server.new_calendar(f"Rebook {datetime.now().timestamp()}")
    c = connections.connection_add(seller=alice, url=str(calendar.url), login=server.login, password=server.password,
                                   name="Work", writes=True, now=NOW)
    lead = lead_create(seller=alice, name="Dana Reyes", email="dana@reyes.example")
    start = datetime(2027, 3, 10, 15, 0, tzinfo=UTC)
    meeting = appointment_book(lead=lead, start=start, end=start + timedelta(minutes=45), now=NOW)
    connections.connection_sync(connection=c, now=NOW + timedelta(minutes=1))
    return calendar, c, meeting


def event_of(calendar, meeting):
    found = calendar.event_by_uid(f"{meeting.chain}@rebook")
    found.load()
    return found, icalendar.Calendar.from_ical(found.data).walk("VEVENT")[0]


def test_a_meeting_booked_in_rebook_is_written_into_the_calendar_once(alice, setup):
    calendar, c, meeting = setup
    _, event = event_of(calendar, meeting)
    assert event.decoded("DTSTART") == meeting.start and str(event["SUMMARY"]) == "Alice Adams and Dana Reyes"
    assert event["ATTENDEE"].params["SCHEDULE-AGENT"] == "CLIENT"  # the server sends no invitation of its own
    raw = calendar.event_by_uid(f"{meeting.chain}@rebook").data
    assert "METHOD:" not in raw
    assert not BusyTime.objects.filter(uid=f"{meeting.chain}@rebook").exists()  # its own time is not "busy"
    copy = CalendarCopy.objects.get(connection=c)
    connections.connection_sync(connection=c, now=NOW + timedelta(hours=13))  # read again in full: nothing to do
    assert CalendarCopy.objects.get(connection=c).etag == copy.etag
    assert len([e for e in calendar.events()]) == 1


def test_moved_and_cancelled_in_rebook_is_moved_and_taken_out_there(alice, setup):
    calendar, c, meeting = setup
    _, moved = appointment_reschedule(appointment=meeting, to=meeting.start + timedelta(days=1), by="seller",
                                      now=NOW + timedelta(minutes=2))
    connections.connection_sync(connection=c, now=NOW + timedelta(minutes=3))
    _, event = event_of(calendar, moved)
    assert event.decoded("DTSTART") == moved.start and int(event["SEQUENCE"]) == 2
    appointment_cancel(appointment=moved, by="seller", now=NOW + timedelta(minutes=4))
    connections.connection_sync(connection=c, now=NOW + timedelta(minutes=5))
    assert calendar.events() == [] and not CalendarCopy.objects.exists()


def edited(found, change) -> None:
    """Change the event on the server as a calendar app would (a new version, the same UID)."""
    calendar = icalendar.Calendar.from_ical(found.data)
    change(calendar.walk("VEVENT")[0])
    found.data = calendar.to_ical().decode()
    found.save()


def test_moved_in_the_calendar_is_a_reschedule_by_the_seller(alice, setup):
    calendar, c, meeting = setup
    found, _ = event_of(calendar, meeting)
    later = meeting.start + timedelta(days=2, hours=1)

    def move(event):
        for key in ("DTSTART", "DTEND"):
            event.pop(key)
        event.add("DTSTART", later)
        event.add("DTEND", later + timedelta(minutes=45))

    edited(found, move)
    report = connections.connection_sync(connection=c, now=NOW + timedelta(minutes=5))
    assert report.error == "" and report.problems == []
    now_on = Appointment.objects.get(chain=meeting.chain, status="scheduled")
    assert now_on.start == later and now_on.end == later + timedelta(minutes=45)
    c_row = Cancellation.objects.get(appointment=meeting)
    assert (c_row.by, c_row.channel, c_row.kind) == ("seller", "calendar", "reschedule")
    # Nothing is written back over it, and nothing is doubled.
    connections.connection_sync(connection=c, now=NOW + timedelta(minutes=6))
    connections.connection_sync(connection=c, now=NOW + timedelta(hours=13))
    assert len(calendar.events()) == 1 and Appointment.objects.filter(chain=meeting.chain).count() == 2
    assert event_of(calendar, now_on)[1].decoded("DTSTART") == later


def test_deleted_in_the_calendar_is_a_cancellation_by_the_seller(alice, setup):
    calendar, c, meeting = setup
    calendar.event_by_uid(f"{meeting.chain}@rebook").delete()
    connections.connection_sync(connection=c, now=NOW + timedelta(minutes=5))
    meeting.refresh_from_db()
    cancellation = Cancellation.objects.get(appointment=meeting)
    assert meeting.status == "cancelled" and (cancellation.by, cancellation.channel) == ("seller", "calendar")
    connections.connection_sync(connection=c, now=NOW + timedelta(minutes=6))
    assert Cancellation.objects.count() == 1 and calendar.events() == []  # and it is not written again


def test_the_prospect_declining_in_the_calendar_is_the_prospect_cancelling(alice, setup):
    calendar, c, meeting = setup
    found = calendar.event_by_uid(f"{meeting.chain}@rebook")
    found.data = found.data.replace("PARTSTAT=NEEDS-ACTION", "PARTSTAT=DECLINED")
    found.save()
    connections.connection_sync(connection=c, now=NOW + timedelta(minutes=5))
    cancellation = Cancellation.objects.get(appointment=meeting)
    assert (cancellation.by, cancellation.channel) == ("prospect", "calendar")


def test_a_change_made_there_meanwhile_is_never_overwritten(alice, setup):
    calendar, c, meeting = setup
    found = calendar.event_by_uid(f"{meeting.chain}@rebook")
    found.data = found.data.replace("SUMMARY:", "SUMMARY:(edited) ")
    found.save()
    copy = CalendarCopy.objects.get(connection=c)
    with pytest.raises(remote.Changed):  # Rebook's write carries the version it knows: 412
        remote.write_event(copy.href, found.data.replace("(edited) ", ""), login=c.login,
                           password=connections._password(c), etag=copy.etag)
    assert "(edited)" in calendar.event_by_uid(f"{meeting.chain}@rebook").data
    # Moved in Rebook meanwhile: the write is refused, the calendar keeps its version, the problem is listed.
    CalendarCopy.objects.filter(pk=copy.pk).update(start=copy.start - timedelta(hours=1))
    Appointment.objects.filter(pk=meeting.pk)  # unchanged
    report = connections.connection_sync(connection=c, now=NOW + timedelta(minutes=5))
    assert "(edited)" in calendar.event_by_uid(f"{meeting.chain}@rebook").data
    assert report.error == ""


def test_writing_needs_one_caldav_calendar(alice, server):  # noqa: F811
    from rebook.errors import RebookError

    only = server.new_calendar(f"Other {datetime.now().timestamp()}")
    with pytest.raises(RebookError, match="one CalDAV calendar"):  # an account, even of one calendar chosen
        connections.connection_add(seller=alice, url=server.base, login=server.login, password=server.password,
                                   name="All", writes=True, only=only.get_display_name(), now=NOW)


def test_a_sync_stopped_between_writing_and_recording_writes_nothing_twice(alice, setup):
    calendar, c, meeting = setup
    CalendarCopy.objects.all().delete()  # as if the sync had stopped right after the write
    report = connections.connection_sync(connection=c, now=NOW + timedelta(minutes=5))
    assert report.problems == [] and len(calendar.events()) == 1
    copy = CalendarCopy.objects.get(connection=c)
    assert copy.chain == meeting.chain and copy.start == meeting.start
    report = connections.connection_sync(connection=c, now=NOW + timedelta(minutes=6))
    assert report.problems == [] and len(calendar.events()) == 1 and not Cancellation.objects.exists()
