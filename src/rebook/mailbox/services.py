"""Connecting a seller's mailbox, polling it, and acting on what prospects answer.

Read-only, always: the folder is opened with EXAMINE and mail is fetched with BODY.PEEK. Each message is
handled in one transaction that also records it as read (the folder's last UID), so a crash re-reads at
most the message in hand, and a mail already handled (same Message-ID) is never handled again. Only mail
from a lead, answering a mail Rebook sent, carrying a calendar reply for one of the seller's meetings, or
reporting that a mail Rebook sent failed, is read past its headers; everything else is skipped, unstored.
"""

from __future__ import annotations

import logging
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from rebook.calendars.services import calendar_import, seller_addresses
from rebook.claims import backoff, claim_one
from rebook.errors import Conflict, RebookError
from rebook.leads import services as lead_services
from rebook.leads.models import Activity, Appointment, Channel, Lead, Party
from rebook.mailbox import imap
from rebook.mailbox.mails import Mail, read_headers, read_mail
from rebook.mailbox.models import InboundMail, Mailbox, ReplyModel, Suggestion
from rebook.mailbox.secret import seal, unseal
from rebook.outbox.models import PlannedMessage
from rebook.outbox.services import message_bounced, seller_notice
from rebook.sellers.models import Seller
from rebook.strategy import learned, replies, trust
from rebook.strategy.limits import EARLIEST
from rebook.strategy.quoting import quoted, visible
from rebook.strategy.reasons import UNKNOWN
from rebook.timeparse import localize
from rebook.webhooks.services import emit

log = logging.getLogger(__name__)
FIRST_READ = timedelta(days=14)  # on first connect, only mail this recent is read
Outcome = InboundMail.Outcome


# --------------------------------------------------------------------------- the mailbox


def any_pending_sql(seller: Seller) -> tuple[str, list]:
    """1 if a reply's suggestion waits for the seller, else 0, as a scalar subquery (SQL, params) for a page's
    ``change_stamp``: Today reads the suggestions only then."""
    return (f"SELECT COUNT(*) FROM (SELECT 1 FROM {Suggestion._meta.db_table} WHERE seller_id = %s AND status = %s "
            "LIMIT 1) AS any_pending", [seller.pk, Suggestion.Status.PENDING])


@transaction.atomic
def mailbox_set(*, seller: Seller, url: str, user: str | None = None, password: str | None = None,
                trusted: str | None = None, now: datetime | None = None) -> Mailbox:
    """Connect (or replace) the seller's mailbox. The password is kept encrypted and never shown again.
    ``trusted``: the authserv-ids whose Authentication-Results are believed; by default the provider's,
    guessed from the host (rebook.strategy.trust.guess_trusted)."""
    address = imap.parse_url(url, user=user, password=password)
    imap.check_host(address.host, address.port)
    ids = trust.parse_trusted(trusted) if trusted is not None else trust.guess_trusted(address.host)
    Mailbox.objects.filter(seller=seller).delete()
    return Mailbox.objects.create(
        seller=seller, security=address.security, host=address.host, port=address.port, username=address.username,
        secret=seal(address.password), folder=address.folder, trusted_authserv=",".join(ids)[:500],
        created_at=now or timezone.now(),
    )


def mailbox_remove(*, seller: Seller) -> bool:
    """Forget the mailbox (and its password). What it brought in stays on the leads."""
    deleted, _ = Mailbox.objects.filter(seller=seller).delete()
    return bool(deleted)


def mailbox_get(seller: Seller) -> Mailbox:
    box = Mailbox.objects.filter(seller=seller).first()
    if box is None:
        raise RebookError("no mailbox is set; connect one with: rebook mailbox set imaps://USER:PASSWORD@HOST:993/INBOX")
    return box


def _address(box: Mailbox) -> imap.Address:
    return imap.Address(box.security, box.host, box.port, box.username, unseal(box.secret), box.folder)


TEST_TIMEOUT = 10  # seconds: a Test press holds a web thread at most this long for each step


