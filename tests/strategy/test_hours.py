from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from rebook.errors import RebookError
from rebook.strategy.hours import DailyWindow, defer_past_quiet_hours, parse_window, suggest_slots
from rebook.strategy.policy import Policy, policy_as_text, policy_set

NY = ZoneInfo("America/New_York")
QUIET = DailyWindow(time(20), time(8))


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


def test_a_quiet_window_wraps_midnight():
    assert QUIET.contains(time(23, 30)) and QUIET.contains(time(0)) and QUIET.contains(time(7, 59))
    assert not QUIET.contains(time(8)) and not QUIET.contains(time(19, 59))


def test_a_message_due_in_the_evening_waits_for_the_next_morning():
    assert defer_past_quiet_hours(ny(2026, 3, 2, 21, 15), NY, QUIET) == ny(2026, 3, 3, 8)


def test_a_message_due_before_dawn_goes_the_same_morning():
    assert defer_past_quiet_hours(ny(2026, 3, 3, 2, 0), NY, QUIET) == ny(2026, 3, 3, 8)


def test_a_message_due_in_the_day_is_not_moved_and_off_moves_nothing():
    assert defer_past_quiet_hours(ny(2026, 3, 3, 12), NY, QUIET) == ny(2026, 3, 3, 12)
    assert defer_past_quiet_hours(ny(2026, 3, 3, 23), NY, None) == ny(2026, 3, 3, 23)


def test_quiet_hours_end_at_local_eight_on_the_night_the_clocks_spring_forward():
    # 8 March 2026: New York goes from UTC-5 to UTC-4 at 02:00.
    evening = datetime(2026, 3, 8, 1, 0, tzinfo=UTC)  # 20:00 EST on the 7th
    opens = defer_past_quiet_hours(evening, NY, QUIET)
    assert opens == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)  # 08:00 EDT
    assert opens.astimezone(NY).hour == 8


def test_quiet_hours_end_at_local_eight_on_the_night_the_clocks_fall_back():
    evening = datetime(2026, 11, 1, 0, 30, tzinfo=UTC)  # 20:30 EDT on 31 October
    assert defer_past_quiet_hours(evening, NY, QUIET) == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)  # 08:00 EST


def test_a_window_is_read_as_people_write_it():
    assert str(parse_window("20:00-08:00", what="x", overnight=True)) == "20:00-08:00"
    with pytest.raises(RebookError, match="runs past midnight"):
        parse_window("17:00-09:00", what="working_hours")
    assert str(parse_window(" 9 - 17:30 ", what="x")) == "09:00-17:30"
    assert parse_window("off", what="x", allow_off=True) is None


@pytest.mark.parametrize("text", ["8pm to 8am", "25:00-08:00", "08:00-08:00", "off"])
def test_a_window_that_is_not_one_is_refused_quoting_the_input(text):
    with pytest.raises(RebookError, match="policy quiet_hours"):
        parse_window(text, what="policy quiet_hours")


def test_quiet_hours_and_working_hours_are_policy_keys():
    policy = policy_set(Policy(), "quiet_hours", "21:30-7")
    assert policy.quiet_window == DailyWindow(time(21, 30), time(7))
    assert policy_as_text(policy_set(policy, "quiet_hours", "off"))["quiet_hours"] == "off"
    assert policy_set(Policy(), "working_hours", "10-16").working_window == DailyWindow(time(10), time(16))
    with pytest.raises(RebookError, match="working_hours"):
        policy_set(Policy(), "working_hours", "off")


def test_offered_slots_fall_on_working_days_inside_working_hours_and_avoid_busy_times():
    friday_evening = ny(2026, 3, 6, 18)
    busy = [(ny(2026, 3, 9, 9), ny(2026, 3, 9, 11))]  # Monday morning is taken
    slots = suggest_slots(after=friday_evening, tz=NY, working=DailyWindow(time(9), time(17)),
                          length=timedelta(minutes=45), busy=busy)
    assert slots == [ny(2026, 3, 9, 11), ny(2026, 3, 10, 13), ny(2026, 3, 11, 9)]
    for start in slots:
        assert start.weekday() < 5 and time(9) <= start.astimezone(NY).time() <= time(16, 15)


def test_no_slot_is_offered_when_the_working_day_is_shorter_than_the_meeting():
    slots = suggest_slots(after=ny(2026, 3, 6, 18), tz=NY, working=DailyWindow(time(9), time(10)),
                          length=timedelta(hours=2), busy=[])
    assert slots == []


def test_busy_times_are_checked_by_bisection_exactly_as_against_every_meeting():
    """A slot is free when no busy interval overlaps it; the sorted check answers as the plain one does,
    for touching, nested, long and overlapping intervals alike."""
    import random

    from rebook.strategy.hours import _Busy

    rng = random.Random(17)
    base = datetime(2026, 3, 2, tzinfo=UTC)
    for _ in range(300):
        busy = []
        for _ in range(rng.randrange(0, 25)):
            start = base + timedelta(minutes=15 * rng.randrange(0, 200))
            busy.append((start, start + timedelta(minutes=15 * rng.randrange(1, 40))))
        clear = _Busy(busy)
        for _ in range(40):
            start = base + timedelta(minutes=15 * rng.randrange(-10, 220))
            end = start + timedelta(minutes=15 * rng.randrange(1, 12))
            assert clear.free(start, end) == (not any(b < end and start < e for b, e in busy)), (busy, start, end)
