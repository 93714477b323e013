"""The outbox worker: claim a due message, send it, record what happened; stop cleanly when asked.

Small on purpose, in the manner of healthchecks' ``sendalerts``: a loop over the outbox table, no
broker. Run as many as you like (on PostgreSQL); the claim in ``message_claim`` keeps them apart.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.mail import get_connection
from django.db import close_old_connections
from django.urls import get_resolver
from django.utils import timezone

from rebook import stopping
from rebook.leads.models import Lead
from rebook.outbox import services
from rebook.outbox.compose import compose
from rebook.outbox.compose import remembered as compose_remembered
from rebook.outbox.mail import Envelope, build_email, classify
from rebook.outbox.models import SELLER_NOTICE, PlannedMessage
from rebook.strategy.followups import SENDING_MATTERS
from rebook.strategy.hours import defer_past_quiet_hours
from rebook.webhooks.services import endpoints_remembered

log = logging.getLogger("rebook.worker")

DEFAULT_LEASE = timedelta(minutes=5)
DEFAULT_POLL = 5.0
# Messages claimed in one transaction; each is still sent and recorded on its own.
DEFAULT_BATCH = 50  # with the lease renewed as the batch goes, a long batch keeps its messages
RENEW_AFTER = 10.0  # seconds of a batch (or half the lease, if shorter) before the rest of it gets a fresh lease


@dataclass
class Tally:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    held: int = 0
    withdrawn: int = 0
    lines: list[str] = field(default_factory=list)


def _no_wait(sender, connection, **kwargs) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")


def _commit_without_waiting() -> None:
    """On PostgreSQL, the worker's commits do not wait for the WAL flush. A database crash can then lose
    only the latest commits, as a consistent whole: a "sent" record (a resend with the same Message-ID),
    a claim or an outcome (tried again). Nothing is lost that is not done again; in exchange, recording
    "sent" after the server's 250 is one round trip, and a killed worker rarely resends."""
    from django.db import connection
    from django.db.backends.signals import connection_created

    connection_created.connect(_no_wait, dispatch_uid="rebook-worker-no-wait")
    if connection.connection is not None:
        _no_wait(None, connection)


RETRAIN_CHECK = timedelta(minutes=10)