@contextmanager
def _alone(mailbox: Mailbox, *, lease: timedelta, now: datetime | None = None):
    """The mailbox taken for one test or read at a time (as the worker takes it for a poll): ten presses of Test
    must not hold ten web threads."""
    now = now or timezone.now()
    token = f"now:{uuid.uuid4().hex[:16]}"
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    if not Mailbox.objects.filter(free, pk=mailbox.pk).update(claimed_by=token, lease_until=now + lease):
        raise RebookError("your mailbox is being read or tested right now; try again in a minute")
    try:
        yield
    finally:
        Mailbox.objects.filter(pk=mailbox.pk, claimed_by=token).update(claimed_by="", lease_until=None)


def mailbox_test(*, mailbox: Mailbox) -> dict:
    """Connect, open the folder read-only and count what is in it; changes nothing. One test at a time, each step
    given TEST_TIMEOUT seconds."""
    with _alone(mailbox, lease=timedelta(seconds=TEST_TIMEOUT * 6)), \
            imap.Connection(_address(mailbox), timeout=TEST_TIMEOUT) as conn:
        return {"host": mailbox.host, "folder": mailbox.folder, "messages": conn.count(), "uidvalidity": conn.uidvalidity}


def mailbox_poll_now(*, mailbox: Mailbox, now: datetime | None = None) -> PollReport:
    """A poll asked for by the seller (Read now, `rebook mail poll`): not while the worker or a test has the
    mailbox, and with the short timeout of a test."""
    with _alone(mailbox, lease=timedelta(minutes=5), now=now):
        return mailbox_poll(mailbox=mailbox, now=now, timeout=TEST_TIMEOUT)


# --------------------------------------------------------------------------- polling


@dataclass
class PollReport:
    mailbox: str
    read: int = 0  # messages looked at (headers)
    handled: dict[str, int] = field(default_factory=dict)  # stored outcomes
    skipped: int = 0  # not about any lead or meeting: not stored
    duplicates: int = 0
    error: str = ""

    def as_dict(self) -> dict:
        return {"mailbox": self.mailbox, "read": self.read, "handled": self.handled, "skipped": self.skipped,
                "duplicates": self.duplicates, "error": self.error}


def mailbox_poll(*, mailbox: Mailbox, now: datetime | None = None, timeout: float = imap.TIMEOUT) -> PollReport:
    """Read what arrived since the last poll. A mailbox that cannot be reached records the error and waits
    longer before the next try; one bad message is recorded and skipped, and the poll goes on."""
    now = now or timezone.now()
    report = PollReport(mailbox=f"{mailbox.username} at {mailbox.host}/{mailbox.folder}")
    try:
        with imap.Connection(_address(mailbox), timeout=timeout) as conn:
            since = None
            if mailbox.uidvalidity != conn.uidvalidity:
                # First connect, or the server renumbered the folder: start again from recent mail.
                mailbox.uidvalidity, mailbox.last_uid = conn.uidvalidity, 0
                Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=conn.uidvalidity, last_uid=0)
                since = now - FIRST_READ
            for uid in conn.uids_after(mailbox.last_uid, since):
                report.read += 1
                _one(conn, mailbox, uid, now, report)
    except Exception as e:  # noqa: BLE001 - recorded on this mailbox; the worker and other mailboxes go on
        if isinstance(e, RebookError):
            log.warning("mailbox %s: %s", report.mailbox, e)
            report.error = str(e)
        else:
            log.exception("mailbox %s could not be read", report.mailbox)
            report.error = f"Rebook could not read this mailbox ({type(e).__name__}); it tries again later"
        failures = mailbox.failures + 1
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_error=report.error[:500], failures=failures, last_poll_at=now, next_poll_at=now + backoff(failures))
        return report
    Mailbox.objects.filter(pk=mailbox.pk).update(last_poll_at=now, last_error="", failures=0, next_poll_at=None)
    return report


def mailbox_claim(*, worker: str, now: datetime, every: timedelta, lease: timedelta) -> Mailbox | None:
    """A mailbox due for its poll (not polled for ``every``, and not waiting after an error), for one worker."""
    due = Q(last_poll_at__isnull=True) | Q(last_poll_at__lte=now - every)
    ready = (Q(lease_until__lt=now) & due, Q(lease_until__isnull=True) & due & (Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now)))
    pk = claim_one(Mailbox, ready, ("last_poll_at", "id"), claimed_by=worker, lease_until=now + lease)
    return None if pk is None else Mailbox.objects.select_related("seller").get(pk=pk)


