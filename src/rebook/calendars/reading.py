"""From the bytes of a file to iCalendar objects, as real clients write them.

Accepts a bare .ics, a whole e-mail (.eml) or a mailbox (.mbox) whose messages carry invitations as
MIME parts. Copes with a UTF-8 BOM, Latin-1 text, LF or CRLF (or CR CR LF) line endings, and an empty
TZID. Knows no Django.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import re
import tempfile
from dataclasses import dataclass, field
from email.message import Message

import icalendar

from rebook.errors import RebookError

CALENDAR_TYPES = {"text/calendar", "application/ics", "text/x-vcalendar", "application/octet-stream"}


@dataclass
class Source:
    """One calendar found in a file, with where it came from ("message 2 of the mailbox")."""

    where: str
    calendar: icalendar.Calendar


@dataclass
class Reading:
    sources: list[Source] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # parts that could not be read, and why


def decode(data: bytes) -> str:
    """Text from bytes: UTF-8 (with or without BOM, or UTF-16 with BOM), else Windows-1252/Latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


_EMPTY_TZID_PARAM = re.compile(r";TZID=(?=[:;])", re.IGNORECASE)
_EMPTY_TZID_LINE = re.compile(r"^TZID:[ \t]*$", re.IGNORECASE | re.MULTILINE)


def parse_calendar_text(text: str) -> icalendar.Calendar:
    text = text.lstrip("\ufeff").replace("\x00", "")  # no database keeps NUL
    text = re.sub(r"\r+\n|\r", "\n", text)  # CRLF, CR CR LF and lone CR all become one line break
    text = re.sub(r"\n[ \t]", "", text)  # unfold long lines (RFC 5545, 3.1)
    # Exchange CDO writes "BYDAY=MO, TU, WE": a rule has no spaces.
    text = re.sub(r"^((?:RRULE|EXRULE)[:;].*)$", lambda m: re.sub(r"\s+", "", m[1]), text, flags=re.MULTILINE | re.IGNORECASE)
    # An empty TZID means "no zone": drop it, and a VTIMEZONE without a name with it.
    text = _EMPTY_TZID_PARAM.sub("", text)
    if _EMPTY_TZID_LINE.search(text):
        text = re.sub(r"BEGIN:VTIMEZONE\n(?:(?!END:VTIMEZONE).*\n)*?TZID:[ \t]*\n(?:.*\n)*?END:VTIMEZONE\n", "", text)
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except ValueError as e:
        raise RebookError(f"not a readable iCalendar file ({e})") from None
    if not calendars:
        if "END:VCALENDAR" not in text.upper():
            raise RebookError("not a complete iCalendar file: BEGIN:VCALENDAR has no END:VCALENDAR (is it cut short?)")
        raise RebookError("no calendar (BEGIN:VCALENDAR) in it")
    return calendars[0] if len(calendars) == 1 else _merge(calendars)


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
    head = decode(data[:2000]).lstrip("\ufeff").lstrip()
    reading = Reading()
    if head.upper().startswith("BEGIN:VCALENDAR"):
        reading.sources.append(Source(name, parse_calendar_text(decode(data))))
        return reading
    if head.startswith("From "):
        for i, message in enumerate(_mbox_messages(data), start=1):
            _from_message(message, f"{name}, message {i}", reading)
    elif _looks_like_mail(head):
        _from_message(email.message_from_bytes(data, policy=email.policy.compat32), name, reading)
    else:
        raise RebookError(f"{name} is neither an iCalendar file (BEGIN:VCALENDAR) nor an e-mail carrying one")
    if not reading.sources:
        detail = f": {'; '.join(reading.problems)}" if reading.problems else ""
        raise RebookError(f"{name} carries no calendar invitation{detail}")
    return reading


def _mbox_messages(data: bytes) -> list[Message]:
    with tempfile.NamedTemporaryFile(suffix=".mbox") as f:
        f.write(data)
        f.flush()
        box = mailbox.mbox(f.name, create=False)
        try:
            return [email.message_from_bytes(m.as_bytes(), policy=email.policy.compat32) for m in box]
        finally:
            box.close()


def _from_message(message: Message, where: str, reading: Reading) -> None:
    seen: set[str] = set()
    for part in message.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        filename = (part.get_filename() or "").lower()
        if ctype not in CALENDAR_TYPES and not filename.endswith(".ics"):
            continue
        payload = part.get_payload(decode=True) or b""
        charset = part.get_content_charset()
        try:
            text = payload.decode(charset) if charset else decode(payload)
        except (LookupError, UnicodeDecodeError):
            text = decode(payload)
        if "BEGIN:VCALENDAR" not in text.upper():
            continue
        key = re.sub(r"\s+", "", text)
        if key in seen:
            continue  # Google sends the same invitation inline and as an attachment
        seen.add(key)
        try:
            reading.sources.append(Source(where, parse_calendar_text(text)))
        except RebookError as e:
            reading.problems.append(f"{where}: {e}")
