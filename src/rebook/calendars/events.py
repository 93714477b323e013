"""From iCalendar components to plain facts about events: who, when (in UTC), which version.

Time zones as clients write them: IANA names, Windows names ("W. Europe Standard Time"), custom
VTIMEZONE definitions, a TZID with no definition, floating times and all-day dates. A recurring
series becomes one fact per occurrence inside a window. Knows no Django.
"""

from __future__ import annotations

import math
import sys
import time as time_module
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from rebook import stopping
from rebook.calendars.reading import REFUSED_ZONE
from rebook.errors import RebookError, shown
from rebook.strategy.limits import (
    EARLIEST,
    LATEST,
    MAX_EVENTS_PER_FILE,
    MAX_IMPORT_SECONDS,
    MAX_MEETING,
    MAX_OCCURRENCES_PER_SERIES,
    MAX_RULE_STEPS,
    check_instant,
)

try:  # the zone icalendar makes of a VTIMEZONE the file defines
    from dateutil.tz.tz import _tzicalvtz
except ImportError:  # a later dateutil: every zone goes the general way
    _tzicalvtz = ()

MAX_SEQUENCE = 2**63 - 1
DEFAULT_LENGTH = timedelta(hours=1)

REQUEST, PUBLISH, CANCEL, REPLY = "REQUEST", "PUBLISH", "CANCEL", "REPLY"
DECLINED = "DECLINED"


@dataclass(frozen=True)
class Person:
    email: str
    name: str = ""
    partstat: str = ""


@dataclass(frozen=True)
class EventFact:
    where: str
    method: str
    uid: str
    recurrence_id: datetime | None
    sequence: int
    stamp: datetime | None
    start: datetime | None
    end: datetime | None
    all_day: bool
    cancelled: bool  # METHOD:CANCEL, or STATUS:CANCELLED for the event or this occurrence
    summary: str
    location: str
    comment: str
    organizer: Person | None
    attendees: tuple[Person, ...]
    whole_series: bool = False  # a CANCEL of a whole series that gives no occurrences
    free: bool = False  # TRANSP:TRANSPARENT: shown in the calendar, but the time stays free


@dataclass
class Extraction:
    facts: list[EventFact] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def limits() -> str:
    """What an upload may hold, for the message that says where a file was cut."""
    return f"a file may hold at most {MAX_EVENTS_PER_FILE} events and take {MAX_IMPORT_SECONDS:.0f} seconds"


@dataclass
class Budget:
    """How much one file may expand to: events in all, occurrences per series, and seconds."""

    events: int = MAX_EVENTS_PER_FILE
    per_series: int = MAX_OCCURRENCES_PER_SERIES
    deadline: float = field(default_factory=lambda: time_module.monotonic() + MAX_IMPORT_SECONDS)

    @classmethod
    def unbounded(cls) -> Budget:
        """No limit on a file's events or time (a series is still cut at its limit)."""
        return cls(events=sys.maxsize, deadline=math.inf)

    def spend(self) -> bool:
        if self.events <= 0:
            return False
        self.events -= 1
        return True

    def spent(self) -> bool:
        """No events left to read, or no time."""
        return self.expired() or self.events <= 0

    def expired(self) -> bool:
        stopping.check()  # checked as often as the clock: a stopping worker gives the file back
        return time_module.monotonic() > self.deadline


def address(value) -> Person | None:
    if value is None:
        return None
    params = getattr(value, "params", {})
    raw = str(params.get("EMAIL") or value)  # iCloud writes a relay mailto: and the real address in EMAIL=
    if raw.lower().startswith("mailto:"):
        raw = raw[7:]
    raw = raw.strip().strip("<>").lower()
    if "@" not in raw:
        return None
    name = str(params.get("CN", "")).strip().strip('"')
    return Person(raw, name, str(params.get("PARTSTAT", "")).upper())


def _text(component, key: str) -> str:
    value = component.get(key)
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0]
    return " ".join(str(value).split()) if key == "SUMMARY" else str(value).strip()


def _zone_for(tzid: str) -> ZoneInfo | None:
    name = WINDOWS_TO_OLSON.get(tzid, tzid)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