def mailbox_release(*, mailbox: Mailbox, worker: str) -> None:
    Mailbox.objects.filter(pk=mailbox.pk, claimed_by=worker).update(claimed_by="", lease_until=None)


def _one(conn: imap.Connection, box: Mailbox, uid: int, now: datetime, report: PollReport) -> None:
    header = conn.header(uid)
    with transaction.atomic():
        try:
            with transaction.atomic():  # what one message does is all or nothing; the poll goes on either way
                outcome = _handle(conn, box, uid, header, now, report) if header is not None else None
        except imap.ConnectionLost:
            raise
        except Exception as e:  # noqa: BLE001 - one message must never stop the poll, nor be retried forever
            log.exception("mailbox %s: message %s could not be handled", box.pk, uid)
            outcome = _unhandled(box, uid, header, now, e)
        Mailbox.objects.filter(pk=box.pk).update(last_uid=uid)  # with what the message changed
        box.last_uid = uid
    if outcome is None:
        report.skipped += 1
    elif outcome != "duplicate":
        report.handled[outcome] = report.handled.get(outcome, 0) + 1


def _handle(conn, box: Mailbox, uid: int, header: imap.Header, now: datetime, report: PollReport) -> str | None:
    seller = box.seller
    h = read_headers(header.raw)
    ours = list(PlannedMessage.objects.filter(seller=seller, message_id__in=[f"<{a}>" for a in h.answers] + h.answers)
                .select_related("lead", "appointment", "cancellation")) if h.answers else []
    lead = (Lead.objects.filter(seller=seller, email__iexact=h.sender).order_by("id").first() if h.sender else None) \
        or (ours[0].lead if ours else None)
    report_mail = header.is_report or h.content_type == "multipart/report"
    if lead is None and not header.has_calendar and not report_mail:
        return None  # not about anyone Rebook knows: not read further, not stored
    if h.message_id and InboundMail.objects.filter(seller=seller, message_id=h.message_id).exists():
        report.duplicates += 1
        return "duplicate"
    # A date from the future, or from before the dates Rebook keeps (a forged or broken header), is now.
    received = h.date if h.date is not None and EARLIEST <= h.date <= now else now
    verdict = trust.judge(trust.Evidence(sender=h.sender, senders=h.senders, results=h.authentication,
                                         trusted=trust.parse_trusted(box.trusted_authserv), answers_ours=bool(ours)))
    record = InboundMail(mailbox=box, seller=seller, lead=lead, uid=uid, sender=h.sender[:254], subject=h.subject,
                         received_at=received, message_id=(h.message_id or f"uid:{box.uidvalidity}:{uid}")[:500],
                         trust=verdict.level, trust_reason=verdict.why[:200])
    if verdict.level == trust.FAILED and not report_mail:
        # Someone else's words under the lead's name: nothing is done; the seller can see it was tried.
        if lead is not None:
            _log(lead, f"A mail claiming to be from {h.sender} failed authentication ({verdict.why}); Rebook did "
                       f"nothing with it. Subject: {h.subject}", received, now)
        return _store(record, Outcome.IGNORED, f"the sender failed authentication ({verdict.why}): logged only")
    if header.size > imap.MAX_MESSAGE_BYTES:
        return _store(record, Outcome.BAD, f"{header.size // (1024 * 1024)} MB: larger than Rebook reads; skipped")
    try:
        mail = read_mail(conn.body(uid), h)
    except RebookError as e:
        return _store(record, Outcome.BAD, str(e))
    except Exception as e:  # noqa: BLE001 - one message must never stop the poll
        log.exception("mailbox %s: message %s could not be read", box.pk, uid)
        return _store(record, Outcome.BAD, f"could not be read ({type(e).__name__})")
    if report_mail:
        return _bounce(record, mail, received) if mail.bounced_id else None
    if mail.calendar_methods:
        handled = _calendar(record, mail, seller, lead, verdict, received, now)
        if handled is not None or lead is None:
            return handled
    if lead is None:
        return None
    return _reply(record, mail, lead, ours, verdict, received, now)


