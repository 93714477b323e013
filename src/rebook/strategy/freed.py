"""Freed time: when a meeting is cancelled, what is the best use of the slot?"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rebook.strategy.history import SCHEDULED, LeadHistory

# A lead who cancelled and has not heard from the seller for this long is overdue a follow-up.
OVERDUE_AFTER = timedelta(days=2)
# Nurture check-ins due within this long after the slot are worth doing early.
CHECKIN_AHEAD = timedelta(days=7)
MAX_SUGGESTIONS = 10


@dataclass(frozen=True)
class Candidate:
    lead_id: int
    name: str
    status: str
    last_touch: datetime | None  # the latest contact, booking or cancellation
    open_cancellation_at: datetime | None = None  # cancelled and not rebooked since
    next_appointment: datetime | None = None
    next_checkin: datetime | None = None


@dataclass(frozen=True)
class Suggestion:
    lead_id: int
    name: str
    action: str  # "follow_up", "nurture_checkin" or "book"
    reason: str


def _ago(now: datetime, then: datetime) -> str:
    days = (now - then).days
    return "today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"


def freed_time(candidates: list[Candidate], slot_end: datetime, now: datetime) -> list[Suggestion]:
    """Rank: overdue follow-ups first, then nurture check-ins coming due, then leads with nothing booked.

    Leads with nothing booked come qualified first, then by the most recent contact: the warmest first.
    """
    follow, checkin, book = [], [], []
    for c in candidates:
        if c.status == "nurture":
            if c.next_checkin is not None and c.next_checkin <= slot_end + CHECKIN_AHEAD:
                reason = f"Nurture check-in due {c.next_checkin:%Y-%m-%d}: a friendly hello, no pressure."
                checkin.append((c.next_checkin, c, reason))
            continue
        if c.status not in ("new", "qualified", "active") or c.next_appointment is not None:
            continue
        if c.open_cancellation_at is not None and (c.last_touch is None or now - c.last_touch >= OVERDUE_AFTER):
            reason = f"Cancelled {_ago(now, c.open_cancellation_at)} and not rebooked: call to offer new times."
            follow.append((c.open_cancellation_at, c, reason))
        elif c.open_cancellation_at is None:
            label = {"qualified": "qualified", "new": "new lead"}.get(c.status, "active")
            reason = f"{label.capitalize()} with no meeting booked: call to book one."
            recency = -(c.last_touch.timestamp() if c.last_touch else 0.0)
            book.append((recency, c, reason))
    out = [Suggestion(c.lead_id, c.name, "follow_up", r) for _, c, r in sorted(follow, key=lambda x: x[0])]
    out += [Suggestion(c.lead_id, c.name, "nurture_checkin", r) for _, c, r in sorted(checkin, key=lambda x: x[0])]
    rank = {"qualified": 0, "active": 1, "new": 2}
    out += [
        Suggestion(c.lead_id, c.name, "book", r)
        for _, c, r in sorted(book, key=lambda x: (rank[x[1].status], x[0], x[1].lead_id))
    ]
    return out[:MAX_SUGGESTIONS]


@dataclass(frozen=True)
class Touchpoints:
    """What freed-time suggestions need from a lead's history, kept on the lead so that finding
    candidates among thousands of leads is one indexed query, not a walk through every history."""

    last_touch: datetime | None  # the latest contact, booking or cancellation
    open_cancellation_at: datetime | None  # the latest cancellation, if nothing was booked after it
    scheduled_until: datetime | None  # the start of the latest meeting still scheduled


def touchpoints(history: LeadHistory) -> Touchpoints:
    last_activity = max((c.at for c in history.contacts), default=None)
    last_booked = max((a.booked_at for a in history.appointments), default=None)
    last_cancel = max((c.at for c in history.cancellations), default=None)
    moments = [t for t in (last_activity, last_booked, last_cancel) if t is not None]
    open_cancel = last_cancel if last_cancel and (last_booked is None or last_booked < last_cancel) else None
    scheduled = max((a.start for a in history.appointments if a.status == SCHEDULED), default=None)
    return Touchpoints(max(moments) if moments else None, open_cancel, scheduled)