class Worker:
    def __init__(self, *, name: str | None = None, lease: timedelta = DEFAULT_LEASE, poll: float = DEFAULT_POLL,
                 report: Callable[[str], None] | None = None, batch: int = DEFAULT_BATCH, send_mail: bool = True):
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 10_000}"
        self.lease = lease
        self.batch = batch
        self.send_mail = send_mail  # False without an SMTP server: only imports and webhooks
        self.poll = poll
        self.stopping = threading.Event()
        self._sent_leads: dict[int, Lead] = {}  # this batch's leads to re-evaluate once it is sent
        self.report = report or log.info
        self.tally = Tally()
        self._connection = None

    def stop(self, *_args) -> None:
        """Finish the message in hand, then return from ``run``. An import in hand stops at its next safe
        point instead: its transaction is undone and the file goes back to the queue."""
        self.stopping.set()
        stopping.request_stop()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def run(self, *, until_idle: bool = False) -> Tally:
        _commit_without_waiting()
        get_resolver().url_patterns  # noqa: B018 (every mail links to a page: load the URLs before the first)
        if not self.stopping.is_set():
            stopping.clear()  # a stop asked of an earlier worker in this process is not this one's
        failures = 0  # steps in a row that failed outside any one job (the database away, say)
        try:
            while not self.stopping.is_set():
                try:
                    worked, failures = self.step(), 0
                except Exception as e:  # noqa: BLE001 - logged, and tried again after a pause
                    failures += 1
                    log.exception("worker: a step failed")
                    self.report(f"the worker's step failed ({type(e).__name__}: {str(e)[:200]}); trying again")
                    with contextlib.suppress(Exception):
                        close_old_connections()
                    if until_idle and failures >= 3:
                        break
                    self.stopping.wait(min(self.poll * failures, 60))
                    continue
                if worked:
                    continue
                if until_idle:
                    break
                self._close()  # idle SMTP connections get dropped by servers; open afresh when needed
                close_old_connections()
                self.stopping.wait(self.poll)
        finally:
            self._close()
        return self.tally

    def step(self) -> bool:
        """Handle a batch of due messages, or one webhook delivery, one queued import, one uploaded card, a due
        retraining, a due mailbox or a due calendar; False when there was none. Each job runs isolated: a failure is recorded on
        that job (``_isolated``) and the loop goes on."""
        now = timezone.now()
        batch = services.messages_claim(worker=self.name, now=now, lease=self.lease, limit=self.batch) if self.send_mail else []
        try:
            with compose_remembered(), endpoints_remembered():
                self._send_batch(batch, now)
        finally:
            self._isolated("re-evaluating the leads of sent messages", self._reevaluate_sent)
        if batch:
            return True
        return any(self._isolated(what, job, now) for what, job in (
            ("a webhook delivery", self._deliver_one), ("an import", self._import_one), ("a card", self._read_card),
            ("the forecast", self._retrain_due), ("a mailbox", self._poll_one), ("a calendar", self._sync_calendar)))

    def _isolated(self, what: str, job: Callable, *args) -> bool:
        """Run one job; whatever it raises is logged and reported, and never ends the worker. The job records its
        own failure on its row first (a message, an import, a card, a mailbox): this is the net under that."""
        try:
            return bool(job(*args))
        except stopping.Interrupted:
            raise
        except Exception as e:  # noqa: BLE001 - one job must never end the loop for every seller
            log.exception("worker: %s failed", what)
            line = f"{what} failed ({type(e).__name__}); the worker goes on"
            self.tally.lines.append(line)
            self.report(line)
            return False  # nothing done: a job that keeps failing must not keep the loop from its pause

    def _deliver_one(self, now) -> bool:
        from rebook.webhooks.services import delivery_claim

        delivery = delivery_claim(worker=self.name, now=now, lease=self.lease)
        if delivery is None:
            return False
        try:
            self._deliver(delivery)
        except Exception as e:
            from rebook.webhooks.services import delivery_record

            # Recorded on the delivery (tried again later, failed after the last attempt), then reported.
            delivery_record(delivery=delivery, worker=self.name, now=timezone.now(), status_code=None,
                            response=f"Rebook could not deliver it ({type(e).__name__})")
            raise
        return True

    def _import_one(self, now) -> bool:
        from rebook.imports import import_claim, import_execute

        run = import_claim(worker=self.name, now=now, lease=self.lease)
        if run is None:
            return False
        try:
            import_execute(run=run, worker=self.name)
        except stopping.Interrupted:
            line = f"import {run.pk} ({run.file}, seller {run.seller_id}): interrupted, queued again"
            self.tally.lines.append(line)
            self.report(line)
            return True
        line = f"import {run.pk} ({run.file}, seller {run.seller_id}): {run.status}"
        self.tally.lines.append(line)
        self.report(line)
        return True

    def _poll_one(self, now) -> bool:
        from django.conf import settings

        from rebook.mailbox.services import mailbox_claim, mailbox_poll, mailbox_release

        box = mailbox_claim(worker=self.name, now=now, every=timedelta(seconds=settings.REBOOK_IMAP_POLL), lease=self.lease)
        if box is None:
            return False
        try:
            report = mailbox_poll(mailbox=box)
        finally:
            mailbox_release(mailbox=box, worker=self.name)
        handled = ", ".join(f"{k}: {v}" for k, v in sorted(report.handled.items())) or "nothing new"
        line = f"mailbox of seller {box.seller_id}: " + (f"error: {report.error}" if report.error else handled)
        self.tally.lines.append(line)
        self.report(line)
        return True

    def _sync_calendar(self, now) -> bool:
        from rebook.calendars.connections import connection_claim, connection_release, connection_sync

        found = connection_claim(worker=self.name, now=now, lease=self.lease)
        if found is None:
            return False
        try:
            report = connection_sync(connection=found, now=now)
        finally:
            connection_release(connection=found, worker=self.name)
        line = (f"calendar {found.name!r} of seller {found.seller_id}: "
                + (f"error: {report.error}" if report.error else
                   f"{report.busy} busy time(s)" + ("" if report.changed else ", unchanged")))
        self.tally.lines.append(line)
        self.report(line)
        return True

    def _send_batch(self, batch: list[PlannedMessage], claimed: datetime) -> None:
        """Send a claimed batch, each message only while this worker's lease on it runs: the rest of the batch
        is renewed whenever half a lease (or RENEW_AFTER seconds) has gone by, and a message the renewal did
        not keep (its lease ran out: another worker may have it) is left alone."""
        # Wall time, as the leases in the table are: what this worker believes it holds is what it holds.
        renewed, every = claimed, min(timedelta(seconds=RENEW_AFTER), self.lease / 2)
        held: set[int] | None = None  # None: the whole batch, as claimed
        for i, message in enumerate(batch):
            if self.stopping.is_set():  # finish the message in hand, give back the rest
                services.messages_release(messages=batch[i:], worker=self.name, now=timezone.now())
                break
            now = timezone.now()
            if now - renewed > every:
                held = services.messages_renew(messages=batch[i:], worker=self.name, now=now, until=now + self.lease)
                renewed = now
            if held is not None and message.pk not in held:
                continue  # its lease ran out before its turn: not this worker's to send any more
            self._isolated(f"message {message.pk}", self._handle_or_retry, message)

    def _handle_or_retry(self, message: PlannedMessage) -> None:
        try:
            self._handle(message)
        except Exception as e:  # noqa: BLE001 - recorded on the message (tried again later), then reported
            services.message_retry_later(message=message, worker=self.name, now=timezone.now(),
                                         error=f"Rebook could not prepare it ({type(e).__name__})")
            raise

    def _read_card(self, now) -> bool:
        """One card photo uploaded on the "Add from cards" page, read for the seller's review."""
        from django.conf import settings

        from rebook.cards.services import card_claim, card_failed, card_read

        upload = card_claim(worker=self.name, now=now, lease=self.lease)
        if upload is None:
            return False
        try:
            rows = card_read(upload=upload, region=settings.REBOOK_PHONE_REGION)
        except Exception as e:
            card_failed(upload=upload, worker=self.name, error=f"Rebook could not read this card ({type(e).__name__})")
            raise
        for row in rows:
            line = f"card {row.pk} ({row.file}, seller {row.seller_id}): " + (f"error: {row.error}" if row.error else "read")
            self.tally.lines.append(line)
            self.report(line)
        return True

    def _retrain_due(self, now) -> bool:
        """Every ten minutes at most: train a new forecast for a seller with enough new outcomes."""
        if getattr(self, "_next_retrain", None) and now < self._next_retrain:
            return False
        self._next_retrain = now + RETRAIN_CHECK
        from rebook.errors import RebookError
        from rebook.forecast.services import model_for, retrain_due, score_upcoming, train
        from rebook.sellers.models import Seller

        worked = False
        for seller in Seller.objects.all():
            if retrain_due(seller):
                try:
                    row = train(seller=seller, now=now)
                except RebookError:
                    pass  # too little history yet
                else:
                    line = f"forecast for seller {seller.pk}: version {row.version} on {row.n_train:,} meetings"
                    self.tally.lines.append(line)
                    self.report(line)
                    worked = True
            if model_for(seller) is not None:
                worked = bool(score_upcoming(seller=seller, now=now)) or worked
        return worked

    def _deliver(self, delivery) -> None:
        from rebook.webhooks.delivery import post
        from rebook.webhooks.services import delivery_record

        status, response = post(delivery, now=timezone.now())
        delivery_record(delivery=delivery, worker=self.name, now=timezone.now(), status_code=status, response=response)
        outcome = "delivered" if status and 200 <= status < 300 else f"not delivered ({status or response[:80]})"
        line = f"webhook {delivery.pk} ({delivery.event}) to {delivery.endpoint.url}: {outcome}"
        self.tally.lines.append(line)
        self.report(line)

    def _handle(self, message: PlannedMessage) -> None:
        if message.kind == SELLER_NOTICE:
            self._notify_seller(message)
            return
        now = timezone.now()
        lead = message.lead
        if lead.status == Lead.Status.DO_NOT_CONTACT or lead.unsubscribed_at:
            note = "the lead unsubscribed" if lead.unsubscribed_at else "the lead is marked do-not-contact"
            services.message_withdraw(message=message, worker=self.name, now=now, note=note)
            self._say(message, f"withdrawn: {note}", "withdrawn")
            return
        if not lead.email:
            reason = f"lead {lead.pk} ({lead.name}) has no e-mail address; add one and approve the message again"
            services.message_fail(message=message, worker=self.name, now=now, reason=reason)
            self._say(message, f"failed: {reason}", "failed")
            return
        seller = lead.seller
        opens = defer_past_quiet_hours(now, lead.tz, seller.policy.quiet_window)
        if opens > now:
            note = f"held for the lead's quiet hours ({seller.quiet_hours}, {lead.tz.key})"
            services.message_hold(message=message, worker=self.name, now=now, until=opens, note=note)
            self._say(message, f"{note} until {opens:%Y-%m-%d %H:%M} UTC", "held")
            return
        try:
            composed = compose(message, now)
            envelope = Envelope(
                to_name=lead.name, to_email=lead.email, from_name=seller.name, reply_to=seller.email,
                subject=composed.subject, text=composed.text, html=composed.html, message_id=message.message_id,
                attachments=composed.attachments, calendar=composed.calendar,
                unsubscribe_url=composed.unsubscribe_url, headers={"X-Rebook-Message": str(message.pk)},
            )
            build_email(envelope, connection=self._open()).send()
        except Exception as error:  # every failure is recorded on the message; nothing is dropped
            self._close()
            failure = classify(error)
            now = timezone.now()
            if failure.permanent:
                services.message_fail(message=message, worker=self.name, now=now, reason=failure.reason)
                self._say(message, f"failed: {failure.reason}", "failed")
            else:
                services.message_retry_later(message=message, worker=self.name, now=now, error=failure.reason)
                if message.status == PlannedMessage.Status.FAILED:  # that was the last attempt
                    self._say(message, f"failed: {message.status_note}", "failed")
                else:
                    self._say(message, f"will retry ({failure.reason})", "retried")
            return
        self._record_sent(message, composed, lead)

    def _notify_seller(self, message: PlannedMessage) -> None:
        """A note to the seller: no quiet hours, no unsubscribe; it needs only the seller's address."""
        seller = message.lead.seller
        if not seller.email:
            reason = "you have no e-mail address in Rebook; add one (rebook init --email) to get these notes"
            services.message_fail(message=message, worker=self.name, now=timezone.now(), reason=reason)
            self._say(message, f"failed: {reason}", "failed")
            return
        try:
            envelope = Envelope(
                to_name=seller.name, to_email=seller.email, from_name="Rebook", reply_to=seller.email,
                subject=message.subject, text=message.body, html="", message_id=message.message_id,
                headers={"X-Rebook-Message": str(message.pk)},
            )
            build_email(envelope, connection=self._open()).send()
        except Exception as error:
            self._close()
            failure = classify(error)
            if failure.permanent:
                services.message_fail(message=message, worker=self.name, now=timezone.now(), reason=failure.reason)
                self._say(message, f"failed: {failure.reason}", "failed")
            else:
                services.message_retry_later(message=message, worker=self.name, now=timezone.now(), error=failure.reason)
                self._say(message, f"will retry ({failure.reason})", "retried")
            return
        services.message_mark_sent(message=message, worker=self.name, now=timezone.now(), subject=message.subject,
                                   body=message.body, html="", to_email=seller.email)
        self._say(message, f"sent to you ({seller.email})", "sent")

    def _record_sent(self, message: PlannedMessage, composed, lead: Lead) -> None:
        now = timezone.now()
        # "Sent" is committed on its own, right after the server's 250: a crash after this point never
        # sends the mail again.
        recorded = services.message_mark_sent(message=message, worker=self.name, now=now, subject=composed.subject,
                                              body=composed.text, html=composed.html, to_email=lead.email)
        if recorded:
            from rebook.webhooks.services import emit

            if message.kind in SENDING_MATTERS:
                # A sent check-in plans the next one; a sent connecting moment ticks the checklist: the
                # lead is re-evaluated once, after the batch (``_reevaluate_sent``).
                self._sent_leads[lead.pk] = lead
            # One INSERT of the event's deliveries (none without endpoints, read once a batch): no transaction
            # of its own to open and commit for every message.
            emit(seller_id=lead.seller_id, event="message.sent", now=now, data={
                "lead": {"id": lead.pk, "name": lead.name, "email": lead.email},
                "message": {"id": message.pk, "kind": message.kind, "subject": composed.subject},
            })
        self._say(message, f"sent to {lead.email}", "sent")

    def _reevaluate_sent(self) -> None:
        """Re-evaluate, once each, the leads whose sent messages the rules read (``leads_reevaluate``: locked in
        id order, so no deadlock with another worker, and their histories read together)."""
        leads = self._sent_leads
        if not leads:
            return
        from rebook.leads.services import leads_reevaluate

        self._sent_leads = {}
        leads_reevaluate(sorted(leads), now=timezone.now(), only_messages=True)

    def _say(self, message: PlannedMessage, what: str, outcome: str) -> None:
        setattr(self.tally, outcome, getattr(self.tally, outcome) + 1)
        line = f"message {message.pk} ({message.kind}, lead {message.lead_id}): {what}"
        self.tally.lines.append(line)
        self.report(line)

    def _open(self):
        if self._connection is None:
            self._connection = get_connection(fail_silently=False)
            self._connection.open()
        return self._connection

    def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # a broken connection cannot be closed politely
                self._connection.close()
            self._connection = None
