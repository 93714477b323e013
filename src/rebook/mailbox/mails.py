"""One mail from the mailbox, read into plain facts: who and when, what it answers, its new text, whether it
is an automatic reply, which calendar replies it carries, and for a delivery report which mail failed."""

from __future__ import annotations

import email
import email.errors
import email.header
import email.policy
import email.utils
import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message

from rebook.calendars.reading import BROKEN_MIME, _parts, read_file
from rebook.calendars.reading import Reading as CalendarReading
from rebook.errors import RebookError
from rebook.strategy.replies import is_auto_reply, new_text

MAX_TEXT = 100_000


@dataclass
class Headers:
    """What the header fields alone say, before the body is fetched."""

    message_id: str
    sender: str  # the From address, lower case
    subject: str
    date: datetime | None
    answers: list[str]  # In-Reply-To and References, without angle brackets
    content_type: str
    fields: dict[str, str]
    authentication: tuple[str, ...] = ()  # the Authentication-Results values, topmost first
    senders: int = 1  # addresses named by the From field(s)


@dataclass
class Mail:
    headers: Headers
    raw: bytes = b""
    text: str = ""  # the new text of a reply: no quote, no signature
    auto_reply: bool = False
    calendar_methods: list[str] = field(default_factory=list)
    calendar_uids: list[str] = field(default_factory=list)
    counter_start: datetime | None = None  # a "propose new time" (METHOD:COUNTER)
    calendar_declined: bool = False  # a REPLY in which the sender declines
    calendar_comment: str = ""  # what the sender wrote in the event (COMMENT), e.g. why they cancel
    bounced_id: str = ""  # a delivery report: the Message-ID of the mail that failed
    bounce_reason: str = ""
    problems: list[str] = field(default_factory=list)


def _ids(value: str) -> list[str]:
    return [i.strip("<>") for i in re.findall(r"<[^<>\s]+>", value or "")]


def _decoded(value: str) -> str:
    try:
        return str(email.header.make_header(email.header.decode_header(value or "")))
    except BROKEN_MIME + (email.errors.MessageError,):  # CharsetError, HeaderParseError: a stranger's bytes
        return value or ""


def read_headers(raw: bytes) -> Headers:
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    fields = {k.lower(): _decoded(str(v)) for k, v in message.items()}
    _, sender = email.utils.parseaddr(fields.get("from", ""))
    try:
        date = email.utils.parsedate_to_datetime(fields["date"]) if fields.get("date") else None
        date = date.astimezone(UTC) if date and date.tzinfo else (date.replace(tzinfo=UTC) if date else None)
    except (TypeError, ValueError, IndexError, OverflowError):
        date = None
    ids = _ids(fields.get("message-id", ""))
    froms = [str(v) for v in message.get_all("From") or []]
    return Headers(
        message_id=ids[0] if ids else "",
        sender=sender.strip().lower(),
        subject=" ".join(fields.get("subject", "").split())[:300],
        date=date,
        answers=_ids(fields.get("in-reply-to", "")) + _ids(fields.get("references", "")),
        content_type=fields.get("content-type", "").split(";")[0].strip().lower(),
        fields=fields,
        authentication=tuple(str(v) for v in (message.get_all("Authentication-Results") or [])[:50]),
        senders=len([a for _, a in email.utils.getaddresses(froms) if a]),
    )


def read_mail(raw: bytes, headers: Headers) -> Mail:
    """The whole mail. A part that cannot be read is noted in ``problems`` and skipped."""
    mail = Mail(headers, raw=raw, auto_reply=is_auto_reply(headers.fields, headers.subject))
    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
    except RecursionError:
        raise RebookError("the mail is nested too deeply to read") from None
    reading = CalendarReading()
    plain, rich = "", ""
    for part in _parts(message, "the mail", reading):
        ctype = part.get_content_type()
        if ctype in ("text/plain", "text/html") and not part.get_filename() and not (plain if ctype == "text/plain" else rich):
            text = _text_of(part, mail)
            if ctype == "text/plain":
                plain = text
            else:
                rich = text
        elif ctype in ("message/delivery-status",):
            mail.bounce_reason = mail.bounce_reason or _status(part)
        elif ctype in ("text/rfc822-headers", "message/rfc822-headers"):
            mail.bounced_id = mail.bounced_id or _original_id(_text_of(part, mail))
    if headers.content_type == "multipart/report":
        for part in message.walk() if message.is_multipart() else []:
            if part.get_content_type() == "message/rfc822":
                inner = part.get_payload()
                inner = inner[0] if isinstance(inner, list) and inner else inner
                if isinstance(inner, Message) and not mail.bounced_id:
                    mail.bounced_id = (_ids(str(inner.get("Message-ID", ""))) or [""])[0]
            if part.get_content_type() == "message/delivery-status" and not mail.bounce_reason:
                mail.bounce_reason = _status(part)
    mail.problems += reading.problems
    body = plain or _html_to_text(rich)
    mail.text = new_text(body[:MAX_TEXT])
    _calendars(raw, mail)
    return mail


def _text_of(part: Message, mail: Mail) -> str:
    try:
        payload = part.get_payload(decode=True) or b""
        charset = part.get_content_charset() or "utf-8"
        try:
            return payload.decode(charset, errors="replace")
        except LookupError:  # an unknown charset name
            mail.problems.append(f"unknown charset {charset[:40]!r}; read as UTF-8")
            return payload.decode("utf-8", errors="replace")
    except BROKEN_MIME as e:
        mail.problems.append(f"a text part could not be read ({type(e).__name__})")
        return ""


def _html_to_text(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style|blockquote).*?</\1>", "\n", markup)  # blockquote: the quoted mail
    markup = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>", "\n", markup)
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def _status(part: Message) -> str:
    text = str(part.get_payload() if not part.is_multipart() else " ".join(str(p) for p in part.get_payload()))
    match = re.search(r"(?im)^diagnostic-code:\s*(?:smtp;\s*)?(.+)$", text) or re.search(r"(?im)^status:\s*(.+)$", text)
    return " ".join(match.group(1).split())[:300] if match else "the mail could not be delivered"


def _original_id(headers_text: str) -> str:
    match = re.search(r"(?im)^message-id:\s*<([^<>\s]+)>", headers_text)
    return match.group(1) if match else ""


def _calendars(raw: bytes, mail: Mail) -> None:
    try:
        reading = read_file(raw, "the mail")
    except RebookError:
        return  # no calendar in it (or none that can be read): a plain mail
    for source in reading.sources:
        method = str(source.calendar.get("METHOD", "PUBLISH")).upper().strip()
        mail.calendar_methods.append(method)
        for event in source.calendar.walk("VEVENT"):
            uid = str(event.get("UID", "")).strip()
            if uid:
                mail.calendar_uids.append(uid)
            comment = event.get("COMMENT")
            if comment and not mail.calendar_comment:
                mail.calendar_comment = " ".join(str(comment[0] if isinstance(comment, list) else comment).split())[:500]
            if method == "REPLY":
                attendees = event.get("ATTENDEE") or []
                for attendee in attendees if isinstance(attendees, list) else [attendees]:
                    address = str(attendee).split(":", 1)[-1].strip().lower()
                    declined = str(attendee.params.get("PARTSTAT", "")).upper() == "DECLINED"
                    mail.calendar_declined |= declined and address == mail.headers.sender
            if method == "COUNTER" and mail.counter_start is None and event.get("DTSTART") is not None:
                start = event.decoded("DTSTART")
                if isinstance(start, datetime):  # a floating time stays naive: it is read in the lead's zone
                    mail.counter_start = start.astimezone(UTC) if start.tzinfo else start