class _Clock:
    """Turns DTSTART-like properties into UTC instants, noting the guesses it had to make; and the people an
    event names into Persons. A value object met again (the quick reader gives a repeated line's value once
    for all the events that have it) is not read again."""

    def __init__(self, tz: ZoneInfo, warnings: list[str], day_offsets: dict | None = None,
                 refused: dict[str, ZoneInfo] | None = None):
        self.tz = tz
        self.warnings = warnings
        self.refused = refused or {}  # the file's zones that are no zones (reading.zone_problem), each read as this
        self._day_offsets: dict[tuple[object, date], timedelta | None] = {} if day_offsets is None else day_offsets
        self._read: dict[int, tuple[object, object]] = {}  # by id(value): (the value, kept alive; what it gave)

    def instant(self, prop) -> tuple[datetime | None, bool]:
        return (None, False) if prop is None else self._once(prop, self._instant)  # a refusal: raised each time

    def person(self, value) -> Person | None:
        return self._once(value, address)

    def _once(self, value, read: Callable):
        known = self._read.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        result = read(value)
        self._read[id(value)] = (value, result)
        return result

    def _instant(self, prop) -> tuple[datetime | None, bool]:
        value = prop.dt
        if isinstance(value, date) and not (EARLIEST.year <= value.year < LATEST.year):
            day = date(value.year, value.month, value.day)  # not value.isoformat(), which asks the zone its offset
            raise RebookError(f"{day} is outside the dates Rebook keeps "
                              f"({EARLIEST:%Y-%m-%d} to {LATEST.year - 1}-12-31)")
        if isinstance(value, datetime):
            tzid = str(prop.params.get("TZID", "")).strip()
            if tzid in self.refused:  # whatever zone another file gave this name (icalendar keeps them all)
                return value.replace(tzinfo=self.refused[tzid]).astimezone(UTC), False
            if value.tzinfo is None:
                zone = _zone_for(tzid) if tzid else None
                if zone is None:
                    self._warn(
                        f"the time zone {shown(tzid)} is not defined in the file; times in it are read in your zone ({self.tz.key})"
                        if tzid else f"floating times (no time zone) are read in your zone ({self.tz.key})"
                    )
                    zone = self.tz
                value = value.replace(tzinfo=zone)
            elif isinstance(value.tzinfo, _tzicalvtz):
                return self._from_vtimezone(value), False
            return value.astimezone(UTC), False
        if isinstance(value, date):
            # An all-day event starts at midnight in the seller's zone.
            return datetime.combine(value, time(0), tzinfo=self.tz).astimezone(UTC), True
        return None, False

    def _from_vtimezone(self, value: datetime) -> datetime:
        """A time in a zone the file defines (a VTIMEZONE, as Outlook writes for every meeting), in UTC.
        dateutil walks such a zone's rules from their start (1601 for Outlook) at every call, so the
        offset is looked up once a day: a day whose midnight and last minute have the same offset has it
        all day; a day with a change in it is looked at minute by minute as before."""
        zone, day = value.tzinfo, value.date()
        offset = self._day_offsets.get((zone, day), False)
        if offset is False:
            first = datetime.combine(day, time(0), tzinfo=zone).utcoffset()
            offset = first if first == datetime.combine(day, time(23, 59), tzinfo=zone).utcoffset() else None
            self._day_offsets[(zone, day)] = offset
        if offset is None:
            return value.astimezone(UTC)
        return (value.replace(tzinfo=None) - offset).replace(tzinfo=UTC)

    def _warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)


