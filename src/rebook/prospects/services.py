"""What a prospect does through a link, done through the same services as if the seller had typed it, with
the channel recorded as ``self_service``, and a note to the seller at once.

Every change here first takes the seller's row lock, so two prospects confirming the same time cannot both
get it (on SQLite the database itself lets one writer at a time in). A repeated or late request changes
nothing and returns the state as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from rebook.errors import Conflict, RebookError
from rebook.leads import selectors, services
from rebook.leads.models import Activity, Appointment, Cancellation, Channel, Lead, Party
from rebook.outbox.compose import when
from rebook.outbox.services import seller_notice
from rebook.sellers.models import Seller
from rebook.strategy.followups import rebooking_of
from rebook.strategy.quoting import quoted, visible

SELF = Channel.SELF_SERVICE
MAX_REASON_CHARS = 1000
MAX_SUGGESTION_CHARS = 1000


MOVE_NOTICE = timedelta(hours=2)  # the earliest a meeting can be moved to, from now


def free_times(*, appointment: Appointment, now: datetime, moving: bool) -> list[datetime]:
    """The times a prospect may choose: the seller's free working hours from two hours ahead. When
    ``moving`` the meeting itself, its own slot is free but is not a choice."""
    seller = appointment.lead.seller
    starts = selectors.open_times(seller=seller, length=appointment.end - appointment.start, after=now + MOVE_NOTICE,
                                  exclude_id=appointment.pk if moving else None)
    return [s for s in starts if not (moving and s == appointment.start)]


class SlotTaken(Conflict):
    """The time was free when offered, and is not any more."""


@dataclass(frozen=True)
class Outcome:
    """What a prospect's request came to: ``what`` is "cancelled", "moved", "booked", "suggested" or
    "nurture" (the reschedule reached the strike limit, nothing new was booked), with the meeting now
    current, if any."""

    what: str
    appointment: Appointment | None
    changed: bool = True


def _lock_seller(seller: Seller) -> None:
    Seller.objects.select_for_update().filter(pk=seller.pk).first()


def _clean(text: str, limit: int) -> str:
    return visible(text)[:limit]


def _lead_url(lead: Lead) -> str:
    return settings.REBOOK_BASE_URL + reverse("lead", args=[lead.pk])


def _day(appointment: Appointment, seller: Seller) -> str:
    local = appointment.start.astimezone(seller.tz)
    return f"{local:%A}'s meeting ({local:%-d %B}, {local:%H:%M})"


def _name(lead: Lead) -> str:
    return visible(lead.name)  # names come from calendars and imports too


def _verdict(c: Cancellation) -> str:
    if c.valid:
        return "Valid cancellation" if c.kind == Cancellation.Kind.CANCEL else "Valid reason to move"
    return "Not valid, a strike" if c.is_strike else "Not valid"


def _notify(lead: Lead, line: str, now: datetime, *, words: str = "") -> None:
    """A note whose subject is Rebook's own ``line`` (its verdict first, so a cut never loses it); the
    prospect's ``words`` go only into the body, quoted as theirs."""
    theirs = f"\nIn their words: {quoted(words, limit=MAX_REASON_CHARS)}" if words else ""
    seller_notice(lead=lead, subject=line if len(line) <= 120 else line[:117] + "...",
                  text=f"{line}{theirs}\n\nThe lead's page: {_lead_url(lead)}\n\n"
                       "Rebook has planned the follow-up messages as usual.",
                  now=now)


def current_meeting(cancellation: Cancellation) -> Appointment | None:
    """The meeting that replaced a cancelled one, if the lead has been rebooked since (by any channel)."""
    loaded = selectors.lead_history(cancellation.lead)
    facts = next((c for c in loaded.facts.cancellations if c.id == cancellation.pk), None)
    rebooked = rebooking_of(facts, loaded.facts) if facts else None
    return Appointment.objects.filter(pk=rebooked.id).first() if rebooked else None


