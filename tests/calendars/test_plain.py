"""The quick reader for plain calendars: whatever it reads, it reads as icalendar does (the same facts, the
same rejections, the same warnings); whatever it cannot read that way, it leaves to icalendar."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rebook.calendars import plain, reading
from rebook.calendars.events import extract
from rebook.calendars.plain import read_plain
from rebook.calendars.services import calendar_import
from tests.calendars.test_batches import state
from tests.calendars.test_import import WIDE, ics, vevent
from tests.conftest import NOW

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ics"
FILES = sorted(FIXTURES.rglob("*.ics"))
ZONES = ("America/New_York", "Europe/Berlin", "Asia/Kolkata")
WINDOWS = (WIDE, (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)))


def prepared(data: bytes) -> str:
    return reading._prepared(reading.decode(data))


def same_as_icalendar(text: str) -> bool:
    """Whether the quick reader read the text (False: it left it to icalendar) and, if so, every zone and
    window extracts exactly what icalendar's reading does."""
    quick = read_plain(text)
    if quick is None:
        return False
    slow = reading._icalendar(text)
    for zone in ZONES:
        for window in WINDOWS:
            a = extract(slow, where="f.ics", tz=ZoneInfo(zone), window=window)
            b = extract(quick, where="f.ics", tz=ZoneInfo(zone), window=window)
            assert (b.facts, b.rejected, b.warnings) == (a.facts, a.rejected, a.warnings), (zone, window)
            for x, y in zip(a.facts, b.facts, strict=True):  # the same instants, and the same kind of value
                assert (type(x.start), x.all_day, x.sequence) == (type(y.start), y.all_day, y.sequence)
    return True


def test_the_real_files_without_repeat_rules_are_read_quickly_and_alike():
    read = []
    for path in FILES:
        text = prepared(path.read_bytes())
        if same_as_icalendar(text):
            read.append(path.name)
        else:
            assert any(f"\n{rule}" in f"\n{text.upper()}" for rule in ("RRULE", "RDATE", "EXDATE")), path
    assert len(read) >= 10, read  # Outlook, Google, Apple, Thunderbird, Exchange CDO, khal, ...


def outlook(events: int) -> bytes:
    """Meetings as Outlook exports them: a Windows zone defined by a VTIMEZONE, CN unquoted, CRLF."""
    zone = ["BEGIN:VTIMEZONE", "TZID:Eastern Standard Time", "BEGIN:STANDARD", "DTSTART:16011104T020000",
            "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11", "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500", "END:STANDARD",
            "BEGIN:DAYLIGHT", "DTSTART:16010311T020000", "RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3",
            "TZOFFSETFROM:-0500", "TZOFFSETTO:-0400", "END:DAYLIGHT", "END:VTIMEZONE"]
    out = []
    for i in range(events):
        day = 1 + i % 28
        month = 3 + i % 2  # across the change to summer time on 8 March
        out.append(vevent(uid=f"o{i}", seq=i % 3, start=f";TZID=Eastern Standard Time:2026{month:02d}{day:02d}T0930{i % 6}0",
                          end=f";TZID=Eastern Standard Time:2026{month:02d}{day:02d}T1030{i % 6}0",
                          organizer="mailto:alice@example.com",
                          attendees=(f"ATTENDEE;CN=Dana Reyes {i};PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:"
                                     f"mailto:dana{i}@reyes.example",),
                          extra=(f"LOCATION:Room {i}\\, floor 2", "STATUS:CANCELLED" if i % 7 == 0 else "STATUS:CONFIRMED",
                                 "BEGIN:VALARM", "TRIGGER:-PT15M", "ACTION:DISPLAY", "DESCRIPTION:Reminder",
                                 "END:VALARM")))
    body = ics(*out, method="PUBLISH").decode()
    return body.replace("METHOD:PUBLISH\r\n", "METHOD:PUBLISH\r\n" + "\r\n".join(zone) + "\r\n").encode()


