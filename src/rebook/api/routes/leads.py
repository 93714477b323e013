"""Leads: create, read, change, and the steps of their pursuit."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.db.models import Q
from ninja import Router, Schema, Status
from pydantic import Field

from rebook.api.base import TIME_RULE, Cursor, Id, NonBlank, Problem, Text, aware, checked, owned, page
from rebook.leads import selectors, services
from rebook.leads.models import Lead

LeadStatus = Literal[tuple(Lead.Status.values)]
ERRORS = {404: Problem, 409: Problem, 422: Problem}


class LeadIn(Schema):
    name: NonBlank = Field(min_length=1, max_length=200)
    email: Text = checked("", "A deliverable-looking address (checked as the contact import does), or empty.", max_length=254)
    phone: Text = checked("", "A number `phonenumbers` can read (in your region when it has no country code), or empty.", max_length=50)
    company: Text = Field("", max_length=200)
    source: Text = Field("", max_length=200)
    notes: Text = ""
    timezone: Text = checked("", "An IANA time zone such as Europe/Paris, or empty for yours.", max_length=64)


class LeadPatch(Schema):
    name: NonBlank | None = Field(None, min_length=1, max_length=200)
    email: Text | None = checked(None, "A deliverable-looking address (checked as the contact import does), or empty.", max_length=254)
    phone: Text | None = checked(None, "A number `phonenumbers` can read (in your region when it has no country code), or empty.", max_length=50)
    company: Text | None = Field(None, max_length=200)
    source: Text | None = Field(None, max_length=200)
    notes: Text | None = None
    timezone: Text | None = checked(None, "An IANA time zone such as Europe/Paris, or empty for yours.", max_length=64)


class LeadOut(Schema):
    id: int
    name: str
    company: str
    email: str
    phone: str
    source: str
    notes: str
    timezone: str
    status: str
    strikes: int
    nurture_since: datetime | None
    nurture_reason: str
    created_at: datetime


class LeadPage(Schema):
    items: list[LeadOut]
    next_cursor: Cursor | None


class ReasonIn(Schema):
    reason: Text = ""


class QualifyIn(Schema):
    notes: Text = ""


class StatusIn(Schema):
    status: Literal["won", "lost", "do_not_contact"]


class ActivityIn(Schema):
    kind: Literal["call", "email", "text", "meeting", "note"] = "call"
    direction: Literal["outbound", "inbound"] = "outbound"
    at: datetime | None = checked(None, "When it happened, not in the future. " + TIME_RULE)
    notes: Text = ""


class ActivityOut(Schema):
    id: int
    lead_id: Id
    kind: str
    direction: str
    at: datetime
    notes: str


router = Router(tags=["leads"])
@router.post("", response={201: LeadOut, 422: Problem})
def lead_create(request, data: LeadIn):
    lead = services.lead_create(seller=request.seller, name=data.name, email=data.email, phone=data.phone,
                                company=data.company, source=data.source, notes=data.notes,
                                timezone_name=data.timezone)
    return Status(201, lead)


@router.get("", response={200: LeadPage, 400: Problem, 422: Problem})
def lead_list(request, status: LeadStatus | None = None, source: Text | None = None, q: Text | None = None,
              cursor: Cursor | None = None, limit: int = 50):
    rows = selectors.lead_list(seller=request.seller, status=status)
    if source:
        rows = rows.filter(source=source)
    if q:
        rows = rows.filter(Q(name__icontains=q) | Q(company__icontains=q) | Q(email__icontains=q))
    return page(rows, cursor, limit)


@router.get("/{lead_id}", response={200: LeadOut, 404: Problem})
def lead_read(request, lead_id: Id):
    return owned(selectors.lead_get, seller=request.seller, lead_id=lead_id)


@router.patch("/{lead_id}", response={200: LeadOut, **ERRORS})
def lead_update(request, lead_id: Id, data: LeadPatch):
    lead = owned(selectors.lead_get, seller=request.seller, lead_id=lead_id)
    changes = {k: v for k, v in data.dict(exclude_unset=True).items() if v is not None}
    return services.lead_update(lead=lead, **changes) if changes else lead


@router.post("/{lead_id}/not-interested", response={200: LeadOut, **ERRORS})
def lead_not_interested(request, lead_id: Id, data: ReasonIn):
    lead = owned(selectors.lead_get, seller=request.seller, lead_id=lead_id)
    return services.lead_not_interested(lead=lead, reason=data.reason)


@router.post("/{lead_id}/reactivate", response={200: LeadOut, **ERRORS})
def lead_reactivate(request, lead_id: Id):
    lead = owned(selectors.lead_get, seller=request.seller, lead_id=lead_id)
    return services.lead_reactivate(lead=lead)


@router.post("/{lead_id}/qualify", response={200: LeadOut, **ERRORS})
def lead_qualify(request, lead_id: Id, data: QualifyIn):
    lead = owned(selectors.lead_get, seller=request.seller, lead_id=lead_id)
    return services.lead_qualify(lead=lead, notes=data.notes)


@router.post("/{lead_id}/status", response={200: LeadOut, **ERRORS})
def lead_set_status(request, lead_id: Id, data: StatusIn):
    lead = owned(selectors.lead_get, seller=request.seller, lead_id=lead_id)
    return services.lead_set_status(lead=lead, status=data.status)


@router.post("/{lead_id}/activities", response={201: ActivityOut, **ERRORS})
def lead_log(request, lead_id: Id, data: ActivityIn):
    lead = owned(selectors.lead_get, seller=request.seller, lead_id=lead_id)
    activity = services.activity_log(lead=lead, kind=data.kind, direction=data.direction,
                                     at=aware(data.at, request.seller, "at"), notes=data.notes)
    return Status(201, activity)
