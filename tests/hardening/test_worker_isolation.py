"""No single job ends the worker: a stranger's broken mail, a defect in one delivery or one message, a lease
that runs out under a slow mail server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from rebook.leads.services import appointment_book, lead_create
from rebook.mailbox.models import Mailbox
from rebook.mailbox.services import mailbox_poll
from rebook.outbox.models import PlannedMessage
from rebook.outbox.worker import Worker
from rebook.sellers.services import seller_policy_set
from tests.conftest import NOW
from tests.mailbox.test_poll import ALICE, mail

BROKEN_SUBJECT = b"Subject: =?utf-8\xff?Q?hello?=\r\n"


def raw_with_subject(sender: str, subject: bytes, body: str) -> bytes:
    lines = mail(sender=sender, body=body).split(b"\n")
    return b"\n".join(subject.rstrip(b"\r\n") + b"\r" if line.startswith(b"Subject:") else line for line in lines)


@pytest.fixture
def dana(alice):
    return lead_create(seller=alice, name="Dana Reyes", email="dana@reyes.example", timezone_name="Europe/London")


@pytest.mark.parametrize("sender", ["Mallory <mallory@stranger.example>", "Dana Reyes <dana@reyes.example>"])
def test_a_subject_in_a_charset_that_does_not_exist_is_recorded_and_the_poll_goes_on(dovecot, inbox, dana, sender):
    dovecot.append(ALICE, raw_with_subject(sender, BROKEN_SUBJECT, "I have to cancel, sorry."))
    dovecot.append(ALICE, mail(body="See you Thursday."))
    inbox.refresh_from_db()
    report = mailbox_poll(mailbox=inbox)
    assert report.read == 2 and not report.error
    inbox.refresh_from_db()
    assert inbox.last_error == ""
    assert report.handled.get("reply") == 1  # the mail after it
    assert mailbox_poll(mailbox=Mailbox.objects.get(pk=inbox.pk)).read == 0


def test_the_web_read_now_button_answers_with_a_page_not_a_500_for_that_mail(dovecot, inbox, dana, client):
    dovecot.append(ALICE, raw_with_subject("dana@reyes.example", BROKEN_SUBJECT, "hello"))
    client.force_login(inbox.seller.user)
    answer = client.post("/settings/mailbox/poll/", follow=True)
    assert answer.status_code == 200
    assert b"Read 1 new message" in answer.content


def test_a_mailbox_that_raises_anything_is_recorded_on_the_mailbox_and_the_worker_goes_on(
        dovecot, inbox, dana, monkeypatch, settings):
    def defect(*args, **kwargs):
        raise RuntimeError("a defect in the IMAP client")

    monkeypatch.setattr("rebook.mailbox.imap.Connection.__enter__", defect)
    tally = Worker(name="w", send_mail=False).run(until_idle=True)
    inbox.refresh_from_db()
    assert "RuntimeError" in inbox.last_error and inbox.failures == 1 and inbox.next_poll_at is not None
    assert inbox.claimed_by == ""  # released for the next poll
    assert any("mailbox of seller" in line for line in tally.lines)


def test_a_defect_in_one_webhook_delivery_does_not_stop_the_import_queued_after_it(alice, monkeypatch, settings):
    from rebook.api.models import ImportRun
    from rebook.imports import import_enqueue
    from rebook.webhooks.services import emit, endpoint_create

    settings.REBOOK_WEBHOOK_ALLOW_PRIVATE = True
    endpoint_create(seller=alice, url="http://127.0.0.1:9/hooks", events=["lead.created"])
    emit(seller_id=alice.pk, event="lead.created", now=timezone.now(), data={"lead": {"id": 1}})
    run = import_enqueue(seller=alice, name="leads.csv", data=b"name,email\nEve Example,eve@example.com\n")

    def defect(*args, **kwargs):
        raise RuntimeError("a defect in delivery")

    monkeypatch.setattr("rebook.webhooks.delivery.post", defect)
    tally = Worker(name="w", send_mail=False).run(until_idle=True)
    assert any("a webhook delivery failed (RuntimeError)" in line for line in tally.lines)
    from rebook.webhooks.models import Delivery

    failed = Delivery.objects.get()
    assert failed.claimed_by == "" and "RuntimeError" in failed.last_response  # recorded on it, tried again later
    assert ImportRun.objects.get(pk=run.pk).status == ImportRun.Status.DONE


def due_followups(seller, frozen, count: int) -> list:
    """``count`` leads whose booking follow-ups are due now, sent without review."""
    seller_policy_set(seller=seller, key="auto_send", value="true")
    leads = [lead_create(seller=seller, name=f"Lead {i}", email=f"lead{i}@example.com") for i in range(count)]
    for lead in leads:
        start = NOW + timedelta(days=3)
        appointment_book(lead=lead, start=start, end=start + timedelta(minutes=45))
    frozen.move_to(NOW + timedelta(days=1, minutes=1))
    return leads


def test_a_message_that_cannot_be_prepared_is_retried_later_and_the_next_one_is_sent(alice, smtp, frozen, monkeypatch):
    from rebook.outbox import compose as compose_module

    leads = due_followups(alice, frozen, 2)
    real = compose_module.compose

    def broken_for_the_first(message, now):
        if message.lead_id == leads[0].pk:
            raise KeyError("a defect in a template")
        return real(message, now)

    monkeypatch.setattr("rebook.outbox.worker.compose", broken_for_the_first)
    tally = Worker(name="w").run(until_idle=True)
    first = PlannedMessage.objects.get(lead=leads[0], kind="booking_followup")
    second = PlannedMessage.objects.get(lead=leads[1], kind="booking_followup")
    assert second.status == PlannedMessage.Status.SENT
    assert first.status == PlannedMessage.Status.SCHEDULED and "KeyError" in first.last_error
    assert tally.sent == 1


def test_a_message_whose_lease_ran_out_during_a_slow_send_is_not_sent_by_the_worker_that_lost_it(
        alice, smtp, frozen):
    """`rebook worker --lease 5` and a server taking longer than the lease for one message: the rest of the batch
    went to another worker when the lease ran out, and the first worker must not send them too."""
    due_followups(alice, frozen, 3)
    lease = timedelta(seconds=5)
    slow_once = []

    class Slow(Worker):
        def _handle(self, message):
            super()._handle(message)
            if not slow_once:
                slow_once.append(message.pk)
                frozen.shift(6)  # that DATA took six seconds: past the five-second lease
                Worker(name="other", lease=lease).step()  # takes the rest of the batch, whose lease ran out

    Slow(name="slow", lease=lease).run(until_idle=True)
    ids = [m["Message-ID"] for m in smtp.messages]
    assert len(ids) == 3 and len(set(ids)) == 3, ids  # each sent once
    assert PlannedMessage.objects.filter(kind="booking_followup", status="sent").count() == 3


def test_with_a_short_lease_each_message_is_renewed_before_it_is_sent(alice, smtp, frozen):
    due_followups(alice, frozen, 3)
    lease = timedelta(seconds=5)
    leases = []

    class Slow(Worker):
        def _handle(self, message):
            message.refresh_from_db()
            leases.append(message.lease_until - timezone.now())
            super()._handle(message)
            frozen.shift(3)  # three seconds a message: the batch outlives one lease

    Slow(name="slow", lease=lease).run(until_idle=True)
    assert PlannedMessage.objects.filter(kind="booking_followup", status="sent").count() == 3
    assert all(left >= lease / 2 for left in leases), leases  # each starts with at least half a lease


def test_serve_starts_its_worker_again_when_it_dies_and_says_why():
    import sys
    import time

    from rebook.cli.serve import Supervised

    said: list[str] = []
    child = Supervised([sys.executable, "-c", "import time; time.sleep(60)"], "the worker", say=said.append).start()
    try:
        first = child.process
        first.kill()  # as the kernel's out-of-memory killer would
        deadline = time.monotonic() + 15
        while child.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert child.restarts == 1 and child.process.pid != first.pid and child.process.poll() is None
        assert said[0].startswith(f"the worker was killed by SIGKILL (pid {first.pid}); starting it again in")
    finally:
        child.stop()
    assert child.process.poll() is not None  # stopped with serve, not started again
    assert child.restarts == 1


def test_serve_does_not_start_again_a_worker_that_stopped_when_asked():
    """Ctrl-C, or a SIGTERM to serve's process group, reaches the worker too, before serve has stopped: its
    clean exit is not a death, and no fresh worker may run through serve's own shutdown (bench/load.py saw it)."""
    import signal
    import sys
    import time

    from rebook.cli.serve import Supervised

    said: list[str] = []
    stops_cleanly = "import signal, sys, time; signal.signal(signal.SIGTERM, lambda *a: sys.exit(0)); time.sleep(60)"
    child = Supervised([sys.executable, "-c", stops_cleanly], "the worker", say=said.append).start()
    try:
        time.sleep(0.5)  # its handler in place
        first = child.process
        first.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while not said and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.5)  # longer than the first pause before a restart
        assert child.restarts == 0 and child.process is first and first.poll() == 0
        assert said == [f"the worker stopped when asked (pid {first.pid}); not started again"]
    finally:
        child.stop()


def test_a_card_that_breaks_the_reader_fails_on_its_row_and_the_next_card_is_read(alice, monkeypatch):
    from rebook.cards import services as cards
    from rebook.cards.models import CardUpload

    first = CardUpload.objects.create(seller=alice, file="one.jpg", data=b"\xff\xd8 one")
    second = CardUpload.objects.create(seller=alice, file="two.jpg", data=b"\xff\xd8 two")
    real = cards.card_read

    def breaks_on_the_first(*, upload, region):
        if upload.pk == first.pk:
            raise MemoryError("the reader ran out of memory")
        return real(upload=upload, region=region)

    monkeypatch.setattr(cards, "card_read", breaks_on_the_first)
    tally = Worker(name="w", send_mail=False).run(until_idle=True)
    Worker(name="w", send_mail=False).run(until_idle=True)  # the worker's next look, after its pause
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.data, first.claimed_by) == ("failed", None, "")
    assert "MemoryError" in first.error
    assert second.status in ("read", "failed") and second.claimed_by == ""  # read (its bytes are no photo: failed)
    assert any("a card failed (MemoryError)" in line for line in tally.lines)
