"""From the bytes of a file to iCalendar objects, as real clients write them.

Accepts a bare .ics, a whole e-mail (.eml) or a mailbox (.mbox) whose messages carry invitations as
MIME parts. Copes with a UTF-8 BOM, Latin-1 text, LF or CRLF (or CR CR LF) line endings, and an empty
TZID; takes out a time zone whose rules are no zone's before icalendar expands them. Knows no Django.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import re
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import MAXYEAR
from email.message import Message

import icalendar
from icalendar.timezone import tzp

from rebook.calendars.plain import PlainCalendar, read_plain
from rebook.errors import RebookError, shown
from rebook.strategy.limits import MAX_LINE_CHARS, MAX_MIME_DEPTH, MAX_MIME_PARTS

CALENDAR_TYPES = {"text/calendar", "application/ics", "text/x-vcalendar", "application/octet-stream"}


PART_EVENTS = 2000  # a larger .ics file is read in parts of about this many events (whole series together)


class Source:
    """One calendar found in a file, with where it came from ("message 2 of the mailbox").

    A large .ics file is several sources, its parts (``part``), each read from its text only when its
    ``calendar`` is asked for and not kept: the file's events are never all in memory as objects."""

    def __init__(self, where: str, calendar: icalendar.Calendar | PlainCalendar | None = None, *,
                 text: Callable[[], str] | None = None, events: int = 0, part: str = "") -> None:
        self.where, self._calendar, self._text, self.events, self.part = where, calendar, text, events, part

    @property
    def calendar(self) -> icalendar.Calendar | PlainCalendar:
        if self._calendar is not None:
            return self._calendar
        assert self._text is not None
        return read_calendar_text(self._text())


@dataclass
class Reading:
    sources: list[Source] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # parts that could not be read, and why


def decode(data: bytes, *, partial: bool = False) -> str:
    """Text from bytes: UTF-8 (with or without BOM, or UTF-16 with BOM), else Windows-1252/Latin-1.

    ``partial`` is for a slice of a file, which may end inside a character."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16", errors="replace" if partial else "strict")
        except UnicodeDecodeError as e:
            raise RebookError(f"starts with a UTF-16 byte-order mark but is not UTF-16 (byte {e.start})") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


_EMPTY_TZID_PARAM = re.compile(r";TZID=(?=[:;])", re.IGNORECASE)
_EMPTY_TZID_LINE = re.compile(r"^TZID:[ \t]*$", re.IGNORECASE | re.MULTILINE)


def _without_nameless_timezones(text: str) -> str:
    """Drop each VTIMEZONE whose TZID is empty, in one pass over the lines."""
    out: list[str] = []
    block: list[str] | None = None
    for line in text.split("\n"):
        upper = line.upper()
        if block is None:
            if upper == "BEGIN:VTIMEZONE":
                block = [line]
            else:
                out.append(line)
            continue
        block.append(line)
        if upper == "END:VTIMEZONE":
            if not any(_EMPTY_TZID_LINE.fullmatch(x) for x in block):
                out += block
            block = None
    out += block or []
    return "\n".join(out)


# A time zone changes its offset once or twice a year. icalendar turns each VTIMEZONE into a zone as it reads
# the file (and keeps it for the rest of the process), and the zone walks its parts' rules from their start
# the first time a time in it is converted, keeping every step: a part that repeats every minute from 1601
# is gigabytes. So a zone whose rules are no zone's is taken out before icalendar reads the file: yearly
# rules only, and ZONE_STEPS at most from their start to the year 9999, the farthest any walk goes.
ZONE_STEPS = 20_000  # Outlook's zones: two parts yearly from 1601, 16,798 steps (0.6 s, under 1 MB; to 2026: 0.03 s)
REFUSED_ZONE = "X-REBOOK-REFUSED-VTIMEZONE"  # what a refused VTIMEZONE becomes: its TZID and why, for extract

_TIMEZONE_BLOCK = re.compile(r"^BEGIN:VTIMEZONE[ \t]*\n.*?^END:VTIMEZONE[ \t]*$", re.IGNORECASE | re.MULTILINE | re.DOTALL)
_ORDINAL = re.compile(r"[+-]?\d")


def _without_impossible_zones(text: str) -> str:
    """Each VTIMEZONE whose rules are no zone's replaced by a REFUSED_ZONE that names it and says why."""
    def judged(block: re.Match) -> str:
        problem = zone_problem(block[0])
        if not problem:
            return block[0]
        tzid = next((line.split(":", 1)[1] for line in block[0].split("\n")
                     if line.upper().startswith(("TZID:", "TZID;")) and ":" in line), "")
        return f"BEGIN:{REFUSED_ZONE}\nX-TZID:{tzid}\nX-REASON:{problem}\nEND:{REFUSED_ZONE}"

    return _TIMEZONE_BLOCK.sub(judged, text)


