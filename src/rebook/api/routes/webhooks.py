"""Webhooks: URLs that hear about events, and what was delivered to them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import Http404
from ninja import Router, Schema, Status

from rebook.api.base import MAX_LIMIT, Id, Problem, Text, checked
from rebook.webhooks import services as webhook_services
from rebook.webhooks.models import EVENTS, Delivery, Endpoint


class WebhookIn(Schema):
    url: Text = checked(..., "An http(s) address on the public internet: loopback, private and link-local targets are "
                            "refused, here and again when delivering.", max_length=500, pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://")
    events: list[Literal[EVENTS]] = []  # type: ignore[valid-type]


class WebhookOut(Schema):
    id: int
    url: str
    events: list[Text]
    active: bool
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str


class DeliveryOut(Schema):
    id: int
    event: str
    status: str
    attempts: int
    due: datetime
    last_status_code: int | None
    last_response: str
    delivered_at: datetime | None
    created_at: datetime


router = Router(tags=["webhooks"])


@router.post("", response={201: WebhookCreated, 422: Problem})
def webhook_create(request, data: WebhookIn):
    """Register a URL for events (all of them when `events` is empty). The signing secret is shown once."""
    return Status(201, webhook_services.endpoint_create(seller=request.seller, url=data.url, events=data.events))


@router.get("", response=list[WebhookOut])
def webhook_list(request):
    return list(Endpoint.objects.filter(seller=request.seller))


def _endpoint(request, webhook_id: Id) -> Endpoint:
    endpoint = Endpoint.objects.filter(seller=request.seller, pk=webhook_id).first()
    if endpoint is None:
        raise Http404(f"no webhook with id {webhook_id}")
    return endpoint


# Declared before "/{webhook_id}", whose pattern would otherwise take "events" and answer 405.
@router.get("/events", response=list[str])
def webhook_events(request):
    return list(EVENTS)


@router.delete("/{webhook_id}", response={204: None, 404: Problem})
def webhook_delete(request, webhook_id: Id):
    webhook_services.endpoint_delete(endpoint=_endpoint(request, webhook_id))
    return Status(204, None)


@router.get("/{webhook_id}/deliveries", response={200: list[DeliveryOut], 404: Problem})
def webhook_deliveries(request, webhook_id: Id, limit: int = 50):
    endpoint = _endpoint(request, webhook_id)
    return list(Delivery.objects.filter(endpoint=endpoint).order_by("-id")[: max(1, min(limit, MAX_LIMIT))])
