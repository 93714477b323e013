"""Writes for leads and their history. Every service runs in one transaction and ends by
re-evaluating the lead: the strategy recomputes strikes, status, planned messages and checklists
from the whole history, so the order things were entered in never matters."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ParamSpec, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from rebook.errors import Conflict, RebookError
from rebook.leads.models import Activity, Appointment, Cancellation, Channel, ChecklistItem, Lead, Party
from rebook.leads.selectors import HISTORY_FIELDS, checklist_facts, lead_histories, lead_history, offer_times
from rebook.lengths import check_lengths
from rebook.outbox.models import PlannedMessage
from rebook.outbox.services import messages_reconcile
from rebook.reads import instances
from rebook.sellers.models import Seller
from rebook.strategy import checklist as checklist_rules
from rebook.strategy.followups import past_follow_up, plan_messages
from rebook.strategy.freed import touchpoints
from rebook.strategy.limits import check_instant, check_meeting
from rebook.strategy.reasons import NO_SHOW, NOT_INTERESTED
from rebook.strategy.strikes import TERMINAL_STATUSES, StrikeDecision, decide_strikes, lead_status
from rebook.timeparse import zone
from rebook.webhooks.services import emit, emit_many
from rebook.writes import Writes, insert_new

Status = Lead.Status
# A little slack so that "now" typed on a slow machine is not "in the future".
CLOCK_SLACK = timedelta(minutes=1)
UNBOOKABLE = {
    Status.NURTURE: "is on the nurture list; reactivate it first with `rebook lead reactivate {id}`",
    Status.LOST: "is marked lost; reactivate it first with `rebook lead reactivate {id}`",
    Status.DO_NOT_CONTACT: "is marked do-not-contact",
}


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _locked(lead: Lead) -> Lead:
    """Re-read the lead under a row lock so two changes to one lead queue up (a no-op on SQLite). Only the
    lead's row: its seller's and user's rows, read with it, stay free for the seller's other leads. A lead
    held by ``leads_held`` is already locked and as it is in the database: that object, not read again."""
    held = _held.get()
    if held and lead.pk in held:
        return held[lead.pk]
    return Lead.objects.select_for_update(of=("self",)).select_related("seller__user").get(pk=lead.pk)


_held: ContextVar[dict[int, Lead] | None] = ContextVar("rebook_held_leads", default=None)


@contextmanager
def leads_held(leads: dict[int, Lead]) -> Iterator[None]:
    """Inside, a change to one of ``leads`` (by id) works on that object instead of reading the lead again
    under a lock, and on the meetings of those leads it is given as they are, instead of reading their
    status again. For a caller that locked the leads (``select_for_update``, their seller and its user at
    hand) in the transaction it makes its changes in, with the re-evaluations deferred, so nothing writes
    their rows meanwhile, and that read their meetings after it locked them: a calendar import's batch
    cancels hundreds of meetings of the leads it locked.

    A change that fails inside fails the caller's transaction: the services make no savepoint of their own
    (the import rolls the batch back, and applies it again event by event outside)."""
    token = _held.set(leads)
    try:
        yield
    finally:
        _held.reset(token)


P = ParamSpec("P")
R = TypeVar("R")


def _atomic(service: Callable[P, R]) -> Callable[P, R]:
    """``transaction.atomic``, without its savepoint inside ``leads_held`` (see there)."""
    @functools.wraps(service)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with transaction.atomic(savepoint=_held.get() is None):
            return service(*args, **kwargs)
    return run


def _clean_email(raw: str) -> str:
    address = (raw or "").strip()
    if address:
        try:
            validate_email(address)
        except ValidationError:
            raise RebookError(f"email: {address!r} is not a valid e-mail address") from None
    return address


def _clean_phone(raw: str) -> str:
    phone = (raw or "").strip()
    if phone and (len(re.sub(r"\D", "", phone)) < 5 or re.search(r"[^\d\s()+.\-/x]", phone, re.I)):
        raise RebookError(f"phone: {phone!r} does not look like a phone number")
    return phone


def _party(by: str) -> str:
    if by not in Party.values:
        raise RebookError(f"by: must be seller or prospect, not {by!r}")
    return by


# ---------------------------------------------------------------- leads


@transaction.atomic
def lead_create(**fields) -> Lead:
    """A new lead, saved and announced: the fields are ``lead_new``'s."""
    lead = lead_new(**fields)
    lead.save(force_insert=True)
    _emit(lead, "lead.created", fields.get("now"))
    return lead