def _unhandled(box: Mailbox, uid: int, header, now: datetime, error: Exception) -> str:
    """A message that failed half-way: nothing of it was kept; record why, once."""
    try:
        h = read_headers(header.raw) if header is not None else None
    except Exception:  # noqa: BLE001 - the headers may be what failed: record the message without them
        h = None
    message_id = ((h.message_id if h else "") or f"uid:{box.uidvalidity}:{uid}")[:500]
    if InboundMail.objects.filter(seller=box.seller, message_id=message_id).exists():
        return "duplicate"
    reason = str(error) if isinstance(error, RebookError) else f"could not be handled ({type(error).__name__})"
    InboundMail.objects.create(mailbox=box, seller=box.seller, uid=uid, message_id=message_id, outcome=Outcome.BAD,
                               sender=(h.sender if h else "")[:254], subject=(h.subject if h else "")[:300],
                               received_at=now, detail=reason[:500])
    return Outcome.BAD


def _store(record: InboundMail, outcome: str, detail: str = "") -> str:
    record.outcome, record.detail = outcome, detail[:500]
    record.save()
    return outcome


def _bounce(record: InboundMail, mail: Mail, received: datetime) -> str | None:
    message = PlannedMessage.objects.filter(seller=record.seller, message_id__in=[mail.bounced_id, f"<{mail.bounced_id}>"]
                                            ).select_related("lead").first()
    if message is None:
        return None  # a report about someone else's mail
    reason = mail.bounce_reason or "the mail could not be delivered"
    message_bounced(message=message, reason=reason, at=received)
    record.lead = message.lead
    return _store(record, Outcome.BOUNCE, f"message {message.pk} to {message.to_email or message.lead.email}: {reason}")


def _appointment_for_uids(seller: Seller, uids: list[str]) -> Appointment | None:
    for uid in uids:
        if uid.endswith("@rebook"):
            try:
                found = Appointment.objects.filter(seller=seller, chain=uid[: -len("@rebook")]).order_by("-id").first()
            except Exception:  # noqa: BLE001 - not a chain id of ours
                found = None
        else:
            found = Appointment.objects.filter(seller=seller, ical_uid=uid).order_by("-id").first()
        if found is not None:
            return found
    return None


def _calendar(record, mail: Mail, seller: Seller, lead: Lead | None, verdict: trust.Trust, received: datetime,
              now: datetime) -> str | None:
    """A calendar message by mail. Only the meeting's lead (or the seller) may cancel, decline or move it; what an
    unverified sender asks becomes a suggestion at most, and a new invitation from one is not imported."""
    appointment = _appointment_for_uids(seller, mail.calendar_uids)
    if appointment is None and lead is None:
        return None  # an invitation about nothing of the seller's
    sender = mail.headers.sender
    if appointment is not None and not trust.may_act_for(sender, {appointment.lead.email.lower()},
                                                         seller_addresses(seller)):
        record.lead = appointment.lead
        log.warning("mailbox %s: %s may not change meeting %s; ignored", record.mailbox_id, sender, appointment.pk)
        return _store(record, Outcome.IGNORED, f"{sender} is neither {appointment.lead.name} nor you, and may not change "
                                               "their meeting: ignored")
    if "COUNTER" in mail.calendar_methods and mail.counter_start is not None and appointment is not None:
        start = mail.counter_start
        if start.tzinfo is None:
            start = localize(start, appointment.lead.tz)
        record.lead = appointment.lead
        _store(record, Outcome.SUGGESTION, "proposed a new time")
        _suggest(record, appointment.lead, appointment, replies.RESCHEDULE, verified=verdict.verified,
                 reason=f"Proposed a new time: {mail.headers.subject}", proposed=start, received=received, now=now)
        return Outcome.SUGGESTION
    if not verdict.verified:
        record.lead = record.lead or (appointment.lead if appointment else None)
        calls_off = "CANCEL" in mail.calendar_methods or mail.calendar_declined
        if calls_off and appointment is not None and appointment.status == Appointment.Status.SCHEDULED:
            _store(record, Outcome.SUGGESTION, f"a calendar {'cancellation' if 'CANCEL' in mail.calendar_methods else 'decline'}"
                                               f"; the sender is not verified ({verdict.why})")
            _suggest(record, appointment.lead, appointment, replies.CANCEL, verified=False,
                     reason=mail.calendar_comment or f"Calendar: {mail.headers.subject}", proposed=None,
                     received=received, now=now)
            return Outcome.SUGGESTION
        return _store(record, Outcome.IGNORED, f"a calendar message not imported: the sender is not verified "
                                               f"({verdict.why})")
    try:
        result = calendar_import(seller=seller, data=mail.raw, name=f"mail from {sender}", now=now,
                                 sender=sender, channel=Channel.EMAIL)
    except RebookError as e:
        return _store(record, Outcome.BAD, f"its calendar part: {e}")
    counts = {k: v for k, v in result.counts().items() if v}
    record.lead = record.lead or (appointment.lead if appointment else None)
    return _store(record, Outcome.CALENDAR, ", ".join(f"{k}: {v}" for k, v in counts.items()) or "nothing to change")