def test_an_outlook_export_is_read_quickly_and_alike():
    assert same_as_icalendar(prepared(outlook(60)))


def test_odd_but_plain_values_are_read_quickly_and_alike():
    odd = [
        vevent(uid="a", start=";VALUE=DATE:20260310", end=";VALUE=DATE:20260311", extra=("LOCATION:Room 1\\, floor 2",)),
        vevent(uid="b", start="20260310T150000", end="", extra=("DURATION:PT45M", "DESCRIPTION:one\\ntwo\\\\")),
        vevent(uid="c", start=";TZID=W. Europe Standard Time:20260329T023000", end=";TZID=Nowhere/Land:20260329T040000"),
        vevent(uid="d", organizer=';CN="Reyes, Dana":MAILTO:Dana@Reyes.Example',
               attendees=('ATTENDEE;CN="a:b";PARTSTAT=DECLINED:mailto:alice@example.com',
                          "ATTENDEE;CN = Sam ; PARTSTAT=ACCEPTED:mailto:sam@x.example")),
        vevent(uid="e", seq=7, extra=("STATUS:cancelled", "COMMENT:running late", "COMMENT:sorry")),
    ]
    assert same_as_icalendar(prepared(ics(*odd)))


def test_lines_repeated_across_and_within_events_are_read_alike():
    """Most of an export's lines repeat (the organizer, the status, the same times and attendees): each is
    read once and its value met again, as icalendar reads it each time."""
    events = [vevent(uid=f"r{i}", start=";TZID=Eastern Standard Time:20260310T093000",
                     end=";TZID=Eastern Standard Time:20260310T103000", organizer="mailto:alice@example.com",
                     attendees=("ATTENDEE;CN=Dana;PARTSTAT=ACCEPTED:mailto:dana@reyes.example",
                                "ATTENDEE;CN=Sam;PARTSTAT=DECLINED:mailto:sam@x.example") * (1 + i % 2),
                     extra=("X-MICROSOFT-CDO-BUSYSTATUS:BUSY", "COMMENT:sorry", "COMMENT:sorry",
                            "STATUS:CANCELLED" if i % 2 else "STATUS:CONFIRMED"))
              for i in range(6)]
    text = ics(*events, method="PUBLISH").decode()
    zone = outlook(1).decode()
    text = text.replace("METHOD:PUBLISH\r\n", "METHOD:PUBLISH\r\n" + zone[zone.index("BEGIN:VTIMEZONE"):
                                                                           zone.index("END:VTIMEZONE") + 15])
    assert same_as_icalendar(prepared(text.encode()))
    read = read_plain(prepared(text.encode()))
    assert [len(e["ATTENDEE"]) for e in read.events] == [2, 4] * 3 and read.events[0]["COMMENT"] == ["sorry"] * 2


@pytest.mark.parametrize("change", [
    ("END:VEVENT", "RRULE:FREQ=WEEKLY;COUNT=3\r\nEND:VEVENT"),  # a series: expanded by icalendar's helpers
    ("END:VEVENT", "EXDATE:20260317T150000Z\r\nEND:VEVENT"),
    ("METHOD:PUBLISH", "METHOD:PUBLISH\r\nBEGIN:VTODO\r\nUID:t\r\nEND:VTODO"),  # another component
    ("TRIGGER:-PT15M", "TRIGGER:soon"),  # an alarm icalendar refuses, and with it the whole file
    ("DTSTART;TZID=Eastern Standard Time:20260301T093000", "DTSTART;TZID=Eastern Standard Time:20260230T093000"),
    ("DTSTART;TZID=Eastern Standard Time:20260301T093000", "DTSTART;VALUE=PERIOD:20260301T093000Z/PT1H"),
    ("SEQUENCE:0", "SEQUENCE:zero"),
    ("SEQUENCE:0", "SEQUENCE:0\r\nDTSTART:20260301T093000Z"),  # a second start
    ("METHOD:PUBLISH", "METHOD:PUBLISH\r\nMETHOD:REQUEST"),
    ("ATTENDEE;", "ATTENDEE ;"),  # a name with a space in it
    ("SEQUENCE:0", "SEQUENCE:0\r\nSEQUENCE:0"),  # the very same line twice: read once, then met again
    ("STATUS:CANCELLED", "STATUS:CANCELLED\r\nSTATUS:CANCELLED"),
])
def test_what_it_cannot_read_as_icalendar_does_is_left_to_icalendar(change):
    text = outlook(1).decode().replace(*change, 1)
    assert change[1] in text
    assert read_plain(prepared(text.encode())) is None


