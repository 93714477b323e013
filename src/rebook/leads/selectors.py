"""Reads: a lead's history as strategy facts, and the views of it the commands and pages show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min, OuterRef, Q, QuerySet, Subquery

from rebook.errors import RebookError
from rebook.leads.models import Activity, Appointment, Cancellation, ChecklistItem, Lead
from rebook.sellers.models import Seller
from rebook.strategy import checklist as checklist_rules
from rebook.strategy import history as h
from rebook.strategy.checklist import ChecklistFacts, Step
from rebook.strategy.followups import CONFIRMATION, CONNECTING_MOMENT, NURTURE_CHECKIN, RESCHEDULE_OFFER, rebooking_of
from rebook.strategy.freed import Candidate, Suggestion, freed_time
from rebook.strategy.interest import InterestBalance, interest_balance
from rebook.strategy.pipeline import PipelineFacts, PipelineHealth, pipeline_health
from rebook.strategy.reasons import UNKNOWN
from rebook.strategy.strikes import StrikeDecision, decide_strikes


def lead_get(*, seller: Seller, lead_id: int) -> Lead:
    lead = Lead.objects.select_related("seller__user").filter(seller=seller, pk=lead_id).first()
    if lead is None:
        raise RebookError(f"no lead with id {lead_id}")
    return lead


def appointment_get(*, seller: Seller, appointment_id: int) -> Appointment:
    appt = (
        Appointment.objects.select_related("lead__seller__user")
        .filter(lead__seller=seller, pk=appointment_id)
        .first()
    )
    if appt is None:
        raise RebookError(f"no appointment with id {appointment_id}")
    return appt


def cancellation_get(*, seller: Seller, cancellation_id: int) -> Cancellation:
    c = (
        Cancellation.objects.select_related("appointment", "lead__seller__user")
        .filter(lead__seller=seller, pk=cancellation_id)
        .first()
    )
    if c is None:
        raise RebookError(f"no cancellation with id {cancellation_id}")
    return c


def lead_list(*, seller: Seller, status: str | None = None) -> QuerySet[Lead]:
    leads = Lead.objects.filter(seller=seller)
    if status:
        if status not in Lead.Status.values:
            raise RebookError(f"--status: unknown lead status {status!r}; use one of {', '.join(Lead.Status.values)}")
        leads = leads.filter(status=status)
    return leads.order_by("id")


def appointment_list(*, seller: Seller, lead_id: int | None = None, status: str | None = None) -> QuerySet[Appointment]:
    appts = Appointment.objects.filter(lead__seller=seller).select_related("lead")
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


def lead_history(lead: Lead) -> LoadedHistory:
    from rebook.outbox.models import PlannedMessage

    appointments = list(lead.appointments.order_by("start", "id"))
    by_id = {a.pk: a for a in appointments}
    cancellations = list(lead.cancellations.order_by("at", "id"))
    for c in cancellations:
        c.appointment = by_id[c.appointment_id]  # spare a query per cancellation
    activities = list(lead.activities.order_by("at", "id"))
    checkins = PlannedMessage.objects.filter(
        lead=lead, kind=NURTURE_CHECKIN, status=PlannedMessage.Status.SENT
    ).values_list("sent_at", flat=True)
    facts = h.LeadHistory(
        lead_id=lead.pk,
        appointments=tuple(
            h.Appointment(a.pk, a.start, a.end, a.status, a.booked_at, a.booked_by, a.rescheduled_from_id)
            for a in appointments
        ),
        cancellations=tuple(
            h.Cancellation(c.pk, c.appointment_id, c.by, c.kind, c.at, by_id[c.appointment_id].start, c.category, c.valid)
            for c in cancellations
        ),
        contacts=tuple(h.Contact(a.at, a.direction) for a in activities),
        not_interested_at=lead.not_interested_at,
        reactivated_at=lead.reactivated_at,
        checkins_sent=tuple(t for t in checkins if t is not None),
    )
    return LoadedHistory(facts, appointments, cancellations, activities)


def checklist_facts(
    c: Cancellation, loaded: LoadedHistory, decision: StrikeDecision, sent_keys: set[str], ticked: frozenset[str]
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


def sent_message_keys(lead: Lead) -> set[str]:
    """Keys of the lead's messages that went out: what the checklist counts as done by Rebook."""
    from rebook.outbox.models import PlannedMessage

    return set(PlannedMessage.objects.filter(lead=lead, status=PlannedMessage.Status.SENT).values_list("key", flat=True))


def cancellation_checklist(
    c: Cancellation, loaded: LoadedHistory | None = None
) -> list[tuple[Step, ChecklistItem | None]]:
    """The checklist of one prospect cancellation, each step with its stored item (who ticked it, when)."""
    if c.by != h.PROSPECT:
        raise RebookError(
            f"appointment {c.appointment_id} was cancelled by you, the seller; the checklist is for prospect cancellations"
        )
    loaded = loaded or lead_history(c.lead)
    decision = decide_strikes(loaded.facts, c.lead.seller.policy)
    return _checklist_steps(c, loaded, decision, sent_message_keys(c.lead), {i.step: i for i in c.checklist.all()})


def lead_checklists(lead: Lead, loaded: LoadedHistory) -> dict[int, list[tuple[Step, ChecklistItem | None]]]:
    """The checklist of each of the lead's prospect cancellations, by cancellation id, in three queries."""
    prospect = [c for c in loaded.cancellations if c.by == h.PROSPECT]
    if not prospect:
        return {}
    decision = decide_strikes(loaded.facts, lead.seller.policy)
    sent = sent_message_keys(lead)
    items: dict[int, dict[str, ChecklistItem]] = {c.pk: {} for c in prospect}
    for item in ChecklistItem.objects.filter(cancellation__lead=lead):
        items.setdefault(item.cancellation_id, {})[item.step] = item
    return {c.pk: _checklist_steps(c, loaded, decision, sent, items[c.pk]) for c in prospect}


