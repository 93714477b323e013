"""Reads for the outbox: one message, and what it would look like if it went out now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import formataddr

from django.db import connection

from rebook.errors import RebookError
from rebook.outbox.compose import Composed, compose
from rebook.outbox.mail import one_line
from rebook.outbox.models import SELLER_NOTICE, PlannedMessage
from rebook.sellers.models import Seller


def waiting_sql(seller: Seller, status: str) -> tuple[str, list]:
    """How many of the seller's messages are in ``status``, as a scalar subquery (SQL, params) for a page's
    ``change_stamp``: Today's count of messages to review, and of those that failed."""
    return f"SELECT COUNT(*) FROM {PlannedMessage._meta.db_table} WHERE seller_id = %s AND status = %s", [seller.pk, status]


def any_news_sql(seller: Seller, since: datetime) -> tuple[str, list]:
    """1 if a note to the seller about what a prospect did (``seller_notice``) was made since ``since``, else 0,
    as a scalar subquery (SQL, params) for a page's ``change_stamp``: Today reads the notes only then."""
    return (f"SELECT COUNT(*) FROM (SELECT 1 FROM {PlannedMessage._meta.db_table} WHERE seller_id = %s AND kind = %s "
            "AND created_at >= %s LIMIT 1) AS any_news",
            [seller.pk, SELLER_NOTICE, connection.ops.adapt_datetimefield_value(since)])


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