def lead_new(
    *,
    seller: Seller,
    name: str,
    email: str = "",
    phone: str = "",
    company: str = "",
    source: str = "",
    notes: str = "",
    timezone_name: str = "",
    now: datetime | None = None,
) -> Lead:
    """A new lead, checked as ``lead_create`` checks it, not yet saved: ``leads_insert`` saves several
    together (a calendar file brings hundreds of new prospects)."""
    if not name or not name.strip():
        raise RebookError("lead name: must not be empty")
    lead = Lead(
        timezone=_clean_timezone(timezone_name),
        seller=seller,
        name=name.strip(),
        email=_clean_email(email),
        phone=_clean_phone(phone),
        company=company.strip(),
        source=source.strip(),
        notes=notes,
        created_at=_now(now),
    )
    check_lengths(Lead, lead)  # as saving it one by one would
    return lead


def leads_insert(leads: list[Lead], *, now: datetime | None = None) -> None:
    """Save new leads made by ``lead_new`` in one statement, and announce each as ``lead_create`` does."""
    if not leads:
        return
    insert_new(Lead, leads)
    for seller_id in dict.fromkeys(lead.seller_id for lead in leads):
        emit_many(seller_id=seller_id, now=now, events=[
            ("lead.created", functools.partial(event_data, lead)) for lead in leads if lead.seller_id == seller_id])


@transaction.atomic
def lead_update(*, lead: Lead, **fields: str) -> Lead:
    lead = _locked(lead)
    cleaners = {"email": _clean_email, "phone": _clean_phone, "timezone": _clean_timezone}
    retime = "timezone" in fields  # quiet hours follow the lead's zone
    for field, value in fields.items():
        if field not in {"name", "email", "phone", "company", "source", "notes", "timezone"}:
            raise RebookError(f"unknown lead field {field!r}")
        if field == "name" and not value.strip():
            raise RebookError("lead name: must not be empty")
        old = getattr(lead, field)
        setattr(lead, field, cleaners.get(field, str.strip)(value) if field != "notes" else value)
        if field == "email" and getattr(lead, field) != old:  # a new address has not bounced
            lead.email_bounced_at, lead.email_bounce_reason = None, ""
    lead.save()
    if retime:
        lead_reevaluate(lead=lead)
    return lead


def _clean_timezone(name: str) -> str:
    """An IANA zone name, or blank for "the seller's zone"."""
    return zone(name.strip(), "timezone").key if name and name.strip() else ""


@transaction.atomic
def lead_qualify(*, lead: Lead, notes: str = "", now: datetime | None = None) -> Lead:
    lead = _locked(lead)
    if lead.status in TERMINAL_STATUSES or lead.status == Status.NURTURE:
        raise Conflict(f"lead {lead.pk} is {lead.status}; only new or active leads can be qualified")
    lead.qualified_at = lead.qualified_at or _now(now)
    if notes.strip():
        lead.qualifying_notes = f"{lead.qualifying_notes}\n{notes.strip()}".strip()
    lead.save()
    lead_reevaluate(lead=lead, now=now)
    return lead


@transaction.atomic
def lead_not_interested(*, lead: Lead, reason: str = "", now: datetime | None = None) -> Lead:
    """Pursuit ends at once, kindly: future meetings are called off and the lead moves to nurture."""
    now = _now(now)
    lead = _locked(lead)
    if lead.status in TERMINAL_STATUSES:
        raise Conflict(f"lead {lead.pk} is {lead.status}; there is no pursuit to end")
    if lead.status == Status.NURTURE and lead.nurture_reason == "not_interested":
        raise Conflict(f"lead {lead.pk} has already said they are not interested")
    lead.not_interested_at = now
    lead.save(update_fields=["not_interested_at", "updated_at"])
    for appointment in lead.appointments.filter(status=Appointment.Status.SCHEDULED, start__gt=now):
        _record_cancellation(
            appointment, by=Party.PROSPECT, kind=Cancellation.Kind.CANCEL, at=now,
            reason=reason or "not interested", valid=None, now=now, category=NOT_INTERESTED,
        )
        _set_status(appointment, Appointment.Status.CANCELLED)
    lead_reevaluate(lead=lead, now=now)
    return lead


