"""Reads: a lead's history as strategy facts, and the views of it the commands and pages show."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import connection
from django.db.models import QuerySet

from rebook.errors import Conflict, RebookError
from rebook.leads.models import Activity, Appointment, Cancellation, ChecklistItem, Lead
from rebook.outbox.models import PlannedMessage
from rebook.reads import instances, moment
from rebook.sellers.models import Seller
from rebook.strategy import checklist as checklist_rules
from rebook.strategy import history as h
from rebook.strategy.checklist import ChecklistFacts, Step
from rebook.strategy.followups import CONFIRMATION, CONNECTING_MOMENT, NURTURE_CHECKIN, RESCHEDULE_OFFER, rebooking_of
from rebook.strategy.freed import CHECKIN_AHEAD, MAX_SUGGESTIONS, OVERDUE_AFTER, Candidate, Suggestion, freed_time
from rebook.strategy.hours import open_slots, suggest_slots
from rebook.strategy.interest import InterestBalance, interest_balance
from rebook.strategy.limits import MAX_MEETING
from rebook.strategy.pipeline import PipelineFacts, PipelineHealth, pipeline_health
from rebook.strategy.reasons import UNKNOWN
from rebook.strategy.strikes import StrikeDecision, decide_strikes


def lead_get(*, seller: Seller, lead_id: int) -> Lead:
    lead = Lead.objects.filter(seller=seller, pk=lead_id).first()
    if lead is None:
        raise RebookError(f"no lead with id {lead_id}")
    lead.seller = seller  # the lead's seller, as the query says: not read again
    return lead


def appointment_get(*, seller: Seller, appointment_id: int) -> Appointment:
    appt = (
        Appointment.objects.select_related("lead__seller__user")
        .filter(seller=seller, pk=appointment_id)
        .first()
    )
    if appt is None:
        raise RebookError(f"no appointment with id {appointment_id}")
    return appt


def cancellation_get(*, seller: Seller, cancellation_id: int) -> Cancellation:
    c = (
        Cancellation.objects.select_related("appointment", "lead__seller__user")
        .filter(seller=seller, pk=cancellation_id)
        .first()
    )
    if c is None:
        raise RebookError(f"no cancellation with id {cancellation_id}")
    return c


def lead_list(*, seller: Seller, status: str | None = None) -> QuerySet[Lead]:
    leads = Lead.objects.filter(seller=seller)
    if status:
        if status not in Lead.Status.values:
            raise RebookError(f"status: unknown lead status {status!r}; use one of {', '.join(Lead.Status.values)}")
        leads = leads.filter(status=status)
    return leads.order_by("id")


def appointment_list(*, seller: Seller, lead_id: int | None = None, status: str | None = None) -> QuerySet[Appointment]:
    appts = Appointment.objects.filter(seller=seller).select_related("lead")
    if lead_id is not None:
        appts = appts.filter(lead_id=lead_id)
    if status:
        if status not in Appointment.Status.values:
            raise RebookError(
                f"--status: unknown appointment status {status!r}; use one of {', '.join(Appointment.Status.values)}"
            )
        appts = appts.filter(status=status)
    return appts.order_by("start", "id")


@dataclass(frozen=True)
class LoadedHistory:
    facts: h.LeadHistory
    appointments: list[Appointment]
    cancellations: list[Cancellation]
    activities: list[Activity]
    sent_keys: frozenset[str] = frozenset()  # keys of the lead's messages that went out


def lead_history(lead: Lead, *, messages: list[PlannedMessage] | None = None) -> LoadedHistory:
    """``messages``: all the lead's messages, read by the caller (one query fewer)."""
    if messages is None:
        return lead_histories([lead])[lead.pk]
    rows = [(m.key, m.kind, m.status, m.sent_at) for m in messages]
    return lead_histories([lead], messages={lead.pk: rows})[lead.pk]


# What a lead's history says of each of its meetings (see loaded_history): all a re-evaluation reads of them.
HISTORY_FIELDS = ("id", "lead_id", "start", "end", "status", "booked_at", "booked_by", "rescheduled_from_id", "risk")