def test_a_zone_defined_after_the_events_is_left_to_icalendar():
    text = outlook(2).decode()
    zone = text[text.index("BEGIN:VTIMEZONE"):text.index("END:VTIMEZONE") + len("END:VTIMEZONE\r\n")]
    moved = text.replace(zone, "").replace("END:VCALENDAR", zone + "END:VCALENDAR")
    assert read_plain(prepared(moved.encode())) is None


# Values as clients write them, some of them odd: each combination is read as icalendar reads it, or left
# to icalendar.
def mostly(usual: list[str], odd: list[str]):
    """One of the usual values, or about one time in twenty one of the odd ones (most of which the quick
    reader leaves to icalendar: were they as frequent, few calendars would be read quickly at all)."""
    return st.sampled_from(usual * max(1, round(19 * len(odd) / len(usual))) + odd)


TZIDS = [";TZID=Europe/Berlin", ";TZID=W. Europe Standard Time", ";TZID=Eastern Standard Time", ";TZID=Nowhere/Land",
         ';TZID="Eastern Standard Time"', ";tzid=America/Chicago", ";TZID=/mozilla.org/20050126_1/Europe/Paris"]
TIMES = ["20260310T150000", "20261101T013000", "20260308T023000", "20260329T023000"]
WHEN = mostly(
    [*(f":{t}Z" for t in TIMES), *(f"{z}:{t}" for z in TZIDS for t in TIMES), *(f":{t}" for t in TIMES),
     ":20260310", ";VALUE=DATE:20261101", ";VALUE=DATE-TIME:20260310T150000Z"],
    [":20260310T150000z", ":2026-03-10T15:00:00Z", ":20261310T150000", ":20260310T250000", ":20260310T150000Z ",
     ";TZID=Europe/Berlin:20260310", ";VALUE=DATE:20260310T150000", ";VALUE=PERIOD:20260310T150000Z/PT1H",
     ";TZID=Europe/Berlin,Europe/Paris:20260310T150000", ";TZID=Europe/Berlin:20260310T150000Z"])
TEXTS = st.sampled_from(["Coffee", "Coffee\\, then lunch", "A\\;B", "line\\nbreak\\Nagain", "back\\\\slash",
                         "  spaced   out  ", "", "Café – ☕", "trailing\\"])
NAMES = mostly(["CN=Dana Reyes", 'CN="Reyes, Dana"', 'CN="a:b;c"', "CN=", 'CN=""', "CN=Dana ; PARTSTAT=ACCEPTED",
                "PARTSTAT=declined", "EMAIL=dana@real.example", "X-NUM-GUESTS=0;RSVP=TRUE", "CN=Dana^'s"],
               ["CN=a,b", "CN=Dana;CN=Other"])
ADDRESSES = st.sampled_from(["mailto:dana@reyes.example", "MAILTO:Dana@Reyes.Example", "dana@reyes.example",
                             "mailto:relay@icloud.example", "urn:uuid:1234", "mailto:dana\\,x@reyes.example"])
DURATIONS = mostly(["PT30M", "P1D", "-PT1H", "P1W"], ["PT", "soon"])
SEQUENCES = mostly(["0", "3", "+2", " 4", "-1"], ["99999999999", "x"])


UIDS = st.sampled_from(["u", "u2", "x\\,y"])