@transaction.atomic
def lead_reactivate(*, lead: Lead, now: datetime | None = None) -> Lead:
    """Back from nurture (or lost) with a clean slate: strikes count again from now."""
    lead = _locked(lead)
    if lead.status not in (Status.NURTURE, Status.LOST):
        raise Conflict(f"lead {lead.pk} is {lead.status}; only nurture or lost leads can be reactivated")
    lead.reactivated_at = _now(now)
    lead.status = Status.ACTIVE  # provisional: lead_reevaluate derives the real one
    lead.save(update_fields=["reactivated_at", "status", "updated_at"])
    lead_reevaluate(lead=lead, now=now)
    return lead


@transaction.atomic
def lead_set_status(*, lead: Lead, status: str, now: datetime | None = None) -> Lead:
    """Mark a lead won, lost or do-not-contact; nothing more is planned for it."""
    lead = _locked(lead)
    if status not in TERMINAL_STATUSES:
        raise RebookError("status: set won, lost or do_not_contact by hand; the others follow from the history")
    lead.status = status
    lead.save(update_fields=["status", "updated_at"])
    lead_reevaluate(lead=lead, now=now)
    return lead


@transaction.atomic
def lead_unsubscribe(*, lead: Lead, now: datetime | None = None) -> Lead:
    """The lead asked for no more mail (the one-click link): mark do-not-contact, withdraw what is planned."""
    now = _now(now)
    lead = _locked(lead)
    if lead.unsubscribed_at is not None:
        return lead  # a second click (or a mail scanner's retry) changes nothing
    lead.unsubscribed_at = now
    lead.status = Status.DO_NOT_CONTACT
    lead.save(update_fields=["unsubscribed_at", "status", "updated_at"])
    Activity.objects.create(
        lead=lead, kind=Activity.Kind.NOTE, direction=Activity.Direction.INBOUND, at=now, created_at=now,
        notes="Unsubscribed with the link in a message.",
    )
    lead_reevaluate(lead=lead, now=now)
    return lead


@transaction.atomic
def activity_log(
    *, lead: Lead, kind: str, direction: str, at: datetime | None = None, notes: str = "", now: datetime | None = None
) -> Activity:
    now = _now(now)
    if kind not in Activity.Kind.values:
        raise RebookError(f"kind: must be one of {', '.join(Activity.Kind.values)}, not {kind!r}")
    if direction not in Activity.Direction.values:
        raise RebookError(f"direction: must be outbound or inbound, not {direction!r}")
    at = at or now
    if at > now + CLOCK_SLACK:
        raise RebookError("at: a contact that already happened cannot be in the future")
    activity = Activity.objects.create(lead=lead, kind=kind, direction=direction, at=at, notes=notes, created_at=now)
    lead_reevaluate(lead=lead, now=now)
    return activity


# ---------------------------------------------------------------- appointments


@_atomic
def appointment_book(
    *,
    lead: Lead,
    start: datetime,
    end: datetime,
    location: str = "",
    booked_by: str = Party.SELLER,
    timezone_name: str | None = None,
    now: datetime | None = None,
    booked_at: datetime | None = None,
    channel: str = Channel.SELLER,
    after: Cancellation | None = None,
    details: dict | None = None,
) -> Appointment:
    """Book a meeting. ``after`` is the cancelled meeting this one replaces: the new one continues its
    calendar event (same UID, a higher SEQUENCE). ``details``: more of its fields, set as it is inserted
    (an imported event's UID, version, title and participants)."""
    now = _now(now)
    check_meeting(start, end)
    lead = _locked(lead)
    check_bookable(lead)
    appointment = Appointment.objects.create(
        lead=lead,
        seller_id=lead.seller_id,
        start=start,
        end=end,
        timezone=timezone_name or lead.seller.timezone,
        location=location.strip(),
        booked_by=_party(booked_by),
        # A meeting logged after the fact was booked before it started, not when it was typed in.
        booked_at=booked_at or min(now, start),
        channel=channel,
        **({"chain": after.appointment.chain} if after is not None else {}),
        created_at=now,
        **(details or {}),
    )
    lead_reevaluate(lead=lead, now=now)
    _emit(lead, "appointment.booked", now, appointment=appointment)
    return appointment