def lead_histories(leads: list[Lead], *, messages: dict[int, list] | None = None,
                   appointment_fields: Sequence[str] | None = None) -> dict[int, LoadedHistory]:
    """The histories of several leads in four queries, whatever their number: by lead id. ``messages``: the
    leads' sent messages (and maybe others) as (key, kind, status, sent_at) by lead id, read by the caller
    (then three queries). ``appointment_fields``: the meetings' columns to read (all by default; the others
    load on access, a query each), for a caller that reads no more of them than the history does."""
    ids = [lead.pk for lead in leads]
    where = {"lead_id__in": ids}
    appointments: dict[int, list[Appointment]] = {pk: [] for pk in ids}
    for a in instances(Appointment.objects.filter(**where).order_by("start", "id"), appointment_fields):
        appointments[a.lead_id].append(a)
    cancellations: dict[int, list[Cancellation]] = {pk: [] for pk in ids}
    for c in instances(Cancellation.objects.filter(**where).order_by("at", "id")):
        cancellations[c.lead_id].append(c)
    activities: dict[int, list[Activity]] = {pk: [] for pk in ids}
    for x in instances(Activity.objects.filter(**where).order_by("at", "id")):
        activities[x.lead_id].append(x)
    checkins: dict[int, list[datetime]] = {pk: [] for pk in ids}
    sent: dict[int, set[str]] = {pk: set() for pk in ids}
    # One query for what was sent: the check-ins' times (the rules plan the next from them) and every key
    # (the checklist counts them as done by Rebook).
    SENT = PlannedMessage.Status.SENT
    rows = (((lead_id, key, kind, sent_at) for lead_id, rows in messages.items()
             for key, kind, status, sent_at in rows if status == SENT)
            if messages is not None else
            PlannedMessage.objects.filter(**where, status=SENT).values_list("lead_id", "key", "kind", "sent_at"))
    for lead_id, key, kind, sent_at in rows:
        sent[lead_id].add(key)
        if kind == NURTURE_CHECKIN and sent_at is not None:
            checkins[lead_id].append(sent_at)
    return {
        lead.pk: loaded_history(lead, appointments[lead.pk], cancellations[lead.pk], activities[lead.pk],
                                checkins[lead.pk], frozenset(sent[lead.pk]))
        for lead in leads
    }


def loaded_history(lead: Lead, appointments, cancellations, activities, checkins,
                   sent_keys: frozenset[str] = frozenset()) -> LoadedHistory:
    """A lead's history from its rows: appointments by start, cancellations and activities by time
    (as the queries above order them), and the times its check-ins were sent."""
    by_id = {a.pk: a for a in appointments}
    for c in cancellations:
        c.appointment = by_id[c.appointment_id]  # spare a query per cancellation
        c.lead = lead
    facts = h.LeadHistory(
        lead_id=lead.pk,
        appointments=tuple(
            h.Appointment(a.pk, a.start, a.end, a.status, a.booked_at, a.booked_by, a.rescheduled_from_id, a.risk)
            for a in appointments
        ),
        cancellations=tuple(
            h.Cancellation(c.pk, c.appointment_id, c.by, c.kind, c.at, by_id[c.appointment_id].start, c.category, c.valid)
            for c in cancellations
        ),
        contacts=tuple(h.Contact(a.at, a.direction) for a in activities),
        not_interested_at=lead.not_interested_at,
        reactivated_at=lead.reactivated_at,
        checkins_sent=tuple(checkins),
    )
    return LoadedHistory(facts, appointments, cancellations, activities, sent_keys)


def checklist_facts(
    c: Cancellation, loaded: LoadedHistory, decision: StrikeDecision, sent_keys: frozenset[str], ticked: frozenset[str]
) -> ChecklistFacts:
    fact = next(x for x in loaded.facts.cancellations if x.id == c.pk)
    rebooked = rebooking_of(fact, loaded.facts)
    return ChecklistFacts(
        reason_judged=c.category != UNKNOWN or c.valid_override is not None,
        rebooked=rebooked is not None,
        offer_sent=f"{RESCHEDULE_OFFER}:c{c.pk}" in sent_keys,
        info_sent=f"{CONNECTING_MOMENT}:c{c.pk}" in sent_keys,
        confirmation_sent=rebooked is not None and f"{CONFIRMATION}:a{rebooked.id}" in sent_keys,
        slot_freed=c.kind != Cancellation.Kind.NO_SHOW and c.at < fact.start,
        reached_limit=decision.nurture_trigger == f"c{c.pk}",
        in_nurture=decision.in_nurture,
        ticked=ticked,
    )


