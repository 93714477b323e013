"""Workers killed again and again (SIGKILL, on PostgreSQL): nothing is lost, and a mail is sent twice only when
a kill lands between the server's 250 and the commit of "sent". Reports resends per kill."""

from __future__ import annotations

import os
import random
import signal
import time

import pytest

from rebook.outbox.models import PlannedMessage
from tests.outbox.test_worker_processes import delivered, plan, postgres_only, server, start_worker  # noqa: F401

pytestmark = [pytest.mark.subprocess, pytest.mark.django_db(transaction=True)]
Status = PlannedMessage.Status
KILLS = int(os.environ.get("REBOOK_KILLS", "8"))  # more for a measurement: REBOOK_KILLS=60


def test_repeated_kills_resend_rarely_and_lose_nothing(alice, server, tmp_path):  # noqa: F811
    ids = plan(alice, max(1200, 150 * KILLS))
    server.handler.delay = 0
    rng = random.Random(12)
    kills = 0
    while kills < KILLS and PlannedMessage.objects.filter(pk__in=ids).exclude(status=Status.SENT).exists():
        worker = start_worker(tmp_path, server, "--lease", "1", "--poll", "0.2")
        time.sleep(rng.uniform(1.5, 2.5))  # start-up takes about a second; then it sends for a while
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        kills += 1
        time.sleep(1.1)  # the dead worker's leases run out
    rescuer = start_worker(tmp_path, server, "--until-idle")
    _, err = rescuer.communicate(timeout=120)
    assert rescuer.returncode == 0, err

    counts = delivered(server)
    assert set(counts) == set(ids)  # nothing lost
    assert PlannedMessage.objects.filter(pk__in=ids, status=Status.SENT).count() == len(ids)
    resends = sum(counts.values()) - len(counts)
    print(f"\n{kills} kills, {len(ids)} messages, {resends} resent: {resends / kills:.2f} resends per kill")
    assert kills >= 5
    # Measured on this 2-core machine with REBOOK_KILLS=60: 0.05 per kill (3 resends in 9,000 messages); 0.15 when
    # "sent" was a four-round-trip transaction. With a sink that parsed each mail before its 250 (server time,
    # which no client can close) it was 0.4 to 0.65.
    assert resends / kills < 0.75, resends  # a guard against the old window, not the target: see the print