def check_bookable(lead: Lead) -> None:
    """Raise Conflict for a lead that takes no new meetings (nurture, lost, do-not-contact)."""
    if lead.status in UNBOOKABLE:
        raise Conflict(f"lead {lead.pk} ({lead.name}) " + UNBOOKABLE[lead.status].format(id=lead.pk))


def _emit(lead: Lead, event: str, now: datetime | None, *, appointment: Appointment | None = None,
          cancellation: Cancellation | None = None, **extra) -> None:
    """A webhook event, queued in the same transaction as the change (its data made only if wanted)."""
    emit(seller_id=lead.seller_id, event=event, data=lambda: event_data(lead, appointment, cancellation) | extra, now=now)


def event_data(lead: Lead, appointment: Appointment | None = None, cancellation: Cancellation | None = None) -> dict:
    """A webhook event's data: the lead, and the meeting and the cancellation it is about."""
    data: dict = {"lead": {"id": lead.pk, "name": lead.name, "email": lead.email, "status": lead.status,
                           "strikes": lead.strikes}}
    if appointment is not None:
        data["appointment"] = {"id": appointment.pk, "start": appointment.start.isoformat(),
                               "end": appointment.end.isoformat(), "status": appointment.status,
                               "channel": appointment.channel}
    if cancellation is not None:
        data["cancellation"] = {"id": cancellation.pk, "by": cancellation.by, "reason": cancellation.reason,
                                "valid": cancellation.valid, "strike": cancellation.is_strike,
                                "channel": cancellation.channel}
    return data


def _record_cancellation(appointment: Appointment, **fields) -> Cancellation:
    cancellation = cancellation_new(appointment, **fields)
    cancellation.save(force_insert=True)
    return cancellation


def cancellation_new(
    appointment: Appointment,
    *,
    by: str,
    kind: str,
    at: datetime,
    reason: str,
    valid: bool | None,
    now: datetime,
    category: str | None = None,
    channel: str = Channel.SELLER,
) -> Cancellation:
    """A cancellation of ``appointment`` as the services record it (its reason classified, the times its
    reschedule offer will propose worked out), not yet saved: a calendar import inserts those of the
    meetings it records as cancelled with its batch."""
    seller = appointment.lead.seller
    verdict = seller.classifier.classify(reason)
    if category is not None:
        suggested_valid, matched = False, ""
    else:
        category, suggested_valid, matched = verdict.category, verdict.valid, verdict.matched or ""
    return Cancellation(
        appointment=appointment,
        lead=appointment.lead,
        seller_id=appointment.lead.seller_id,
        by=_party(by),
        kind=kind,
        at=at,
        reason=reason.strip(),
        category=category,
        matched=matched,
        suggested_valid=suggested_valid,
        valid_override=valid,
        judged_at=now if valid is not None else None,
        channel=channel,
        # Logged long after the fact, no offer goes out (the follow-up window has passed): none is worked out
        # now (an import of last year's calendar would look for free times for every one); the prospect's
        # pages work it out on demand, as for older rows.
        offered=[] if past_follow_up(at, now) else [
            t.isoformat() for t in _offer(seller, appointment, by=_party(by), at=at, now=now)],
        created_at=now,
    )


def _offer(seller: Seller, appointment: Appointment, *, by: str, at: datetime, now: datetime) -> list[datetime]:
    """The new times the reschedule offer will propose, fixed now: from when the offer goes out."""
    delay = seller.policy.reschedule_offer_delay if by == Party.PROSPECT else timedelta(0)
    # A meeting not yet inserted (an import records it cancelled with its batch) keeps its own time busy, as
    # it does when it is booked first and cancelled after.
    unsaved = [(appointment.start, appointment.end)] if appointment.pk is None else []
    return offer_times(seller=seller, length=appointment.end - appointment.start, after=max(now, at + delay),
                       also_busy=unsaved)


