"""Importing calendar files: each event becomes a booking, a reschedule or a cancellation through the
same services as a change typed by hand, so strikes, messages and checklists follow as usual.

A bad event is reported and skipped, the good ones stay: a batch is applied in one savepoint, and only
when one of its events is refused applied again with a savepoint an event.
Events are applied a batch at a time: what a batch's events refer to (their meetings by UID, their
prospects' leads by address) is read in two queries, the new meetings among them go in with one insert,
and each lead a batch touched is re-evaluated once at its end. A file is one transaction, or, with
``commit_every``, one transaction a batch (the command line, for files of any size).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from rebook.calendars.events import CANCEL, DECLINED, REPLY, Budget, Cast, EventFact, cast, extract, limits
from rebook.calendars.reading import read_file
from rebook.errors import RebookError
from rebook.leads import services as lead_services
from rebook.leads.models import Appointment, Cancellation, Channel, Lead, Party
from rebook.lengths import check_lengths
from rebook.reads import instances
from rebook.sellers.models import Seller
from rebook.strategy.followups import past_follow_up
from rebook.strategy.limits import check_instant, check_meeting
from rebook.webhooks.services import emit_many, endpoints_remembered
from rebook.writes import insert_new, new_like, update_rows

WINDOW = timedelta(days=365)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BATCH = 1000  # events applied together (and, with commit_every, committed together)
LEAD_COLUMNS = [f.attname for f in Lead._meta.concrete_fields]


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
    budget: Budget | None = None,
    commit_every: int | None = None,
    sender: str | None = None,
    channel: str = Channel.SELLER,
) -> CalendarImport:
    """Import every event of a calendar file or e-mail. Raises RebookError when the file holds none.

    ``progress(done, total)`` is called as events are applied (for a progress bar). ``budget``: how far
    the file may expand (the limits for uploads by default). ``commit_every``: commit each batch of that
    many events as it is done, instead of the whole file at the end (ignored for a dry run). ``sender``: the
    (verified) address a calendar mail came from; each event then changes only what that person may change:
    the organizer's own event, or the answer of the attendee who replies, and an existing meeting only when the
    sender is its lead or the seller. ``channel``: how the changes are recorded (``email`` for mail)."""
    now = now or timezone.now()
    window = window or (now - WINDOW, now + WINDOW)
    reading = read_file(data, name)
    report = CalendarImport(file=name, dry_run=dry_run, rejected=list(reading.problems))
    budget = budget or Budget()
    size = BATCH if dry_run or commit_every is None else max(1, commit_every)
    importer = _Importer(seller, now, sender=sender, channel=channel)
    # Each lead once, at the end: in one transaction, or, committing as it goes, after the last batch
    # (and after the last committed one if the import is stopped).
    one_transaction = dry_run or commit_every is None
    with transaction.atomic() if one_transaction else nullcontext():
        with lead_services.reevaluations_deferred(now=now, even_if_stopped=not one_transaction), endpoints_remembered():
            report = _apply_all(reading, report, importer, seller, window, budget, size, progress)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _apply_all(reading, report: CalendarImport, importer: _Importer, seller: Seller, window, budget: Budget,
               size: int, progress) -> CalendarImport:
    ahead = sum(source.events for source in reading.sources)  # VEVENTs not yet read: the bar's length
    done, stopped = 0, False
    day_offsets: dict = {}  # the file's zones' offsets by day, worked out once for all its parts
    for number, source in enumerate(reading.sources):
        if source.part and budget.spent():  # the rest of a large file is not even parsed
            rest = sum(s.events for s in reading.sources[number:])
            report.rejected.append(f"{source.where}: stopped at {source.part}: {limits()}; the rest ({rest} events) "
                                   "was not read")
            break
        ahead -= source.events
        try:
            calendar = source.calendar  # a large file's part is read here, and let go after
        except RebookError as e:
            if not source.part:
                raise
            report.rejected.append(f"{source.where}, {source.part} ({source.events} events): {e}")
            continue
        extraction = extract(calendar, where=source.where, tz=seller.tz, window=window, budget=budget,
                             day_offsets=day_offsets)
        del calendar
        for warning in extraction.warnings:
            if f"{source.where}: {warning}" not in report.warnings:  # a big file's parts warn alike
                report.warnings.append(f"{source.where}: {warning}")
        report.rejected += extraction.rejected
        if not extraction.facts and not extraction.rejected and not source.part:
            report.warnings.append(f"{source.where}: no events in it")
        refused: dict[str, int] = {}
        facts = extraction.facts
        for first in range(0, len(facts), size):
            run = _Batch(facts[first:first + size], first, len(facts), ahead, source.where, report, importer, refused,
                         budget, progress)
            try:
                done, stopped = run.apply(done, careful=False)
            except _Refused:
                # One of the batch's events was refused, and the batch rolled back: it is applied again,
                # each event in a savepoint, so the refused one leaves nothing behind and the others stay.
                importer.forget_batch()
                done, stopped = run.apply(done, careful=True)
            if stopped:
                break
        # The occurrences of one series share their reason: one line, with how many.
        report.rejected += [text if n == 1 else f"{text} ({n} occurrences)" for text, n in refused.items()]
        if stopped:
            break
    if progress:
        progress(done, done)
    return report


class _Refused(Exception):
    """An event of a batch applied without a savepoint an event was refused: the batch rolls back."""


@dataclass
class _Batch:
    """One batch of a source's events, applied in one savepoint (or one transaction, committing as it goes).
    Most files have no event to refuse, so a batch is first applied without a savepoint an event (two
    statements each); ``careful`` gives each event its own."""

    facts: list[EventFact]
    first: int  # the place of the batch's first event among the source's
    total: int  # the source's events
    ahead: int  # events of sources not yet read
    where: str
    report: CalendarImport
    importer: _Importer
    refused: dict[str, int]
    budget: Budget
    progress: Callable[[int, int], None] | None

    def apply(self, done: int, *, careful: bool) -> tuple[int, bool]:
        """Returns the events done so far (``done`` before) and whether the import was stopped."""
        events_before, stopped = len(self.report.events), False
        try:
            with transaction.atomic():
                self.importer.read_ahead(self.facts)
                # The leads read ahead are locked, and nothing writes them until the batch's end (their
                # re-evaluations wait): the services change them without reading them again. Not when an
                # event may roll back alone (what it did to a lead in memory would stay).
                with nullcontext() if careful else lead_services.leads_held(self.importer.held):
                    for number, fact in enumerate(self.facts, start=self.first):
                        if self.budget.expired():
                            self.report.rejected.append(f"{self.where}: the import took longer than its time "
                                                        f"limit; {self.total - number} event(s) were not applied")
                            stopped = True
                            break
                        self._one(fact, careful)
                        done += 1
                        if self.progress and done % 50 == 0:
                            self.progress(done, self.total - number - 1 + done + self.ahead)
                    self.importer.flush()
        except _Refused:
            del self.report.events[events_before:]
            raise
        return done, stopped

    def _one(self, fact: EventFact, careful: bool) -> None:
        if not careful:
            try:
                self.report.events.append(self.importer.apply(fact))
            except RebookError:
                raise _Refused from None
            return
        # What earlier events left to insert goes in first, outside this event's savepoint: were it inserted
        # inside, this event's refusal would take the earlier ones' meetings with it.
        self.importer.flush()
        try:
            with transaction.atomic():
                self.report.events.append(self.importer.apply(fact))
        except RebookError as e:
            self.importer.forget_failed()
            self.refused[f"{fact.where}: {e}"] = self.refused.get(f"{fact.where}: {e}", 0) + 1


def _version(sequence: int, stamp: datetime | None) -> tuple[int, datetime]:
    return sequence, stamp or EPOCH


def _when(fact: EventFact, now: datetime) -> datetime:
    return min(fact.stamp or now, now)


def _details(fact: EventFact, who: Cast) -> dict:
    """Which version of which event a meeting reflects, and what else it says."""
    return {"ical_uid": fact.uid, "recurrence_id": fact.recurrence_id, "ical_sequence": fact.sequence,
            "ical_stamp": fact.stamp, "all_day": fact.all_day, "title": fact.summary[:300],
            "participants": [{"name": p.name, "email": p.email} for p in who.participants]}


def _booked_data(a: Appointment) -> dict:
    """``appointment.booked`` for a meeting inserted with its batch, as it was booked (recorded cancelled or
    moved later in the batch, it is no longer scheduled)."""
    data = lead_services.event_data(a.lead, appointment=a)
    data["appointment"]["status"] = Appointment.Status.SCHEDULED
    return data


def _moved_data(moved: Appointment, c: Cancellation, old: Appointment) -> dict:
    return lead_services.event_data(moved.lead, appointment=moved, cancellation=c) | {"previous_appointment_id": old.pk}


def _party(who: Cast) -> str:
    return Party.SELLER if who.seller_organizes else Party.PROSPECT


def _reason(fact: EventFact, declined: bool) -> str:
    if fact.comment:
        return fact.comment
    return "declined the invitation" if declined else ""


class _Importer:
    """Applies one seller's events, a batch at a time (see the module's docstring)."""

    def __init__(self, seller: Seller, now: datetime, *, sender: str | None = None,
                 channel: str = Channel.SELLER) -> None:
        self.seller, self.now = seller, now
        self.sender, self.channel = (sender or "").lower() or None, channel
        self.mine = seller_addresses(seller)
        self.meetings: dict[tuple[str, datetime | None], Appointment] = {}  # the newest by (UID, RECURRENCE-ID)
        self.read_uids: set[str] = set()  # UIDs whose meetings are all in self.meetings
        self.leads: dict[str, Lead] = {}  # by lower-case address
        self.held: dict[int, Lead] = {}  # the leads this batch locked or made, by id: see leads_held
        self.pending: list[tuple[Appointment, Outcome]] = []  # new meetings, inserted by flush()
        self.cancellations: list[Cancellation] = []  # of the new meetings recorded as cancelled, inserted after them
        # Meetings moved: (the new meeting, the cancellation, the old meeting, the outcome), written by flush()
        self.moves: list[tuple[Appointment, Cancellation, Appointment, Outcome]] = []
        self.new_leads: list[Lead] = []  # the leads of new meetings' prospects Rebook did not know, inserted first
        self.pending_uids: set[str] = set()
        self.made: list[str] = []  # addresses whose lead the current event created
        self.casts: dict[int, tuple[EventFact, Cast]] = {}  # by id: the batch's facts, and who is who in each
        # New meetings are copies of this one (Model.__init__ sets 25 fields a meeting).
        self.blank = Appointment(seller=seller, timezone=seller.timezone, channel=channel, created_at=now)

    # -- what a batch refers to, read in two queries

    def read_ahead(self, facts: list[EventFact]) -> None:
        uids = {f.uid for f in facts if not f.uid.endswith("@rebook")}
        self.meetings, self.read_uids, self.leads, self.held = {}, uids, {}, {}
        self.casts = {id(f): (f, cast(f, self.mine)) for f in facts}  # who is who, for apply() too
        emails = {who.prospect.email for _, who in self.casts.values() if who.prospect is not None}
        # Locked in id order, as a booking locks its lead; the first lead with the address, as _lead finds it.
        # Their seller is this one (its row, read with each lead, was the most of the read).
        locked = (Lead.objects.select_for_update(of=("self",)).filter(seller=self.seller)
                  .annotate(address=Lower("email")).filter(address__in=emails).order_by("id"))
        for lead in instances(locked, [*LEAD_COLUMNS, "address"]):
            lead._state.fields_cache["seller"] = self.seller
            self.leads.setdefault(lead.address, lead)
            self.held[lead.pk] = lead
        # Read after their leads are locked: as they are until the batch changes them (see leads_held). By
        # UID alone, which its index finds (with the seller too, SQLite walks all the seller's meetings).
        for a in instances(Appointment.objects.filter(ical_uid__in=uids).order_by("id")):
            if a.seller_id != self.seller.pk:
                continue
            if a.lead_id in self.held:
                a._state.fields_cache["lead"] = self.held[a.lead_id]
            self.meetings[(a.ical_uid, a.recurrence_id)] = a

    def flush(self) -> None:
        """Insert the batch's new leads and new meetings, and queue their webhook events."""
        if self.new_leads:
            lead_services.leads_insert(self.new_leads)
            for lead in self.new_leads:
                lead_services.lead_reevaluate(lead=lead, now=self.now)  # inside the batch: once, at its end
                self.held[lead.pk] = lead  # made in this transaction: nobody else sees it
            self.new_leads = []
        if not self.pending and not self.moves:
            return
        made = [*self.pending, *((moved, outcome) for moved, _, _, outcome in self.moves)]
        # The old meetings already in the database are marked moved; one this batch made goes in so.
        moved_from = [old for _, _, old, _ in self.moves if old.pk is not None]
        self._insert_meetings([a for a, _ in made])
        insert_new(Cancellation, [*self.cancellations, *(c for _, c, _, _ in self.moves)])
        update_rows(Appointment, moved_from, ["status", "updated_at"])
        for a, outcome in made:
            outcome.appointment_id, outcome.lead_id = a.pk, a.lead_id
        # Their data made only for an event an endpoint wants (see emit_many).
        events = [("appointment.booked", functools.partial(_booked_data, a)) for a, _ in self.pending]
        events += [("appointment.cancelled", functools.partial(lead_services.event_data, c.lead, appointment=c.appointment,
                                                               cancellation=c)) for c in self.cancellations]
        events += [("appointment.rescheduled", functools.partial(_moved_data, moved, c, old))
                   for moved, c, old, _ in self.moves]
        emit_many(seller_id=self.seller.pk, now=self.now, events=events)
        self.pending, self.pending_uids, self.cancellations, self.moves = [], set(), [], []

    def _insert_meetings(self, meetings: list[Appointment]) -> None:
        """One insert, or, when the batch moved a meeting it made itself, one more for each move of a move:
        a moved meeting refers to the one it replaces, which needs its id first."""
        replaces = {id(moved): old for moved, _, old, _ in self.moves}
        while meetings:
            ready = []
            for a in meetings:
                old = replaces.get(id(a))
                if old is not None and old.pk is not None:
                    a.rescheduled_from_id = old.pk
                if old is None or old.pk is not None:
                    ready.append(a)
            insert_new(Appointment, ready)
            meetings = [a for a in meetings if a.pk is None]

    def _saved(self, meeting: Appointment | None) -> None:
        """A meeting an earlier event of the batch made and a service is about to change (or a report to
        name) is inserted first, with everything else the batch made."""
        if meeting is not None and meeting.pk is None:
            self.flush()

    def _before_offer(self, at: datetime) -> None:
        """A cancellation recent enough to offer new times reads the seller's free times from the database:
        what the batch made before it goes in first, as the services would have left it."""
        if not past_follow_up(at, self.now):
            self.flush()

    def forget_batch(self) -> None:
        """The batch rolled back: what it inserted and created is gone (read_ahead reads the rest again)."""
        self.pending, self.pending_uids, self.made, self.new_leads, self.cancellations = [], set(), [], [], []
        self.moves = []

    def forget_failed(self) -> None:
        """The event's savepoint was rolled back: a lead it created is gone."""
        for address in self.made:
            lead = self.leads.pop(address, None)
            if lead is not None and lead.pk is None:
                self.new_leads.remove(lead)
            elif lead is not None:
                self.held.pop(lead.pk, None)
        self.made = []

    def _touched(self, *uids: str) -> None:
        """Meetings of these UIDs changed: read them from the database next time."""
        for uid in uids:
            self.read_uids.discard(uid)

    # -- one event

    def apply(self, fact: EventFact) -> Outcome:
        self.made = []
        known = self.casts.get(id(fact))
        who = known[1] if known is not None and known[0] is fact else cast(fact, self.mine)
        if who.prospect is None:
            raise RebookError("nobody to attach it to: it names no organizer and no attendee other than you")
        if self.sender is not None:
            self._check_sender(fact, who)
        note = f" ({who.note})" if who.note else ""
        if fact.whole_series:
            if fact.uid in self.pending_uids:  # the series reads its meetings: the batch's go in first
                self.flush()
            return self._cancel_series(fact, who, note)
        # A meeting an earlier event of this batch made or moved is found not yet inserted: a later move of
        # it goes in with the batch too; anything else inserts it first (_saved).
        existing = self._find(fact)
        if existing is not None and existing.ical_uid == fact.uid:
            if _version(fact.sequence, fact.stamp) < _version(existing.ical_sequence, existing.ical_stamp):
                self._saved(existing)
                return Outcome(fact.where, "stale", (
                    f"ignored: an older version (SEQUENCE {fact.sequence}) than the one already imported "
                    f"(SEQUENCE {existing.ical_sequence})"), existing.pk, existing.lead_id)
        declined = who.prospect.partstat == DECLINED and fact.method != CANCEL
        if fact.method == REPLY and not declined:
            self._saved(existing)
            return Outcome(fact.where, "unchanged", f"{who.prospect.email} answered {who.prospect.partstat or 'without a status'}",
                           existing.pk if existing else None, existing.lead_id if existing else None)
        if fact.cancelled or declined:
            return self._cancel(fact, who, existing, declined, note)
        return self._book_or_move(fact, who, existing, note)

    def _check_sender(self, fact: EventFact, who: Cast) -> None:
        """A calendar mail speaks only for its sender: the attendee who replies, or the organizer of the event;
        and it changes a meeting Rebook has only if the sender is that meeting's lead, or the seller."""
        speaker = who.prospect.email if fact.method == REPLY else (fact.organizer.email if fact.organizer else "")
        if speaker != self.sender:
            raise RebookError(f"sent by {self.sender}, but it speaks for {speaker or 'nobody'}: ignored")
        existing = self._find(fact)
        if existing is not None and self.sender not in self.mine and self.sender != existing.lead.email.lower():
            raise RebookError(f"{self.sender} may not change {existing.lead.name}'s meeting: ignored")

    def _find(self, fact: EventFact) -> Appointment | None:
        if fact.uid in self.read_uids:  # read ahead with the batch (no UID of Rebook's own is)
            return self.meetings.get((fact.uid, fact.recurrence_id))
        mine = Appointment.objects.filter(seller=self.seller).select_related("lead__seller")
        if fact.uid.endswith("@rebook"):
            # An answer to an invitation Rebook sent: the UID is the appointment chain.
            try:
                chain = uuid.UUID(fact.uid.removesuffix("@rebook"))
            except ValueError:
                chain = None
            if chain is not None:
                return mine.filter(chain=chain).order_by("-id").first()
        return mine.filter(ical_uid=fact.uid, recurrence_id=fact.recurrence_id).order_by("-id").first()

    def _lead(self, who: Cast, *, saved: bool = True) -> Lead:
        """The prospect's lead, made if Rebook does not know them: at once, or (``saved=False``, for a meeting
        inserted by flush()) with the batch's other new leads."""
        person = who.prospect
        lead = self.leads.get(person.email)
        if lead is None and not person.email.isascii():  # the databases lower-case only ASCII alike
            lead = Lead.objects.filter(seller=self.seller, email__iexact=person.email).order_by("id").first()
        if lead is not None:
            if lead.pk is None and saved:  # made by an earlier event of this batch: insert it now
                self.flush()
            return lead
        name = person.name or person.email.split("@")[0]
        if saved:
            lead = lead_services.lead_create(seller=self.seller, name=name, email=person.email, source="calendar import")
            self.held[lead.pk] = lead  # made in this transaction: nobody else sees it
        else:
            lead = lead_services.lead_new(seller=self.seller, name=name, email=person.email, source="calendar import")
            self.new_leads.append(lead)
        self.leads[person.email] = lead
        self.made.append(person.email)
        return lead

    def _cancel(self, fact, who, existing, declined, note) -> Outcome:
        now = self.now
        by = Party.PROSPECT if declined else _party(who)
        self._saved(existing)
        if existing is not None and existing.status == Appointment.Status.SCHEDULED:
            self._before_offer(_when(fact, now))
            c = lead_services.appointment_cancel(
                appointment=existing, by=by, reason=_reason(fact, declined), at=_when(fact, now), now=now,
                channel=self.channel,
            )
            self._remember(existing, fact, who)
            verb = "declined" if declined else "cancelled"
            return Outcome(fact.where, "cancelled", f"{verb} by the {by}{note}; {c.get_category_display()}, "
                           f"{'valid' if c.valid else 'not valid'}", existing.pk, existing.lead_id)
        if existing is not None:
            self._remember(existing, fact, who)
            return Outcome(fact.where, "unchanged", f"already {existing.status}", existing.pk, existing.lead_id)
        if fact.start is None:
            raise RebookError("cancels a meeting Rebook has never seen, and gives no start time to record it by")
        # Recorded as booking it and then cancelling it would leave it (appointment_book, appointment_cancel),
        # and inserted with the batch's other new meetings by flush(), its cancellation after it.
        at = check_instant(_when(fact, now), "at")
        self._before_offer(at)
        appointment = self._new_meeting(fact, who, status=Appointment.Status.CANCELLED)
        cancellation = lead_services.cancellation_new(appointment, by=by, kind=Cancellation.Kind.CANCEL, at=at,
                                                      reason=_reason(fact, declined), valid=None, now=now,
                                                      channel=self.channel)
        check_lengths(Cancellation, cancellation)
        self.cancellations.append(cancellation)
        return self._queue(appointment, fact, Outcome(
            fact.where, "recorded_cancelled", f"Rebook had not seen this meeting; recorded it as cancelled by the "
            f"{by}{note}", None, appointment.lead.pk))

    def _cancel_series(self, fact, who, note) -> Outcome:
        now = self.now
        ahead = Appointment.objects.filter(seller=self.seller, ical_uid=fact.uid, status=Appointment.Status.SCHEDULED)
        ahead = list(ahead.filter(start__gt=_when(fact, now)))  # the ones still ahead when it was cancelled
        if not ahead:
            raise RebookError("cancels a whole series Rebook has no meetings of, and gives no start time")
        for appointment in ahead:
            lead_services.appointment_cancel(appointment=appointment, by=_party(who), reason=_reason(fact, False),
                                             at=_when(fact, now), now=now, channel=self.channel)
            self._remember(appointment, fact, who)
        return Outcome(fact.where, "cancelled", f"the whole series: {len(ahead)} meeting(s) ahead cancelled by the "
                       f"{_party(who)}{note}", ahead[0].pk, ahead[0].lead_id)

    def _book_or_move(self, fact, who, existing, note) -> Outcome:
        now = self.now
        if fact.start is None:
            raise RebookError("has no start time (DTSTART)")
        if existing is not None and existing.status == Appointment.Status.SCHEDULED:
            if existing.start != fact.start and self._movable(existing):
                return self._move(fact, who, existing, note)
            self._saved(existing)
            if existing.start != fact.start:
                self._before_offer(_when(fact, now))
                _, moved = lead_services.appointment_reschedule(
                    appointment=existing, to=fact.start, by=_party(who), reason=fact.comment, at=_when(fact, now),
                    now=now, channel=self.channel, details={**_details(fact, who), "location": fact.location or existing.location},
                )
                if moved is None:
                    self._remember(existing, fact, who)
                    return Outcome(fact.where, "rescheduled", "moved by the prospect, which reached the strike limit: the "
                                   "lead is on the nurture list and the new time is not booked", existing.pk, existing.lead_id)
                self._remember(moved, fact, who, also={"end": fact.end, "location": fact.location or existing.location})
                return Outcome(fact.where, "rescheduled", f"moved by the {_party(who)} to {fact.start:%Y-%m-%d %H:%M} UTC{note}",
                               moved.pk, moved.lead_id)
            changed = (existing.end, existing.location, existing.title) != (fact.end, fact.location, fact.summary)
            self._remember(existing, fact, who, also={"end": fact.end, "location": fact.location})
            return Outcome(fact.where, "updated" if changed else "unchanged",
                           "details updated" if changed else "already up to date", existing.pk, existing.lead_id)
        appointment = self._new_meeting(fact, who)
        lead, again = appointment.lead, " again" if existing is not None else ""
        return self._queue(appointment, fact, Outcome(fact.where, "booked", f"booked{again} with {lead.name}{note}",
                                                      None, lead.pk))

    def _new_meeting(self, fact: EventFact, who: Cast, **fields) -> Appointment:
        """A new meeting as appointment_book books it, checked as it checks it and as saving it would (a
        LOCATION of 400 characters), with the event's details: not yet inserted (see _queue)."""
        check_meeting(fact.start, fact.end)
        lead = self._lead(who, saved=False)
        lead_services.check_bookable(lead)
        appointment = new_like(self.blank, start=fact.start, end=fact.end, location=fact.location.strip(),
                               booked_by=_party(who), booked_at=min(_when(fact, self.now), fact.start),
                               chain=uuid.uuid4(), **_details(fact, who), **fields)
        appointment.lead = lead
        check_lengths(Appointment, appointment)
        return appointment

    def _queue(self, appointment: Appointment, fact: EventFact, outcome: Outcome) -> Outcome:
        """Inserted with the batch's other new meetings by flush(); its lead re-evaluated at the batch's end
        (a new lead once it is inserted)."""
        self.pending.append((appointment, outcome))
        self.pending_uids.add(fact.uid)
        self.meetings[(appointment.ical_uid, appointment.recurrence_id)] = appointment  # see apply()
        if appointment.lead.pk is not None:
            lead_services.lead_reevaluate(lead=appointment.lead, now=self.now)
        return outcome

    def _movable(self, existing: Appointment) -> bool:
        """Whether a move of this meeting can go in with the batch (``_move``): its lead is locked by this batch
        (so the meeting, read after, is as it is in the database) or made by it, and not on the nurture list
        (where the services cancel the meeting instead of moving it)."""
        lead = self._lead_of(existing)
        return lead is not None and lead.status != Lead.Status.NURTURE

    def _lead_of(self, meeting: Appointment) -> Lead | None:
        """The lead of a meeting in the database if this batch locked it; of one it made, the one it was made
        for (locked, or made too)."""
        return self.held.get(meeting.lead_id) if meeting.pk is not None else meeting.lead

    def _move(self, fact, who, existing, note) -> Outcome:
        """Moved as appointment_reschedule moves it (the old meeting "rescheduled", a cancellation of the kind
        reschedule, a new meeting in the same chain), inserted with the batch by flush()."""
        now, by = self.now, _party(who)
        length = existing.end - existing.start
        check_meeting(fact.start, fact.start + length)
        at = check_instant(_when(fact, now), "at")
        self._before_offer(at)
        lead = self._lead_of(existing)
        cancellation = lead_services.cancellation_new(existing, by=by, kind=Cancellation.Kind.RESCHEDULE, at=at,
                                                      reason=fact.comment, valid=None, now=now,
                                                      channel=self.channel)
        # The end as the event says, as _remember sets it after the services move a meeting.
        moved = new_like(self.blank, start=fact.start, end=fact.end or fact.start + length, timezone=existing.timezone,
                         location=fact.location or existing.location, booked_by=by, booked_at=at,
                         chain=existing.chain, **_details(fact, who))  # rescheduled_from: see _insert_meetings
        moved.lead = lead
        check_meeting(moved.start, moved.end)
        check_lengths(Appointment, moved)
        check_lengths(Cancellation, cancellation)
        existing.status, existing.updated_at = Appointment.Status.RESCHEDULED, timezone.now()
        outcome = Outcome(fact.where, "rescheduled", f"moved by the {by} to {fact.start:%Y-%m-%d %H:%M} UTC{note}",
                          None, lead.pk)
        self.moves.append((moved, cancellation, existing, outcome))
        self.pending_uids.add(fact.uid)
        self.meetings[(moved.ical_uid, moved.recurrence_id)] = moved
        if lead.pk is not None:  # a new lead is re-evaluated once inserted (flush)
            lead_services.lead_reevaluate(lead=lead, now=now)  # inside the batch: once, at its end
        return outcome

    def _remember(self, appointment: Appointment, fact: EventFact, who: Cast, *, also: dict | None = None) -> None:
        """Keep which version of which event this appointment reflects (and ``also`` these fields' new
        values), saving only what changed."""
        before = appointment.ical_uid
        values = {**(also or {}), **_details(fact, who)}
        changed = [k for k, v in values.items() if getattr(appointment, k) != v]
        for k in changed:
            setattr(appointment, k, values[k])
        self._touched(before, fact.uid)
        if changed:
            appointment.save(update_fields=[*changed, "updated_at"])
