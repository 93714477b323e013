"""The mailbox from the command line and the worker, and a poll killed half-way (nothing lost or doubled)."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
from django.db import connection

from rebook.leads.models import Activity, Cancellation
from rebook.mailbox.models import InboundMail, Mailbox, Suggestion
from tests.clirunner import Rebook
from tests.conftest import child_env, rebook_executable
from tests.mailbox.test_poll import ALICE, dana, mail, meeting  # noqa: F401

pytestmark = pytest.mark.usefixtures("alice")


@pytest.fixture
def rebook():
    return Rebook()


def test_set_show_test_and_remove(dovecot, rebook, monkeypatch):
    url = dovecot.url(ALICE)
    shown = rebook.json("mailbox", "set", url)
    assert (shown["host"], shown["login"], shown["folder"], shown["security"]) == ("127.0.0.1", ALICE, "INBOX", "plain")
    assert "alice-secret" not in rebook("mailbox", "show").stdout + rebook("mailbox", "show", "--json").stdout
    assert rebook.json("mailbox", "test")["messages"] >= 0
    # The password may come from the environment instead of the URL.
    monkeypatch.setenv("REBOOK_IMAP_PASSWORD", "alice-secret")
    rebook("mailbox", "set", f"imap://127.0.0.1:{dovecot.port}/INBOX", "--login", ALICE)
    assert rebook.json("mailbox", "test")["host"] == "127.0.0.1"
    assert rebook.json("mailbox", "remove") == {"removed": True}
    assert "no mailbox is set" in rebook.error("mailbox", "show")
    assert "imaps://" in rebook.error("mailbox", "set", "https://example.com")


def test_a_login_that_fails_is_one_error_line(dovecot, rebook):
    rebook("mailbox", "set", dovecot.url(ALICE).replace("alice-secret", "nope"))
    assert "refused the login name or password" in rebook.error("mail", "poll").lower()
    assert "refused the login name or password" in rebook.json("mailbox", "show")["last_error"]


def test_poll_then_the_inbox_apply_and_dismiss(dovecot, inbox, rebook, dana, meeting):  # noqa: F811
    dovecot.append(ALICE, mail(body="I'm really sick, I have to cancel our meeting."))
    dovecot.append(ALICE, mail(body="Please take me off your list."))
    report = rebook.json("mail", "poll")
    assert report["handled"] == {"suggestion": 2} and report["read"] == 2
    listed = rebook.json("inbox")
    assert {s["kind"] for s in listed} == {"cancel", "unsubscribe"}
    assert set(listed[0]) >= {"id", "lead_id", "appointment_id", "kind", "reason", "proposed_start", "received_at",
                              "status"}
    cancel = next(s for s in listed if s["kind"] == "cancel")
    unsubscribe = next(s for s in listed if s["kind"] == "unsubscribe")
    assert "Applied: cancelled appointment" in rebook("inbox", "apply", str(cancel["id"])).stdout
    assert Cancellation.objects.get(appointment=meeting).channel == "email"
    rebook("inbox", "dismiss", str(unsubscribe["id"]))
    assert rebook.json("inbox") == []
    assert {s["status"] for s in rebook.json("inbox", "--all")} == {"applied", "dismissed"}
    assert "already" in rebook.error("inbox", "apply", str(cancel["id"]))


def test_the_worker_polls_each_mailbox_when_due(dovecot, inbox, dana, settings):  # noqa: F811
    from rebook.outbox.worker import Worker

    settings.REBOOK_IMAP_POLL = 3600
    dovecot.append(ALICE, mail(body="Thanks, see you then!"))
    tally = Worker(name="w", send_mail=False).run(until_idle=True)
    assert any("mailbox of seller" in line and "reply: 1" in line for line in tally.lines)
    dovecot.append(ALICE, mail(body="One more thing: parking?"))
    Worker(name="w", send_mail=False).run(until_idle=True)
    assert InboundMail.objects.count() == 1  # not due again for an hour
    Mailbox.objects.update(last_poll_at=None)
    Worker(name="w", send_mail=False).run(until_idle=True)
    assert InboundMail.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_poll_killed_half_way_loses_nothing_and_doubles_nothing(dovecot, tmp_path, dana):  # noqa: F811
    if connection.vendor != "postgresql":
        pytest.skip("needs a database that several processes share (PostgreSQL)")
    from rebook.mailbox.services import mailbox_poll, mailbox_set

    box = mailbox_set(seller=dana.seller, url=dovecot.url("bob@example.com"))  # a mailbox of its own
    total = 120
    for i in range(total):
        dovecot.append("bob@example.com", mail(body=f"Reply number {i}: something came up, I have to cancel."))
    from django.conf import settings

    # The password is sealed with the secret key: the child must use the same one.
    env = child_env(tmp_path, REBOOK_USER="alice", REBOOK_SECRET_KEY=settings.SECRET_KEY, REBOOK_IMAP_ALLOW_PRIVATE="true")
    child = subprocess.Popen([rebook_executable(), "mail", "poll"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while InboundMail.objects.count() < 15:
        assert time.monotonic() < deadline and child.poll() is None, child.stderr.read() if child.poll() else "slow"
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    done_before = InboundMail.objects.count()
    assert 15 <= done_before < total
    box.refresh_from_db()
    report = mailbox_poll(mailbox=box)
    assert report.read == total - done_before and not report.error and report.duplicates == 0
    assert InboundMail.objects.count() == total
    assert Suggestion.objects.count() == total and Activity.objects.filter(lead=dana).count() == total
    print(f"\nkilled after {done_before} of {total} messages; the next poll read the other {report.read}")