def _begin_change(appointment: Appointment, action: str, *, started_by: datetime | None = None) -> None:
    """Lock the lead, re-read the appointment and check it can still be changed this way (not re-read when
    its lead is held: see ``leads_held``)."""
    appointment.lead = _locked(appointment.lead)
    held = _held.get()
    if not (held and appointment.lead_id in held):
        appointment.refresh_from_db(fields=["status"])
    if appointment.status != Appointment.Status.SCHEDULED:
        raise Conflict(
            f"appointment {appointment.pk} is {appointment.status}; only a scheduled appointment can be {action}"
        )
    if started_by is not None and appointment.start > started_by:
        raise Conflict(f"appointment {appointment.pk} has not started yet; it can be {action} once it has")


def _set_status(appointment: Appointment, status: str) -> None:
    appointment.status = status
    appointment.save(update_fields=["status", "updated_at"])


def _strike_of(cancellation: Cancellation, lead: Lead, *, new: bool = True) -> None:
    """Whether the cancellation counts, as the re-evaluation just decided. When the re-evaluation was
    deferred, a ``new`` one stays as it was made (not yet a strike) until it runs; another is read back."""
    if _deferred.get() is None:
        cancellation.is_strike = cancellation.pk in lead.strike_ids
    elif not new:
        cancellation.refresh_from_db(fields=["is_strike"])


def _when_called_off(at: datetime | None, now: datetime) -> datetime:
    at = check_instant(at or now, "at")
    if at > now + CLOCK_SLACK:
        raise RebookError("at: when it was called off cannot be in the future")
    return at


@_atomic
def appointment_cancel(
    *,
    appointment: Appointment,
    by: str,
    reason: str = "",
    valid: bool | None = None,
    at: datetime | None = None,
    now: datetime | None = None,
    channel: str = Channel.SELLER,
) -> Cancellation:
    now = _now(now)
    _begin_change(appointment, "cancelled")
    cancellation = _record_cancellation(
        appointment, by=by, kind=Cancellation.Kind.CANCEL, at=_when_called_off(at, now),
        reason=reason, valid=valid, now=now, channel=channel,
    )
    _set_status(appointment, Appointment.Status.CANCELLED)
    _strike_of(cancellation, lead_reevaluate(lead=appointment.lead, now=now))
    _emit(appointment.lead, "appointment.cancelled", now, appointment=appointment, cancellation=cancellation)
    return cancellation


@_atomic
def appointment_reschedule(
    *,
    appointment: Appointment,
    to: datetime,
    by: str,
    reason: str = "",
    valid: bool | None = None,
    at: datetime | None = None,
    now: datetime | None = None,
    channel: str = Channel.SELLER,
    details: dict | None = None,
) -> tuple[Cancellation, Appointment | None]:
    """Move a meeting. The old row stays (status "rescheduled") and the new one links back to it (with
    ``details``, as ``appointment_book``'s, and its ``location`` if given there instead of the old one's).

    A prospect's reschedule counts as a cancellation; if it is the one that reaches the strike
    limit, the lead moves to nurture and the new time is not booked (the old row is "cancelled").
    """
    now = _now(now)
    check_meeting(to, to + (appointment.end - appointment.start))
    _begin_change(appointment, "rescheduled")
    if to == appointment.start:
        raise Conflict(f"to: appointment {appointment.pk} already starts then")
    at = _when_called_off(at, now)
    cancellation = _record_cancellation(
        appointment, by=by, kind=Cancellation.Kind.RESCHEDULE, at=at, reason=reason, valid=valid, now=now,
        channel=channel,
    )
    _set_status(appointment, Appointment.Status.RESCHEDULED)
    lead = lead_reevaluate(lead=appointment.lead, now=now)
    if lead.status == Status.NURTURE:
        _set_status(appointment, Appointment.Status.CANCELLED)
        _strike_of(cancellation, lead_reevaluate(lead=lead, now=now))
        _emit(lead, "appointment.cancelled", now, appointment=appointment, cancellation=cancellation)
        return cancellation, None
    moved = Appointment.objects.create(**{
        "lead": lead,
        "seller_id": lead.seller_id,
        "start": to,
        "end": to + (appointment.end - appointment.start),
        "timezone": appointment.timezone,
        "location": appointment.location,
        "booked_by": by,
        "booked_at": at,
        "rescheduled_from": appointment,
        "chain": appointment.chain,
        "channel": channel,
        "created_at": now,
    } | (details or {}))
    _strike_of(cancellation, lead_reevaluate(lead=lead, now=now))
    _emit(lead, "appointment.rescheduled", now, appointment=moved, cancellation=cancellation,
          previous_appointment_id=appointment.pk)
    return cancellation, moved


