"""Small builders for strategy facts: a timeline in hours from a fixed instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rebook.strategy.history import CANCEL, Appointment, Cancellation, LeadHistory
from rebook.strategy.reasons import classify_reason

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


class Timeline:
    """Builds a LeadHistory step by step; ids are assigned in order of entry."""

    def __init__(self) -> None:
        self.appointments: list[Appointment] = []
        self.cancellations: list[Cancellation] = []
        self.extra: dict = {}

    def book(self, start_h: float, *, booked_h: float | None = None, status: str = "scheduled", by: str = "seller",
             rescheduled_from: int | None = None) -> int:
        aid = len(self.appointments) + 1
        booked = at(booked_h if booked_h is not None else start_h - 72)
        self.appointments.append(
            Appointment(aid, at(start_h), at(start_h + 1), status, min(booked, at(start_h)), by, rescheduled_from)
        )
        return aid

    def cancel(self, aid: int, reason: str = "", *, by: str = "prospect", at_h: float | None = None,
               kind: str = CANCEL, valid: bool | None = None) -> int:
        appt = self.appointments[aid - 1]
        verdict = classify_reason(reason)
        when = at(at_h) if at_h is not None else appt.start - timedelta(hours=30)
        cid = len(self.cancellations) + 1
        self.cancellations.append(
            Cancellation(cid, aid, by, kind, when, appt.start, verdict.category, verdict.valid if valid is None else valid)
        )
        status = {"cancel": "cancelled", "reschedule": "rescheduled", "no_show": "no_show"}[kind]
        self.appointments[aid - 1] = Appointment(
            appt.id, appt.start, appt.end, status, appt.booked_at, appt.booked_by, appt.rescheduled_from
        )
        return cid

    def history(self, **extra) -> LeadHistory:
        return LeadHistory(1, tuple(self.appointments), tuple(self.cancellations), **(self.extra | extra))
