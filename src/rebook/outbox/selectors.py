"""Reads for the outbox: one message, and what it would look like if it went out now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import formataddr

from rebook.errors import RebookError
from rebook.outbox.compose import Composed, compose
from rebook.outbox.mail import one_line
from rebook.outbox.models import SELLER_NOTICE, PlannedMessage
from rebook.sellers.models import Seller


def message_get(*, seller: Seller, message_id: int) -> PlannedMessage:
    message = (
        PlannedMessage.objects.select_related("lead__seller__user", "appointment", "cancellation__appointment")
        .filter(seller=seller, pk=message_id)
        .first()
    )
    if message is None:
        raise RebookError(f"no message with id {message_id}")
    return message


@dataclass(frozen=True)
class Preview:
    to: str
    composed: Composed


def message_preview(message: PlannedMessage, *, now: datetime) -> Preview:
    lead = message.lead
    if message.kind == SELLER_NOTICE:  # to the seller, about the lead
        seller = lead.seller
        return Preview(formataddr((one_line(seller.name), seller.email)) if seller.email else "", compose(message, now))
    to = formataddr((one_line(lead.name), message.to_email or lead.email)) if (message.to_email or lead.email) else ""
    return Preview(to, compose(message, now))