@transaction.atomic
def appointment_mark_held(*, appointment: Appointment, now: datetime | None = None) -> Appointment:
    now = _now(now)
    _begin_change(appointment, "marked held", started_by=now)
    _set_status(appointment, Appointment.Status.HELD)
    lead_reevaluate(lead=appointment.lead, now=now)
    _emit(appointment.lead, "appointment.held", now, appointment=appointment)
    return appointment


@transaction.atomic
def appointment_mark_no_show(*, appointment: Appointment, now: datetime | None = None) -> Cancellation:
    now = _now(now)
    _begin_change(appointment, "marked a no-show", started_by=now)
    cancellation = _record_cancellation(
        appointment, by=Party.PROSPECT, kind=Cancellation.Kind.NO_SHOW, at=appointment.start,
        reason="", valid=None, now=now, category=NO_SHOW,
    )
    _set_status(appointment, Appointment.Status.NO_SHOW)
    _strike_of(cancellation, lead_reevaluate(lead=appointment.lead, now=now))
    _emit(appointment.lead, "appointment.no_show", now, appointment=appointment, cancellation=cancellation)
    return cancellation


# ---------------------------------------------------------------- cancellations and checklists


@transaction.atomic
def cancellation_judge(*, cancellation: Cancellation, valid: bool, now: datetime | None = None) -> Cancellation:
    """The seller's word on validity, which always wins; everything that follows is recomputed."""
    now = _now(now)
    _locked(cancellation.lead)
    cancellation.valid_override = valid
    cancellation.judged_at = now
    cancellation.save(update_fields=["valid_override", "judged_at"])
    _strike_of(cancellation, lead_reevaluate(lead=cancellation.lead, now=now), new=False)
    return cancellation


@transaction.atomic
def checklist_tick(
    *, cancellation: Cancellation, step: str, done: bool = True, now: datetime | None = None
) -> ChecklistItem:
    if step not in checklist_rules.STEP_KEYS:
        raise RebookError(f"tick: unknown step {step!r}; steps: {', '.join(checklist_rules.STEP_KEYS)}")
    if cancellation.by != Party.PROSPECT:
        raise Conflict("the checklist is for prospect cancellations")
    item, _ = ChecklistItem.objects.get_or_create(cancellation=cancellation, step=step)
    item.done_at = _now(now) if done else None
    item.done_by = checklist_rules.SELLER if done else ""
    item.save()
    return item


# ---------------------------------------------------------------- re-evaluation


def _withdraw_note(lead: Lead, new_status: str) -> str:
    if lead.unsubscribed_at is not None:
        return "the lead unsubscribed"
    if new_status == Status.NURTURE:
        return "the lead moved to the nurture list"
    if new_status in TERMINAL_STATUSES:
        return f"the lead was marked {new_status.replace('_', '-')}"
    return "no longer needed after a change to the lead's appointments"


_deferred: ContextVar[set[int] | None] = ContextVar("rebook_deferred_reevaluations", default=None)


@contextmanager
def reevaluations_deferred(*, now: datetime | None = None, even_if_stopped: bool = False) -> Iterator[None]:
    """Inside, each lead's re-evaluation waits, and runs once a lead at the end: a calendar file can book
    hundreds of meetings for one lead, and re-reading its whole history after each is quadratic. The
    result is the same, since the rules follow the times of events, not the order they were entered in.
    Inside a transaction, when the block raises, nothing is re-evaluated (the change rolls back);
    ``even_if_stopped`` is for a block that commits as it goes: what it committed is re-evaluated
    whatever happens."""
    if _deferred.get() is not None:  # already deferring: the outer block re-evaluates
        yield
        return
    pending: set[int] = set()
    token = _deferred.set(pending)
    finished = False
    try:
        yield
        finished = True
    finally:
        _deferred.reset(token)
        if finished or even_if_stopped:
            leads_reevaluate(sorted(pending), now=now)


REEVALUATE_BATCH = 500
RECONCILED = (*PlannedMessage.PENDING, PlannedMessage.Status.WITHDRAWN)  # what a reconciliation may change


