"""Mutated real calendar and contact files: no traceback, no hang, nothing changed when a file is refused,
and every export and page still works afterwards. Seeded, so a failure can be replayed (REBOOK_FUZZ_SEED)."""

from __future__ import annotations

import os
import random
import signal
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from rebook.errors import RebookError
from rebook.imports import import_file
from rebook.leads.models import Activity, Appointment, Cancellation, Lead
from rebook.outbox.models import PlannedMessage

FIXTURES = Path(__file__).parent.parent / "fixtures"
CASES = int(os.environ.get("REBOOK_FUZZ_CASES", "240"))
SEED = int(os.environ.get("REBOOK_FUZZ_SEED", "20261129"))
CASE_SECONDS = 20  # a hang is minutes; this leaves room for a loaded CI machine

HOSTILE_VALUES = [
    b"RRULE:FREQ=SECONDLY", b"RRULE:FREQ=DAILY;INTERVAL=0", b"RRULE:FREQ=MINUTELY;COUNT=999999999",
    b"DTSTART:00010101T000000Z", b"DTSTART:99991231T235959Z", b"DTSTART;TZID=:20260303T100000", b"TZID:",
    b"TZID:Europe/Paris\nTZID:America/New_York", b"BEGIN:STANDARD", b"SEQUENCE:99999999999999999999999",
    b"ATTENDEE;PARTSTAT=DECLINED:mailto:x@example.com", b"X-HUGE:" + b"A" * 300_000,
    b"Content-Type: text/calendar; charset=\"utf\x00-8\"", b"Content-Type: text/calendar; charset=punycode",
    b"EMAIL:" + b"@" * 5000, b"TEL:" + b"9" * 3000, b"N:" + b";" * 10_000, b'"' + b"x\n" * 1000 + b'"',
]


def corpus() -> list[tuple[str, bytes]]:
    files = sorted(p for p in FIXTURES.rglob("*") if p.suffix.lower() in {".ics", ".eml", ".vcf", ".csv"})
    return [(p.name, p.read_bytes()) for p in files]


def mutate(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes]:
    lines = data.splitlines(keepends=True) or [data]
    kind = rng.choice(["flip", "truncate", "repeat", "drop", "fold", "encoding", "bom", "nest", "hostile",
                       "hostile", "splice"])
    if kind == "flip" and data:
        raw = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
        return name, bytes(raw)
    if kind == "truncate":
        return name, data[: rng.randrange(max(1, len(data)))]
    if kind == "repeat":
        i = rng.randrange(len(lines))
        return name, b"".join(lines[:i] + [lines[i]] * rng.choice([2, 50, 2000]) + lines[i:])
    if kind == "drop":
        keep = [ln for ln in lines if rng.random() > 0.2]
        return name, b"".join(keep)
    if kind == "fold":
        i = rng.randrange(len(lines))
        return name, b"".join(lines[:i] + [b"X-FOLDED:" + b"\r\n ".join([b"y" * 70] * rng.choice([10, 20_000])) + b"\r\n"]
                             + lines[i:])
    if kind == "encoding":
        text = data.decode("utf-8", errors="replace")
        return name, text.encode(rng.choice(["utf-16-le", "utf-16-be", "utf-32", "cp1252", "shift_jis"]), errors="replace")
    if kind == "bom":
        return name, rng.choice([b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b"\xff\xfe\x00\x00"]) + data
    if kind == "nest":
        depth = rng.choice([5, 100, 2000])
        head = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (n, n) for n in range(depth))
        return name.rsplit(".", 1)[0] + ".eml", b"MIME-Version: 1.0\n" + head + data
    if kind == "splice":
        i = rng.randrange(len(lines))
        return name, b"".join(lines[:i] + lines[i:][::-1])
    i = rng.randrange(len(lines))
    value = rng.choice(HOSTILE_VALUES)
    return name, b"".join(lines[:i] + [value + b"\r\n"] + lines[i:])


class Hang(BaseException):
    """Not an Exception, so no importer's catch-all can swallow it."""


@contextmanager
def deadline(seconds: int, what: str):
    def expire(*_):
        raise Hang(f"{what} took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def state() -> tuple:
    return tuple(m.objects.count() for m in (Lead, Appointment, Cancellation, PlannedMessage, Activity))


@pytest.mark.usefixtures("frozen")
def test_mutated_real_files_never_crash_hang_or_half_change(alice, alice_client):
    rng = random.Random(SEED)
    files = corpus()
    assert len(files) >= 20
    started, slowest, refused = time.monotonic(), (0.0, ""), 0
    for case in range(CASES):
        name, data = mutate(rng, *rng.choice(files))
        before = state()
        t0 = time.monotonic()
        with deadline(CASE_SECONDS, f"case {case} ({name}, seed {SEED})"):
            try:
                import_file(seller=alice, data=data, name=name)
            except RebookError:
                refused += 1
                assert state() == before, f"case {case} ({name}) was refused but changed the database"
        slowest = max(slowest, (time.monotonic() - t0, f"case {case} ({name})"))
    print(f"\n{CASES} mutated files in {time.monotonic() - started:.1f} s: {refused} refused with a message, "
          f"slowest {slowest[0]:.2f} s ({slowest[1]})")

    import io

    from django.utils import timezone

    from rebook.backup import export_json

    export_json(alice, io.StringIO(), now=timezone.now())
    for path in ["/", "/leads/", "/nurture/", "/outbox/", "/reports/", "/data/"]:
        assert alice_client.get(path).status_code == 200, path
    for lead in Lead.objects.filter(seller=alice)[:20]:
        assert alice_client.get(f"/leads/{lead.pk}/").status_code == 200
