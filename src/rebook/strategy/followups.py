"""Which messages a lead should have planned right now, and when each is due.

The answer is a full desired set with stable keys; the outbox service reconciles it with what is
already planned (adds, re-times, withdraws), so recomputing after any change is always safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rebook.strategy.history import HELD, PROSPECT, RESCHEDULE, SCHEDULED, Appointment, Cancellation, LeadHistory
from rebook.strategy.policy import Policy
from rebook.strategy.reasons import NOT_INTERESTED
from rebook.strategy.strikes import StrikeDecision

BOOKING_FOLLOWUP = "booking_followup"
CONNECTING_MOMENT = "connecting_moment"
RESCHEDULE_OFFER = "reschedule_offer"
CONFIRMATION = "confirmation"
NURTURE_MOVE = "nurture_move"
NURTURE_CHECKIN = "nurture_checkin"
MESSAGE_KINDS = (BOOKING_FOLLOWUP, CONNECTING_MOMENT, RESCHEDULE_OFFER, CONFIRMATION, NURTURE_MOVE, NURTURE_CHECKIN)
# The kinds whose having been sent the rules read: a sent check-in plans the next one, and the others
# tick checklist steps. Sending a booking follow-up or the nurture move changes nothing else.
SENDING_MATTERS = frozenset({NURTURE_CHECKIN, CONNECTING_MOMENT, RESCHEDULE_OFFER, CONFIRMATION})

# After this long, follow-ups for a cancellation are no longer worth sending.
FOLLOW_UP_WINDOW = timedelta(days=14)
# The connecting moment goes out at least this long before the rescheduled meeting.
BEFORE_NEXT_MEETING = timedelta(hours=1)


@dataclass(frozen=True)
class PlannedMessage:
    key: str
    kind: str
    due: datetime
    appointment_id: int | None = None
    cancellation_id: int | None = None


def past_follow_up(cancelled_at: datetime, now: datetime) -> bool:
    """Whether a cancellation is too old for any follow-up (so none is planned, and no offer made for it)."""
    return now > cancelled_at + FOLLOW_UP_WINDOW


def _booked_after(a: Appointment, c: Cancellation) -> bool:
    # At the same instant, the appointment entered later (higher id) is the one booked after.
    return a.id != c.appointment_id and (a.booked_at, a.id) > (c.at, c.appointment_id)


def rebooking_of(c: Cancellation, history: LeadHistory) -> Appointment | None:
    """The appointment that replaced the cancelled one, if the lead has been rebooked since."""
    if c.kind == RESCHEDULE:
        moved = [a for a in history.appointments if a.rescheduled_from == c.appointment_id]
        if moved:
            return moved[0]
    later = [a for a in history.appointments if _booked_after(a, c)]
    return min(later, key=lambda a: (a.booked_at, a.id), default=None)


def is_rebooking(a: Appointment, history: LeadHistory) -> bool:
    """Booked to replace a cancelled meeting (a reschedule, or booked after a cancellation)."""
    if a.rescheduled_from is not None:
        return True
    for c in history.cancellations:
        if not _booked_after(a, c):
            continue
        met_between = any(h.status == HELD and c.at <= h.start <= a.booked_at for h in history.appointments)
        if not met_between:
            return True
    return False


def plan_messages(
    history: LeadHistory, policy: Policy, strikes: StrikeDecision, now: datetime, *, pursuing: bool = True
) -> list[PlannedMessage]:
    """Everything that should be planned for the lead now; an empty list for a lead not pursued."""
    if not pursuing:
        return []
    if strikes.nurture_since is not None:
        return _nurture_messages(history, policy, strikes)
    return [*_appointment_messages(history, policy, now), *_cancellation_messages(history, policy, now)]


def _nurture_messages(history: LeadHistory, policy: Policy, strikes: StrikeDecision) -> list[PlannedMessage]:
    since = strikes.nurture_since
    assert since is not None
    trigger = strikes.nurture_trigger
    sent = sorted(t for t in history.checkins_sent if t >= since)
    last = sent[-1] if sent else since
    return [
        PlannedMessage(f"{NURTURE_MOVE}:{trigger}", NURTURE_MOVE, since),
        PlannedMessage(
            f"{NURTURE_CHECKIN}:{trigger}:{len(sent) + 1}", NURTURE_CHECKIN, last + policy.nurture_checkin_interval
        ),
    ]


def _appointment_messages(history: LeadHistory, policy: Policy, now: datetime) -> list[PlannedMessage]:
    out = []
    for a in history.appointments:
        if a.status != SCHEDULED or a.start <= now:
            continue
        risky = a.risk is not None and a.risk >= policy.risk_confirm_threshold
        if risky:
            # Likely to fall through: confirm twice as early, first bookings too (after their follow-up).
            due = max(a.start - 2 * policy.confirmation_lead_time, a.booked_at)
            out.append(PlannedMessage(f"{CONFIRMATION}:a{a.id}", CONFIRMATION, due, appointment_id=a.id))
            if is_rebooking(a, history):
                continue
        if is_rebooking(a, history):
            due = max(a.start - policy.confirmation_lead_time, a.booked_at)
            out.append(PlannedMessage(f"{CONFIRMATION}:a{a.id}", CONFIRMATION, due, appointment_id=a.id))
        elif a.start - a.booked_at > policy.booking_followup_delay:
            due = a.booked_at + policy.booking_followup_delay
            out.append(PlannedMessage(f"{BOOKING_FOLLOWUP}:a{a.id}", BOOKING_FOLLOWUP, due, appointment_id=a.id))
    return out


def _cancellation_messages(history: LeadHistory, policy: Policy, now: datetime) -> list[PlannedMessage]:
    cancellations = [c for c in history.cancellations if c.category != NOT_INTERESTED]
    if not cancellations:
        return []
    # Only the latest cancellation is followed up: it supersedes the ones before it.
    c = max(cancellations, key=lambda x: (x.at, x.id))
    if any(a.status == HELD and c.at <= a.start <= now for a in history.appointments):
        return []
    rebooked = rebooking_of(c, history)
    if rebooked is not None and rebooked.start <= now:
        return []
    if past_follow_up(c.at, now):
        return []  # logged long after the fact: a follow-up now would be strange
    out = []
    if c.by == PROSPECT:
        due = c.at + policy.connecting_moment_delay
        if rebooked is not None:
            due = max(c.at, min(due, rebooked.start - BEFORE_NEXT_MEETING))
        out.append(PlannedMessage(f"{CONNECTING_MOMENT}:c{c.id}", CONNECTING_MOMENT, due, cancellation_id=c.id))
    if rebooked is None:
        # When the seller cancels, the offer of new times is the apology: it goes at once.
        due = c.at + policy.reschedule_offer_delay if c.by == PROSPECT else c.at
        out.append(PlannedMessage(f"{RESCHEDULE_OFFER}:c{c.id}", RESCHEDULE_OFFER, due, cancellation_id=c.id))
    return out