@dataclass(slots=True)
class _Item:
    """A checklist item as a re-evaluation reads and writes it."""

    pk: int
    cancellation_id: int
    step: str
    done_at: datetime | None
    done_by: str


def leads_reevaluate(ids: list[int], *, now: datetime | None = None, only_messages: bool = False) -> None:
    """Re-evaluate several leads, a few hundred at a time: each batch locked in id order (no deadlock with
    another writer), its histories and planned messages read in one go. A lead that no longer exists (made
    in a savepoint that was rolled back) is skipped. ``only_messages``: see ``lead_reevaluate``."""
    for first in range(0, len(ids), REEVALUATE_BATCH):
        with transaction.atomic():
            leads = instances(Lead.objects.select_for_update(of=("self",))
                              .filter(pk__in=ids[first:first + REEVALUATE_BATCH]).order_by("pk"))
            # Their sellers (most often one) read once, not with each lead.
            sellers = Seller.objects.select_related("user").in_bulk({lead.seller_id for lead in leads})
            for lead in leads:
                lead._state.fields_cache["seller"] = sellers[lead.seller_id]
            batch = [lead.pk for lead in leads]  # ids: a filter on instances normalizes each one
            # The messages the reconciliation may change (only the columns it reads and writes); the keys of
            # the rest (a sent history can be long) as plain rows, from which the histories' sent messages
            # come too.
            open_messages: dict[int, list[PlannedMessage]] = {pk: [] for pk in batch}
            for m in instances(PlannedMessage.objects.filter(lead_id__in=batch, status__in=RECONCILED),
                               ["id", "lead_id", "seller_id", "kind", "key", "status", "status_note", "due", "attempts"]):
                open_messages[m.lead_id].append(m)
            settled: dict[int, list[tuple]] = {pk: [] for pk in batch}
            for lead_id, *row in PlannedMessage.objects.filter(lead_id__in=batch).exclude(
                    status__in=RECONCILED).values_list("lead_id", "key", "kind", "status", "sent_at"):
                settled[lead_id].append(row)
            histories = lead_histories(leads, messages=settled, appointment_fields=HISTORY_FIELDS)
            items: dict[int, list[_Item]] = {pk: [] for pk in batch}
            for lead_id, *row in ChecklistItem.objects.filter(cancellation__lead_id__in=batch).values_list(
                    "cancellation__lead_id", "id", "cancellation_id", "step", "done_at", "done_by"):
                items[lead_id].append(_Item(*row))  # a model instance costs more to make than its row to read
            writes = Writes(gather=True)  # the batch's new and changed messages and checklist items, written together
            for lead in leads:
                _reevaluate(lead=lead, now=now, loaded=histories[lead.pk], checklist_items=items[lead.pk],
                            only_messages=only_messages, writes=writes, open_messages=open_messages[lead.pk],
                            settled_keys=frozenset(key for key, *_ in settled[lead.pk]))
            writes.flush()


def lead_reevaluate(*, lead: Lead, now: datetime | None = None, only_messages: bool = False) -> Lead:
    """Recompute everything that follows from the lead's history and persist it (inside
    ``reevaluations_deferred``, later, once).

    The lead's row is written, and its ``updated_at`` moves, even when nothing in it changed: the caches
    that follow ``change_stamp`` (the pipeline counts, the risks) count on every change to a lead's history
    moving it. ``only_messages`` is for a caller that changed nothing but the lead's messages (the worker,
    after sending): none of those caches reads a message, so the row is written only if a field changed.
    """
    pending = _deferred.get()
    if pending is not None:  # before any transaction: a batch defers thousands
        pending.add(lead.pk)
        return lead
    return _reevaluate(lead=lead, now=now, only_messages=only_messages)