def cancellation_checklist(
    c: Cancellation, loaded: LoadedHistory | None = None
) -> list[tuple[Step, ChecklistItem | None]]:
    """The checklist of one prospect cancellation, each step with its stored item (who ticked it, when)."""
    if c.by != h.PROSPECT:
        raise RebookError(
            f"appointment {c.appointment_id} was cancelled by you, the seller; the checklist is for prospect cancellations"
        )
    return _checklists([c], {c.lead_id: loaded or lead_history(c.lead)})[c.pk]


def lead_checklists(lead: Lead, loaded: LoadedHistory, only: list[Cancellation] | None = None,
                    ) -> dict[int, list[tuple[Step, ChecklistItem | None]]]:
    """The checklist of each of the lead's prospect cancellations (or of ``only`` those), by cancellation
    id, in one query."""
    prospect = [c for c in (loaded.cancellations if only is None else only) if c.by == h.PROSPECT]
    return _checklists(prospect, {lead.pk: loaded})


def cancellations_checklists(cancellations: list[Cancellation]) -> dict[int, list[tuple[Step, ChecklistItem | None]]]:
    """The checklists of prospect cancellations of any leads (e.g. the Today page's), in five queries."""
    prospect = [c for c in cancellations if c.by == h.PROSPECT]
    leads = list({c.lead_id: c.lead for c in prospect}.values())
    return _checklists(prospect, lead_histories(leads)) if leads else {}


def _checklists(prospect: list[Cancellation], loaded: dict[int, LoadedHistory]):
    if not prospect:
        return {}
    items: dict[int, dict[str, ChecklistItem]] = {c.pk: {} for c in prospect}
    for item in ChecklistItem.objects.filter(cancellation_id__in=[c.pk for c in prospect]):
        items[item.cancellation_id][item.step] = item
    policies = {c.lead_id: c.lead.seller.policy for c in prospect}
    decisions = {pk: decide_strikes(loaded[pk].facts, policy) for pk, policy in policies.items()}
    return {
        c.pk: _checklist_steps(c, loaded[c.lead_id], decisions[c.lead_id], loaded[c.lead_id].sent_keys, items[c.pk])
        for c in prospect
    }


def _checklist_steps(c, loaded, decision, sent: set[str], items: dict) -> list[tuple[Step, ChecklistItem | None]]:
    ticked = frozenset(step for step, i in items.items() if i.done_by == checklist_rules.SELLER and i.done_at)
    steps = checklist_rules.checklist(checklist_facts(c, loaded, decision, sent, ticked))
    return [(s, items.get(s.key)) for s in steps]


def lead_interest(lead: Lead, loaded: LoadedHistory | None = None) -> InterestBalance:
    loaded = loaded or lead_history(lead)
    return interest_balance(loaded.facts, lead.seller.policy)


def pipeline(*, seller: Seller, now: datetime, forecast=None, stamp: tuple | None = None,
             fortnight: list[Appointment] | None = None) -> PipelineHealth:
    """The pipeline's health. ``forecast`` (appointments -> {id: risk}) gives each meeting's own chance of
    being held instead of the flat cancellation rate, for the next 14 days; ``fortnight``, the caller's
    read of the scheduled meetings of the next 14 days (or more), spares reading them again."""
    appts = Appointment.objects.filter(seller=seller)
    scheduled = appts.filter(status=Appointment.Status.SCHEDULED, start__gte=now)
    held_chances = None
    if forecast is not None:
        if fortnight is not None:
            soon = sorted((a for a in fortnight if a.status == Appointment.Status.SCHEDULED
                           and now <= a.start < now + timedelta(days=14)), key=lambda a: (a.start, a.pk))
        else:
            soon = list(scheduled.filter(start__lt=now + timedelta(days=14)).select_related("lead")
                        .order_by("start", "id"))
        found = forecast(soon)
        if found:
            upcoming = tuple(a.start for a in soon)
            held_chances = tuple(1 - found[a.pk] if a.pk in found else 1.0 for a in soon)
    if held_chances is None:
        upcoming = tuple(scheduled.values_list("start", flat=True))
    total, past, prospect_cancellations, booked = _history_counts(seller, appts, stamp)
    facts = PipelineFacts(upcoming, past, prospect_cancellations, total, booked, held_chances)
    return pipeline_health(facts, seller.policy, now)


# seller id -> (the stamp they were counted at, the counts): the pipeline's counts over the whole history,
# kept by this process while nothing has changed.
_COUNTS: dict[int, tuple[tuple, tuple[int, int, int]]] = {}