def extract(calendar: icalendar.Calendar, *, where: str, tz: ZoneInfo, window: tuple[datetime, datetime],
            budget: Budget | None = None, day_offsets: dict | None = None, within: bool = False) -> Extraction:
    """``day_offsets``: a dict to keep the offsets of the days of the file's own zones in (see
    ``_Clock._from_vtimezone``), shared by the parts of one large file, whose zones are the same objects.
    ``within``: single events outside the window are left out too, and cost nothing of the budget (an
    import takes them all; busy times want only the weeks ahead)."""
    budget = budget or Budget()
    out = Extraction()
    refused: dict[str, ZoneInfo] = {}
    for zone in calendar.walk(REFUSED_ZONE):  # a zone the reader took out: its times as in an unknown zone
        tzid = str(zone.get("X-TZID", "")).strip()
        refused[tzid] = _zone_for(tzid) or tz
        instead = f"your zone ({tz.key})" if refused[tzid] is tz else refused[tzid].key
        out.warnings.append(f"the time zone {shown(tzid)} is refused ({zone.get('X-REASON', '')}); times in it are "
                            f"read in {instead}")
    clock = _Clock(tz, out.warnings, day_offsets, refused)
    method = str(calendar.get("METHOD", PUBLISH)).upper().strip() or PUBLISH
    groups: dict[str, list] = defaultdict(list)
    for i, event in enumerate(calendar.walk("VEVENT"), start=1):
        uid = _text(event, "UID") or f"(no UID: {where} event {i})"
        groups[uid].append(event)
    timezones = calendar.walk("VTIMEZONE")
    for uid, events in groups.items():
        label = _label(where, events[0], uid)
        if budget.spent():
            out.rejected.append(f"{where}: stopped at {label}: {limits()}; the rest was not read")
            break
        try:
            masters = [e for e in events if e.get("RRULE") and not e.get("RECURRENCE-ID")]
            if masters and masters[0].get("DTSTART") is None:
                # A series cancelled as a whole, written without a start (Thunderbird does this).
                out.facts.append(_fact(masters[0], label, method, uid, clock, whole_series=True))
                continue
            if masters:
                _check_rules(masters[0], window[1])
                occurrences, cut = _occurrences(events, timezones, window, budget)
                if cut:
                    out.rejected.append(f"{label}: {cut}")
                if not occurrences and not cut:
                    out.rejected.append(
                        f"{label}: a recurring series with no occurrence between {window[0]:%Y-%m-%d} and "
                        f"{window[1]:%Y-%m-%d} (use --from and --to for another window)"
                    )
                for occurrence in occurrences:
                    out.facts.append(_fact(occurrence, label, method, uid, clock))
                continue
            for event in events:
                fact = _fact(event, label, method, uid, clock)
                if within and fact.start is not None and (fact.start >= window[1] or (fact.end or fact.start) <= window[0]):
                    continue
                if not budget.spend():
                    break
                out.facts.append(fact)
        except RebookError as e:
            out.rejected.append(f"{label}: {e}")
        except Exception as e:  # a broken rule or date in one event must not stop the others
            out.rejected.append(f"{label}: could not be read ({type(e).__name__}: {e})")
    return out


def _label(where: str, event, uid: str) -> str:
    summary = _text(event, "SUMMARY")
    if summary:
        return f"{where}, event {shown(summary)}"
    return f"{where}, event {uid if len(uid) <= 60 else shown(uid)}"


_PERIOD_SECONDS = {"HOURLY": 3600, "DAILY": 86400, "WEEKLY": 7 * 86400, "MONTHLY": 28 * 86400, "YEARLY": 365 * 86400}
_EXPANDING = ("BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYSETPOS")
_LIMITING = ("BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYDAY")


def _check_rules(master, window_end: datetime) -> None:
    """Refuse a rule whose expansion could not be bounded: a series is walked from its first occurrence, so
    a fine rule that started long ago costs that many steps before the first one inside the window."""
    rules = master.get("RRULE")
    start = master.get("DTSTART").dt
    if not isinstance(start, datetime):
        start = datetime.combine(start, time(0))
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    for rule in rules if isinstance(rules, list) else [rules]:
        freq = str((rule.get("FREQ") or [""])[0]).upper()
        interval = int((rule.get("INTERVAL") or [1])[0])
        if interval < 1:
            raise RebookError(f"RRULE INTERVAL={interval}: the interval must be at least 1")
        if freq not in _PERIOD_SECONDS:
            raise RebookError(f"RRULE FREQ={freq or '(none)'}: Rebook reads meetings that repeat hourly or less often")
        end = window_end
        for until in rule.get("UNTIL") or []:
            until = until if isinstance(until, datetime) else datetime.combine(until, time(0))
            end = min(end, until if until.tzinfo else until.replace(tzinfo=UTC))
        steps = max(0.0, (end - start).total_seconds()) / (_PERIOD_SECONDS[freq] * interval) + 1
        for key in _EXPANDING + (("BYMONTH",) if freq == "YEARLY" else ()):
            steps *= max(1, len(rule.get(key) or []))
        count = rule.get("COUNT")
        if count and not any(rule.get(k) for k in _LIMITING):
            steps = min(steps, int(count[0]))
        if steps > MAX_RULE_STEPS:
            raise RebookError(f"RRULE {rule.to_ical().decode(errors='replace')[:80]}: about {steps:,.0f} repetitions "
                              f"from its start to the end of the window, more than the {MAX_RULE_STEPS:,} Rebook expands")


