"""Calendar invitations (RFC 5545 objects, RFC 5546 methods) for the mails Rebook sends.

One appointment chain is one event: the ``UID`` is the chain's id, and ``SEQUENCE`` counts the
reschedules, so a calendar that got the first invitation updates that event instead of adding a
second. A cancellation is the same event with ``METHOD:CANCEL`` and a higher sequence.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import icalendar

REQUEST = "REQUEST"
CANCEL = "CANCEL"
PRODID = "-//Rebook//Rebook//EN"


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class Meeting:
    uid: str
    sequence: int
    start: datetime
    end: datetime
    tz: ZoneInfo
    summary: str
    location: str
    organizer: Person
    attendee: Person
    description: str = ""


def _address(person: Person, **params: str) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{person.email}")
    # CN is a quoted parameter; a line break in a name must not start a new property.
    address.params["CN"] = " ".join(person.name.split()) or person.email
    for key, value in params.items():
        address.params[key] = value
    return address


def invitation(meeting: Meeting, *, method: str, stamp: datetime) -> bytes:
    """The .ics file for ``method`` (REQUEST or CANCEL), with a VTIMEZONE for the event's zone."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)

    event = icalendar.Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", meeting.start.astimezone(meeting.tz))
    event.add("dtend", meeting.end.astimezone(meeting.tz))
    event.add("summary", meeting.summary)
    if meeting.location:
        event.add("location", meeting.location)
    if meeting.description:
        event.add("description", meeting.description)
    event.add("organizer", _address(meeting.organizer, ROLE="CHAIR"))
    partstat = {"PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"} if method == REQUEST else {}
    event.add("attendee", _address(meeting.attendee, ROLE="REQ-PARTICIPANT", CUTYPE="INDIVIDUAL", **partstat))
    event.add("status", "CANCELLED" if method == CANCEL else "CONFIRMED")
    event.add("transp", "OPAQUE")
    cal.add_component(event)
    if meeting.tz.key != "UTC":
        # The zone's rules for the years around the meeting: enough for any client, and short.
        cal.subcomponents.insert(0, _vtimezone(meeting.tz.key, meeting.start.astimezone(meeting.tz).year))
    return cal.to_ical()


@functools.lru_cache(maxsize=128)
def _vtimezone(key: str, year: int) -> icalendar.Timezone:
    """The VTIMEZONE of a zone from the year before to two years after: made once per process (it takes
    longer than the rest of an invitation), and only read after."""
    cal = icalendar.Calendar()
    event = icalendar.Event()
    event.add("dtstart", datetime(year, 6, 1, 12, tzinfo=ZoneInfo(key)))
    cal.add_component(event)
    cal.add_missing_timezones(first_date=date(year - 1, 1, 1), last_date=date(year + 2, 1, 1))
    return cal.walk("VTIMEZONE")[0]
