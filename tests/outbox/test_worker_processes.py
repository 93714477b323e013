"""Workers as separate processes on PostgreSQL: several at once, one killed, one stopped politely.

These commit for real, so the child processes see the rows; PostgreSQL only, because the SQLite test
database lives in this process's memory.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from rebook.leads.services import appointment_book, lead_create
from rebook.outbox.models import PlannedMessage
from rebook.sellers.services import seller_policy_set
from tests.conftest import child_env, rebook_executable
from tests.smtpserver import SMTPServer

pytestmark = [pytest.mark.subprocess, pytest.mark.django_db(transaction=True)]
Status = PlannedMessage.Status


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs a database that several processes share (PostgreSQL)")


@pytest.fixture
def server():
    server = SMTPServer().start()
    yield server
    server.stop()


def plan(seller, count: int) -> list[int]:
    """``count`` booking follow-ups, each for its own lead, all due now (booked two days ago)."""
    seller_policy_set(seller=seller, key="auto_send", value="true")
    seller_policy_set(seller=seller, key="quiet_hours", value="off")  # real time here: any hour of the day
    now = timezone.now()
    for i in range(count):
        lead = lead_create(seller=seller, name=f"Lead {i}", email=f"lead{i}@example.com")
        start = now + timedelta(days=3, hours=i % 24)
        appointment_book(lead=lead, start=start, end=start + timedelta(minutes=30), booked_at=now - timedelta(days=2))
    ids = list(PlannedMessage.objects.filter(status=Status.SCHEDULED, due__lte=now).values_list("pk", flat=True))
    assert len(ids) == count
    return ids


def start_worker(tmp_path, server, *args: str) -> subprocess.Popen:
    env = child_env(tmp_path, REBOOK_SMTP_URL=server.url, REBOOK_FROM_EMAIL="rebook@example.com")
    return subprocess.Popen([rebook_executable(), "worker", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def delivered(server) -> Counter:
    return Counter(int(m["X-Rebook-Message"]) for m in server.messages)


def test_several_workers_send_every_message_exactly_once(alice, server, tmp_path):
    ids = plan(alice, 300)
    workers = [start_worker(tmp_path, server, "--until-idle", "--json") for _ in range(4)]
    shares = []
    for worker in workers:
        out, err = worker.communicate(timeout=180)
        assert worker.returncode == 0, err
        shares.append(json.loads(out)["sent"])

    counts = delivered(server)
    assert set(counts) == set(ids)
    assert max(counts.values()) == 1, [pk for pk, n in counts.items() if n > 1]
    assert PlannedMessage.objects.filter(pk__in=ids, status=Status.SENT).count() == len(ids)
    assert sum(shares) == len(ids)
    assert sum(1 for share in shares if share) >= 2, shares  # they really worked side by side


def test_a_killed_worker_loses_nothing(alice, server, tmp_path):
    ids = plan(alice, 20)
    server.handler.delay = 0.2  # slow enough to kill the worker mid-batch
    worker = start_worker(tmp_path, server, "--lease", "2")
    wait_for(lambda: len(server.received) >= 5)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)

    assert PlannedMessage.objects.filter(pk__in=ids, status=Status.SENT).count() < len(ids)
    time.sleep(2.5)  # the dead worker's lease runs out
    server.handler.delay = 0
    rescuer = start_worker(tmp_path, server, "--until-idle")
    _, err = rescuer.communicate(timeout=120)
    assert rescuer.returncode == 0, err

    assert PlannedMessage.objects.filter(pk__in=ids, status=Status.SENT).count() == len(ids)
    assert set(delivered(server)) == set(ids)
    # A message the killed worker had handed to the server but not recorded may arrive twice; if it
    # does, both copies carry the same Message-ID, so mail clients show it once.
    by_message: dict[str, set[str]] = {}
    for mail in server.messages:
        by_message.setdefault(mail["X-Rebook-Message"], set()).add(mail["Message-ID"])
    assert all(len(message_ids) == 1 for message_ids in by_message.values())


def test_sigterm_finishes_the_message_in_hand_and_exits_cleanly(alice, server, tmp_path):
    ids = plan(alice, 10)
    server.handler.delay = 0.5
    worker = start_worker(tmp_path, server)
    wait_for(lambda: PlannedMessage.objects.filter(pk__in=ids, status=Status.SENDING).exists())
    worker.send_signal(signal.SIGTERM)
    out, err = worker.communicate(timeout=30)

    assert worker.returncode == 0, err
    assert "Worker stopped" in out
    assert not PlannedMessage.objects.filter(pk__in=ids, status=Status.SENDING).exists()
    sent = PlannedMessage.objects.filter(pk__in=ids, status=Status.SENT).count()
    assert 1 <= sent < len(ids)
    assert len(server.received) == sent


def test_sigterm_interrupts_an_import_in_hand_undoes_it_and_queues_the_file_again(alice, server, tmp_path):
    from rebook.api.models import ImportRun
    from rebook.imports import import_enqueue
    from rebook.leads.models import Lead

    rows = "".join(f"Person {i},person{i}@example.com\r\n" for i in range(150_000))
    run = import_enqueue(seller=alice, data=("Name,E-mail\r\n" + rows).encode(), name="big.csv")
    leads_before = Lead.objects.count()
    worker = start_worker(tmp_path, server)
    wait_for(lambda: ImportRun.objects.get(pk=run.pk).status == ImportRun.Status.RUNNING)
    time.sleep(1.0)  # well inside the file: it takes far longer than this to import
    asked = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    out, err = worker.communicate(timeout=60)
    stopped_after = time.monotonic() - asked

    assert worker.returncode == 0, err
    assert "interrupted, queued again" in out + err
    run.refresh_from_db()
    assert (run.status, run.claimed_by, run.data is not None) == (ImportRun.Status.QUEUED, "", True)
    assert Lead.objects.count() == leads_before  # nothing of the half-read file was kept
    print(f"\nstopped {stopped_after:.2f} s after SIGTERM, in the middle of a 150,000-row import")