def zone_problem(block: str) -> str:
    """Why a VTIMEZONE's text is no time zone, or "": a part that repeats more often than yearly, or rules that
    take more than ZONE_STEPS steps to walk (a part firing every day of the year, hundreds of parts)."""
    part, start, rules, steps = "VTIMEZONE", "", [], 0
    for line in block.split("\n"):
        name, _, value = line.partition(":")
        name = name.split(";")[0].strip().upper()
        if name == "BEGIN":
            part, start, rules = value.strip().upper(), "", []
        elif name == "DTSTART":
            start = value.strip()
        elif name in ("RRULE", "EXRULE"):
            rules.append({k.strip().upper(): v.strip().split(",") for k, _, v in (i.partition("=") for i in value.split(";"))})
        elif name == "END":  # the part's rules, from its start (which may come after them)
            for rule in rules:
                freq = "".join(rule.get("FREQ", [])).upper()
                interval = "".join(rule.get("INTERVAL", ["1"]))
                if freq != "YEARLY":
                    return f"its {part} part repeats {freq.lower() or 'with no frequency'}; a time zone changes at most yearly"
                if not interval.isdigit() or int(interval) < 1:
                    return f"its {part} part repeats at an interval of {shown(interval)}"
                first = int(start[:4]) if start[:4].isdigit() else 1
                until = "".join(rule.get("UNTIL", []))[:4]
                steps += (max(0, (int(until) if until.isdigit() else MAXYEAR) - first) // int(interval) + 1) * _changes_a_year(rule)
            rules = []
            if steps > ZONE_STEPS:
                return (f"its rules change the offset at least {steps:,} times by the year 9999; a real zone's change it at most "
                        f"{ZONE_STEPS:,} times (twice a year from 1601)")
    return ""


def _changes_a_year(rule: dict[str, list[str]]) -> int:
    """At most how many times a year a yearly rule fires: its days (each BY list of days narrows them) times
    its times of day, or its BYSETPOS."""
    def n(key: str) -> int:
        return len([v for v in rule.get(key, []) if v])

    months = n("BYMONTH")
    byday = [d for d in rule.get("BYDAY", []) if d]
    weekdays = sum(1 for d in byday if not _ORDINAL.match(d))  # each about 5 times a month (53 a year)
    days = [n("BYYEARDAY"), 7 * n("BYWEEKNO")]
    monthdays = [d for d in rule.get("BYMONTHDAY", []) if d]
    if monthdays:
        in_month = len(monthdays)
        if weekdays:  # a weekday falls on days seven apart: "BYDAY=SU;BYMONTHDAY=8,...,14" is one Sunday a month
            apart = Counter(int(d) % 7 for d in monthdays if d.isdigit())
            from_the_end = sum(1 for d in monthdays if not d.isdigit())  # (-1: the last) any weekday: all counted
            in_month = min(in_month, sum(sorted(apart.values(), reverse=True)[:weekdays]) + from_the_end)
        days.append((months or 12) * in_month)
    if byday:
        days.append((len(byday) - weekdays) * (months or 1) + weekdays * (5 * months or 53))
    fired = min((d for d in days if d), default=months or 1)
    fired *= max(1, n("BYHOUR")) * max(1, n("BYMINUTE")) * max(1, n("BYSECOND"))
    return min(fired, n("BYSETPOS")) if n("BYSETPOS") else fired


def _check_line_lengths(text: str) -> None:
    start = 0
    while True:
        end = text.find("\n", start)
        if (end if end >= 0 else len(text)) - start > MAX_LINE_CHARS:
            raise RebookError(f"line {text.count(chr(10), 0, start) + 1}: longer than {MAX_LINE_CHARS // 1024} KB")
        if end < 0:
            return
        start = end + 1


def _normalized(text: str) -> str:
    text = text.lstrip("\ufeff").replace("\x00", "")  # no database keeps NUL
    text = re.sub(r"\r+\n|\r", "\n", text)  # CRLF, CR CR LF and lone CR all become one line break
    return re.sub(r"\n[ \t]", "", text)  # unfold long lines (RFC 5545, 3.1)


_ZONES = threading.Lock()


@contextmanager
def _own_zones():
    """icalendar keeps each VTIMEZONE it reads for the rest of the process, by its name alone, and reads a later
    file's times in the first definition of a name: "Customized Time Zone", which Outlook writes for any zone
    it has no name for, would read one seller's file in another's zone. So each text is read alone, with that
    store emptied first (tzp.use_zoneinfo does, and zoneinfo is icalendar's default); the times it gives carry
    their zones with them."""
    with _ZONES:
        tzp.use_zoneinfo()
        yield


def parse_calendar_text(text: str) -> icalendar.Calendar:
    text = _prepared(text)
    with _own_zones():
        return _icalendar(text)


def read_calendar_text(text: str) -> icalendar.Calendar | PlainCalendar:
    """The calendar, read by the quick reader when it is a plain one (``plain``), else by icalendar."""
    text = _prepared(text)
    with _own_zones():
        return read_plain(text) or _icalendar(text)


def _prepared(text: str) -> str:
    """The text as icalendar (and the quick reader) reads it: unfolded, with what clients get wrong mended."""
    text = _normalized(text)
    _check_line_lengths(text)
    # Exchange CDO writes "BYDAY=MO, TU, WE": a rule has no spaces.
    text = re.sub(r"^((?:RRULE|EXRULE)[:;].*)$", lambda m: re.sub(r"\s+", "", m[1]), text, flags=re.MULTILINE | re.IGNORECASE)
    # An empty TZID means "no zone": drop it, and a VTIMEZONE without a name with it.
    text = _EMPTY_TZID_PARAM.sub("", text)
    if _EMPTY_TZID_LINE.search(text):
        text = _without_nameless_timezones(text)
    return _without_impossible_zones(text)


def _icalendar(text: str) -> icalendar.Calendar:
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError) as e:
        # icalendar raises several kinds for broken structure (a TZID outside a VTIMEZONE, two TZIDs, ...).
        raise RebookError(f"not a readable iCalendar file ({type(e).__name__}: {str(e)[:200]})") from None
    if not calendars:
        if "END:VCALENDAR" not in text.upper():
            raise RebookError("not a complete iCalendar file: BEGIN:VCALENDAR has no END:VCALENDAR (is it cut short?)")
        raise RebookError("no calendar (BEGIN:VCALENDAR) in it")
    return calendars[0] if len(calendars) == 1 else _merge(calendars)


