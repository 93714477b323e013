"""What a message says: the seller's template (or the shipped default) rendered for one lead.

Reads only. The outbox services freeze the result when the seller approves or edits a message, and
the worker composes what is not frozen at the moment it sends, so a message always reflects the
lead's latest details until a person has looked at it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from django.conf import settings

from rebook.calendars.invitations import CANCEL, REQUEST, Meeting, Person, invitation
from rebook.leads.models import Appointment, Lead
from rebook.leads.selectors import lead_history
from rebook.outbox.mail import Attachment, Calendar, unsubscribe_url
from rebook.outbox.models import MessageTemplate, PlannedMessage
from rebook.outbox.templating import compile_template, render
from rebook.prospects import links as links_module
from rebook.remembered import Remembered
from rebook.sellers.models import Seller
from rebook.strategy import followups
from rebook.strategy.history import SELLER

NURTURE_KINDS = {followups.NURTURE_MOVE, followups.NURTURE_CHECKIN}


@dataclass(frozen=True)
class TemplateSource:
    subject: str
    text: str
    html: str
    custom: bool = False


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = ()
    calendar: Calendar | None = None
    unsubscribe_url: str = ""


@cache
def default_template(kind: str) -> TemplateSource:
    folder = resources.files("rebook.outbox") / "defaults"
    subject, _, text = (folder / f"{kind}.txt").read_text(encoding="utf-8").partition("\n---\n")
    return TemplateSource(subject.strip(), text, (folder / f"{kind}.html").read_text(encoding="utf-8"))


# Inside ``remembered()``, a seller's templates and info pack are read once: the worker composes a batch of
# messages for the same few sellers (a change the seller makes meanwhile applies from the next batch).
_memo = Remembered("rebook_compose")
remembered = _memo.block
_once = _memo.get


def template_source(seller: Seller, kind: str) -> TemplateSource:
    row = _once(("template", seller.pk, kind), lambda: MessageTemplate.objects.filter(seller=seller, kind=kind).first())
    if row is None:
        return default_template(kind)
    return TemplateSource(row.subject, row.text, row.html, custom=True)


@functools.lru_cache(maxsize=256)
def _compiled(source: str, part: str, html: bool = False):
    """A template parsed and checked once per process (a worker renders the same few for every message);
    a template that does not compile raises every time, as it is not cached."""
    return compile_template(source, part=part, html=html)


def render_source(source: TemplateSource, context: dict) -> tuple[str, str, str]:
    subject = render(_compiled(source.subject, "subject"), context)
    text = render(_compiled(source.text, "text body"), context)
    html = render(_compiled(source.html, "HTML body", True), context) if source.html.strip() else ""
    return " ".join(subject.split()), text.strip() + "\n", html.strip()


# --- context -------------------------------------------------------------------------------------


def when(instant: datetime, tz: ZoneInfo) -> str:
    local = instant.astimezone(tz)
    return f"{local:%A} {local.day} {local:%B %Y} at {local:%I:%M %p}".replace(" at 0", " at ") + f" {local:%Z}"


def _length(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if minutes or not parts:
        parts.append(f"{minutes} minutes")
    return " ".join(parts)


def meeting_facts(appointment: Appointment | None, tz: ZoneInfo) -> dict[str, str]:
    if appointment is None:
        return {}
    local = appointment.start.astimezone(tz)
    return {
        "when": when(appointment.start, tz),
        "date": f"{local:%A} {local.day} {local:%B}",
        "time": f"{local:%I:%M %p}".lstrip("0"),
        "timezone": tz.key,
        "location": appointment.location,
        "length": _length(appointment.end - appointment.start),
    }


def _first(name: str) -> str:
    return name.split()[0] if name.split() else name


def _people(lead: Lead, seller: Seller) -> dict[str, dict[str, str]]:
    return {
        "lead": {"name": lead.name, "first_name": _first(lead.name), "company": lead.company, "email": lead.email},
        "seller": {"name": seller.name, "first_name": _first(seller.name), "email": seller.email},
    }


def _info(seller: Seller) -> dict[str, object]:
    return {
        "text": seller.info_text,
        "links": list(seller.info_links),
        "files": _once(("files", seller.pk), lambda: list(seller.info_files.values_list("name", flat=True))),
    }


def message_context(message: PlannedMessage, now: datetime) -> dict[str, object]:
    lead = message.lead
    seller = lead.seller
    tz = lead.tz
    context: dict[str, object] = {**_people(lead, seller), "info": _info(seller)}
    context["appointment"] = meeting_facts(message.appointment, tz)
    links = seller.self_service
    ahead = message.appointment
    cancellation = message.cancellation
    if cancellation is not None:
        missed = cancellation.appointment
        context["missed"] = meeting_facts(missed, tz)
        context["cancelled_by_seller"] = cancellation.by == SELLER
        loaded = lead_history(lead)
        facts = next((c for c in loaded.facts.cancellations if c.id == cancellation.pk), None)
        rebooked = followups.rebooking_of(facts, loaded.facts) if facts else None
        if rebooked is not None:
            ahead = Appointment.objects.get(pk=rebooked.id)
            context["next"] = meeting_facts(ahead, tz)
        if message.kind == followups.RESCHEDULE_OFFER:
            offered = links_module.slots(cancellation, now, describe=lambda start: when(start, tz))
            context["slots"] = offered if links else [links_module.Slot(s.when, "", s.start) for s in offered]
            if links:
                context["more_times_url"] = links_module.more_times_url(cancellation)
    if links and ahead is not None and ahead.status == Appointment.Status.SCHEDULED and ahead.start > now:
        context["manage_url"] = links_module.manage_url(ahead)
    if message.kind in NURTURE_KINDS:
        context["unsubscribe_url"] = unsubscribe_url(lead.pk)
    return context


def sample_context(seller: Seller, now: datetime) -> dict[str, object]:
    """A made-up lead and meetings, for previewing a template before any real lead needs it."""
    tz = seller.tz
    start = (now + timedelta(days=3)).astimezone(tz).replace(hour=10, minute=0, second=0, microsecond=0)
    meeting = Appointment(start=start, end=start + timedelta(minutes=45), location="Video call")
    missed = Appointment(start=start - timedelta(days=4), end=start - timedelta(days=4, minutes=-45))
    sample = Lead(name="Sam Sample", company="Sample & Co", email="sam@example.com")
    return {
        **_people(sample, seller),
        "info": _info(seller),
        "appointment": meeting_facts(meeting, tz),
        "missed": meeting_facts(missed, tz),
        "next": meeting_facts(meeting, tz),
        "cancelled_by_seller": False,
        "slots": [links_module.Slot(when(start, tz), f"{settings.REBOOK_BASE_URL}/p/sample-{d}/", start)
                  for d, start in enumerate(meeting.start + timedelta(days=d, hours=4 * (d % 2)) for d in range(3))],
        "manage_url": f"{settings.REBOOK_BASE_URL}/p/sample/",
        "more_times_url": f"{settings.REBOOK_BASE_URL}/p/sample-more/",
        "unsubscribe_url": f"{settings.REBOOK_BASE_URL}/unsubscribe/sample/",
    }


# --- the whole message ---------------------------------------------------------------------------


def compose(message: PlannedMessage, now: datetime) -> Composed:
    """The message as it would go out now: stored content when frozen, else freshly rendered."""
    lead = message.lead
    seller = lead.seller
    context = message_context(message, now)
    if message.frozen:
        subject, text, html = message.subject, message.body, message.html_body
    else:
        subject, text, html = render_source(template_source(seller, message.kind), context)
    attachments: tuple[Attachment, ...] = ()
    if message.kind == followups.CONNECTING_MOMENT:
        attachments = _once(("attachments", seller.pk), lambda: tuple(
            Attachment(f.name, bytes(f.data), f.content_type) for f in seller.info_files.all()))
    return Composed(
        subject=subject,
        text=text,
        html=html,
        attachments=attachments,
        calendar=_calendar(message, now),
        unsubscribe_url=str(context.get("unsubscribe_url", "")),
    )


def _calendar(message: PlannedMessage, now: datetime) -> Calendar | None:
    kind = message.kind
    if kind in {followups.CONFIRMATION, followups.BOOKING_FOLLOWUP} and message.appointment is not None:
        if message.appointment.status == Appointment.Status.SCHEDULED:
            return Calendar(REQUEST, invitation(meeting_of(message.appointment), method=REQUEST, stamp=now))
    if kind == followups.RESCHEDULE_OFFER and message.cancellation and message.cancellation.by == SELLER:
        meeting = meeting_of(message.cancellation.appointment, cancelled=True)
        return Calendar(CANCEL, invitation(meeting, method=CANCEL, stamp=now))
    return None


def meeting_of(appointment: Appointment, *, cancelled: bool = False) -> Meeting:
    """The calendar event for an appointment: one UID per chain (reschedules, and a time picked through a
    link after a cancellation). SEQUENCE grows by two per meeting in the chain, and the cancel of one sits
    between it and the next, so every version a calendar sees is newer than the one before."""
    lead = appointment.lead
    seller = lead.seller
    position = Appointment.objects.filter(chain=appointment.chain, pk__lt=appointment.pk).count()
    return Meeting(
        uid=f"{appointment.chain}@rebook",
        sequence=2 * position + (1 if cancelled else 0),
        start=appointment.start,
        end=appointment.end,
        tz=ZoneInfo(appointment.timezone or seller.timezone),
        summary=f"{seller.name} and {lead.name}",
        location=appointment.location,
        organizer=Person(seller.name, seller.email or "rebook@localhost"),
        attendee=Person(lead.name, lead.email),
    )