@st.composite
def events(draw, i: int) -> str:
    lines = ["BEGIN:VEVENT", f"UID:{draw(UIDS)}{i}"]
    for name in ("DTSTART", "DTEND", "DTSTAMP", "RECURRENCE-ID"):
        if draw(st.booleans()) or name == "DTSTART":
            lines.append(f"{name}{draw(WHEN)}")
    if draw(st.booleans()):
        lines.append(f"DURATION:{draw(DURATIONS)}")
    for name in ("SUMMARY", "LOCATION", "DESCRIPTION", "COMMENT"):
        for _ in range(draw(st.integers(0, 2 if name in ("COMMENT", "DESCRIPTION") else 1))):
            lines.append(f"{name}:{draw(TEXTS)}")
    lines.append(f"SEQUENCE:{draw(SEQUENCES)}")
    lines.append(f"STATUS:{draw(st.sampled_from(['CONFIRMED', 'cancelled', 'TENTATIVE', '']))}")
    if draw(st.booleans()):
        lines.append(f"ORGANIZER;{draw(NAMES)}:{draw(ADDRESSES)}")
    for _ in range(draw(st.integers(0, 3))):
        lines.append(f"ATTENDEE;{draw(NAMES)}:{draw(ADDRESSES)}")
    if draw(st.booleans()):
        lines += ["BEGIN:VALARM", f"TRIGGER:{draw(st.sampled_from(['-PT15M', '-P1D', '20260310T140000Z']))}",
                  "ACTION:DISPLAY", "X-WR-ALARMUID:1", "END:VALARM"]
    if draw(st.booleans()):
        lines.append(draw(st.sampled_from(["X-MICROSOFT-CDO-BUSYSTATUS:BUSY", "CLASS:PUBLIC", "PRIORITY:5",
                                           "TRANSP:OPAQUE", "CATEGORIES:a,b", "URL:https://x.example/?a=b",
                                           "GEO:1.5;2.5", "dtstart:20260310T160000Z"])))
    lines.append("END:VEVENT")
    return "\r\n".join(lines)


@st.composite
def calendars(draw) -> str:
    head = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN"]
    method = draw(st.sampled_from(["", "PUBLISH", "REQUEST", "CANCEL", "REPLY", "publish"]))
    if method:
        head.append(f"METHOD:{method}")
    head += draw(st.lists(st.sampled_from(["X-WR-CALNAME:Work", "X-WR-TIMEZONE:Europe/Berlin", "CALSCALE:GREGORIAN"]),
                          max_size=2))
    zone = outlook(1).decode()
    zone = zone[zone.index("BEGIN:VTIMEZONE"):zone.index("END:VTIMEZONE") + len("END:VTIMEZONE")]
    if draw(st.booleans()):
        head.append(zone)
    body = [draw(events(i)) for i in range(draw(st.integers(1, 4)))]
    return "\r\n".join([*head, *body, "END:VCALENDAR", ""])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars())
def test_whatever_it_reads_it_reads_as_icalendar_does(text):
    try:
        same_as_icalendar(prepared(text.encode()))
    except plain.NotPlain:  # pragma: no cover - read_plain never lets it out
        raise AssertionError("NotPlain escaped") from None


@pytest.mark.usefixtures("frozen")
def test_an_import_read_quickly_ends_where_one_read_by_icalendar_ends(alice, monkeypatch):
    from rebook.sellers.services import seller_create

    twin = seller_create(username="twin", display_name="Twin", email="alice@example.com", timezone_name="America/New_York")
    data = outlook(40)
    quick = calendar_import(seller=alice, data=data, name="o.ics", window=WIDE, now=NOW)
    monkeypatch.setattr(reading, "read_plain", lambda text: None)
    slow = calendar_import(seller=twin, data=data, name="o.ics", window=WIDE, now=NOW)
    assert [(e.where, e.outcome, e.detail) for e in quick.events] == [(e.where, e.outcome, e.detail) for e in slow.events]
    assert quick.counts()["booked"] > 30 and (quick.rejected, quick.warnings) == (slow.rejected, slow.warnings)
    assert state(alice) == state(twin)
