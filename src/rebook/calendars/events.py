"""From iCalendar components to plain facts about events: who, when (in UTC), which version.

Time zones as clients write them: IANA names, Windows names ("W. Europe Standard Time"), custom
VTIMEZONE definitions, a TZID with no definition, floating times and all-day dates. A recurring
series becomes one fact per occurrence inside a window. Knows no Django.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

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


@dataclass
class Extraction:
    facts: list[EventFact] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


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
    """Turns DTSTART-like properties into UTC instants, noting the guesses it had to make."""

    def __init__(self, tz: ZoneInfo, warnings: list[str]):
        self.tz = tz
        self.warnings = warnings

    def instant(self, prop) -> tuple[datetime | None, bool]:
        if prop is None:
            return None, False
        value = prop.dt
        if isinstance(value, datetime):
            if value.tzinfo is None:
                tzid = str(prop.params.get("TZID", "")).strip()
                zone = _zone_for(tzid) if tzid else None
                if zone is None:
                    self._warn(
                        f"the time zone {tzid!r} is not defined in the file; times in it are read in your zone ({self.tz.key})"
                        if tzid else f"floating times (no time zone) are read in your zone ({self.tz.key})"
                    )
                    zone = self.tz
                value = value.replace(tzinfo=zone)
            return value.astimezone(UTC), False
        if isinstance(value, date):
            # An all-day event starts at midnight in the seller's zone.
            return datetime.combine(value, time(0), tzinfo=self.tz).astimezone(UTC), True
        return None, False

    def _warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)


def extract(calendar: icalendar.Calendar, *, where: str, tz: ZoneInfo, window: tuple[datetime, datetime]) -> Extraction:
    out = Extraction()
    clock = _Clock(tz, out.warnings)
    method = str(calendar.get("METHOD", PUBLISH)).upper().strip() or PUBLISH
    groups: dict[str, list] = defaultdict(list)
    for i, event in enumerate(calendar.walk("VEVENT"), start=1):
        uid = _text(event, "UID") or f"(no UID: {where} event {i})"
        groups[uid].append(event)
    timezones = calendar.walk("VTIMEZONE")
    for uid, events in groups.items():
        label = _label(where, events[0], uid)
        try:
            masters = [e for e in events if e.get("RRULE") and not e.get("RECURRENCE-ID")]
            if masters and masters[0].get("DTSTART") is None:
                # A series cancelled as a whole, written without a start (Thunderbird does this).
                out.facts.append(_fact(masters[0], label, method, uid, clock, whole_series=True))
                continue
            if masters:
                occurrences = list(_occurrences(events, timezones, window))
                if not occurrences:
                    out.rejected.append(
                        f"{label}: a recurring series with no occurrence between {window[0]:%Y-%m-%d} and "
                        f"{window[1]:%Y-%m-%d} (use --from and --to for another window)"
                    )
                for occurrence in occurrences:
                    out.facts.append(_fact(occurrence, label, method, uid, clock))
                continue
            for event in events:
                out.facts.append(_fact(event, label, method, uid, clock))
        except Exception as e:  # a broken rule or date in one event must not stop the others
            out.rejected.append(f"{label}: could not be read ({type(e).__name__}: {e})")
    return out


def _label(where: str, event, uid: str) -> str:
    summary = _text(event, "SUMMARY")
    return f"{where}, event {summary!r}" if summary else f"{where}, event {uid}"


def _occurrences(events: list, timezones: list, window: tuple[datetime, datetime]):
    series = icalendar.Calendar()
    for tz in timezones:
        series.add_component(tz)
    for event in events:
        series.add_component(event)
    return recurring_ical_events.of(series).between(*window)


def _fact(event, label: str, method: str, uid: str, clock: _Clock, whole_series: bool = False) -> EventFact:
    start, all_day = clock.instant(event.get("DTSTART"))
    end, _ = clock.instant(event.get("DTEND"))
    if start is not None and end is None:
        duration = event.get("DURATION")
        if duration is not None and isinstance(duration.dt, timedelta):
            end = start + duration.dt
        else:
            end = start + (timedelta(days=1) if all_day else DEFAULT_LENGTH)
    if start is not None and end is not None and end <= start:
        end = start + (timedelta(days=1) if all_day else DEFAULT_LENGTH)
    recurrence, _ = clock.instant(event.get("RECURRENCE-ID"))
    stamp, _ = clock.instant(event.get("DTSTAMP"))
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
        organizer=address(event.get("ORGANIZER")),
        attendees=tuple(p for p in (address(a) for a in attendees) if p is not None),
        whole_series=whole_series,
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