def _reply(record, mail: Mail, lead: Lead, ours: list[PlannedMessage], verdict: trust.Trust, received: datetime,
           now: datetime) -> str:
    record.lead = lead
    text = mail.text or "(no new text)"
    if mail.auto_reply:
        _log(lead, f"Automatic reply: {mail.headers.subject}", received, now)
        return _store(record, Outcome.AUTO_REPLY, mail.headers.subject)
    _log(lead, f"{mail.headers.subject}\n{text}".strip(), received, now)
    intent = replies.detect(mail.text, subject=mail.headers.subject)
    if intent.kind is None:
        return _store(record, Outcome.REPLY, text[:200])
    about = next((m.appointment or (m.cancellation.appointment if m.cancellation else None) for m in ours
                  if m.appointment_id or m.cancellation_id), None)
    if about is None or about.status != Appointment.Status.SCHEDULED:
        about = (Appointment.objects.filter(lead=lead, status=Appointment.Status.SCHEDULED, start__gt=received)
                 .order_by("start").first()) or about
    read = f"{mail.headers.subject}\n{mail.text}".strip()
    judgement = _learned(lead.seller, read, intent.kind)
    if judgement is not None and judgement.unlikely and intent.confidence != replies.HIGH:
        # A borderline reading the seller's own decisions say they would dismiss: logged, not suggested.
        return _store(record, Outcome.REPLY, f"not suggested ({intent.kind}): {judgement.explanation}"[:500])
    _store(record, Outcome.SUGGESTION, f"{intent.kind}: {intent.sentence}"[:500])
    _suggest(record, lead, about, intent, verified=verdict.verified, proposed=_proposed_start(intent, lead, about,
             received), received=received, now=now, text=read, judgement=judgement)
    return Outcome.SUGGESTION


def _proposed_start(intent: replies.Intent, lead: Lead, about: Appointment | None, received: datetime):
    """The time a reply proposes, in the lead's zone from the mail's date; a day alone keeps the meeting's clock
    time ("can we do Thursday instead?"). None when unsure."""
    when = replies.when(intent.proposed, base=received, tz=lead.tz)
    if when is None or (when.clock is None and about is None):
        return None
    default = about.start.astimezone(lead.tz).time() if about else None
    try:
        return localize(when.at(lead.tz, default).replace(tzinfo=None), lead.tz)
    except RebookError:
        return None  # a wall-clock time the clocks skip


def _decided(seller: Seller):
    return (Suggestion.objects.filter(seller=seller, status__in=(Suggestion.Status.APPLIED,
                                                                 Suggestion.Status.DISMISSED)).exclude(text=""))


def _decisions(seller: Seller) -> list[learned.Decision]:
    """The seller's most recent ``learned.KEEP`` decisions, in the order they were made."""
    rows = _decided(seller).order_by("-decided_at", "-id").values_list("text", "kind", "status", "confidence")
    return [learned.Decision(text, kind, status == Suggestion.Status.APPLIED, confidence == replies.HIGH)
            for text, kind, status, confidence in reversed(rows[:learned.KEEP])]