@transaction.atomic
def prospect_cancel(*, appointment: Appointment, reason: str, now: datetime) -> Outcome:
    """A prospect cancellation at this instant, with its notice; the reason is judged like any other."""
    lead = appointment.lead
    _lock_seller(lead.seller)
    appointment.refresh_from_db(fields=["status"])
    if appointment.status != Appointment.Status.SCHEDULED:
        return Outcome("cancelled", None, changed=False)
    c = services.appointment_cancel(appointment=appointment, by=Party.PROSPECT, reason=_clean(reason, MAX_REASON_CHARS),
                                    now=now, channel=SELF)
    given = "" if c.reason else " without giving a reason"
    _notify(lead, f"{_verdict(c)}: {_name(lead)} cancelled {_day(appointment, lead.seller)} through your link{given}",
            now, words=c.reason)
    return Outcome("cancelled", None)


@transaction.atomic
def prospect_move(*, appointment: Appointment, start: datetime, reason: str, now: datetime) -> Outcome:
    """A prospect reschedule to one of the free times offered on the page. If it is the one that reaches
    the strike limit, the lead moves to nurture and the new time is not booked."""
    lead = appointment.lead
    seller = lead.seller
    _lock_seller(seller)
    appointment.refresh_from_db(fields=["status"])
    if appointment.status != Appointment.Status.SCHEDULED:
        moved = Appointment.objects.filter(rescheduled_from=appointment).first()
        return Outcome("moved", moved, changed=False)
    if start not in free_times(appointment=appointment, now=now, moving=True):
        raise SlotTaken("that time is no longer free")
    c, moved = services.appointment_reschedule(appointment=appointment, to=start, by=Party.PROSPECT,
                                               reason=_clean(reason, MAX_REASON_CHARS), now=now, channel=SELF)
    name = _name(lead)
    if moved is None:
        _notify(lead, f"{_verdict(c)}: {name} asked to move {_day(appointment, seller)} through your link; "
                      f"that was a strike too many, so {name} is on the nurture list and no new time was booked",
                now, words=c.reason)
        return Outcome("nurture", None)
    _notify(lead, f"{_verdict(c)}: {name} moved {_day(appointment, seller)} to {when(start, seller.tz)} through your link",
            now, words=c.reason)
    return Outcome("moved", moved)


@transaction.atomic
def prospect_pick(*, cancellation: Cancellation, start: datetime, now: datetime) -> Outcome:
    """Book an offered time after a cancellation, in the same calendar event as the meeting it replaces.
    The time is checked again: if another meeting took it meanwhile, SlotTaken."""
    lead = cancellation.lead
    seller = lead.seller
    _lock_seller(seller)
    current = current_meeting(cancellation)
    if current is not None:
        return Outcome("booked", current, changed=False)
    missed = cancellation.appointment
    length = missed.end - missed.start
    if start <= now or not selectors.is_free(seller=seller, start=start, end=start + length):
        raise SlotTaken("that time is no longer free")
    booked = services.appointment_book(lead=lead, start=start, end=start + length, location=missed.location,
                                       booked_by=Party.PROSPECT, timezone_name=missed.timezone, now=now,
                                       channel=SELF, after=cancellation)
    _notify(lead, f"{_name(lead)} booked a new meeting through your link: {when(start, seller.tz)}", now)
    return Outcome("booked", booked)


@transaction.atomic
def prospect_suggest(*, appointment: Appointment, text: str, now: datetime) -> Outcome:
    """"None of these times": the prospect's own suggestion, kept on the lead as an inbound contact. The
    meeting stays as it is until the seller answers."""
    text = _clean(text, MAX_SUGGESTION_CHARS)
    if not text:
        raise RebookError("suggestion: write the day and time that would suit you")
    lead = appointment.lead
    _lock_seller(lead.seller)
    services.activity_log(lead=lead, kind=Activity.Kind.NOTE, direction="inbound", at=now, now=now,
                          notes=f"Suggested another time through the link for {_day(appointment, lead.seller)}: {text}")
    _notify(lead, f"{_name(lead)} would like another time for {_day(appointment, lead.seller)}", now, words=text)
    return Outcome("suggested", appointment)
