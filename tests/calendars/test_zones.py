"""The time zones a file defines (VTIMEZONE): read by their own rules, as Outlook writes them; a zone whose
rules are no zone's (a part that repeats every minute, every day, or hundreds of parts) is refused before
icalendar reads it, and the times in it are read as in a zone the file does not define, with a warning
(issue 29, item 9). The minutely zone of the report itself is in tests/hardening/test_importer_repros.py."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from rebook.calendars import reading
from rebook.calendars.invitations import _vtimezone
from rebook.leads.models import Appointment
from tests.calendars.test_import import FIXTURES, ics, run, vevent

pytestmark = pytest.mark.usefixtures("frozen")

# Outlook's own definition of New York's zone (tests/fixtures/ics/biweekly/outlook-2010.ics).
OUTLOOK_EASTERN = ["BEGIN:STANDARD", "DTSTART:16011104T020000", "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11",
                   "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500", "END:STANDARD",
                   "BEGIN:DAYLIGHT", "DTSTART:16010311T020000", "RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3",
                   "TZOFFSETFROM:-0500", "TZOFFSETTO:-0400", "END:DAYLIGHT"]


def zone(tzid: str, *parts: str) -> str:
    return "\n".join(["BEGIN:VTIMEZONE", f"TZID:{tzid}", *parts, "END:VTIMEZONE"])  # as reading gives it


def part(rule: str, *, kind: str = "STANDARD", start: str = "16011104T020000") -> list[str]:
    return [f"BEGIN:{kind}", f"DTSTART:{start}", f"RRULE:{rule}", "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500",
            f"END:{kind}"]


@pytest.mark.parametrize("rule", [
    "FREQ=YEARLY;BYDAY=1SU;BYMONTH=11",  # Outlook, Exchange, Google, Apple
    "FREQ=YEARLY;WKST=MO;INTERVAL=1;BYMONTH=10;BYDAY=-1SU",  # Thunderbird
    "FREQ=YEARLY;BYMINUTE=0;BYHOUR=2;BYDAY=1SU;BYMONTH=4",
    "FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=1",
    "FREQ=YEARLY;BYMONTH=3;BYDAY=SU;BYMONTHDAY=8,9,10,11,12,13,14",  # the second Sunday, as RFC 2445 wrote it
    "FREQ=YEARLY;BYMONTH=3;BYDAY=SU;BYSETPOS=-1",
    "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;UNTIL=20061231T235959Z",
])
def test_the_rules_real_zones_are_written_with_are_accepted(rule):
    assert reading.zone_problem(zone("Z", *part(rule), *part(rule, kind="DAYLIGHT", start="00010101T000000"))) == ""


@pytest.mark.parametrize("rule, reason", [
    ("FREQ=MINUTELY", "its STANDARD part repeats minutely; a time zone changes at most yearly"),
    ("FREQ=DAILY;UNTIL=20300101T000000Z", "its STANDARD part repeats daily; a time zone changes at most yearly"),
    ("FREQ=MONTHLY;BYDAY=1SU", "its STANDARD part repeats monthly; a time zone changes at most yearly"),
    ("BYMONTH=3", "its STANDARD part repeats with no frequency; a time zone changes at most yearly"),
    ("FREQ=YEARLY;INTERVAL=0", "its STANDARD part repeats at an interval of '0'"),
    ("FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU", "its rules change the offset at least 3,116,029 times by the year 9999; a real zone's change it at most 20,000 times"),
    ("FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12",
     "its rules change the offset at least 109,187 times by the year 9999"),
])
def test_rules_no_zone_has_are_refused_with_the_reason(rule, reason):
    assert reading.zone_problem(zone("Z", *part(rule))).startswith(reason)


def test_a_zone_of_many_parts_is_refused_by_the_steps_they_take_together():
    yearly = part("FREQ=YEARLY;BYDAY=1SU;BYMONTH=11")
    assert reading.zone_problem(zone("Z", *yearly * 2)) == ""  # Outlook's two parts from 1601: 16,798 steps
    late = part("FREQ=YEARLY;BYDAY=1SU;BYMONTH=11", start="90000101T000000")  # 1,000 steps
    assert reading.zone_problem(zone("Z", *yearly * 2, *late)) == ""
    rule_first = [*yearly[:1], yearly[2], yearly[1], *yearly[3:]]  # a part's rule may come before its start
    late_rule_first = [*late[:1], late[2], late[1], *late[3:]]
    assert reading.zone_problem(zone("Z", *rule_first, *rule_first, *late_rule_first)) == ""
    assert reading.zone_problem(zone("Z", *yearly * 3)).startswith("its rules change the offset at least 25,197 times")


def test_every_zone_in_the_real_files_and_every_zone_rebook_writes_is_accepted():
    blocks = [m[0] for path in sorted(FIXTURES.rglob("*")) if path.is_file()
              for m in reading._TIMEZONE_BLOCK.finditer(reading._normalized(reading.decode(path.read_bytes())))]
    blocks += [_vtimezone(key, 2026).to_ical().decode().replace("\r\n", "\n")
               for key in ("America/New_York", "Europe/Paris", "Australia/Lord_Howe", "Asia/Tehran")]
    assert len(blocks) >= 20
    assert [(b[:80], reading.zone_problem(b)) for b in blocks if reading.zone_problem(b)] == []


def test_a_zone_with_a_name_of_its_own_is_read_by_its_own_rules(alice):
    """Outlook names a zone it cannot map "Customized Time Zone": its rules are the only way to read it."""
    report = run(alice, ics(zone("Customized Time Zone", *OUTLOOK_EASTERN),
                            vevent(uid="before", start=";TZID=Customized Time Zone:20260305T100000", end=""),
                            vevent(uid="after", start=";TZID=Customized Time Zone:20260310T100000", end="")))
    assert report.warnings == []
    starts = dict(Appointment.objects.values_list("ical_uid", "start"))
    assert starts == {"before": datetime(2026, 3, 5, 15, tzinfo=UTC),  # EST, before the second Sunday of March
                      "after": datetime(2026, 3, 10, 14, tzinfo=UTC)}  # EDT


def test_a_refused_zone_named_like_a_real_one_is_read_as_the_real_one(alice):
    report = run(alice, ics(zone("Europe/Paris", *part("FREQ=MINUTELY")),
                            vevent(start=";TZID=Europe/Paris:20260305T100000", end=";TZID=Europe/Paris:20260305T110000")))
    assert report.warnings == ["invite.ics: the time zone 'Europe/Paris' is refused (its STANDARD part repeats "
                               "minutely; a time zone changes at most yearly); times in it are read in Europe/Paris"]
    assert Appointment.objects.get().start == datetime(2026, 3, 5, 9, tzinfo=UTC)


def test_a_refused_zone_is_not_taken_from_an_earlier_file_that_defined_its_name(alice):
    """icalendar keeps the first definition of each zone name for the whole process: a later file's refused zone
    of the same name is read in the seller's zone, not by the earlier file's rules."""
    fixed = ["BEGIN:STANDARD", "DTSTART:19700101T000000", "TZOFFSETFROM:+0300", "TZOFFSETTO:+0300", "END:STANDARD"]
    run(alice, ics(zone("Shared Zone", *fixed), vevent(uid="first", start=";TZID=Shared Zone:20260305T100000", end="")))
    started = time.monotonic()
    report = run(alice, ics(zone("Shared Zone", *part("FREQ=MINUTELY")),
                            vevent(uid="second", start=";TZID=Shared Zone:20260305T100000", end="")))
    assert time.monotonic() - started < 2 and "'Shared Zone' is refused" in report.warnings[0]
    starts = dict(Appointment.objects.values_list("ical_uid", "start"))
    assert starts == {"first": datetime(2026, 3, 5, 7, tzinfo=UTC), "second": datetime(2026, 3, 5, 15, tzinfo=UTC)}
