from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rebook.errors import RebookError
from rebook.strategy.durations import format_duration, parse_duration
from rebook.timeparse import parse_time, zone

NY = zone("America/New_York")
NOW = datetime(2026, 3, 7, 20, 0, tzinfo=UTC)  # Saturday 15:00 in New York, the day before DST starts


def test_phrases_are_read_in_the_sellers_time_zone():
    assert parse_time("tomorrow 10am", tz=NY, now=NOW) == datetime(2026, 3, 8, 14, 0, tzinfo=UTC)  # EDT, -4


def test_iso_without_offset_is_local_and_with_offset_is_exact():
    assert parse_time("2026-03-07T09:00", tz=NY, now=NOW) == datetime(2026, 3, 7, 14, 0, tzinfo=UTC)  # EST, -5
    assert parse_time("2026-03-14T10:00+01:00", tz=NY, now=NOW) == datetime(2026, 3, 14, 9, 0, tzinfo=UTC)


def test_a_time_in_the_skipped_hour_is_refused():
    with pytest.raises(RebookError, match="does not exist in America/New_York"):
        parse_time("2026-03-08 02:30", tz=NY, now=NOW)


def test_a_repeated_hour_takes_the_first_occurrence():
    # 01:30 happens twice on 2026-11-01 in New York; the first is still daylight time (-4).
    assert parse_time("2026-11-01 01:30", tz=NY, now=NOW) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_an_unreadable_time_says_what_was_wrong():
    with pytest.raises(RebookError, match="--at: cannot read 'whenever'"):
        parse_time("whenever", tz=NY, now=NOW, what="--at")


def test_unknown_time_zones_are_refused_with_a_hint():
    with pytest.raises(RebookError, match="did you mean .*America/New_York"):
        zone("new_york")


@pytest.mark.parametrize(("text", "minutes"), [("45m", 45), ("1h30m", 90), ("2h", 120), ("90", 90), ("1d", 1440)])
def test_durations(text, minutes):
    assert parse_duration(text).total_seconds() == minutes * 60
    assert parse_duration(format_duration(parse_duration(text))) == parse_duration(text)


@pytest.mark.parametrize("text", ["0", "-5m", "soon", "5 parsecs"])
def test_bad_durations_are_refused(text):
    with pytest.raises(RebookError):
        parse_duration(text)
