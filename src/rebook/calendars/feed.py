"""The seller's private calendar feed: appointments and planned follow-ups, for Google Calendar,
Outlook and Apple Calendar to subscribe to (or `rebook export ics` to write).

One event per appointment chain (UID = the chain, so a reschedule moves the event in the subscriber's
calendar), cancelled ones marked CANCELLED; each planned follow-up a short, free-time reminder.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse

from rebook.calendars.invitations import PRODID
from rebook.leads.models import Appointment
from rebook.leads.selectors import change_stamp
from rebook.outbox.models import PlannedMessage
from rebook.reads import moment
from rebook.sellers.models import Seller

PAST = timedelta(days=180)
REMINDER = timedelta(minutes=15)


@transaction.atomic
def feed_token_rotate(*, seller: Seller) -> Seller:
    """A new secret for the feed URL; the old URL stops working at once."""
    seller.feed_token = secrets.token_urlsafe(32)
    seller.save(update_fields=["feed_token"])
    return seller


def feed_url(seller: Seller) -> str:
    if not seller.feed_token:
        feed_token_rotate(seller=seller)
    return settings.REBOOK_BASE_URL + reverse("feed", args=[seller.feed_token])


FORMAT = "2"  # bump when what the feed writes changes, so every subscriber's cached copy is refetched


def window_start(now: datetime) -> datetime:
    """The feed covers from 180 days ago, counted in whole days (UTC), so that its content, and its ETag,
    stay the same all day long until something changes."""
    day = (now - PAST).astimezone(UTC)
    return day.replace(hour=0, minute=0, second=0, microsecond=0)


def feed_stamp(seller: Seller, *, now: datetime) -> tuple[str, datetime | None]:
    """(ETag, Last-Modified) of the seller's feed, without building it: calendar apps poll the feed every
    few minutes, and almost always nothing has changed. Every change to an appointment updates its row
    (``updated_at``) and, through the lead's re-evaluation, the lead's; an appointment is deleted only with
    its lead (the lead count). The latest changes come from the (seller, updated_at) indexes alone; the
    planned messages are counted too, since the worker takes them out of the feed as it sends them. One
    statement, five scalar subqueries: a poll is one round trip."""
    since = window_start(now)
    messages = PlannedMessage._meta.db_table
    pending = ", ".join(["%s"] * len(PlannedMessage.PENDING))
    due = connection.ops.adapt_datetimefield_value(since)
    where = f"FROM {messages} WHERE seller_id = %s AND status IN ({pending}) AND due >= %s"
    params = [seller.pk, *PlannedMessage.PENDING, due]
    row = change_stamp(seller, (f"SELECT COUNT(*) {where}", params), (f"SELECT MAX(updated_at) {where}", params))
    moments = [moment(v) for v in (row[1], row[2], row[4])]
    last = max(filter(None, moments), default=None)
    key = "|".join(str(v) for v in (
        FORMAT, seller.pk, seller.name, seller.timezone, settings.REBOOK_BASE_URL, since.date(), *row))
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"', last


def _text(value: str) -> str:
    """An iCalendar TEXT value (RFC 5545, 3.3.11)."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def _line(out: list[str], line: str) -> None:
    """One content line, folded at 75 octets (RFC 5545, 3.1), never inside a UTF-8 character."""
    if len(line) <= 75 and line.isascii():
        out.append(line)
        return
    part, size, limit = [], 0, 75
    for ch in line:
        n = len(ch.encode())
        if size + n > limit:
            out.append(("" if limit == 75 else " ") + "".join(part))
            part, size, limit = [], 0, 74
        part.append(ch)
        size += n
    out.append(("" if limit == 75 else " ") + "".join(part))


def _utc(value: datetime | str) -> str:
    """An iCalendar UTC time. SQLite hands back its stored UTC text ("2026-03-05 10:00:00[.ffffff]"), which is
    sliced rather than parsed (parsing 60,000 of them was a third of the feed's time); PostgreSQL a datetime."""
    if isinstance(value, str):
        return f"{value[0:4]}{value[5:7]}{value[8:10]}T{value[11:13]}{value[14:16]}{value[17:19]}Z"
    u = value.astimezone(UTC)
    return f"{u.year:04d}{u.month:02d}{u.day:02d}T{u.hour:02d}{u.minute:02d}{u.second:02d}Z"


