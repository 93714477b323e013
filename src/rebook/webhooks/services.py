"""Webhook writes: register endpoints, enqueue deliveries (in the caller's transaction), and the worker's
claim and outcome records. Signing is documented in docs/api.md: HMAC-SHA256 over "timestamp.body".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from rebook.claims import backoff, claim_one
from rebook.errors import RebookError
from rebook.remembered import Remembered
from rebook.sellers.models import Seller
from rebook.webhooks.models import EVENTS, Delivery, Endpoint
from rebook.webhooks.targets import check_url

REPLAY_WINDOW = timedelta(minutes=5)
MAX_ATTEMPTS = 10


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


def verify(secret: str, timestamp_header: str, signature_header: str, body: bytes, now: datetime) -> None:
    """Raise RebookError unless the signature matches and the timestamp is within the replay window."""
    try:
        timestamp = int(timestamp_header)
    except (TypeError, ValueError):
        raise RebookError("Rebook-Timestamp: missing or not a Unix time") from None
    if abs(now.timestamp() - timestamp) > REPLAY_WINDOW.total_seconds():
        raise RebookError("Rebook-Timestamp: outside the 5-minute window (a replay, or a clock that is off)")
    expected = sign(secret, timestamp, body)
    given = (signature_header or "").split(",")
    if not any(hmac.compare_digest(expected, g.strip()) for g in given):
        raise RebookError("Rebook-Signature: does not match")


@transaction.atomic
def endpoint_create(*, seller: Seller, url: str, events: list[str] | None = None, now: datetime | None = None) -> Endpoint:
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise RebookError(f"url: {url!r} is not an http(s) address") from None
    check_url(url)
    unknown = [e for e in events or [] if e not in EVENTS]
    if unknown:
        raise RebookError(f"events: unknown {', '.join(unknown)}; events: {', '.join(EVENTS)}")
    return Endpoint.objects.create(seller=seller, url=url, events=list(events or []), secret=secrets.token_hex(32),
                                   created_at=now or timezone.now())


@transaction.atomic
def endpoint_delete(*, endpoint: Endpoint) -> None:
    endpoint.delete()


# Inside ``endpoints_remembered()``, each seller's endpoints are read once (an import emits an event for each
# of thousands of changes; endpoints registered meanwhile get the events from the next import on).
_memo = Remembered("rebook_webhook_endpoints")
endpoints_remembered = _memo.block


def _endpoints(seller_id: int) -> list[Endpoint]:
    return _memo.get(seller_id, lambda: list(Endpoint.objects.filter(seller_id=seller_id, active=True)))


def emit(*, seller_id: int, event: str, data: dict | Callable[[], dict], now: datetime | None = None) -> int:
    """Queue the event for every endpoint that wants it, in the caller's transaction."""
    return emit_many(seller_id=seller_id, events=[(event, data)], now=now)


def emit_many(*, seller_id: int, events: list[tuple[str, dict | Callable[[], dict]]], now: datetime | None = None) -> int:
    """Queue several events (name, data) of one seller, in order, with one look at the endpoints. The data
    may be a function that makes it: called only for an event an endpoint wants."""
    if not events:
        return 0
    for event, _ in events:
        assert event in EVENTS, event
    endpoints = _endpoints(seller_id)
    if not endpoints:  # most sellers: nothing to make or look through
        return 0
    events = [(event, data() if callable(data) else data) for event, data in events
              if any(not e.events or event in e.events for e in endpoints)]
    if not events:
        return 0
    now = now or timezone.now()
    deliveries = [
        Delivery(endpoint=e, event=event, payload={"event": event, "created_at": now.isoformat(), "data": data},
                 due=now, created_at=now)
        for event, data in events for e in endpoints if not e.events or event in e.events
    ]
    Delivery.objects.bulk_create(deliveries)
    return len(deliveries)


def delivery_claim(*, worker: str, now: datetime, lease: timedelta) -> Delivery | None:
    ready = (Q(status=Delivery.Status.SENDING, lease_until__lt=now), Q(status=Delivery.Status.SCHEDULED, due__lte=now))
    pk = claim_one(Delivery, ready, ("due", "id"), status=Delivery.Status.SENDING, claimed_by=worker,
                   lease_until=now + lease, attempts=F("attempts") + 1)
    return None if pk is None else Delivery.objects.select_related("endpoint").get(pk=pk)


def delivery_record(*, delivery: Delivery, worker: str, now: datetime, status_code: int | None, response: str) -> None:
    """2xx is delivered; anything else is retried with backoff, and failed after MAX_ATTEMPTS."""
    changes: dict = {"claimed_by": "", "lease_until": None, "last_status_code": status_code,
                     "last_response": response[:500]}
    if status_code is not None and 200 <= status_code < 300:
        changes |= {"status": Delivery.Status.DELIVERED, "delivered_at": now}
    elif delivery.attempts >= MAX_ATTEMPTS:
        changes |= {"status": Delivery.Status.FAILED}
    else:
        changes |= {"status": Delivery.Status.SCHEDULED, "due": now + backoff(delivery.attempts)}
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING, claimed_by=worker).update(**changes)


def body_of(delivery: Delivery) -> bytes:
    return json.dumps({"id": delivery.pk, **delivery.payload}, separators=(",", ":"), sort_keys=True).encode()