# Per process, the models in use, so that a poll of many replies loads each seller's once: seller id to (what
# their decisions were when it was loaded, the model). A new decision changes the key, and the model is loaded
# (and fitted, if no process has yet) again.
_MODELS: dict[int, tuple[tuple, learned.Model]] = {}
_MODELS_KEPT = 32


def reply_model(seller: Seller, *, now: datetime | None = None) -> learned.Model | None:
    """The seller's model of which suggestions they apply, fitted again when they have decided more since;
    None while there are too few decisions."""
    state = _decided(seller).aggregate(n=Count("id"), last=Max("decided_at"))
    key = (state["n"], state["last"])
    cached = _MODELS.get(seller.pk)
    if cached and cached[0] == key:
        return cached[1]
    decisions = _decisions(seller)
    if learned.enough(decisions):
        return None
    stored = ReplyModel.objects.filter(seller=seller).first()
    if stored is None or stored.decisions != state["n"]:
        data = learned.fit(decisions)
        stored, _ = ReplyModel.objects.update_or_create(
            seller=seller, defaults={"data": data, "decisions": state["n"], "trained_at": now or timezone.now()})
    model = learned.Model(stored.data, decisions)
    if len(_MODELS) >= _MODELS_KEPT:
        _MODELS.pop(next(iter(_MODELS)))
    _MODELS[seller.pk] = (key, model)
    return model