_VEVENT = re.compile(r"^BEGIN:VEVENT[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)
_BOUNDARY = re.compile(r"^(BEGIN|END):([A-Za-z0-9-]+)[ \t]*$", re.MULTILINE)
_UID = re.compile(r"^UID(?:;[^:\n]*)?:(.*)$", re.IGNORECASE | re.MULTILINE)


def _split(text: str, name: str) -> list[Source]:
    """A large file's calendars as parts of about PART_EVENTS events, each a calendar of its own with the
    file's header and time zones; the events of one UID (a series and its exceptions) stay together.
    Only the components' places are kept; each part's text is put together when it is made."""
    sources: list[Source] = []
    stack: list[tuple[str, int]] = []
    calendar_start = header_end = 0
    timezones: list[tuple[int, int]] = []
    groups: dict[str, list[tuple[int, int]]] = {}
    for m in _BOUNDARY.finditer(text):
        verb, kind = m[1].upper(), m[2].upper()
        if verb == "BEGIN":
            if len(stack) == 1 and not header_end:
                header_end = m.start()
            if not stack and kind == "VCALENDAR":
                calendar_start, header_end, timezones, groups = m.end() + 1, 0, [], {}
            stack.append((kind, m.start()))
            continue
        if not stack or stack[-1][0] != kind:
            line = text.count("\n", 0, m.start()) + 1
            opened = f"where {stack[-1][0]} is open" if stack else "with nothing open"
            raise RebookError(f"line {line}: END:{kind} {opened}; the file's structure is broken, nothing was read")
        _, start = stack.pop()
        end = min(len(text), m.end() + 1)
        if len(stack) == 1 and kind == "VTIMEZONE":
            timezones.append((start, end))
        elif len(stack) == 1 and kind == "VEVENT":
            uid = _UID.search(text, start, end)
            key = uid[1].strip() if uid else f"(no UID) {start}"
            groups.setdefault(key, []).append((start, end))
        elif not stack and kind == "VCALENDAR":
            header = text[calendar_start:header_end or m.start()]
            zones = "".join(text[a:b] for a, b in timezones)
            sources += _grouped(text, name, header, zones, list(groups.values()), len(sources))
    if stack:
        kind, start = stack[-1]
        raise RebookError(f"line {text.count(chr(10), 0, start) + 1}: BEGIN:{kind} is never closed (is the file cut "
                          "short?); nothing was read")
    if not sources:
        raise RebookError("no calendar (BEGIN:VCALENDAR ... END:VCALENDAR) in it")
    return sources


def _grouped(text: str, name: str, header: str, zones: str, groups: list[list[tuple[int, int]]],
             before: int) -> list[Source]:
    out: list[Source] = []
    part: list[tuple[int, int]] = []
    for group in [*groups, []]:
        if part and (not group or len(part) + len(group) > PART_EVENTS):
            spans = sorted(part)

            def whole(spans=spans) -> str:
                return "".join(["BEGIN:VCALENDAR\n", header, zones, *(text[a:b] for a, b in spans), "END:VCALENDAR\n"])

            out.append(Source(name, text=whole, events=len(part), part=f"part {before + len(out) + 1}"))
            part = []
        part += group
    return out


def _merge(calendars: list[icalendar.Calendar]) -> icalendar.Calendar:
    merged = calendars[0]
    for extra in calendars[1:]:
        for component in extra.subcomponents:
            merged.add_component(component)
    return merged


def _looks_like_mail(head: str) -> bool:
    """An e-mail starts with header fields ("Name: value"); an mbox with a "From " line."""
    return bool(re.match(r"(From |[A-Za-z][A-Za-z0-9-]*:)", head))


def read_file(data: bytes, name: str = "the file") -> Reading:
    """Every calendar in the file. Raises a RebookError when there is none at all."""
    if not data.strip():
        raise RebookError(f"{name} is empty")
    head = decode(data[:2000], partial=True).lstrip("\ufeff").lstrip()
    reading = Reading()
    if head.upper().startswith("BEGIN:VCALENDAR"):
        text = decode(data)
        events = len(_VEVENT.findall(text))
        if events > PART_EVENTS:
            reading.sources += _split(_normalized(text), name)
        else:
            reading.sources.append(Source(name, read_calendar_text(text), events=events))
        return reading
    if head.startswith("From "):
        for i, message in enumerate(_mbox_messages(data, name), start=1):
            _from_message(message, f"{name}, message {i}", reading)
    elif _looks_like_mail(head):
        _from_message(_parse_message(data, name), name, reading)
    else:
        raise RebookError(f"{name} is neither an iCalendar file (BEGIN:VCALENDAR) nor an e-mail carrying one")
    if not reading.sources:
        detail = f": {'; '.join(reading.problems)}" if reading.problems else ""
        raise RebookError(f"{name} carries no calendar invitation{detail}")
    return reading


def _parse_message(data: bytes, name: str) -> Message:
    try:
        return email.message_from_bytes(data, policy=email.policy.compat32)
    except RecursionError:
        raise RebookError(f"{name}: an e-mail nested deeper than {MAX_MIME_DEPTH} parts") from None


def _parts(message: Message, where: str, reading: Reading) -> Iterator[Message]:
    """The leaf parts, depth-first, without recursion, bounded in depth and count."""
    stack = [(message, 0)]
    count = 0
    while stack:
        part, depth = stack.pop()
        if depth > MAX_MIME_DEPTH:
            reading.problems.append(f"{where}: parts nested deeper than {MAX_MIME_DEPTH} levels were skipped")
            continue
        count += 1
        if count > MAX_MIME_PARTS:
            reading.problems.append(f"{where}: only the first {MAX_MIME_PARTS} parts were read")
            return
        try:
            payload = part.get_payload()
        except BROKEN_MIME as e:
            reading.problems.append(f"{where}: a part could not be read ({type(e).__name__}); skipped")
            continue
        if part.is_multipart() and isinstance(payload, list):
            stack += [(p, depth + 1) for p in reversed(payload)]
        elif not part.is_multipart():
            yield part


def _mbox_messages(data: bytes, name: str) -> list[Message]:
    with tempfile.NamedTemporaryFile(suffix=".mbox") as f:
        f.write(data)
        f.flush()
        box = mailbox.mbox(f.name, create=False)
        try:
            return [_parse_message(m.as_bytes(), name) for m in box]
        finally:
            box.close()


BROKEN_MIME = (LookupError, UnicodeError, ValueError, TypeError, AttributeError, IndexError)


def _calendar_text(part: Message) -> str | None:
    """The text of a part that may carry a calendar, or None for any other part."""
    ctype = part.get_content_type()
    filename = (part.get_filename() or "").lower()
    if ctype not in CALENDAR_TYPES and not filename.endswith(".ics"):
        return None
    try:
        payload = part.get_payload(decode=True) or b""
    except BROKEN_MIME:  # the charset is applied while decoding, too
        payload = str(part.get_payload()).encode("utf-8", errors="replace")
    try:
        charset = part.get_content_charset()
        return payload.decode(charset) if charset else decode(payload)
    except BROKEN_MIME:
        return decode(payload)


def _from_message(message: Message, where: str, reading: Reading) -> None:
    seen: set[str] = set()
    for part in _parts(message, where, reading):
        try:
            text = _calendar_text(part)
        except BROKEN_MIME as e:  # unknown, broken or hostile charset names and headers
            reading.problems.append(f"{where}: a part could not be read ({type(e).__name__}); skipped")
            continue
        except RebookError as e:
            reading.problems.append(f"{where}: {e}")
            continue
        if text is None or "BEGIN:VCALENDAR" not in text.upper():
            continue
        key = re.sub(r"\s+", "", text)
        if key in seen:
            continue  # Google sends the same invitation inline and as an attachment
        seen.add(key)
        try:
            reading.sources.append(Source(where, parse_calendar_text(text)))
        except RebookError as e:
            reading.problems.append(f"{where}: {e}")