def _history_counts(seller: Seller, appts, stamp: tuple | None = None) -> tuple[int, int, int, int]:
    """(leads, settled meetings, prospect cancellations, leads ever booked). Counting the whole history
    takes a seller with 20,000 meetings about 12 ms; it changes only when a lead does (every change to a
    meeting or a cancellation re-evaluates its lead, which sets ``updated_at``), so it is counted again
    only when the stamp (the number of leads, the latest change to a lead and to a meeting, read from the
    (seller, updated_at) indexes in one query) moves."""
    key = stamp or change_stamp(seller)  # the caller's, when it read one for this request
    total = key[0]
    cached = _COUNTS.get(seller.pk)
    if cached is not None and cached[0] == key:
        return (total, *cached[1])
    # Held and no-show are only possible once the start has passed, so every non-scheduled row is settled.
    past = appts.exclude(status=Appointment.Status.SCHEDULED).count()
    prospect_cancellations = Cancellation.objects.filter(seller=seller, by=h.PROSPECT).count()
    booked = appts.values("lead_id").distinct().count()  # from the seller's own index, not a join over every lead
    _COUNTS[seller.pk] = (key, (past, prospect_cancellations, booked))
    return total, past, prospect_cancellations, booked


def change_stamp(seller: Seller, *more: tuple[str, list]) -> tuple:
    """What changes whenever the seller's leads or meetings do, in one statement of scalar subqueries read
    from the (seller, updated_at) indexes: the number of leads, the latest change to a lead, the latest
    change to a meeting, then the values of ``more`` ((SQL, params) of further scalar subqueries). Values
    as the database returns them (text on SQLite), to compare, not to compute with."""
    leads, appointments = Lead._meta.db_table, Appointment._meta.db_table
    parts = [(f"SELECT COUNT(*) FROM {leads} WHERE seller_id = %s", [seller.pk]),
             (f"SELECT MAX(updated_at) FROM {leads} WHERE seller_id = %s", [seller.pk]),
             (f"SELECT MAX(updated_at) FROM {appointments} WHERE seller_id = %s", [seller.pk]), *more]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"({sql})" for sql, _ in parts), [p for _, params in parts for p in params])
        return tuple(cursor.fetchone())


def forget_counts() -> None:
    """Drop the pipeline counts this process keeps (for tests that change rows behind the services' back)."""
    _COUNTS.clear()


def freed(*, appointment: Appointment, now: datetime, candidates: list[Candidate] | None = None) -> list[Suggestion]:
    """What to do with the slot a cancelled future appointment left open. Pass ``candidates`` (from
    ``freed_candidates``) when asking for several slots of one seller."""
    if appointment.status not in (Appointment.Status.CANCELLED, Appointment.Status.RESCHEDULED):
        raise Conflict(
            f"appointment {appointment.pk} is {appointment.status}; freed time is for a cancelled or moved appointment"
        )
    if appointment.end <= now:
        raise RebookError(f"appointment {appointment.pk} was in the past; its time cannot be re-used any more")
    if candidates is None:
        candidates = freed_candidates(seller=appointment.lead.seller, now=now, until=appointment.end)
    return freed_time(candidates, appointment.end, now)


