"""Importing calendar files: each event becomes a booking, a reschedule or a cancellation through the
same services as a change typed by hand, so strikes, messages and checklists follow as usual.

Every event is applied in its own transaction: a bad one is reported and skipped, the good ones stay.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from rebook.calendars.events import CANCEL, DECLINED, REPLY, Budget, Cast, EventFact, cast, extract
from rebook.calendars.reading import read_file
from rebook.errors import RebookError
from rebook.leads import services as lead_services
from rebook.leads.models import Appointment, Lead, Party
from rebook.sellers.models import Seller

WINDOW = timedelta(days=365)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Outcome:
    where: str
    outcome: str  # booked, rescheduled, updated, cancelled, recorded_cancelled, unchanged, stale, skipped
    detail: str
    appointment_id: int | None = None
    lead_id: int | None = None


@dataclass
class CalendarImport:
    file: str
    dry_run: bool = False
    events: list[Outcome] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self.events:
            out[e.outcome] = out.get(e.outcome, 0) + 1
        out["rejected"] = len(self.rejected)
        return out

    def as_dict(self) -> dict:
        return {"file": self.file, "dry_run": self.dry_run, "counts": self.counts(),
                "events": [asdict(e) for e in self.events], "rejected": self.rejected, "warnings": self.warnings}


def seller_addresses(seller: Seller) -> set[str]:
    return {a.lower() for a in [*seller.emails, seller.user.email] if a}


def calendar_import(
    *,
    seller: Seller,
    data: bytes,
    name: str,
    window: tuple[datetime, datetime] | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CalendarImport:
    """Import every event of a calendar file or e-mail. Raises RebookError when the file holds none.
    ``progress(done, total)`` is called as events are applied (for a progress bar)."""
    now = now or timezone.now()
    window = window or (now - WINDOW, now + WINDOW)
    reading = read_file(data, name)
    report = CalendarImport(file=name, dry_run=dry_run, rejected=list(reading.problems))
    mine = seller_addresses(seller)
    budget = Budget()
    with transaction.atomic():
        for source in reading.sources:
            extraction = extract(source.calendar, where=source.where, tz=seller.tz, window=window, budget=budget)
            report.warnings += [f"{source.where}: {w}" for w in extraction.warnings]
            report.rejected += extraction.rejected
            if not extraction.facts and not extraction.rejected:
                report.warnings.append(f"{source.where}: no events in it")
            refused: dict[str, int] = {}
            with lead_services.reevaluations_deferred(now=now):  # each lead once, after its events
                for number, fact in enumerate(extraction.facts):
                    if budget.expired():
                        report.rejected.append(f"{source.where}: the import took longer than its time limit; "
                                               f"{len(extraction.facts) - number} event(s) were not applied")
                        break
                    try:
                        with transaction.atomic():
                            report.events.append(_apply(seller, fact, mine, now))
                    except RebookError as e:
                        refused[f"{fact.where}: {e}"] = refused.get(f"{fact.where}: {e}", 0) + 1
                    if progress and (number + 1) % 50 == 0:
                        progress(number + 1, len(extraction.facts))
            # The occurrences of one series share their reason: one line, with how many.
            report.rejected += [text if n == 1 else f"{text} ({n} occurrences)" for text, n in refused.items()]
        if dry_run:
            transaction.set_rollback(True)
    return report


def _find(seller: Seller, fact: EventFact) -> Appointment | None:
    mine = Appointment.objects.filter(seller=seller).select_related("lead__seller")
    if fact.uid.endswith("@rebook"):
        # An answer to an invitation Rebook sent: the UID is the appointment chain.
        try:
            chain = uuid.UUID(fact.uid.removesuffix("@rebook"))
        except ValueError:
            chain = None
        if chain is not None:
            return mine.filter(chain=chain).order_by("-id").first()
    return mine.filter(ical_uid=fact.uid, recurrence_id=fact.recurrence_id).order_by("-id").first()


def _version(sequence: int, stamp: datetime | None) -> tuple[int, datetime]:
    return sequence, stamp or EPOCH


def _when(fact: EventFact, now: datetime) -> datetime:
    return min(fact.stamp or now, now)


def _apply(seller: Seller, fact: EventFact, mine: set[str], now: datetime) -> Outcome:
    who = cast(fact, mine)
    if who.prospect is None:
        raise RebookError("nobody to attach it to: it names no organizer and no attendee other than you")
    note = f" ({who.note})" if who.note else ""
    if fact.whole_series:
        return _cancel_series(seller, fact, who, now, note)
    existing = _find(seller, fact)
    if existing is not None and existing.ical_uid == fact.uid:
        if _version(fact.sequence, fact.stamp) < _version(existing.ical_sequence, existing.ical_stamp):
            return Outcome(fact.where, "stale", (
                f"ignored: an older version (SEQUENCE {fact.sequence}) than the one already imported "
                f"(SEQUENCE {existing.ical_sequence})"), existing.pk, existing.lead_id)
    declined = who.prospect.partstat == DECLINED and fact.method != CANCEL
    if fact.method == REPLY and not declined:
        return Outcome(fact.where, "unchanged", f"{who.prospect.email} answered {who.prospect.partstat or 'without a status'}",
                       existing.pk if existing else None, existing.lead_id if existing else None)
    if fact.cancelled or declined:
        return _cancel(seller, fact, who, existing, declined, now, note)
    return _book_or_move(seller, fact, who, existing, now, note)


def _party(who: Cast) -> str:
    return Party.SELLER if who.seller_organizes else Party.PROSPECT


def _reason(fact: EventFact, declined: bool) -> str:
    if fact.comment:
        return fact.comment
    return "declined the invitation" if declined else ""


def _cancel(seller, fact, who, existing, declined, now, note) -> Outcome:
    by = Party.PROSPECT if declined else _party(who)
    if existing is not None and existing.status == Appointment.Status.SCHEDULED:
        c = lead_services.appointment_cancel(
            appointment=existing, by=by, reason=_reason(fact, declined), at=_when(fact, now), now=now
        )
        _remember(existing, fact, who)
        verb = "declined" if declined else "cancelled"
        return Outcome(fact.where, "cancelled", f"{verb} by the {by}{note}; {c.get_category_display()}, "
                       f"{'valid' if c.valid else 'not valid'}", existing.pk, existing.lead_id)
    if existing is not None:
        _remember(existing, fact, who)
        return Outcome(fact.where, "unchanged", f"already {existing.status}", existing.pk, existing.lead_id)
    if fact.start is None:
        raise RebookError("cancels a meeting Rebook has never seen, and gives no start time to record it by")
    lead = _lead(seller, who)
    at = min(_when(fact, now), fact.start)
    appointment = lead_services.appointment_book(
        lead=lead, start=fact.start, end=fact.end, location=fact.location, booked_by=_party(who),
        timezone_name=seller.timezone, booked_at=at, now=now,
    )
    lead_services.appointment_cancel(appointment=appointment, by=by, reason=_reason(fact, declined),
                                     at=_when(fact, now), now=now)
    _remember(appointment, fact, who)
    return Outcome(fact.where, "recorded_cancelled",
                   f"Rebook had not seen this meeting; recorded it as cancelled by the {by}{note}", appointment.pk, lead.pk)


def _cancel_series(seller, fact, who, now, note) -> Outcome:
    ahead = Appointment.objects.filter(seller=seller, ical_uid=fact.uid, status=Appointment.Status.SCHEDULED)
    ahead = list(ahead.filter(start__gt=_when(fact, now)))  # the ones still ahead when it was cancelled
    if not ahead:
        raise RebookError("cancels a whole series Rebook has no meetings of, and gives no start time")
    for appointment in ahead:
        lead_services.appointment_cancel(appointment=appointment, by=_party(who), reason=_reason(fact, False),
                                         at=_when(fact, now), now=now)
        _remember(appointment, fact, who)
    return Outcome(fact.where, "cancelled", f"the whole series: {len(ahead)} meeting(s) ahead cancelled by the "
                   f"{_party(who)}{note}", ahead[0].pk, ahead[0].lead_id)


def _book_or_move(seller, fact, who, existing, now, note) -> Outcome:
    if fact.start is None:
        raise RebookError("has no start time (DTSTART)")
    if existing is not None and existing.status == Appointment.Status.SCHEDULED:
        if existing.start != fact.start:
            _, moved = lead_services.appointment_reschedule(
                appointment=existing, to=fact.start, by=_party(who), reason=fact.comment, at=_when(fact, now), now=now
            )
            if moved is None:
                _remember(existing, fact, who)
                return Outcome(fact.where, "rescheduled", "moved by the prospect, which reached the strike limit: the "
                               "lead is on the nurture list and the new time is not booked", existing.pk, existing.lead_id)
            moved.end, moved.location = fact.end, fact.location or existing.location
            moved.save(update_fields=["end", "location", "updated_at"])
            _remember(moved, fact, who)
            return Outcome(fact.where, "rescheduled", f"moved by the {_party(who)} to {fact.start:%Y-%m-%d %H:%M} UTC{note}",
                           moved.pk, moved.lead_id)
        changed = (existing.end, existing.location, existing.title) != (fact.end, fact.location, fact.summary)
        existing.end, existing.location = fact.end, fact.location
        existing.save(update_fields=["end", "location", "updated_at"])
        _remember(existing, fact, who)
        return Outcome(fact.where, "updated" if changed else "unchanged",
                       "details updated" if changed else "already up to date", existing.pk, existing.lead_id)
    lead = _lead(seller, who)
    appointment = lead_services.appointment_book(
        lead=lead, start=fact.start, end=fact.end, location=fact.location, booked_by=_party(who),
        timezone_name=seller.timezone, booked_at=min(_when(fact, now), fact.start), now=now,
    )
    _remember(appointment, fact, who)
    again = " again" if existing is not None else ""
    return Outcome(fact.where, "booked", f"booked{again} with {lead.name}{note}", appointment.pk, lead.pk)


def _lead(seller: Seller, who: Cast) -> Lead:
    person = who.prospect
    lead = Lead.objects.filter(seller=seller, email__iexact=person.email).order_by("id").first()
    if lead is not None:
        return lead
    name = person.name or person.email.split("@")[0]
    return lead_services.lead_create(seller=seller, name=name, email=person.email, source="calendar import")


def _remember(appointment: Appointment, fact: EventFact, who: Cast) -> None:
    """Keep which version of which event this appointment reflects."""
    appointment.ical_uid = fact.uid
    appointment.recurrence_id = fact.recurrence_id
    appointment.ical_sequence = fact.sequence
    appointment.ical_stamp = fact.stamp
    appointment.all_day = fact.all_day
    appointment.title = fact.summary[:300]
    appointment.participants = [{"name": p.name, "email": p.email} for p in who.participants]
    appointment.save(update_fields=["updated_at", "ical_uid", "recurrence_id", "ical_sequence", "ical_stamp", "all_day", "title",
                                    "participants"])
