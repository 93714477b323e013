"""Two sellers' calendar files may each define a time zone of the same name ("Customized Time Zone" is what
Outlook writes for any zone it has no name for): each file's times are read in its own definition, never in
one that an earlier file left in the process."""

from __future__ import annotations

from datetime import UTC, datetime

from rebook.calendars.services import calendar_import
from rebook.leads.models import Appointment


def _file(offset: str, uid: str, attendee: str) -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r\n"
        "BEGIN:VTIMEZONE\r\nTZID:Customized Time Zone\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n"
        f"TZOFFSETFROM:{offset}\r\nTZOFFSETTO:{offset}\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n"
        "DTSTART;TZID=Customized Time Zone:20260601T100000\r\nDTEND;TZID=Customized Time Zone:20260601T110000\r\n"
        f"ORGANIZER:mailto:{attendee}\r\nATTENDEE:mailto:{attendee}\r\nSUMMARY:Meeting\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def test_each_file_is_read_in_its_own_zone_of_that_name(alice, bob, frozen):
    calendar_import(seller=alice, data=_file("+0200", "alice-1@x", "dana@reyes.example"), name="alice.ics")
    calendar_import(seller=bob, data=_file("-0500", "bob-1@x", "eve@example.com"), name="bob.ics")
    assert Appointment.objects.get(seller=alice).start == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    assert Appointment.objects.get(seller=bob).start == datetime(2026, 6, 1, 15, 0, tzinfo=UTC)