def freed_candidates(*, seller: Seller, now: datetime, until: datetime | None = None) -> list[Candidate]:
    """The leads worth a freed slot ending by ``until``, in one statement whatever the number of leads: the
    first few of each kind that ``freed_time`` ranks (it still decides the order), read off the touchpoints
    that ``lead_reevaluate`` keeps on each lead. Nine parts, each read in the order of an index and stopping
    after MAX_SUGGESTIONS rows: the overdue follow-ups, oldest open cancellation first (lead_open_cancellation);
    the leads to book, for each status with a last touch and without (lead_to_book: ordering every pursued
    lead by a CASE on its status read them all); the nurture check-ins coming due, for each pending status
    (the outbox's (seller, status, due)). Written as SQL: Django does not put a LIMIT inside a UNION on
    SQLite, and composing three ORM queries took Today longer than running them."""
    at = connection.ops.adapt_datetimefield_value
    leads, messages = Lead._meta.db_table, PlannedMessage._meta.db_table
    free = "(l.scheduled_until IS NULL OR l.scheduled_until <= %s)"  # nothing booked ahead
    # Every part: its kind, a row id to break ties, the lead, and one time (the cancellation, or the check-in).
    columns = "l.id, l.name, l.status, l.last_touch_at"
    parts: list[str] = []
    params: list = []

    def part(kind: str, rest: str, *values) -> None:
        row_id = "m.id" if kind == "checkin" else "l.id"
        parts.append(f"SELECT * FROM (SELECT '{kind}' AS kind, {row_id} AS row_id, {columns}, {rest} LIMIT %s) "
                     f"AS part{len(parts)}")
        params.extend([*values, MAX_SUGGESTIONS])

    statuses = ", ".join(["%s"] * len(TO_BOOK))
    part("follow", f"l.open_cancellation_at FROM {leads} l WHERE l.seller_id = %s AND l.status IN ({statuses}) "
         f"AND l.open_cancellation_at IS NOT NULL AND {free} AND l.last_touch_at <= %s "
         "ORDER BY l.open_cancellation_at, l.id", seller.pk, *TO_BOOK, at(now), at(now - OVERDUE_AFTER))
    # Apart, with a last touch and without: PostgreSQL puts NULL first in a DESC index, SQLite last; the
    # index's order serves both parts.
    for status in TO_BOOK:
        for touched in ("IS NOT NULL", "IS NULL"):
            part("book", f"l.open_cancellation_at FROM {leads} l WHERE l.seller_id = %s AND l.status = %s "
                 f"AND l.open_cancellation_at IS NULL AND {free} AND l.last_touch_at {touched} "
                 "ORDER BY l.last_touch_at DESC, l.id", seller.pk, status, at(now))
    for status in PlannedMessage.PENDING:
        part("checkin", f"m.due FROM {messages} m JOIN {leads} l ON l.id = m.lead_id WHERE m.seller_id = %s "
             "AND m.status = %s AND m.due <= %s AND m.kind = %s AND l.status = %s ORDER BY m.due, m.id",
             seller.pk, status, at((until or now) + CHECKIN_AHEAD), NURTURE_CHECKIN, Lead.Status.NURTURE)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = [_FreedRow(kind, row_id, lead_id, name, status, moment(touch), moment(when))
                for kind, row_id, lead_id, name, status, touch, when in cursor.fetchall()]
    follow = sorted((r for r in rows if r.kind == "follow"), key=lambda r: (r.when, r.row_id))
    book = sorted((r for r in rows if r.kind == "book"), key=lambda r: (
        TO_BOOK.index(r.status), r.touch is None, -r.touch.timestamp() if r.touch else 0, r.row_id))
    checkins = sorted((r for r in rows if r.kind == "checkin"), key=lambda r: (r.when, r.row_id))
    return [*(Candidate(r.lead_id, r.name, r.status, r.touch, open_cancellation_at=r.when) for r in follow),
            *(Candidate(r.lead_id, r.name, r.status, r.touch) for r in book[:MAX_SUGGESTIONS]),
            *(Candidate(r.lead_id, r.name, r.status, r.touch, next_checkin=r.when) for r in checkins[:MAX_SUGGESTIONS])]


class _FreedRow(NamedTuple):
    """A row of ``freed_candidates``' statement: ``when`` is the open cancellation, or the check-in's due time."""

    kind: str  # "follow", "book" or "checkin"
    row_id: int  # breaks ties: the lead's id, or the check-in message's
    lead_id: int
    name: str
    status: str
    touch: datetime | None
    when: datetime | None


# The leads to book, best first: qualified, then active, then new; within each status the latest in touch
# first, those never in touch last (then by id).
TO_BOOK = ("qualified", "active", "new")


