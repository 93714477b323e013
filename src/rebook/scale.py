"""Large, realistic histories written in bulk: `rebook demo --scale N` and `bench/generate.py`.

The demo in ``rebook.demo`` plays a small story through the services, one call at a time. That is
far too slow for the benchmark sizes (up to 100 sellers, 500,000 leads and 2,000,000 appointments),
so this module simulates each lead's history in memory and writes it with ``bulk_create``. What the
services would have derived from that history (status, strikes, which cancellations count, the
messages planned and sent, the checklists) is derived here by the same pure strategy functions, so
the rows are the rows the app would have written.

Deterministic: the same seed, sizes and ``now`` give the same rows. Each seller's history is drawn
from its own random stream, so seller 7 is the same whether 10 or 100 sellers are generated.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.management.color import no_style
from django.db import connection, models, transaction

from rebook.errors import RebookError
from rebook.leads.models import Activity, Appointment, Cancellation, ChecklistItem, Lead, Party
from rebook.leads.selectors import LoadedHistory, checklist_facts, loaded_history
from rebook.outbox.models import PlannedMessage
from rebook.sellers.models import Seller
from rebook.strategy import checklist as checklist_rules
from rebook.strategy import history as h
from rebook.strategy.followups import (
    BOOKING_FOLLOWUP,
    CONFIRMATION,
    CONNECTING_MOMENT,
    NURTURE_CHECKIN,
    NURTURE_MOVE,
    RESCHEDULE_OFFER,
    is_rebooking,
    plan_messages,
)
from rebook.strategy.freed import touchpoints
from rebook.strategy.hours import defer_past_quiet_hours
from rebook.strategy.reasons import NO_SHOW, NOT_INTERESTED
from rebook.strategy.strikes import TERMINAL_STATUSES, decide_strikes, lead_status
from rebook.timeparse import localize

LEADS_PER_SELLER = 5_000
APPOINTMENTS_PER_LEAD = 4  # 5,000 leads -> 20,000 appointments per seller
HISTORY_DAYS = 540
BATCH = 2_000

FIRST = ["Dana", "Marcus", "Priya", "Tom", "Sofia", "Ben", "Aiko", "Luis", "Hannah", "Jamal", "Chloe", "Ravi", "Emma", "Oliver", "Fatima", "Noah", "Grace", "Leo", "Maya", "Sam", "Isla", "Ethan", "Zoe", "Kofi", "Anna", "Diego", "Mei", "Omar", "Lena", "Jonas", "Nia", "Hugo", "Sara", "Ivan", "Lucia", "Theo"]
LAST = ["Reyes", "Bell", "Nair", "Okafor", "Lindqvist", "Carter", "Tanaka", "Romero", "Weiss", "Hughes", "Martin", "Patel", "Novak", "Grant", "Zahra", "Fischer", "Kim", "Rossi", "Cohen", "O'Brien", "Murray", "Brooks", "Laurent", "Mensah", "Silva", "Novak", "Haddad", "Berg", "Costa", "Dubois"]
TRADES = ["Landscaping", "Plumbing", "Dental", "Logistics", "Design", "Fitness", "Bakery", "Auto", "Legal", "Roofing", "Florals", "Pharmacy", "Yoga", "Realty", "Catering", "IT", "Tutoring", "Trattoria", "Photography", "Electric", "Vets", "Coffee", "Salon", "Imports"]
SOURCES = (
    "Chamber of Commerce mixer", "Referral from a client", "LinkedIn", "Trade show", "Website form",
    "BNI breakfast", "Cold call", "Webinar sign-up", "Facebook group", "Door knocking", "Home party guest",
)
TIMEZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "Europe/Berlin",
             "Australia/Sydney")
LOCATIONS = ("Their office", "Zoom", "Coffee shop on Main St", "Phone", "Our showroom", "Google Meet")
VALID_REASONS = (
    "My son is sick with the flu", "Family emergency, so sorry", "My flight was cancelled",
    "There's a snowstorm and the roads are closed", "Funeral for my uncle", "Car broke down, had an accident",
    "Work emergency - our servers are down", "I have a fever, staying home", "Babysitter cancelled on me",
    "Daycare closed today, I have the kids",
)
INVALID_REASONS = (
    "Something came up", "Too busy this week", "Forgot, sorry", "", "Can't make it", "Double booked",
    "Need to push this, too busy", "Swamped at work", "Last-minute conflict", "",
)
NOT_INTERESTED_REASONS = ("We're not interested anymore, thanks", "Went with another supplier", "Decided against it")
SELLER_REASONS = ("Sick, sorry - let's find another time", "A client emergency came up on my side")
UNKNOWN_REASONS = ("My accountant needs me that day", "We are moving offices", "Inventory count at the store")


@dataclass
class Summary:
    sellers: int = 0
    leads: int = 0
    appointments: int = 0
    cancellations: int = 0
    prospect_cancellations: int = 0
    activities: int = 0
    messages: int = 0
    messages_sent: int = 0
    checklist_items: int = 0
    nurture: int = 0
    seller_usernames: list[str] = field(default_factory=list)

    def add(self, other: Summary) -> None:
        for name, value in vars(other).items():
            if isinstance(value, int):
                setattr(self, name, getattr(self, name) + value)


class _Ids:
    """Explicit primary keys, so a whole history (reschedule links, message keys) is known before it is
    written. The generator must be the only writer while it runs; sequences are reset at the end."""

    def __init__(self, *model_classes: type[models.Model]) -> None:
        self.next = {m: (m.objects.aggregate(top=models.Max("pk"))["top"] or 0) + 1 for m in model_classes}

    def take(self, model_class: type[models.Model]) -> int:
        pk = self.next[model_class]
        self.next[model_class] = pk + 1
        return pk


@dataclass
class _Rows:
    leads: list[Lead] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)
    cancellations: list[Cancellation] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    messages: list[PlannedMessage] = field(default_factory=list)
    items: list[ChecklistItem] = field(default_factory=list)

    def write(self, now: datetime) -> None:
        for rows in (self.leads, self.appointments, self.cancellations, self.activities, self.messages, self.items):
            if rows:
                _insert(rows, now)


def _insert(objs: list[models.Model], now: datetime) -> None:
    """``bulk_create`` without its per-value overhead, which is most of the time at these sizes: the
    rows' values converted once per field type, then ``executemany`` (SQLite) or ``COPY`` (PostgreSQL).
    No signals are sent, as with ``bulk_create``."""
    meta = objs[0]._meta
    fields = meta.concrete_fields
    convert = [_converter(f, now) for f in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    values = ([c(getattr(o, f.attname)) for f, c in zip(fields, convert, strict=True)] for o in objs)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})", list(values))


def _converter(field: models.Field, now: datetime) -> Callable:
    postgres = connection.vendor == "postgresql"
    if isinstance(field, models.DateTimeField):
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            return lambda v: now if postgres else _sqlite_datetime(now)
        return (lambda v: v) if postgres else _sqlite_datetime
    if isinstance(field, models.UUIDField):
        return (lambda v: v) if postgres else (lambda v: v.hex)
    if isinstance(field, models.JSONField):
        return json.dumps
    if isinstance(field, models.DurationField | models.BinaryField | models.DateField | models.TimeField):
        return lambda v: field.get_db_prep_save(v, connection)  # none in these tables today
    return lambda v: v


def _sqlite_datetime(value: datetime | None) -> str | None:
    """As Django stores an aware datetime in SQLite: naive UTC, ISO format with a space."""
    return None if value is None else value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")


def generate(
    *,
    sellers: int,
    now: datetime,
    seed: int = 1,
    leads_per_seller: int = LEADS_PER_SELLER,
    appointments_per_lead: float = APPOINTMENTS_PER_LEAD,
    first_seller: Seller | None = None,
    username_prefix: str = "seller",
    progress: Callable[[int, Summary], None] | None = None,
) -> Summary:
    """Write ``sellers`` sellers' histories: ``leads_per_seller`` leads and about
    ``leads_per_seller * appointments_per_lead`` appointments each.

    ``first_seller`` (e.g. the user running ``rebook demo``) gets the first history; the others are new
    sellers named ``<prefix>002``, ``<prefix>003`` and so on.
    """
    if sellers < 1:
        raise RebookError("--scale: at least one seller")
    if first_seller is not None and first_seller.leads.exists():
        raise RebookError(
            f"seller {first_seller.username} already has leads; generate into an empty Rebook, "
            "e.g. REBOOK_HOME=$(mktemp -d) rebook demo --scale 1"
        )
    names = [f"{username_prefix}{i + 1:03d}" for i in range(sellers)]
    taken = set(get_user_model().objects.filter(username__in=names).values_list("username", flat=True))
    if first_seller is not None:
        names[0] = first_seller.username
        taken.discard(first_seller.username)
    if taken:
        raise RebookError(f"users {', '.join(sorted(taken))} already exist; generate into an empty Rebook")

    ids = _Ids(Lead, Appointment, Cancellation, Activity, PlannedMessage, ChecklistItem)
    total = Summary()
    for index, username in enumerate(names):
        with transaction.atomic():
            seller = first_seller if index == 0 and first_seller is not None else _new_seller(username, index)
            rng = random.Random(f"{seed}:{index}")
            rows = _Rows()
            summary = _SellerHistory(seller, rng, ids, now, rows).play(leads_per_seller, appointments_per_lead)
            rows.write(now)
        summary.sellers = 1
        summary.seller_usernames = [username]
        total.add(summary)
        total.seller_usernames.append(username)
        if progress is not None:
            progress(index + 1, total)
    _reset_sequences()
    return total


def _new_seller(username: str, index: int) -> Seller:
    user = get_user_model().objects.create_user(username=username, email=f"{username}@rebook.example")
    user.set_unusable_password()  # they sign in once someone sets a password (rebook user password)
    user.save(update_fields=["password"])
    return Seller.objects.create(
        user=user, display_name=f"{FIRST[index % len(FIRST)]} {LAST[(index * 7) % len(LAST)]}",
        emails=[f"{username}@rebook.example"], timezone=TIMEZONES[index % len(TIMEZONES)],
    )


def _reset_sequences() -> None:
    sql = connection.ops.sequence_reset_sql(
        no_style(), [Lead, Appointment, Cancellation, Activity, PlannedMessage, ChecklistItem]
    )
    with connection.cursor() as cursor:
        for statement in sql:
            cursor.execute(statement)


class _SellerHistory:
    def __init__(self, seller: Seller, rng: random.Random, ids: _Ids, now: datetime, rows: _Rows) -> None:
        self.seller, self.rng, self.ids, self.now, self.rows = seller, rng, ids, now, rows
        self.tz: ZoneInfo = seller.tz
        self.policy = seller.policy
        self.quiet = self.policy.quiet_window
        classifier = seller.classifier
        self.verdicts = {
            text: classifier.classify(text)
            for text in (*VALID_REASONS, *INVALID_REASONS, *NOT_INTERESTED_REASONS, *UNKNOWN_REASONS, *SELLER_REASONS)
        }
        self.summary = Summary()

    # -------------------------------------------------------------- drawing the history

    def play(self, leads: int, per_lead: float) -> Summary:
        rng = self.rng
        budget = round(leads * per_lead)
        # 15% of leads never book; the rest share the appointments. Each draws around what is left per
        # lead still to come, so leads that stop early (nurture, not interested) do not shrink the total.
        booking = {i for i in range(leads) if rng.random() >= 0.15} or {0}
        to_come = len(booking)
        for i in range(leads):
            if i in booking and budget > 0:
                mean = budget / to_come
                want = budget if to_come == 1 else min(budget, max(1, round(rng.gauss(mean, mean / 2))))
                budget -= self._lead(i, want)
                to_come -= 1
            else:
                self._lead(i, 0)
        return self.summary

    def _slot(self, day: datetime) -> datetime:
        local = day.astimezone(self.tz).date()
        while local.weekday() >= 5:
            local += timedelta(days=1)
        hour = self.rng.choice((9, 10, 11, 13, 14, 15, 16))
        # In UTC, as the database gives times back: sums on local times would follow the wall clock.
        return localize(datetime.combine(local, time(hour, self.rng.choice((0, 30)))), self.tz).astimezone(UTC)

    def _lead(self, index: int, appointments: int) -> int:
        rng, now = self.rng, self.now
        first, last = rng.choice(FIRST), rng.choice(LAST)
        trade = rng.choice(TRADES)
        created = now - timedelta(days=rng.uniform(1, HISTORY_DAYS))
        lead = Lead(
            pk=self.ids.take(Lead), seller=self.seller, name=f"{first} {last}", company=f"{last} {trade}",
            email=f"{first.lower()}.{last.lower().replace(chr(39), '')}{index}@{trade.lower()}.example",
            phone=f"+1555{rng.randint(1000000, 9999999)}", source=rng.choice(SOURCES), created_at=created,
            status=Lead.Status.NEW,
        )
        chronic = appointments >= 3 and rng.random() < 0.06
        if appointments == 0 and rng.random() < 0.3:
            lead.qualified_at = created + timedelta(days=rng.uniform(0, 10))
        appts: list[Appointment] = []
        cancels: list[Cancellation] = []
        activities: list[Activity] = []
        span = max(now - created, timedelta(days=2))
        t = created + timedelta(hours=rng.uniform(1, 72))
        previous: Appointment | None = None  # set when the next booking is a reschedule of it
        previous_cancel: Cancellation | None = None
        while len(appts) < appointments and t < now:
            booked_by = Party.PROSPECT if rng.random() < 0.3 else Party.SELLER
            if previous is not None and previous_cancel is not None:
                start = self._slot(max(previous.start, t) + timedelta(days=rng.randint(2, 10)))
            else:
                start = self._slot(t + timedelta(days=rng.choice((2, 3, 4, 5, 7, 7, 10, 14, 14, 21, 28, 42))))
            appt = Appointment(
                pk=self.ids.take(Appointment), lead=lead, seller=self.seller, start=start, end=start + timedelta(minutes=rng.choice((30, 45, 60))),
                timezone=self.seller.timezone, location=rng.choice(LOCATIONS), booked_at=t, booked_by=booked_by,
                rescheduled_from=previous, chain=previous.chain if previous else uuid.UUID(int=rng.getrandbits(128)),
                status=Appointment.Status.SCHEDULED, created_at=t,
            )
            appts.append(appt)
            if previous is None:
                activities.append(Activity(
                    pk=self.ids.take(Activity), lead=lead, kind=rng.choice(("call", "call", "email", "text")),
                    direction="outbound" if booked_by == Party.SELLER else "inbound", at=t, created_at=t,
                ))
            previous = previous_cancel = None
            outcome = self._outcome(appt, chronic)
            if outcome is None:
                pass
            elif outcome[0] == "held":
                appt.status = Appointment.Status.HELD
            elif outcome[0] == "no_show":
                appt.status = Appointment.Status.NO_SHOW
                cancels.append(self._cancellation(appt, Party.PROSPECT, Cancellation.Kind.NO_SHOW, appt.start, ""))
            else:
                _, by, at, reason, reschedule = outcome
                kind = Cancellation.Kind.RESCHEDULE if reschedule else Cancellation.Kind.CANCEL
                cancels.append(self._cancellation(appt, by, kind, at, reason))
                appt.status = Appointment.Status.RESCHEDULED if reschedule else Appointment.Status.CANCELLED
                if reschedule:
                    previous, previous_cancel = appt, cancels[-1]
            # Stop where the services would: the lead reached the strike limit or said no.
            if cancels and cancels[-1].appointment_id == appt.pk:
                decision = decide_strikes(self._history(lead, appts, cancels, activities, ()).facts, self.policy)
                if decision.in_nurture:
                    if previous is not None:  # the reschedule that reached the limit books nothing
                        appt.status = Appointment.Status.CANCELLED
                        previous = previous_cancel = None
                    break
            if previous is not None:
                t = cancels[-1].at
            else:
                gap = span / max(appointments, 1)
                t = max(t, appt.start) + timedelta(seconds=rng.uniform(0.2, 1.0) * gap.total_seconds())
                t = min(t, appt.start + timedelta(days=rng.uniform(1, 30)))
        if appts and rng.random() < 0.12 and any(a.status == Appointment.Status.HELD for a in appts):
            lead.status = rng.choice((Lead.Status.WON, Lead.Status.WON, Lead.Status.LOST))
        self._derive(lead, appts, cancels, activities)
        return len(appts)

    def _outcome(self, appt: Appointment, chronic: bool):
        """What became of an appointment: None (still scheduled), ("held",), ("no_show",) or
        ("cancel", by, at, reason, is_reschedule)."""
        rng, now = self.rng, self.now
        r = rng.random()
        if appt.start > now:
            # Ahead of us: most still stand, some are already called off.
            if r < 0.12 and appt.booked_at < now:
                at = appt.booked_at + (now - appt.booked_at) * rng.random()
                return ("cancel", Party.PROSPECT, at, self._reason(rng.random() < 0.5), rng.random() < 0.3)
            return None
        notice = timedelta(hours=rng.choice((1, 3, 6, 20, 26, 48, 72, 120)))
        at = max(appt.booked_at, appt.start - notice)
        if chronic:
            if r < 0.8:
                return ("cancel", Party.PROSPECT, at, rng.choice(INVALID_REASONS), rng.random() < 0.3)
            return ("held",) if r < 0.95 else ("no_show",)
        if r < 0.58:
            return ("held",)
        if r < 0.67:
            return ("cancel", Party.PROSPECT, at, rng.choice(VALID_REASONS), False)
        if r < 0.74:
            return ("cancel", Party.PROSPECT, at, self._reason(False), False)
        if r < 0.79:
            return ("cancel", Party.PROSPECT, at, self._reason(rng.random() < 0.5), True)
        if r < 0.82:
            return ("cancel", Party.SELLER, at, rng.choice(SELLER_REASONS), rng.random() < 0.5)
        if r < 0.86:
            return ("no_show",)
        if r < 0.87:
            return ("cancel", Party.PROSPECT, at, rng.choice(NOT_INTERESTED_REASONS), False)
        if r < 0.92:
            return None  # in the past and never marked: sellers forget
        return ("held",)

    def _defer(self, moment: datetime) -> datetime:
        return defer_past_quiet_hours(moment, self.tz, self.quiet).astimezone(UTC)

    def _reason(self, valid: bool) -> str:
        if valid:
            return self.rng.choice(VALID_REASONS)
        return self.rng.choice(UNKNOWN_REASONS) if self.rng.random() < 0.08 else self.rng.choice(INVALID_REASONS)

    def _cancellation(self, appt: Appointment, by: str, kind: str, at: datetime, reason: str) -> Cancellation:
        if kind == Cancellation.Kind.NO_SHOW:
            category, valid, matched = NO_SHOW, False, ""
        else:
            verdict = self.verdicts[reason]
            category, valid, matched = verdict.category, verdict.valid, verdict.matched or ""
        judged = category == "unknown" and self.rng.random() < 0.7
        return Cancellation(
            pk=self.ids.take(Cancellation), appointment=appt, lead=appt.lead, seller=self.seller, by=by, kind=kind, at=at,
            reason=reason, category=category, matched=matched, suggested_valid=valid,
            valid_override=(self.rng.random() < 0.5) if judged else None,
            judged_at=at + timedelta(hours=2) if judged else None, created_at=at,
        )

    @staticmethod
    def _history(lead: Lead, appts, cancels, activities, checkins) -> LoadedHistory:
        """The history as the services read it, from rows not written yet (ordered as their queries order)."""
        return loaded_history(
            lead, sorted(appts, key=lambda a: (a.start, a.pk)), sorted(cancels, key=lambda c: (c.at, c.pk)),
            sorted(activities, key=lambda x: (x.at, x.pk)), checkins,
        )

    # -------------------------------------------------------------- what the services would derive

    def _derive(self, lead: Lead, appts, cancels, activities) -> None:
        now, policy = self.now, self.policy
        loaded = self._history(lead, appts, cancels, activities, ())
        facts = loaded.facts
        decision = decide_strikes(facts, policy)
        checkins: list[datetime] = []
        if decision.nurture_since is not None and lead.status not in TERMINAL_STATUSES:
            # Each check-in goes when the quiet hours allow, and the next is planned from when it went.
            at = self._defer(decision.nurture_since + policy.nurture_checkin_interval)
            while at < now:
                checkins.append(at)
                at = self._defer(at + policy.nurture_checkin_interval)
            loaded = self._history(lead, appts, cancels, activities, checkins)
            facts = loaded.facts
        lead.status = lead_status(lead.status, decision, has_appointments=bool(appts), qualified=lead.qualified_at is not None)
        lead.strikes = decision.strikes
        if lead.status == Lead.Status.NURTURE:
            lead.nurture_since, lead.nurture_reason = decision.nurture_since, decision.nurture_reason or ""
        for c in cancels:
            c.is_strike = c.pk in decision.ever_counted
        touch = touchpoints(facts)
        lead.last_touch_at, lead.open_cancellation_at = touch.last_touch, touch.open_cancellation_at
        lead.scheduled_until = touch.scheduled_until

        sent = self._sent_messages(lead, facts, decision, checkins)
        pursuing = lead.status not in TERMINAL_STATUSES
        fresh = PlannedMessage.Status.SCHEDULED if policy.auto_send else PlannedMessage.Status.REVIEW
        pending = []
        for plan in plan_messages(facts, policy, decision, now, pursuing=pursuing):
            if plan.key in sent:
                continue
            pending.append(PlannedMessage(
                pk=self.ids.take(PlannedMessage), lead=lead, seller=self.seller, kind=plan.kind, key=plan.key,
                appointment_id=plan.appointment_id, cancellation_id=plan.cancellation_id,
                due=self._defer(plan.due), status=fresh, created_at=now,
            ))

        items = []
        for c in cancels:
            if c.by != Party.PROSPECT:
                continue
            ticked = frozenset(k for k in ("respond", "reuse_time", "pipeline") if self.rng.random() < 0.6) \
                if c.at < now - timedelta(days=2) else frozenset()
            for step in checklist_rules.checklist(checklist_facts(c, loaded, decision, set(sent), ticked)):
                item = ChecklistItem(pk=self.ids.take(ChecklistItem), cancellation=c, step=step.key)
                if step.key in ticked:
                    item.done_at, item.done_by = c.at + timedelta(hours=1), checklist_rules.SELLER
                elif step.done:
                    item.done_at, item.done_by = min(c.at + timedelta(hours=2), now), checklist_rules.SYSTEM
                items.append(item)

        rows, summary = self.rows, self.summary
        rows.leads.append(lead)
        rows.appointments.extend(appts)
        rows.cancellations.extend(cancels)
        rows.activities.extend(activities)
        rows.messages.extend(sent.values())
        rows.messages.extend(pending)
        rows.items.extend(items)
        summary.leads += 1
        summary.appointments += len(appts)
        summary.cancellations += len(cancels)
        summary.prospect_cancellations += sum(c.by == Party.PROSPECT and c.kind != Cancellation.Kind.NO_SHOW for c in cancels)
        summary.activities += len(activities)
        summary.messages += len(sent) + len(pending)
        summary.messages_sent += len(sent)
        summary.checklist_items += len(items)
        summary.nurture += lead.status == Lead.Status.NURTURE

    def _sent_messages(self, lead: Lead, facts: h.LeadHistory, decision, checkins) -> dict[str, PlannedMessage]:
        """The follow-ups that already went out, by key: each one the strategy planned at the time and
        that came due before the next change superseded it."""
        now, policy = self.now, self.policy
        wanted: list[tuple[str, str, datetime, int | None, int | None]] = []
        cancellations = sorted(facts.cancellations, key=lambda c: (c.at, c.id))
        for a in facts.appointments:
            if is_rebooking(a, facts):
                due = max(a.start - policy.confirmation_lead_time, a.booked_at)
                wanted.append((f"{CONFIRMATION}:a{a.id}", CONFIRMATION, due, a.id, None))
            elif a.start - a.booked_at > policy.booking_followup_delay:
                wanted.append((f"{BOOKING_FOLLOWUP}:a{a.id}", BOOKING_FOLLOWUP, a.booked_at + policy.booking_followup_delay, a.id, None))
        for i, c in enumerate(cancellations):
            if c.category == NOT_INTERESTED or c.kind == h.MISSED:
                continue
            superseded = cancellations[i + 1].at if i + 1 < len(cancellations) else None
            if c.by == h.PROSPECT:
                wanted.append((f"{CONNECTING_MOMENT}:c{c.id}", CONNECTING_MOMENT, c.at + policy.connecting_moment_delay, None, c.id))
            if c.kind != h.RESCHEDULE:
                due = c.at + policy.reschedule_offer_delay if c.by == h.PROSPECT else c.at
                if superseded is None or due < superseded:
                    wanted.append((f"{RESCHEDULE_OFFER}:c{c.id}", RESCHEDULE_OFFER, due, None, c.id))
        if decision.nurture_since is not None and decision.nurture_trigger:
            trigger = decision.nurture_trigger
            wanted.append((f"{NURTURE_MOVE}:{trigger}", NURTURE_MOVE, decision.nurture_since, None, None))
            wanted.extend(
                (f"{NURTURE_CHECKIN}:{trigger}:{n}", NURTURE_CHECKIN, at, None, None) for n, at in enumerate(checkins, 1)
            )
        if decision.nurture_since is not None:
            wanted = [w for w in wanted if w[2] <= decision.nurture_since or w[1] in (NURTURE_MOVE, NURTURE_CHECKIN)]
        sent = {}
        for key, kind, due, appointment_id, cancellation_id in wanted:
            due = self._defer(due)
            if due >= now:
                continue
            sent[key] = PlannedMessage(
                pk=self.ids.take(PlannedMessage), lead=lead, seller=self.seller, kind=kind, key=key, appointment_id=appointment_id,
                cancellation_id=cancellation_id, due=due, status=PlannedMessage.Status.SENT, frozen=True,
                subject=_SUBJECTS[kind].format(name=lead.name.split()[0]),
                body=_BODY.format(name=lead.name.split()[0], seller=self.seller.name), to_email=lead.email,
                message_id=f"<rebook.{lead.pk}.{len(sent)}.{key.replace(':', '.')}@rebook.example>",
                attempts=1, sent_at=due, created_at=due,
            )
        return sent


_SUBJECTS = {
    BOOKING_FOLLOWUP: "Looking forward to our meeting, {name}",
    CONNECTING_MOMENT: "Something useful before we meet, {name}",
    RESCHEDULE_OFFER: "A few new times for us, {name}",
    CONFIRMATION: "See you tomorrow, {name}",
    NURTURE_MOVE: "I'll keep in touch, {name}",
    NURTURE_CHECKIN: "Thinking of you, {name}",
}
_BODY = (
    "Hi {name},\n\nSince we weren't able to meet last time and I know how valuable your time is, I thought "
    "I would send you some additional information that will help us make our next meeting even more "
    "productive.\n\nBest,\n{seller}\n"
)