def _checklist_steps(c, loaded, decision, sent: set[str], items: dict) -> list[tuple[Step, ChecklistItem | None]]:
    ticked = frozenset(step for step, i in items.items() if i.done_by == checklist_rules.SELLER and i.done_at)
    steps = checklist_rules.checklist(checklist_facts(c, loaded, decision, sent, ticked))
    return [(s, items.get(s.key)) for s in steps]


def lead_interest(lead: Lead, loaded: LoadedHistory | None = None) -> InterestBalance:
    loaded = loaded or lead_history(lead)
    return interest_balance(loaded.facts, lead.seller.policy)


def pipeline(*, seller: Seller, now: datetime) -> PipelineHealth:
    appts = Appointment.objects.filter(lead__seller=seller)
    upcoming = tuple(appts.filter(status=Appointment.Status.SCHEDULED, start__gte=now).values_list("start", flat=True))
    # Held and no-show are only possible once the start has passed, so every non-scheduled row is settled.
    past = appts.exclude(status=Appointment.Status.SCHEDULED).count()
    prospect_cancellations = Cancellation.objects.filter(lead__seller=seller, by=h.PROSPECT).count()
    leads = Lead.objects.filter(seller=seller).aggregate(
        total=Count("id"), booked=Count("id", filter=Q(appointments__isnull=False), distinct=True)
    )
    facts = PipelineFacts(upcoming, past, prospect_cancellations, leads["total"], leads["booked"])
    return pipeline_health(facts, seller.policy, now)


def _latest(model, field: str) -> Subquery:
    return Subquery(model.objects.filter(lead=OuterRef("pk")).order_by(f"-{field}").values(field)[:1])


def freed(*, appointment: Appointment, now: datetime) -> list[Suggestion]:
    """What to do with the slot a cancelled future appointment left open."""
    from rebook.outbox.models import PlannedMessage

    if appointment.status not in (Appointment.Status.CANCELLED, Appointment.Status.RESCHEDULED):
        raise RebookError(
            f"appointment {appointment.pk} is {appointment.status}; freed time is for a cancelled or moved appointment"
        )
    if appointment.end <= now:
        raise RebookError(f"appointment {appointment.pk} was in the past; its time cannot be re-used any more")
    seller = appointment.lead.seller
    # One subquery per column: joining all three histories at once would multiply rows per lead.
    leads = (
        Lead.objects.filter(seller=seller, status__in=["new", "qualified", "active", "nurture"])
        .annotate(
            last_activity=_latest(Activity, "at"),
            last_booked=_latest(Appointment, "booked_at"),
            last_cancel=_latest(Cancellation, "at"),
        )
        .order_by("id")
    )
    next_appt = dict(
        Appointment.objects.filter(lead__seller=seller, status=Appointment.Status.SCHEDULED, start__gt=now)
        .values("lead_id")
        .annotate(first=Min("start"))
        .values_list("lead_id", "first")
    )
    checkins = dict(
        PlannedMessage.objects.filter(lead__seller=seller, kind=NURTURE_CHECKIN, status__in=PlannedMessage.PENDING)
        .values_list("lead_id", "due")
    )
    candidates = []
    for lead in leads:
        touches = [t for t in (lead.last_activity, lead.last_booked, lead.last_cancel) if t is not None]
        last_cancel = lead.last_cancel
        open_cancel = last_cancel if last_cancel and (lead.last_booked is None or lead.last_booked < last_cancel) else None
        candidates.append(
            Candidate(
                lead_id=lead.pk,
                name=lead.name,
                status=lead.status,
                last_touch=max(touches) if touches else None,
                open_cancellation_at=open_cancel,
                next_appointment=next_appt.get(lead.pk),
                next_checkin=checkins.get(lead.pk),
            )
        )
    return freed_time(candidates, appointment.end, now)


def lead_next_steps(
    lead: Lead, loaded: LoadedHistory, messages: list, now: datetime, *, commands: bool = True
) -> list[str]:
    """Plain sentences: what the seller should do next for this lead (with the command to type, for the CLI)."""

    def hint(text: str) -> str:
        return text if commands else ""
    from rebook.outbox.models import PlannedMessage

    steps = []
    for c in loaded.cancellations:
        if c.needs_review:
            steps.append(
                f'Judge cancellation #{c.pk} ("{c.reason}"): the reason was not recognised'
                + hint(f"; rebook cancellation judge {c.pk} --valid or --not-valid")
            )
    review = [m for m in messages if m.status == PlannedMessage.Status.REVIEW]
    if review:
        steps.append(f"Review {len(review)} planned message(s)" + hint(": rebook outbox --status review"))
    if lead.status == Lead.Status.NURTURE:
        checkin = next((m for m in messages if m.kind == NURTURE_CHECKIN and m.status in PlannedMessage.PENDING), None)
        why = "they said they are not interested" if lead.nurture_reason == "not_interested" else "strike limit reached"
        steps.append(
            f"On the nurture list ({why}); keep in touch gently"
            + (f", next check-in due {checkin.due:%Y-%m-%d}" if checkin else "")
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
            steps.append(f"Checklist for appointment #{latest.appointment_id}: " + "; ".join(open_steps).lower())
    if not upcoming:
        steps.append("Book the next meeting" + hint(f": rebook appt book {lead.pk} --at TIME"))
    if lead.strikes and lead.strikes == lead.seller.strike_limit - 1:
        steps.append("One more cancellation without a valid reason moves this lead to the nurture list")
    return steps
