"""Writes for the outbox. Planning is a reconciliation: the strategy says what should be planned now,
and this makes the table agree, in the caller's transaction."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.html import linebreaks

from rebook.claims import backoff
from rebook.errors import Conflict, RebookError
from rebook.leads.models import Lead
from rebook.outbox.mail import from_address, message_id_for
from rebook.outbox.models import SELLER_NOTICE, MessageTemplate, PlannedMessage
from rebook.sellers.models import Seller
from rebook.strategy.followups import MESSAGE_KINDS
from rebook.strategy.followups import PlannedMessage as Plan
from rebook.strategy.hours import DailyWindow, defer_past_quiet_hours
from rebook.writes import Writes, update_if, update_rows

Status = PlannedMessage.Status


# No savepoint: it runs inside every service's transaction, and a failure fails the whole change.
@transaction.atomic(savepoint=False)
def messages_reconcile(
    *,
    lead: Lead,
    desired: Iterable[Plan],
    auto_send: bool,
    withdraw_note: str,
    now: datetime,
    quiet: DailyWindow | None = None,
    writes: Writes | None = None,
    pending: list[PlannedMessage] | None = None,
    settled_keys: frozenset[str] | None = None,
) -> list[PlannedMessage]:
    """Add what is newly wanted, re-time what moved, withdraw what is no longer wanted.

    Sent, failed, in-flight and discarded messages are history (or the seller's decision) and are
    never touched; a withdrawn message that is wanted again comes back. Due times are moved out of the
    lead's quiet hours. With ``writes`` (gathering), the rows are written when the caller flushes it.
    ``pending`` and ``settled_keys``: from a caller that read several leads' messages at once, the lead's
    pending and withdrawn messages, and the keys of the rest (history) as plain rows.
    """
    mine = pending if pending is not None else lead.messages.all()
    existing = {m.key: m for m in mine if m.kind != SELLER_NOTICE}  # notices are not planned
    settled = settled_keys or frozenset()
    tz = lead.tz
    # Due times move out of the lead's quiet hours here, so the outbox shows when a message really goes.
    wanted = {p.key: replace(p, due=defer_past_quiet_hours(p.due, tz, quiet)) for p in desired}
    fresh = Status.SCHEDULED if auto_send else Status.REVIEW
    created, changed = [], []
    for key, plan in wanted.items():
        if key in settled:
            continue
        message = existing.get(key)
        if message is None:
            created.append(
                PlannedMessage(
                    lead=lead,
                    seller_id=lead.seller_id,
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
        elif message.status in PlannedMessage.PENDING and message.due != plan.due and not message.attempts:
            # A message waiting to retry keeps its backoff; any other follows the plan.
            message.due = plan.due
            changed.append(message)
    for key, message in existing.items():
        if key not in wanted and message.status in PlannedMessage.PENDING:
            message.status, message.status_note = Status.WITHDRAWN, withdraw_note
            changed.append(message)
    for message in changed:
        message.updated_at = now
    writes = writes or Writes()
    writes.create(PlannedMessage, created)
    writes.update(PlannedMessage, changed, ["status", "status_note", "due", "updated_at"])
    return created + changed


# --- templates -----------------------------------------------------------------------------------


@transaction.atomic
def template_save(
    *, seller: Seller, kind: str, subject: str, text: str, html: str = "", now: datetime | None = None
) -> MessageTemplate:
    """Save the seller's version of a kind of message, after checking it renders; a bad one changes nothing."""
    from rebook.outbox.compose import TemplateSource, render_source, sample_context

    _check_kind(kind)
    if not subject.strip():
        raise RebookError("subject, line 1: the subject must not be empty")
    if not text.strip():
        raise RebookError("text body, line 1: the text body must not be empty")
    render_source(TemplateSource(subject, text, html), sample_context(seller, now or timezone.now()))
    row, _ = MessageTemplate.objects.update_or_create(
        seller=seller, kind=kind, defaults={"subject": subject.strip(), "text": text, "html": html}
    )
    return row


@transaction.atomic
def template_reset(*, seller: Seller, kind: str) -> None:
    """Go back to the shipped default for one kind of message."""
    _check_kind(kind)
    MessageTemplate.objects.filter(seller=seller, kind=kind).delete()


def _check_kind(kind: str) -> None:
    if kind not in MESSAGE_KINDS:
        raise RebookError(f"unknown message kind {kind!r}; kinds: {', '.join(MESSAGE_KINDS)}")


# --- the seller's review -------------------------------------------------------------------------

EDITABLE = (Status.REVIEW, Status.SCHEDULED, Status.FAILED)


def _locked(message: PlannedMessage, allowed: Iterable[str], action: str) -> PlannedMessage:
    message = PlannedMessage.objects.select_for_update().select_related("lead__seller").get(pk=message.pk)
    if message.status not in allowed:
        why = f" ({message.status_note})" if message.status_note else ""
        raise Conflict(f"message {message.pk} is {message.status}{why}; it cannot be {action}")
    return message


def _freeze(message: PlannedMessage, now: datetime) -> None:
    if not message.frozen:
        from rebook.outbox.compose import compose

        composed = compose(message, now)
        message.subject, message.body, message.html_body = composed.subject, composed.text, composed.html
        message.frozen = True


@transaction.atomic
def message_approve(*, message: PlannedMessage, now: datetime | None = None) -> PlannedMessage:
    """The seller has read it: it goes when due (at once if that is past). A failed message is retried."""
    now = now or timezone.now()
    message = _locked(message, (Status.REVIEW, Status.FAILED), "approved")
    _freeze(message, now)
    message.status, message.status_note = Status.SCHEDULED, ""
    if message.attempts:
        message.attempts, message.last_error, message.due = 0, "", max(message.due, now)
    message.save()
    return message


@transaction.atomic
def message_retry(*, message: PlannedMessage, now: datetime | None = None) -> PlannedMessage:
    """Try again now: a message waiting for its next attempt after a temporary failure, or a failed one."""
    now = now or timezone.now()
    message = _locked(message, (Status.SCHEDULED, Status.FAILED), "retried")
    if message.status == Status.SCHEDULED and not message.last_error:
        raise Conflict(f"message {message.pk} has not failed; it goes when due ({message.due:%Y-%m-%d %H:%M} UTC)")
    if message.status == Status.FAILED:
        message.attempts = 0
    message.status, message.status_note, message.due = Status.SCHEDULED, "", now
    message.save()
    return message


@transaction.atomic
def message_discard(*, message: PlannedMessage, now: datetime | None = None) -> PlannedMessage:
    message = _locked(message, EDITABLE, "discarded")
    message.status, message.status_note = Status.DISCARDED, "discarded by the seller"
    message.save()
    return message


@transaction.atomic
def message_edit(
    *,
    message: PlannedMessage,
    subject: str | None = None,
    body: str | None = None,
    html: str | None = None,
    now: datetime | None = None,
) -> PlannedMessage:
    """Change what a message says. It keeps its status: an edited message in review still waits for approval."""
    message = _locked(message, EDITABLE, "edited")
    _freeze(message, now or timezone.now())
    if subject is not None:
        if not subject.strip():
            raise RebookError("subject: the subject must not be empty")
        message.subject = " ".join(subject.split())
    if body is not None:
        if not body.strip():
            raise RebookError("body: the message must not be empty")
        message.body = body.strip() + "\n"
        if html is None:
            # The HTML version would now say something else: rebuild it from the edited text.
            message.html_body = linebreaks(message.body.strip(), autoescape=True)
    if html is not None:
        message.html_body = html.strip()
    message.save()
    return message


# --- the worker's writes -------------------------------------------------------------------------

def message_claim(*, worker: str, now: datetime, lease: timedelta) -> PlannedMessage | None:
    """Take one due message for ``worker`` (or one whose previous worker's lease ran out)."""
    taken = messages_claim(worker=worker, now=now, lease=lease, limit=1)
    return taken[0] if taken else None


def messages_claim(*, worker: str, now: datetime, lease: timedelta, limit: int) -> list[PlannedMessage]:
    """Take up to ``limit`` due messages for ``worker`` in one transaction, oldest due first.

    The rows are picked with SELECT ... FOR UPDATE SKIP LOCKED where the database has it, so workers
    do not queue behind each other, and taken with a conditional UPDATE, so two workers can never
    both own one. SQLite has no row locks; there the IMMEDIATE transaction serialises claims.
    All of them share one lease: keep ``limit`` times the slowest send well under it.
    """
    ready = (
        Q(status=Status.SENDING, lease_until__lt=now),  # a worker died holding it
        Q(status=Status.SCHEDULED, due__lte=now),
    )
    until = now + lease
    taken: list[PlannedMessage] = []
    with transaction.atomic():
        for condition in ready:
            if len(taken) >= limit:
                break
            candidates = PlannedMessage.objects.filter(condition).order_by("due", "id")
            if connection.features.has_select_for_update_skip_locked:
                candidates = candidates.select_for_update(skip_locked=True)
            pks = list(candidates.values_list("pk", flat=True)[: limit - len(taken)])
            if not pks:
                continue
            PlannedMessage.objects.filter(condition, pk__in=pks).update(
                status=Status.SENDING, claimed_by=worker, lease_until=until, attempts=F("attempts") + 1
            )
            taken += PlannedMessage.objects.select_related(
                "lead__seller__user", "appointment", "cancellation__appointment"
            ).filter(pk__in=pks, status=Status.SENDING, claimed_by=worker, lease_until=until).order_by("due", "id")
        for message in taken:  # the meetings' lead is the message's: composing reads it without a query
            for appointment in (message.appointment, message.cancellation and message.cancellation.appointment):
                if appointment is not None and appointment.lead_id == message.lead_id:
                    appointment.lead = message.lead
            if message.cancellation is not None and message.cancellation.lead_id == message.lead_id:
                message.cancellation.lead = message.lead
        fresh = [m for m in taken if not m.message_id]
        for message in fresh:
            # Fixed at the first attempt, so a resend after a crash is recognisably the same mail.
            message.message_id = message_id_for(message.pk, secrets.token_hex(8), from_address(message.lead.seller.email))
        update_rows(PlannedMessage, fresh, ["message_id"])
    return taken


def messages_renew(*, messages: list[PlannedMessage], worker: str, now: datetime, until: datetime) -> set[int]:
    """Extend the lease of messages this worker still holds, and return their ids: a slow server must not let
    another worker in. A message whose lease has run out is not renewed (another worker may have it, or may
    take it at any moment): it is not this worker's to send."""
    held = PlannedMessage.objects.filter(
        pk__in=[m.pk for m in messages], status=Status.SENDING, claimed_by=worker, lease_until__gt=now
    )
    if not held.update(lease_until=until):
        return set()
    return set(PlannedMessage.objects.filter(pk__in=[m.pk for m in messages], status=Status.SENDING, claimed_by=worker,
                                             lease_until=until).values_list("pk", flat=True))


def messages_release(*, messages: list[PlannedMessage], worker: str, now: datetime) -> int:
    """Give back claimed messages that were not tried (the worker is stopping): due again at once."""
    return PlannedMessage.objects.filter(
        pk__in=[m.pk for m in messages], status=Status.SENDING, claimed_by=worker
    ).update(status=Status.SCHEDULED, claimed_by="", lease_until=None, attempts=F("attempts") - 1, updated_at=now)


def _release(message: PlannedMessage, worker: str, now: datetime, **changes) -> bool:
    """Record the outcome, unless the lease ran out and another worker has the message now."""
    changes = {"claimed_by": "", "lease_until": None, "updated_at": now, **changes}
    updated = update_if(PlannedMessage, changes, id=message.pk, status=Status.SENDING, claimed_by=worker)
    for key, value in changes.items():
        setattr(message, key, value)
    return bool(updated)


def message_mark_sent(*, message: PlannedMessage, worker: str, now: datetime, **content: str) -> bool:
    """Record a mail the server accepted, with what it said (``content``: subject, body, html, to_email),
    in one UPDATE on its own (autocommit). Between the server's 250 and this commit, a killed worker means
    a resend, so this is all that happens in that window, and on PostgreSQL the worker's session does not
    wait for the WAL flush (a database crash can then undo only the latest records, consistently: a resend
    with the same Message-ID, never a lost message). A mail that was not accepted keeps no content: it is
    composed afresh at its next attempt."""
    stored = {"subject": "subject", "body": "body", "html": "html_body", "to_email": "to_email"}
    extra = {stored[k]: v for k, v in content.items() if k in stored}
    return _release(message, worker, now, status=Status.SENT, sent_at=now, last_error="", frozen=True, **extra)


MAX_ATTEMPTS = 10


@transaction.atomic
def message_retry_later(*, message: PlannedMessage, worker: str, now: datetime, error: str) -> bool:
    """A temporary failure: try again after a growing pause, and give up (visibly) after MAX_ATTEMPTS."""
    if message.attempts >= MAX_ATTEMPTS:
        return message_fail(
            message=message, worker=worker, now=now, reason=f"gave up after {message.attempts} attempts: {error}"
        )
    return _release(message, worker, now, status=Status.SCHEDULED, due=now + backoff(message.attempts), last_error=error[:500])


@transaction.atomic
def message_fail(*, message: PlannedMessage, worker: str, now: datetime, reason: str) -> bool:
    return _release(message, worker, now, status=Status.FAILED, status_note=reason[:300], last_error=reason[:500])


@transaction.atomic
def message_hold(*, message: PlannedMessage, worker: str, now: datetime, until: datetime, note: str) -> bool:
    """Not now (quiet hours): back to scheduled for ``until``, and this was not a delivery attempt."""
    return _release(
        message, worker, now, status=Status.SCHEDULED, due=until, attempts=max(message.attempts - 1, 0), status_note=note[:300]
    )


@transaction.atomic
def message_withdraw(*, message: PlannedMessage, worker: str, now: datetime, note: str) -> bool:
    return _release(message, worker, now, status=Status.WITHDRAWN, status_note=note[:300])


def seller_notice(*, lead: Lead, subject: str, text: str, now: datetime) -> PlannedMessage:
    """A short note to the seller about what a prospect did (through a link): it goes to the seller at once,
    not held for review or quiet hours, and Today shows it at the top."""
    seller = lead.seller
    return PlannedMessage.objects.create(
        lead=lead, seller_id=seller.pk, kind=SELLER_NOTICE, key=f"{SELLER_NOTICE}:{uuid.uuid4().hex}", due=now,
        status=Status.SCHEDULED, subject=subject[:300], body=text.strip() + "\n", frozen=True,
        to_email=seller.email, created_at=now,
    )


@transaction.atomic
def message_bounced(*, message: PlannedMessage, reason: str, at: datetime) -> None:
    """A delivery report said this mail failed: the message is failed with the server's reason, and the lead's
    address is flagged (until it is changed)."""
    PlannedMessage.objects.filter(pk=message.pk).update(status=Status.FAILED, status_note=f"bounced: {reason}"[:300],
                                                         last_error=reason[:500], updated_at=at)
    Lead.objects.filter(pk=message.lead_id).update(email_bounced_at=at, email_bounce_reason=reason[:300])