def reply_evaluate(*, seller: Seller) -> dict:
    """Precision and recall per kind on the seller's own decisions, in time order (``learned.evaluate``);
    refuses when there are too few."""
    decisions = _decisions(seller)
    try:
        # Refitted every 10 decisions, or often enough for twenty fits over a long history.
        step = max(10, (len(decisions) - learned.MIN_DECISIONS) // 20)
        figures = learned.evaluate(decisions, replies.KINDS, step=step)
    except ValueError as e:
        raise RebookError(f"cannot evaluate yet: {e} (apply or dismiss suggestions in your inbox)") from None
    return {"decisions": len(decisions), "warmup": learned.MIN_DECISIONS,
            "evaluated": len(decisions) - learned.MIN_DECISIONS, "kinds": [f.as_dict() for f in figures]}


def _learned(seller: Seller, text: str, kind: str) -> learned.Judgement | None:
    model = reply_model(seller)
    return model.judge(text, kind) if model else None


def _log(lead: Lead, notes: str, at: datetime, now: datetime) -> None:
    lead_services.activity_log(lead=lead, kind=Activity.Kind.EMAIL, direction=Activity.Direction.INBOUND,
                               at=min(at, now), notes=notes[:5000], now=now)


def _suggest(record, lead: Lead, appointment: Appointment | None, intent: replies.Intent | str, *, verified: bool,
             proposed: datetime | None, received: datetime, now: datetime, reason: str = "", text: str = "",
             judgement: learned.Judgement | None = None) -> Suggestion:
    if isinstance(intent, str):  # from a calendar reply: exact, as sure as the rules can be
        intent = replies.Intent(intent, reason, confidence=replies.HIGH)
    kind, reason = intent.kind, intent.sentence
    suggestion = Suggestion.objects.create(
        seller=lead.seller, lead=lead, appointment=appointment, mail=record, kind=kind, reason=reason[:2000],
        proposed_start=proposed, received_at=received, created_at=now, sender_verified=verified,
        text=text[:5000], confidence=intent.confidence, learned=judgement.explanation if judgement else "",
    )
    emit(seller_id=lead.seller_id, event="suggestion.created", now=now, data={"suggestion": suggestion_json(suggestion)})
    # Applied at once only when the sender is proven and the rules are sure, and the seller has not been
    # dismissing replies like it: a forged or misread "my daughter is sick" waits for the seller.
    if (lead.seller.auto_apply_replies and verified and kind == replies.CANCEL and appointment is not None
            and intent.confidence == replies.HIGH and not (judgement and judgement.unlikely)):
        verdict = lead.seller.classifier.classify(reason)
        if verdict.category != UNKNOWN:  # clearly valid, or clearly not valid
            try:
                suggestion_apply(suggestion=suggestion, now=now)
            except RebookError as e:
                Suggestion.objects.filter(pk=suggestion.pk).update(note=f"not applied: {e}"[:300])
            else:
                name = visible(lead.name)
                judged = "Valid cancellation" if verdict.valid else "Not valid"
                seller_notice(lead=lead, subject=f"{judged}: applied from {name}'s reply, the meeting is cancelled",
                              text=f"{judged}: Rebook cancelled {name}'s meeting, as your policy auto_apply_replies "
                                   f"says.\nIn their words: {quoted(reason, limit=500)}",
                              now=now)
    return suggestion


def suggestion_json(s: Suggestion) -> dict:
    return {"id": s.pk, "lead_id": s.lead_id, "appointment_id": s.appointment_id, "kind": s.kind, "reason": s.reason,
            "proposed_start": s.proposed_start.isoformat() if s.proposed_start else None,
            "received_at": s.received_at.isoformat(), "status": s.status, "note": s.note,
            "sender_verified": s.sender_verified, "confidence": s.confidence, "learned": s.learned}


# --------------------------------------------------------------------------- suggestions


def _pending(suggestion: Suggestion) -> Suggestion:
    suggestion = (Suggestion.objects.select_for_update(of=("self",)).select_related("lead__seller", "appointment")
                  .get(pk=suggestion.pk))
    if suggestion.status != Suggestion.Status.PENDING:
        raise Conflict(f"suggestion {suggestion.pk} is {suggestion.status} already")
    return suggestion


@transaction.atomic
def suggestion_apply(*, suggestion: Suggestion, to: datetime | None = None, now: datetime | None = None) -> Suggestion:
    """Do what the reply asked, through the same service as typing it, at the mail's date."""
    now = now or timezone.now()
    s = _pending(suggestion)
    at = min(s.received_at, now)
    lead, appointment = s.lead, s.appointment
    if s.kind in (Suggestion.Kind.CANCEL, Suggestion.Kind.RESCHEDULE):
        if appointment is None:
            raise RebookError(f"suggestion {s.pk}: there is no meeting to change; book or cancel it by hand")
        if s.kind == Suggestion.Kind.CANCEL:
            c = lead_services.appointment_cancel(appointment=appointment, by=Party.PROSPECT, reason=s.reason, at=at,
                                                 now=now, channel=Channel.EMAIL)
            note = f"cancelled appointment {appointment.pk} ({'valid' if c.valid else 'not valid'})"
        else:
            target = to or s.proposed_start
            if target is None:
                raise RebookError(f"suggestion {s.pk}: the reply names no time; say when with --to")
            c, moved = lead_services.appointment_reschedule(appointment=appointment, to=target, by=Party.PROSPECT,
                                                            reason=s.reason, at=at, now=now, channel=Channel.EMAIL)
            note = (f"moved appointment {appointment.pk}" if moved else
                    f"a strike too many: {lead.name} moved to the nurture list; no new time booked")
    elif s.kind == Suggestion.Kind.NOT_INTERESTED:
        lead_services.lead_not_interested(lead=lead, reason=s.reason, now=now)
        note = f"{lead.name} is not interested: pursuit ended"
    else:
        lead_services.lead_unsubscribe(lead=lead, now=now)
        note = f"{lead.name} asked not to be written to: unsubscribed"
    s.status, s.note, s.decided_at = Suggestion.Status.APPLIED, note[:300], now
    s.save(update_fields=["status", "note", "decided_at"])
    return s


@transaction.atomic
def suggestion_dismiss(*, suggestion: Suggestion, now: datetime | None = None) -> Suggestion:
    s = _pending(suggestion)
    s.status, s.decided_at = Suggestion.Status.DISMISSED, now or timezone.now()
    s.save(update_fields=["status", "decided_at"])
    return s


def suggestion_get(*, seller: Seller, suggestion_id: int) -> Suggestion:
    found = Suggestion.objects.select_related("lead", "appointment").filter(seller=seller, pk=suggestion_id).first()
    if found is None:
        raise RebookError(f"no suggestion with id {suggestion_id}")
    return found

