"""Posting one webhook delivery, signed. Called by the worker only.

Redirects are not followed and the answer's body is never kept: a delivery records the status and a
short note of Rebook's own words, so a webhook cannot be used to read pages inside the network.
"""

from __future__ import annotations

import http.client
from datetime import datetime
from http import HTTPStatus
from urllib.parse import urlsplit

from rebook import __version__
from rebook.webhooks.models import Delivery
from rebook.webhooks.services import body_of, sign
from rebook.webhooks.targets import TargetRefused, guarded_connection

TIMEOUT = 10


def _note(status: int) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "unknown status"
    note = f"HTTP {status} {phrase}"
    if 300 <= status < 400:
        note += " (redirects are not followed)"
    return note


def post(delivery: Delivery, *, now: datetime) -> tuple[int | None, str]:
    """(HTTP status, a note) or (None, why it could not be delivered)."""
    body = body_of(delivery)
    timestamp = int(now.timestamp())
    parts = urlsplit(delivery.endpoint.url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return None, "not an http(s) address"
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=TIMEOUT)
    connection._create_connection = guarded_connection  # connect only to addresses that pass the check
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers={
            "Content-Type": "application/json",
            "User-Agent": f"Rebook-Webhooks/{__version__}",
            "Rebook-Event": delivery.event,
            "Rebook-Delivery": str(delivery.pk),
            "Rebook-Timestamp": str(timestamp),
            "Rebook-Signature": sign(delivery.endpoint.secret, timestamp, body),
        })
        response = connection.getresponse()
        response.read(64 * 1024)  # drained, bounded, and never stored
        return response.status, _note(response.status)
    except TargetRefused as e:
        return None, f"refused: {e}"[:200]
    except (OSError, http.client.HTTPException) as e:
        return None, f"could not deliver: {getattr(e, 'strerror', None) or type(e).__name__}"
    finally:
        connection.close()
