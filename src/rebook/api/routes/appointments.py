"""Appointments: book, list, and what happens to them (cancelled, moved, held, missed)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any, Literal

from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from rebook.api.base import TIME_RULE, Cursor, Id, Problem, Text, aware, checked, owned, page
from rebook.api.routes.cancellations import CancellationOut
from rebook.api.routes.leads import ERRORS, LeadOut
from rebook.calendars.busy import clashes
from rebook.forecast.services import risks
from rebook.leads import selectors, services
from rebook.leads.models import Appointment, Cancellation, Lead

AppointmentStatus = Literal[tuple(Appointment.Status.values)]


class AppointmentIn(Schema):
    lead_id: Id
    start: datetime = checked(..., TIME_RULE)
    end: datetime | None = checked(None, "After `start`, at most a day later. " + TIME_RULE)
    duration_minutes: int = Field(45, ge=1, le=24 * 60)
    location: Text = Field("", max_length=300)
    booked_by: Literal["seller", "prospect"] = "seller"


class RiskOut(Schema):
    """How likely a meeting still ahead is to be cancelled or missed (calibrated), and the strongest reasons.
    Absent while there is too little history to forecast."""

    probability: float
    level: Literal["low", "medium", "high"]
    reasons: list[str]


class AppointmentOut(Schema):
    id: int
    lead_id: Id
    start: datetime
    end: datetime
    timezone: str
    location: str
    status: str
    booked_at: datetime
    booked_by: str
    rescheduled_from_id: int | None
    chain: str
    channel: Literal["seller", "self_service", "email", "calendar"]
    risk: RiskOut | None = None
    # When it was just booked or moved by the seller: what in their connected calendars it overlaps.
    clashes: list[str] = []

    @staticmethod
    def resolve_clashes(obj) -> list[str]:
        return getattr(obj, "clashes", [])

    @staticmethod
    def resolve_chain(obj) -> str:
        return str(obj.chain)

    @staticmethod
    def resolve_risk(obj) -> dict | None:
        found = getattr(obj, "risk_info", None)
        return found.as_dict() if found else None


class AppointmentPage(Schema):
    items: list[AppointmentOut]
    next_cursor: Cursor | None


class CancelIn(Schema):
    by: Literal["prospect", "seller"]
    reason: Text = ""
    valid: bool | None = None
    at: datetime | None = checked(None, "When it was called off (now if left out), not in the future. " + TIME_RULE)


class RescheduleIn(CancelIn):
    to: datetime = checked(..., "The new start, not the present one. " + TIME_RULE)


class Outcome(Schema):
    cancellation: CancellationOut
    lead: LeadOut
    appointment: AppointmentOut | None = None


router = Router(tags=["appointments"])


@router.post("", response={201: AppointmentOut, **ERRORS})
def appointment_book(request, data: AppointmentIn):
    seller = request.seller
    lead = owned(selectors.lead_get, seller=seller, lead_id=data.lead_id)
    start = aware(data.start, seller, "start")
    end = aware(data.end, seller, "end") if data.end else start + timedelta(minutes=data.duration_minutes)
    appointment = services.appointment_book(lead=lead, start=start, end=end, location=data.location,
                                            booked_by=data.booked_by, timezone_name=seller.timezone)
    appointment.clashes = clashes(seller, appointment.start, appointment.end)
    return Status(201, appointment)


@router.get("", response={200: AppointmentPage, 400: Problem, 422: Problem})
def appointment_list(request, lead_id: Id | None = None, status: AppointmentStatus | None = None, cursor: Cursor | None = None,
                     limit: int = 50):
    result = page(selectors.appointment_list(seller=request.seller, lead_id=lead_id, status=status), cursor, limit)
    _with_risk(result["items"], request.seller)
    return result


def _with_risk(rows: list[Appointment], seller) -> None:
    now = timezone.now()
    ahead = [a for a in rows if a.status == Appointment.Status.SCHEDULED and a.start > now]
    found = risks(ahead, seller) if ahead else {}
    for a in rows:
        a.risk_info = found.get(a.pk)


@router.get("/{appointment_id}", response={200: AppointmentOut, 404: Problem})
def appointment_read(request, appointment_id: Id):
    appointment = owned(selectors.appointment_get, seller=request.seller, appointment_id=appointment_id)
    _with_risk([appointment], request.seller)
    return appointment


def outcome(c: Cancellation, moved: Appointment | None = None) -> dict:
    c.refresh_from_db()
    return {"cancellation": c, "lead": Lead.objects.get(pk=c.lead_id), "appointment": moved}


@router.post("/{appointment_id}/cancel", response={200: Outcome, **ERRORS})
def appointment_cancel(request, appointment_id: Id, data: CancelIn):
    appointment = owned(selectors.appointment_get, seller=request.seller, appointment_id=appointment_id)
    c = services.appointment_cancel(appointment=appointment, by=data.by, reason=data.reason, valid=data.valid,
                                    at=aware(data.at, request.seller, "at"))
    return outcome(c)


@router.post("/{appointment_id}/reschedule", response={200: Outcome, **ERRORS})
def appointment_reschedule(request, appointment_id: Id, data: RescheduleIn):
    appointment = owned(selectors.appointment_get, seller=request.seller, appointment_id=appointment_id)
    c, moved = services.appointment_reschedule(appointment=appointment, to=aware(data.to, request.seller, "to"), by=data.by,
                                               reason=data.reason, valid=data.valid, at=aware(data.at, request.seller, "at"))
    if moved is not None:
        moved.clashes = clashes(request.seller, moved.start, moved.end)
    return outcome(c, moved)


@router.post("/{appointment_id}/held", response={200: AppointmentOut, **ERRORS})
def appointment_held(request, appointment_id: Id):
    appointment = owned(selectors.appointment_get, seller=request.seller, appointment_id=appointment_id)
    return services.appointment_mark_held(appointment=appointment)


@router.post("/{appointment_id}/no-show", response={200: Outcome, **ERRORS})
def appointment_no_show(request, appointment_id: Id):
    appointment = owned(selectors.appointment_get, seller=request.seller, appointment_id=appointment_id)
    return outcome(services.appointment_mark_no_show(appointment=appointment))


@router.get("/{appointment_id}/freed", response={200: list[dict[str, Any]], **ERRORS})
def appointment_freed(request, appointment_id: Id):
    appointment = owned(selectors.appointment_get, seller=request.seller, appointment_id=appointment_id)
    return [asdict(s) for s in selectors.freed(appointment=appointment, now=timezone.now())]