def _occurrences(events: list, timezones: list, window: tuple[datetime, datetime], budget: Budget) -> tuple[list, str]:
    """The occurrences inside the window, in order, and a note when the series had to be cut short."""
    series = icalendar.Calendar()
    for tz in timezones:
        series.add_component(tz)
    for event in events:
        series.add_component(event)
    out: list = []
    for occurrence in recurring_ical_events.of(series).after(window[0]):
        start = occurrence.get("DTSTART")
        value = start.dt if start is not None else None
        if value is not None and _beyond(value, window[1]):
            return out, ""
        if len(out) >= budget.per_series:
            return out, (f"a recurring series with more than {budget.per_series} occurrences in the window: "
                         f"the first {budget.per_series} were read, the rest cut")
        if budget.expired() or not budget.spend():
            return out, "the file's limit of events or time was reached: the rest of the series was cut"
        out.append(occurrence)
    return out, ""


def _beyond(value, end: datetime) -> bool:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)) >= end
    return datetime.combine(value, time(0), tzinfo=UTC) >= end


def _fact(event, label: str, method: str, uid: str, clock: _Clock, whole_series: bool = False) -> EventFact:
    start, all_day = clock.instant(event.get("DTSTART"))
    if start is not None:
        check_instant(start, "DTSTART")
    try:
        end, _ = clock.instant(event.get("DTEND"))
    except RebookError:
        end = None  # an end past the calendar's edge: take the usual length instead
    if start is not None and end is None:
        duration = event.get("DURATION")
        if duration is not None and isinstance(duration.dt, timedelta):
            end = start + duration.dt
        else:
            end = start + (timedelta(days=1) if all_day else DEFAULT_LENGTH)
    if start is not None and end is not None and (end <= start or end - start > MAX_MEETING):
        end = start + (timedelta(days=1) if all_day else DEFAULT_LENGTH)
    recurrence, _ = clock.instant(event.get("RECURRENCE-ID"))
    try:
        stamp, _ = clock.instant(event.get("DTSTAMP"))
    except RebookError:
        stamp = None  # only orders versions: a stamp off the calendar's edge orders nothing
    try:
        sequence = min(int(str(event.get("SEQUENCE", 0)).strip() or 0), MAX_SEQUENCE)
    except ValueError:
        sequence = 0
    attendees = event.get("ATTENDEE") or []
    if not isinstance(attendees, list):
        attendees = [attendees]
    status = str(event.get("STATUS", "")).upper()
    return EventFact(
        where=label,
        method=method,
        uid=uid,
        recurrence_id=recurrence,
        sequence=sequence,
        stamp=stamp,
        start=start,
        end=end,
        all_day=all_day,
        cancelled=method == CANCEL or status == "CANCELLED",
        summary=_text(event, "SUMMARY"),
        location=_text(event, "LOCATION"),
        comment=_text(event, "COMMENT") or _text(event, "DESCRIPTION"),
        organizer=clock.person(event.get("ORGANIZER")),
        attendees=tuple(p for p in (clock.person(a) for a in attendees) if p is not None),
        whole_series=whole_series,
        free=str(event.get("TRANSP", "")).upper().strip() == "TRANSPARENT",
    )


@dataclass(frozen=True)
class Cast:
    """Who is who in an event, from the seller's point of view."""

    prospect: Person | None
    seller_organizes: bool
    participants: tuple[Person, ...]
    note: str = ""


def cast(fact: EventFact, mine: set[str]) -> Cast:
    """The seller's own addresses identify "me"; the prospect is the other side."""
    organizer = fact.organizer
    others = [a for a in fact.attendees if a.email not in mine]
    if fact.method == REPLY:
        # A reply comes from the attendee who answers.
        return Cast(others[0] if others else None, True, tuple(others[1:]))
    if organizer is not None and organizer.email in mine:
        prospect = others[0] if others else None
        return Cast(prospect, True, tuple(others[1:]))
    if organizer is not None:
        named = any(a.email in mine for a in fact.attendees)
        note = "" if named else (
            "none of your addresses appears in it, so the organizer is taken as the prospect "
            "(add your address with `rebook init --email`)"
        )
        return Cast(organizer, False, tuple(a for a in others if a.email != organizer.email), note)
    if others:
        return Cast(others[0], True, tuple(others[1:]), "it has no organizer; the first attendee is taken as the prospect")
    return Cast(None, False, ())
