"""Posting one webhook delivery, signed. Called by the worker only."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import datetime

from rebook import __version__
from rebook.webhooks.models import Delivery
from rebook.webhooks.services import body_of, sign

TIMEOUT = 10


def post(delivery: Delivery, *, now: datetime) -> tuple[int | None, str]:
    """(HTTP status, first part of the response) or (None, why it could not be delivered)."""
    body = body_of(delivery)
    timestamp = int(now.timestamp())
    request = urllib.request.Request(delivery.endpoint.url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": f"Rebook-Webhooks/{__version__}",
        "Rebook-Event": delivery.event,
        "Rebook-Delivery": str(delivery.pk),
        "Rebook-Timestamp": str(timestamp),
        "Rebook-Signature": sign(delivery.endpoint.secret, timestamp, body),
    })
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 (the seller's own URL)
            return response.status, response.read(500).decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read(500).decode(errors="replace")
    except (urllib.error.URLError, OSError) as e:
        return None, f"{type(e).__name__}: {getattr(e, 'reason', e)}"
