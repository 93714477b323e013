"""A lead's history as plain facts: what the strategy reads. Built by the Django services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

SELLER = "seller"
PROSPECT = "prospect"

# Appointment statuses
SCHEDULED = "scheduled"
CANCELLED = "cancelled"
RESCHEDULED = "rescheduled"
HELD = "held"
NO_SHOW = "no_show"

# Cancellation kinds
CANCEL = "cancel"
RESCHEDULE = "reschedule"
MISSED = "no_show"


@dataclass(frozen=True)
class Appointment:
    id: int
    start: datetime
    end: datetime
    status: str
    booked_at: datetime
    booked_by: str = SELLER
    rescheduled_from: int | None = None
    risk: float | None = None  # the forecast's chance it is cancelled or missed, while it is ahead


@dataclass(frozen=True)
class Cancellation:
    id: int
    appointment_id: int
    by: str
    kind: str
    at: datetime
    start: datetime
    category: str
    valid: bool

    @property
    def notice(self) -> timedelta:
        return self.start - self.at


@dataclass(frozen=True)
class Contact:
    at: datetime
    direction: str  # "outbound" (the seller reached out) or "inbound"


@dataclass(frozen=True)
class LeadHistory:
    lead_id: int
    appointments: tuple[Appointment, ...] = ()
    cancellations: tuple[Cancellation, ...] = ()
    contacts: tuple[Contact, ...] = ()
    not_interested_at: datetime | None = None
    reactivated_at: datetime | None = None
    checkins_sent: tuple[datetime, ...] = ()

    def appointment(self, appointment_id: int) -> Appointment | None:
        return next((a for a in self.appointments if a.id == appointment_id), None)
