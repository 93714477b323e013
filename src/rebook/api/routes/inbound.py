"""Inbound: a booking tool posts a cancellation or a reschedule, signed like outgoing webhooks."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

from django.http import Http404
from django.utils import timezone
from ninja import Router, Schema
from pydantic import Field

from rebook.api.base import TIME_RULE, Id, Problem, Text, aware, checked, problem
from rebook.api.models import InboundHook
from rebook.api.routes.appointments import Outcome, outcome
from rebook.errors import RebookError
from rebook.leads import services
from rebook.leads.models import Appointment
from rebook.webhooks import services as webhook_services


class InboundIn(Schema):
    event: Literal["cancelled", "rescheduled"]
    appointment_id: Id | None = None
    uid: Text | None = Field(None, max_length=500)
    email: Text | None = Field(None, max_length=254)
    start: datetime | None = checked(None, TIME_RULE)
    new_start: datetime | None = checked(None, "Needed for `rescheduled`. " + TIME_RULE)
    by: Literal["prospect", "seller"] = "prospect"
    reason: Text = ""


router = Router(tags=["inbound"])


# The body is read by hand (the signature covers its exact bytes); the document still says what it holds.
BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": InboundIn.model_json_schema()}}}}


@router.post("/{token}", auth=None, response={200: Outcome, 401: Problem, 404: Problem, 422: Problem},
             openapi_extra=BODY)
def inbound_event(request, token: str):
    """Signed like outgoing webhooks (Rebook-Timestamp, Rebook-Signature over "timestamp.body")."""
    hook = InboundHook.objects.select_related("seller").filter(token=token).first()
    if hook is None or not token:
        raise Http404("no such inbound URL")
    try:
        webhook_services.verify(hook.secret, request.headers.get("Rebook-Timestamp", ""),
                                request.headers.get("Rebook-Signature", ""), request.body, timezone.now())
    except RebookError as e:
        return problem(request, 401, "bad-signature", "Signature refused", str(e))
    try:
        data = InboundIn.model_validate(json.loads(request.body or b"{}"))
    except (ValueError, json.JSONDecodeError) as e:
        return problem(request, 422, "validation", "Invalid request", str(e)[:500])
    seller = hook.seller
    appointment = _inbound_appointment(seller, data)
    if data.event == "cancelled":
        c = services.appointment_cancel(appointment=appointment, by=data.by, reason=data.reason)
        return outcome(c)
    if data.new_start is None:
        raise RebookError("new_start: needed for a reschedule")
    c, moved = services.appointment_reschedule(appointment=appointment, to=aware(data.new_start, seller, "new_start"), by=data.by,
                                               reason=data.reason)
    return outcome(c, moved)


def _inbound_appointment(seller, data: InboundIn) -> Appointment:
    rows = Appointment.objects.filter(seller=seller, status=Appointment.Status.SCHEDULED).select_related("lead")
    if data.appointment_id is not None:
        found = rows.filter(pk=data.appointment_id).first()
    elif data.uid:
        found = rows.filter(ical_uid=data.uid).order_by("-id").first()
    elif data.email and data.start:
        found = rows.filter(lead__email__iexact=data.email, start=aware(data.start, seller, "start")).first()
    else:
        raise RebookError("say which appointment: appointment_id, uid, or email and start")
    if found is None:
        raise Http404("no scheduled appointment matches")
    return found