def _uuid(value) -> str:
    """A UUID column as text: PostgreSQL's uuid, or the 32 hex digits SQLite stores."""
    text = str(value)
    return text if "-" in text else f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _raw(queryset):
    """The rows of a values_list queryset straight from the cursor, without Django's per-value converters
    (the feed reads tens of thousands of timestamps; _utc and _uuid take what the database hands back)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(2000):
            yield from rows


def _date(day) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


LABELS = {"cancelled": " (cancelled)", "no_show": " (no-show)"}


def feed(seller: Seller, *, now: datetime) -> bytes:
    """The feed as iCalendar text, written directly (``icalendar`` built and serialised an object per
    property, most of the time the feed took); a test checks that ``icalendar`` reads every event back."""
    tz = seller.tz
    since = window_start(now)
    lead_url = settings.REBOOK_BASE_URL + reverse("lead", args=[987654321]).replace("987654321", "{}")
    message_url = settings.REBOOK_BASE_URL + reverse("message", args=[987654321]).replace("987654321", "{}")
    out: list[str] = ["BEGIN:VCALENDAR", f"PRODID:{PRODID}", "VERSION:2.0", "CALSCALE:GREGORIAN"]
    _line(out, f"X-WR-CALNAME:{_text('Rebook: ' + seller.name)}")
    _line(out, f"X-WR-TIMEZONE:{tz.key}")
    out += ["REFRESH-INTERVAL;VALUE=DURATION:PT1H", "X-PUBLISHED-TTL:PT1H"]
    appointments = (
        Appointment.objects.filter(seller=seller, start__gte=since)
        .exclude(status=Appointment.Status.RESCHEDULED)  # the chain's latest row stands for it
        .order_by("start", "id")
        .values_list("chain", "start", "end", "all_day", "status", "title", "location", "lead_id", "lead__name",
                     "updated_at")
    )
    for chain, start, end, all_day, status, title, location, lead_id, lead_name, updated in _raw(appointments):
        out += ["BEGIN:VEVENT", f"UID:{_uuid(chain)}@rebook", f"DTSTAMP:{_utc(updated)}"]
        if all_day:
            first = moment(start).astimezone(tz).date()
            last = moment(end).astimezone(tz).date()
            out += [f"DTSTART;VALUE=DATE:{_date(first)}",
                    f"DTEND;VALUE=DATE:{_date(max(last, first + timedelta(days=1)))}"]
        else:
            out += [f"DTSTART:{_utc(start)}", f"DTEND:{_utc(end)}"]
        summary = f"{title or 'Meeting'} with {lead_name}{LABELS.get(status, '')}"
        _line(out, f"SUMMARY:{_text(summary)}")
        if location:
            _line(out, f"LOCATION:{_text(location)}")
        cancelled = status == Appointment.Status.CANCELLED
        out += [f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
                f"TRANSP:{'TRANSPARENT' if cancelled else 'OPAQUE'}"]
        _line(out, f"URL:{lead_url.format(lead_id)}")
        out.append("END:VEVENT")
    kinds = dict(PlannedMessage._meta.get_field("kind").choices)
    messages = (
        PlannedMessage.objects.filter(seller=seller, status__in=PlannedMessage.PENDING, due__gte=since)
        .order_by("due", "id")
        .values_list("pk", "due", "kind", "status", "lead__name", "updated_at")
    )
    for pk, due, kind, status, lead_name, updated in _raw(messages):
        waiting = " (waiting for your review)" if status == PlannedMessage.Status.REVIEW else ""
        out += ["BEGIN:VEVENT", f"UID:message-{pk}@rebook", f"DTSTAMP:{_utc(updated)}",
                f"DTSTART:{_utc(due)}", f"DTEND:{_utc(moment(due) + REMINDER)}"]
        summary = f"{kinds.get(kind, kind)} for {lead_name}{waiting}"
        _line(out, f"SUMMARY:{_text(summary)}")
        out.append("TRANSP:TRANSPARENT")
        _line(out, f"URL:{message_url.format(pk)}")
        out.append("END:VEVENT")
    out.append("END:VCALENDAR")
    return ("\r\n".join(out) + "\r\n").encode()
