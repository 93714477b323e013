"""The sensible ranges of every number, duration and date Rebook accepts, in one place.

The command line, the web forms, the API and the importers all end in the same checks, so a value is
refused with the same words wherever it was typed. The README's "Limits" table lists these.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rebook.errors import RebookError

# Dates: far enough back for old history, far enough ahead for any real booking, and clear of the
# ends of Python's calendar, where shifting a time zone overflows.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

MAX_MEETING = timedelta(days=31)  # one appointment, end minus start
MAX_DURATION = timedelta(days=3650)  # any duration typed anywhere, before its own limit

# Policy numbers and durations: (smallest, largest).
POLICY_RANGES: dict[str, tuple[int, int]] = {
    "strike_limit": (1, 100),
    "late_notice_hours": (0, 24 * 30),
    "weekly_meeting_target": (0, 1000),
    "nurture_checkin_days": (1, 3650),
}
POLICY_DURATION_MAX: dict[str, timedelta] = {
    "connecting_moment_delay": timedelta(days=30),
    "reschedule_offer_delay": timedelta(days=30),
    "booking_followup_delay": timedelta(days=30),
    "confirmation_lead_time": timedelta(days=30),
}

# Files and rows.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_EVENTS_PER_FILE = 5000  # occurrences and single events, after expansion
MAX_OCCURRENCES_PER_SERIES = 500
MAX_RULE_STEPS = 50_000  # repetitions of one rule walked from its start, before the window is even reached
MAX_IMPORT_SECONDS = 60.0  # well inside the worker's 5-minute lease
MAX_ROWS_PER_IMPORT = 1_000_000
MAX_LINE_CHARS = 1024 * 1024  # one unfolded iCalendar or vCard line
MAX_MIME_PARTS = 500
MAX_MIME_DEPTH = 20


def check_instant(value: datetime, what: str = "time") -> datetime:
    if value.tzinfo is None:
        raise RebookError(f"{what}: {value:%Y-%m-%d %H:%M} has no time zone")
    if not (EARLIEST <= value < LATEST):
        raise RebookError(
            f"{what}: {value.date().isoformat()} is outside the dates Rebook keeps "
            f"({EARLIEST:%Y-%m-%d} to {LATEST - timedelta(days=1):%Y-%m-%d})"
        )
    return value


def check_meeting(start: datetime, end: datetime) -> None:
    check_instant(start, "start")
    check_instant(end, "end")
    if end <= start:
        raise RebookError("the appointment must end after it starts (end before start)")
    if end - start > MAX_MEETING:
        raise RebookError(f"duration: a meeting can last at most {MAX_MEETING.days} days")


def check_number(value: int, what: str, low: int, high: int) -> int:
    if not (low <= value <= high):
        raise RebookError(f"{what} must be between {low} and {high}, not {value}")
    return value
