"""The seller's private calendar feed: appointments and planned follow-ups, for Google Calendar,
Outlook and Apple Calendar to subscribe to (or `rebook export ics` to write).

One event per appointment chain (UID = the chain, so a reschedule moves the event in the subscriber's
calendar), cancelled ones marked CANCELLED; each planned follow-up a short, free-time reminder.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import icalendar
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from rebook.calendars.invitations import PRODID
from rebook.leads.models import Appointment
from rebook.outbox.models import PlannedMessage
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


def feed(seller: Seller, *, now: datetime) -> bytes:
    tz = seller.tz
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Rebook: {seller.name}")
    cal.add("x-wr-timezone", tz.key)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    appointments = (
        Appointment.objects.filter(seller=seller, start__gte=now - PAST)
        .exclude(status=Appointment.Status.RESCHEDULED)  # the chain's latest row stands for it
        .select_related("lead")
        .order_by("start", "id")
    )
    for a in appointments.iterator(chunk_size=2000):
        event = icalendar.Event()
        event.add("uid", f"{a.chain}@rebook")
        event.add("dtstamp", now.astimezone(UTC))
        if a.all_day:
            event.add("dtstart", a.start.astimezone(tz).date())
            event.add("dtend", max(a.end.astimezone(tz).date(), a.start.astimezone(tz).date() + timedelta(days=1)))
        else:
            event.add("dtstart", a.start.astimezone(UTC))
            event.add("dtend", a.end.astimezone(UTC))
        cancelled = a.status == Appointment.Status.CANCELLED
        label = {"cancelled": " (cancelled)", "no_show": " (no-show)", "held": ""}.get(a.status, "")
        event.add("summary", f"{a.title or 'Meeting'} with {a.lead.name}{label}")
        if a.location:
            event.add("location", a.location)
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
        event.add("url", f"{settings.REBOOK_BASE_URL}{reverse('lead', args=[a.lead_id])}")
        cal.add_component(event)
    messages = (
        PlannedMessage.objects.filter(seller=seller, status__in=PlannedMessage.PENDING, due__gte=now - PAST)
        .select_related("lead")
        .order_by("due", "id")
    )
    for m in messages.iterator(chunk_size=2000):
        event = icalendar.Event()
        event.add("uid", f"message-{m.pk}@rebook")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", m.due.astimezone(UTC))
        event.add("dtend", (m.due + REMINDER).astimezone(UTC))
        waiting = " (waiting for your review)" if m.status == PlannedMessage.Status.REVIEW else ""
        event.add("summary", f"{m.get_kind_display()} for {m.lead.name}{waiting}")
        event.add("transp", "TRANSPARENT")
        event.add("url", f"{settings.REBOOK_BASE_URL}{reverse('message', args=[m.pk])}")
        cal.add_component(event)
    return cal.to_ical()
