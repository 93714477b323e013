"""A quick reader for the plain calendars most exported files are: single meetings (no repeat rules),
their time zones, maybe alarms. It gives ``extract`` what icalendar gives for the properties it reads,
as icalendar reads them (its own time zone lookup, text unescaping and value types), at a fraction of the
cost; for anything else (a repeat rule, a component or a value it does not know, a property icalendar
might refuse) it gives None and the caller reads the file with icalendar. Knows no Django.

The text is the one ``reading`` prepared for icalendar: lines unfolded and separated by a line feed.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import icalendar
from icalendar.parser import Contentline, unescape_backslash
from icalendar.prop import TypesFactory, vDDDTypes, vInt, vText, vUnknown
from icalendar.timezone import tzp

_LINE = re.compile(r'([A-Za-z0-9-]+)((?:;[A-Za-z0-9-]+=(?:"[^"]*"|[^";:,]*)(?:,(?:"[^"]*"|[^";:,]*))*)*):(.*)')
_PARAM = re.compile(r';([A-Za-z0-9-]+)=((?:"[^"]*"|[^";:,]*)(?:,(?:"[^"]*"|[^";:,]*))*)')
_STAMP = re.compile(r"\d{8}T\d{6}Z?")
_DAY = re.compile(r"\d{8}")
_SPACED = re.compile(r"[ \t][;=,]|[;=,][ \t]|[ \t]$")

_TEXT = ("UID", "SUMMARY", "LOCATION", "COMMENT", "DESCRIPTION", "STATUS", "TRANSP")
_WHEN = ("DTSTART", "DTEND", "DTSTAMP", "RECURRENCE-ID")
_LISTS = ("ATTENDEE", "COMMENT", "DESCRIPTION")  # may repeat: icalendar keeps a list, and so does this
_READ = {*_TEXT, *_WHEN, "SEQUENCE", "ORGANIZER", "ATTENDEE", "DURATION"}
_REPEATING = ("RRULE", "RDATE", "EXRULE", "EXDATE")
_PARAMS_READ = ("TZID", "VALUE", "CN", "EMAIL", "PARTSTAT")

_types = TypesFactory.instance() if hasattr(TypesFactory, "instance") else TypesFactory()


class NotPlain(Exception):
    """Something this reader does not read exactly as icalendar does: icalendar reads the file."""


class Text(str):
    """A text or address value, with its parameters (as icalendar's vText and vCalAddress are)."""

    params: dict[str, str]

    def __new__(cls, value: str, params: dict[str, str]) -> Text:
        made = super().__new__(cls, value)
        made.params = params
        return made


class When:
    """A date, time or duration value, with its parameters (as icalendar's vDDDTypes is)."""

    __slots__ = ("dt", "params")

    def __init__(self, dt, params: dict[str, str]) -> None:
        self.dt, self.params = dt, params


class Event(dict):
    """A VEVENT's properties by upper-case name."""


class PlainCalendar(dict):
    """A calendar's properties, its events and its time zones (parsed by icalendar: there are few)."""

    def __init__(self, properties: dict, events: list[Event], timezones: list) -> None:
        super().__init__(properties)
        self.events, self.timezones = events, timezones

    def walk(self, name: str) -> list:
        return {"VEVENT": self.events, "VTIMEZONE": self.timezones}.get(name.upper(), [])


def read_plain(text: str) -> PlainCalendar | None:
    """The calendar, or None when icalendar must read it."""
    try:
        return _read(text)
    except NotPlain:
        return None


def _read(text: str) -> PlainCalendar:
    lines = [line for line in text.split("\n") if line]
    if not lines or lines[0].upper() != "BEGIN:VCALENDAR" or lines[-1].upper() != "END:VCALENDAR":
        raise NotPlain
    properties: dict = {}
    events: list[Event] = []
    zones: dict = {}  # icalendar's zone for each TZID, looked up once a file
    seen: dict = {}  # each property line of an event already read: see _event
    timezones: list = []
    i, last = 1, len(lines) - 1
    while i < last:
        line = lines[i]
        upper = line.upper()
        if upper == "BEGIN:VEVENT":
            event, i = _event(lines, i + 1, last, zones, seen)
            events.append(event)
        elif upper == "BEGIN:VTIMEZONE":
            if events:  # icalendar would read the events before it without it
                raise NotPlain
            end = _end_of(lines, i, last, "END:VTIMEZONE")
            timezones += _zones(lines[i:end + 1])  # before the events that name it, as icalendar reads it
            i = end + 1
        elif upper.startswith(("BEGIN:", "END:")):
            raise NotPlain  # another component, or a second calendar
        else:
            name, params, value = _parts(line)
            factory = _types.for_property(name, None)
            if not (name.startswith("X-") or factory in (vText, vUnknown)) or (name == "METHOD" and name in properties):
                raise NotPlain  # a value icalendar might refuse for the whole file, or two methods
            properties.setdefault(name, Text(value, params))
            i += 1
    return PlainCalendar(properties, events, timezones)


def _zones(lines: list[str]) -> list:
    """A VTIMEZONE, parsed by icalendar, which also keeps it for reading the TZIDs that name it (there are
    few in a file)."""
    try:
        return icalendar.Calendar.from_ical("\n".join(["BEGIN:VCALENDAR", *lines, "END:VCALENDAR", ""])).walk("VTIMEZONE")
    except Exception:  # icalendar refuses a broken zone in its own words
        raise NotPlain from None


def _end_of(lines: list[str], start: int, last: int, end: str) -> int:
    for i in range(start + 1, last):
        if lines[i].upper() == end:
            return i
    raise NotPlain


def _event(lines: list[str], i: int, last: int, zones: dict, seen: dict) -> tuple[Event, int]:
    """``seen``: each property line already read in this text, as (name, value), or None when not read: an
    export repeats most of its lines (the organizer, the status, the same times and attendees), and their
    values are never changed once read."""
    event = Event()
    while i < last:
        line = lines[i]
        if line in seen:
            known = seen[line]
            if known is not None:
                _add(event, *known)
            i += 1
            continue
        upper = line.upper()
        if upper == "END:VEVENT":
            return event, i + 1
        if upper == "BEGIN:VALARM":
            end = _end_of(lines, i, last, "END:VALARM")
            _check_alarm(lines[i + 1:end])
            i = end + 1
            continue
        if upper.startswith(("BEGIN:", "END:")):
            raise NotPlain
        name = line[:line.find(":") if ":" in line else 0].split(";", 1)[0].upper()
        if " " in name or "\t" in name:
            raise NotPlain  # icalendar reads "DTSTART ;TZID=..." as DTSTART
        if name in _REPEATING:
            raise NotPlain
        if name in _READ:
            name, params, value = _parts(line)
            seen[line] = known = (name, _value(name, params, value, zones))
            _add(event, *known)
        else:
            seen[line] = None
        i += 1
    raise NotPlain


def _check_alarm(lines: list[str]) -> None:
    """An alarm's properties are read strictly by icalendar (a bad one fails the whole file): check them
    as it does, and leave the file to it when one does not pass."""
    for line in lines:
        if line.upper().startswith(("BEGIN:", "END:")):
            raise NotPlain
        name, params, value = _parts(line)
        if name.startswith("X-"):
            continue
        try:
            _types.for_property(name, params.get("VALUE")).from_ical(value)
        except Exception:
            raise NotPlain from None


def _add(event: Event, name: str, value) -> None:
    if name not in event:
        event[name] = value
    elif name in _LISTS:
        if not isinstance(event[name], list):
            event[name] = [event[name]]
        event[name].append(value)  # in place: an event may name a hundred thousand attendees
    else:
        raise NotPlain


def _parts(line: str) -> tuple[str, dict, str]:
    """A line's name, parameters and value (unescaped), as icalendar's content line gives them. Parameters
    with quotes, escapes or spaces around their delimiters are left to icalendar's own reading."""
    match = _LINE.fullmatch(line)
    raw = match[2] if match else ""
    if match is None or '"' in raw or "\\" in raw or "^" in raw or _SPACED.search(raw):
        try:
            name, params, value = Contentline(line).parts()
        except ValueError:
            raise NotPlain from None
        return name.upper(), params, value
    params: dict[str, str] = {}
    for param in _PARAM.finditer(raw):
        key, value = param[1].upper(), param[2]
        if key in _PARAMS_READ and ("," in value or key in params):
            raise NotPlain  # a list, or the same parameter twice
        params[key] = value
    value = match[3]
    return match[1].upper(), params, unescape_backslash(value) if "\\" in value else value


def _value(name: str, params: dict[str, str], value: str, zones: dict):
    if name in _TEXT or name in ("ORGANIZER", "ATTENDEE"):  # vText and vCalAddress keep the text as it is
        return Text(value, params)
    if name == "SEQUENCE":
        try:
            number = int(value)
        except ValueError:
            raise NotPlain from None
        if not vInt.min <= number <= vInt.max:
            raise NotPlain
        return Text(str(number), params)
    if name == "DURATION":
        if params:
            raise NotPlain
        try:
            return When(vDDDTypes.from_ical(value), params)
        except ValueError:
            raise NotPlain from None
    # icalendar applies a TZID to these, not to DTSTAMP (which is always in UTC)
    return When(_when(value, params, params.get("TZID") if name != "DTSTAMP" else None, zones), params)


def _when(value: str, params: dict[str, str], tzid: str | None, zones: dict) -> date | datetime:
    """A DATE or DATE-TIME as icalendar's vDDDTypes reads it (a UTC time in its UTC zone, a TZID through its
    own lookup, which knows the file's VTIMEZONEs); anything else is left to icalendar."""
    kind = params.get("VALUE", "").upper()
    try:
        if _STAMP.fullmatch(value) and kind in ("", "DATE-TIME"):
            naive = datetime(int(value[:4]), int(value[4:6]), int(value[6:8]), int(value[9:11]),
                             int(value[11:13]), int(value[13:15]))
            if tzid and tzid not in zones:  # the file's own zones are known to icalendar before its events
                zones[tzid] = tzp.timezone(tzid)
            zone = zones[tzid] if tzid else None
            if zone is not None:
                return tzp.localize(naive, zone)
            return tzp.localize_utc(naive) if value.endswith("Z") else naive
        if _DAY.fullmatch(value) and kind in ("", "DATE") and not tzid:
            return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:  # no such day or time
        pass
    raise NotPlain
