"""The outbox: planned messages, read as they will go out, edited, approved, retried, discarded."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.utils import timezone
from ninja import Router, Schema
from pydantic import Field

from rebook.api.base import Cursor, Id, NonBlank, Problem, Text, owned, page
from rebook.outbox import services as outbox_services
from rebook.outbox.models import PlannedMessage
from rebook.outbox.selectors import message_get, message_preview

MessageStatus = Literal[tuple(PlannedMessage.Status.values)]
ERRORS = {404: Problem, 409: Problem, 422: Problem}


class MessageOut(Schema):
    id: int
    lead_id: Id
    kind: str
    due: datetime
    status: str
    note: str
    subject: str
    attempts: int
    last_error: str
    sent_at: datetime | None


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: Cursor | None


router = Router(tags=["outbox"])


@router.get("", response={200: MessagePage, 400: Problem, 422: Problem})
def message_list(request, status: MessageStatus | None = None, cursor: Cursor | None = None, limit: int = 50):
    rows = PlannedMessage.objects.filter(seller=request.seller)
    if status:
        rows = rows.filter(status=status)
    return page(rows, cursor, limit)


def _message(request, message_id: Id) -> PlannedMessage:
    return owned(message_get, seller=request.seller, message_id=message_id)


class MessageFull(MessageOut):
    to: str
    body: str
    html: str
    attachments: list[str]
    calendar: str | None


class MessageEdit(Schema):
    subject: NonBlank | None = Field(None, max_length=300)
    body: NonBlank | None = None
    html: Text | None = None


def _full(message: PlannedMessage) -> dict:
    preview = message_preview(message, now=timezone.now())
    composed = preview.composed
    basics = {f: getattr(message, f) for f in ("id", "lead_id", "kind", "due", "status", "attempts", "last_error", "sent_at")}
    return {
        **basics, "note": message.status_note, "subject": composed.subject, "to": preview.to, "body": composed.text,
        "html": composed.html, "attachments": [a.name for a in composed.attachments],
        "calendar": composed.calendar.method if composed.calendar else None,
    }


@router.get("/{message_id}", response={200: MessageFull, 404: Problem})
def message_read(request, message_id: Id):
    """The message as it will go out (or went): recipient, subject, both bodies, attachments."""
    return _full(_message(request, message_id))


@router.patch("/{message_id}", response={200: MessageFull, **ERRORS})
def message_edit(request, message_id: Id, data: MessageEdit):
    message = outbox_services.message_edit(message=_message(request, message_id), subject=data.subject,
                                           body=data.body, html=data.html)
    return _full(message)


@router.post("/{message_id}/approve", response={200: MessageOut, **ERRORS})
def message_approve(request, message_id: Id):
    return outbox_services.message_approve(message=_message(request, message_id))


@router.post("/{message_id}/retry", response={200: MessageOut, **ERRORS})
def message_retry(request, message_id: Id):
    """Try again now: a message waiting for its next attempt after a temporary failure, or a failed one."""
    return outbox_services.message_retry(message=_message(request, message_id))


@router.post("/{message_id}/discard", response={200: MessageOut, **ERRORS})
def message_discard(request, message_id: Id):
    return outbox_services.message_discard(message=_message(request, message_id))
