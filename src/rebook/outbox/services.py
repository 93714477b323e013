"""Writes for the outbox. Planning is a reconciliation: the strategy says what should be planned now,
and this makes the table agree, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction

from rebook.leads.models import Lead
from rebook.outbox.models import PlannedMessage
from rebook.strategy.followups import PlannedMessage as Plan

Status = PlannedMessage.Status


@transaction.atomic
def messages_reconcile(
    *, lead: Lead, desired: Iterable[Plan], auto_send: bool, withdraw_note: str, now: datetime
) -> list[PlannedMessage]:
    """Add what is newly wanted, re-time what moved, withdraw what is no longer wanted.

    Sent, failed, in-flight and discarded messages are history (or the seller's decision) and are
    never touched; a withdrawn message that is wanted again comes back.
    """
    existing = {m.key: m for m in lead.messages.all()}
    wanted = {p.key: p for p in desired}
    fresh = Status.SCHEDULED if auto_send else Status.REVIEW
    created, changed = [], []
    for key, plan in wanted.items():
        message = existing.get(key)
        if message is None:
            created.append(
                PlannedMessage(
                    lead=lead,
                    kind=plan.kind,
                    key=key,
                    appointment_id=plan.appointment_id,
                    cancellation_id=plan.cancellation_id,
                    due=plan.due,
                    status=fresh,
                    created_at=now,
                )
            )
        elif message.status == Status.WITHDRAWN:
            message.status, message.status_note, message.due = fresh, "", plan.due
            changed.append(message)
        elif message.status in PlannedMessage.PENDING and message.due != plan.due:
            message.due = plan.due
            changed.append(message)
    for key, message in existing.items():
        if key not in wanted and message.status in PlannedMessage.PENDING:
            message.status, message.status_note = Status.WITHDRAWN, withdraw_note
            changed.append(message)
    PlannedMessage.objects.bulk_create(created)
    for message in changed:
        message.updated_at = now
    PlannedMessage.objects.bulk_update(changed, ["status", "status_note", "due", "updated_at"])
    return created + changed