# No savepoint: it runs inside every service's transaction, and a failure fails the whole change.
@transaction.atomic(savepoint=False)
def _reevaluate(*, lead: Lead, now: datetime | None, only_messages: bool, loaded=None,
                checklist_items: list[_Item] | None = None, writes: Writes | None = None,
                open_messages: list[PlannedMessage] | None = None, settled_keys: frozenset[str] | None = None) -> Lead:
    """``lead_reevaluate``, with what ``leads_reevaluate`` read for a batch of leads: ``loaded`` (the history,
    read under the lead's lock), ``checklist_items``, ``open_messages`` and ``settled_keys`` (see
    ``messages_reconcile``); ``writes``: where the new and changed messages, checklist items and strikes go
    (gathered for the batch and written together); by default, written at once."""
    now = _now(now)
    seller = lead.seller
    policy = seller.policy
    loaded = loaded or lead_history(lead)  # ``loaded``: read by the caller, under the lead's lock
    decision = decide_strikes(loaded.facts, policy)
    status = lead_status(
        lead.status, decision, has_appointments=bool(loaded.appointments), qualified=lead.qualified_at is not None
    )
    moved_to_nurture = status == Status.NURTURE and lead.status != Status.NURTURE

    touch = touchpoints(loaded.facts)
    derived = {
        "status": status, "strikes": decision.strikes,
        "nurture_since": decision.nurture_since if status == Status.NURTURE else None,
        "nurture_reason": (decision.nurture_reason or "") if status == Status.NURTURE else "",
        "last_touch_at": touch.last_touch, "open_cancellation_at": touch.open_cancellation_at,
        "scheduled_until": touch.scheduled_until,
    }
    writes = writes or Writes()
    if not only_messages or any(getattr(lead, k) != v for k, v in derived.items()):
        for k, v in derived.items():
            setattr(lead, k, v)
        lead.updated_at = timezone.now()  # as ``save`` would (``auto_now``)
        writes.update(Lead, [lead], [*derived, "updated_at"])

    flipped = [c for c in loaded.cancellations if c.is_strike != (c.pk in decision.ever_counted)]
    for c in flipped:
        c.is_strike = not c.is_strike
    writes.update(Cancellation, flipped, ["is_strike"])

    desired = plan_messages(loaded.facts, policy, decision, now, pursuing=status not in TERMINAL_STATUSES and lead.unsubscribed_at is None)
    messages_reconcile(
        lead=lead, desired=desired, auto_send=policy.auto_send, withdraw_note=_withdraw_note(lead, status),
        now=now, quiet=policy.quiet_window, writes=writes, pending=open_messages, settled_keys=settled_keys,
    )
    _checklists_sync(lead, loaded, decision, now, writes, checklist_items)
    if moved_to_nurture:
        _emit(lead, "lead.moved_to_nurture", now, reason=lead.nurture_reason)
    lead.strike_ids = decision.ever_counted  # which cancellations count, for the caller that just made one
    return lead


def _checklists_sync(lead: Lead, loaded, decision: StrikeDecision, now: datetime, writes: Writes,
                     known: list[_Item] | None = None) -> None:
    """``known``: the lead's checklist items, read by the caller with other leads'."""
    prospect_cancellations = [c for c in loaded.cancellations if c.by == Party.PROSPECT]
    if not prospect_cancellations:
        return
    sent = loaded.sent_keys
    items: dict[tuple[int, str], ChecklistItem] = {
        (i.cancellation_id, i.step): i
        for i in (known if known is not None else ChecklistItem.objects.filter(cancellation__lead=lead))
    }
    created, changed = [], []
    for c in prospect_cancellations:
        ticked = frozenset(
            step for (cid, step), i in items.items() if cid == c.pk and i.done_by == checklist_rules.SELLER
        )
        for step in checklist_rules.checklist(checklist_facts(c, loaded, decision, sent, ticked)):
            item = items.get((c.pk, step.key))
            if item is None:
                item = ChecklistItem(cancellation=c, step=step.key)
                created.append(item)
            if item.done_by == checklist_rules.SELLER:
                continue
            if step.done and not item.done_at:
                item.done_at, item.done_by = now, checklist_rules.SYSTEM
            elif not step.done and item.done_at:
                item.done_at, item.done_by = None, ""
            else:
                continue
            if item.pk:
                changed.append(item)
    writes.create(ChecklistItem, created)
    writes.update(ChecklistItem, changed, ["done_at", "done_by"])


def leads_reevaluate_all(*, seller: Seller, now: datetime | None = None) -> int:
    """After a policy change: every lead of the seller follows the new rules."""
    count = 0
    for lead in Lead.objects.filter(seller=seller).select_related("seller__user").iterator():
        lead_reevaluate(lead=lead, now=now)
        count += 1
    return count