def lead_next_steps(
    lead: Lead, loaded: LoadedHistory, messages: list, now: datetime, *, commands: bool = True
) -> list[str]:
    """Plain sentences: what the seller should do next for this lead (with the command to type, for the CLI)."""

    def hint(text: str) -> str:
        return text if commands else ""

    tz = lead.seller.tz
    starts = {a.pk: a.start for a in loaded.appointments}

    def meeting(appointment_id: int) -> str:  # "the meeting of Thu 5 Mar", as every page writes a day
        start = starts.get(appointment_id)
        return f"the meeting of {start.astimezone(tz):%a %-d %b}" if start else "the meeting"

    steps = []
    for c in loaded.cancellations:
        if c.needs_review:
            steps.append(
                f'Judge why they called off {meeting(c.appointment_id)} ("{c.reason}"): the reason was not recognised'
                + hint(f"; rebook cancellation judge {c.pk} --valid or --not-valid")
            )
    review = [m for m in messages if m.status == PlannedMessage.Status.REVIEW]
    if review:
        n = len(review)
        steps.append(f"Review {n} planned message{'' if n == 1 else 's'}" + hint(": rebook outbox --status review"))
    if lead.status == Lead.Status.NURTURE:
        checkin = next((m for m in messages if m.kind == NURTURE_CHECKIN and m.status in PlannedMessage.PENDING), None)
        why = "they said they are not interested" if lead.nurture_reason == "not_interested" else "strike limit reached"
        steps.append(
            f"On the nurture list ({why}); keep in touch gently"
            + (f", next check-in due {checkin.due.astimezone(tz):%a %-d %b}" if checkin else "")
            + hint(f". Reactivate with: rebook lead reactivate {lead.pk}")
        )
        return steps
    if lead.status in ("won", "lost", "do_not_contact"):
        return steps
    upcoming = [a for a in loaded.appointments if a.status == Appointment.Status.SCHEDULED and a.start > now]
    prospect_cancels = [c for c in loaded.cancellations if c.by == h.PROSPECT]
    if prospect_cancels:
        latest = prospect_cancels[-1]
        open_steps = [
            s.title for s, _ in cancellation_checklist(latest, loaded) if not s.done and s.skipped is None and s.done_by == "seller"
        ]
        if open_steps:
            steps.append(f"Checklist for {meeting(latest.appointment_id)}: " + "; ".join(open_steps).lower())
    if not upcoming:
        steps.append("Book the next meeting" + hint(f": rebook appt book {lead.pk} --at TIME"))
    if lead.strikes and lead.strikes == lead.seller.strike_limit - 1:
        steps.append("One more cancellation without a valid reason moves this lead to the nurture list")
    return steps


# ---------------------------------------------------------------- the seller's free time

OFFER_HORIZON = timedelta(days=28)
OPEN_DAYS = 10  # the days ahead a prospect may move a meeting to


def _busy(seller: Seller, after: datetime, until: datetime, exclude_id: int | None) -> list[tuple[datetime, datetime]]:
    # Bounded below too (no meeting is longer than MAX_MEETING), so the index is read from a little before
    # ``after`` instead of from the seller's first meeting.
    rows = Appointment.objects.filter(seller=seller, status=Appointment.Status.SCHEDULED, start__lt=until,
                                      start__gt=after - MAX_MEETING, end__gt=after)
    if exclude_id is not None:
        rows = rows.exclude(pk=exclude_id)
    from rebook.calendars.busy import busy_rows

    # And the seller's connected calendars (the dentist, the team meeting), as last synced: one query for both,
    # read as plain rows (a connected calendar may give hundreds in the weeks ahead).
    both = rows.order_by().values_list("start", "end").union(busy_rows(seller.pk, after, until).order_by(), all=True)
    sql, params = both.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(moment(start), moment(end)) for start, end in cursor.fetchall()]


def offer_times(*, seller: Seller, length: timedelta, after: datetime,
                also_busy: Sequence[tuple[datetime, datetime]] = ()) -> list[datetime]:
    """The two or three new times a reschedule offer proposes: different working days, clear of the seller's
    other meetings (and of ``also_busy``: a meeting not yet inserted)."""
    return suggest_slots(after=after, tz=seller.tz, working=seller.policy.working_window, length=length,
                         busy=[*_busy(seller, after, after + OFFER_HORIZON, None), *also_busy])


def open_times(*, seller: Seller, length: timedelta, after: datetime, exclude_id: int | None = None) -> list[datetime]:
    """Every free time (three a day, ten days ahead) a prospect may move a meeting to. ``exclude_id`` is
    the meeting being moved, whose own slot does not count as busy."""
    # Busy times are read for those ten days only (a connected calendar may hold dozens a day).
    return open_slots(after=after, tz=seller.tz, working=seller.policy.working_window, length=length,
                      busy=_busy(seller, after, after + timedelta(days=OPEN_DAYS + 2), exclude_id), days=OPEN_DAYS,
                      per_day=3)


def is_free(*, seller: Seller, start: datetime, end: datetime, exclude_id: int | None = None) -> bool:
    """No other scheduled meeting of the seller's, and nothing in their connected calendars, overlaps [start, end)."""
    return not _busy(seller, start, end, exclude_id)
