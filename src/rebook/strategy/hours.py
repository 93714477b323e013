"""Hours of the day: quiet hours when nothing is sent, working hours when meetings can be offered.

All wall-clock reasoning happens in a named zone, so the answers stay right across daylight-saving
changes: "08:00" is 08:00 local time on the day it falls, whatever the UTC offset that day.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rebook.errors import RebookError

_WINDOW = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*-\s*(\d{1,2})(?::(\d{2}))?\s*$")
OFF = "off"


@dataclass(frozen=True)
class DailyWindow:
    """A stretch of every day from ``start`` to ``end`` local time; it wraps midnight when end <= start."""

    start: time
    end: time

    @property
    def wraps(self) -> bool:
        return self.end <= self.start

    def contains(self, t: time) -> bool:
        if self.wraps:
            return t >= self.start or t < self.end
        return self.start <= t < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def _clock(hours: str, minutes: str | None, text: str, what: str) -> time:
    h, m = int(hours), int(minutes or 0)
    if h == 24 and m == 0:
        return time(0, 0)
    if h > 23 or m > 59:
        raise RebookError(f"{what}: {text!r} is not a time of day")
    return time(h, m)


def parse_window(text: str, *, what: str, allow_off: bool = False, overnight: bool = False) -> DailyWindow | None:
    """Read "20:00-08:00" (or "off" where allowed); raise a RebookError that quotes the input."""
    raw = text.strip().lower()
    if allow_off and raw in {OFF, "none", "no", "false", ""}:
        return None
    match = _WINDOW.match(raw)
    if not match:
        example = '"20:00-08:00" or "off"' if allow_off else '"09:00-17:00"'
        raise RebookError(f"{what}: expected a range like {example}, not {text!r}")
    window = DailyWindow(_clock(match[1], match[2], text, what), _clock(match[3], match[4], text, what))
    if window.start == window.end:
        raise RebookError(f"{what}: {text!r} starts and ends at the same time")
    if window.wraps and not overnight:
        raise RebookError(f"{what}: {text!r} runs past midnight; working hours start and end on the same day")
    return window


def _at(day: date, t: time, tz: ZoneInfo) -> datetime:
    # A wall time that does not exist (spring-forward gap) is taken at its later reading, which
    # zoneinfo gives for fold=0 already: 02:30 on a spring-forward night becomes 03:30.
    return datetime.combine(day, t, tzinfo=tz)


def defer_past_quiet_hours(moment: datetime, tz: ZoneInfo, quiet: DailyWindow | None) -> datetime:
    """The first instant at or after ``moment`` that is outside the quiet hours in ``tz``."""
    if quiet is None:
        return moment
    local = moment.astimezone(tz)
    if not quiet.contains(local.time()):
        return moment
    day = local.date()
    if quiet.wraps and local.time() >= quiet.start:
        day += timedelta(days=1)
    return _at(day, quiet.end, tz).astimezone(moment.tzinfo)


def suggest_slots(
    *,
    after: datetime,
    tz: ZoneInfo,
    working: DailyWindow,
    length: timedelta,
    busy: Iterable[tuple[datetime, datetime]],
    count: int = 3,
    horizon_days: int = 21,
) -> list[datetime]:
    """Up to ``count`` meeting starts on different working days (Monday to Friday) after ``after``.

    Each is inside the working hours and clear of every busy interval. The first slot of the day is
    tried in the morning on one day and in the afternoon on the next, so the prospect gets a choice.
    """
    clear = _Busy(busy)
    start_day = after.astimezone(tz).date() + timedelta(days=1)
    out: list[datetime] = []
    for offset in range(horizon_days):
        day = start_day + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        candidates = _day_candidates(day, tz, working, length)
        if len(out) % 2 == 1:
            candidates = candidates[len(candidates) // 2 :] + candidates[: len(candidates) // 2]
        for start in candidates:
            end = start + length
            if start > after and clear.free(start, end):
                out.append(start)
                break
        if len(out) == count:
            break
    return out


def open_slots(
    *,
    after: datetime,
    tz: ZoneInfo,
    working: DailyWindow,
    length: timedelta,
    busy: Iterable[tuple[datetime, datetime]],
    days: int = 14,
    per_day: int = 4,
) -> list[datetime]:
    """Free starts on the hour inside the working hours of the weekdays after ``after`` (``days`` calendar
    days), at most ``per_day`` a day, spread over the day: what a prospect picks from to move a meeting."""
    clear = _Busy(busy)
    first_day = after.astimezone(tz).date()
    out: list[datetime] = []
    for offset in range(days + 1):
        day = first_day + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        free = [s for s in _day_candidates(day, tz, working, length)
                if s > after and clear.free(s, s + length)]
        if len(free) > per_day:  # spread: first, last and evenly between
            step = (len(free) - 1) / (per_day - 1)
            free = [free[round(i * step)] for i in range(per_day)]
        out.extend(free)
    return out


class _Busy:
    """Busy intervals, asked whether [start, end) is clear of all of them in O(log n): sorted by start, with
    the latest end among each prefix; [start, end) meets one iff some interval starting before ``end``
    ends after ``start``."""

    def __init__(self, busy: Iterable[tuple[datetime, datetime]]) -> None:
        intervals = sorted(busy)
        self.starts = [b_start for b_start, _ in intervals]
        self.latest_end: list[datetime] = []
        for _, b_end in intervals:
            self.latest_end.append(max(b_end, self.latest_end[-1]) if self.latest_end else b_end)

    def free(self, start: datetime, end: datetime) -> bool:
        before_end = bisect_left(self.starts, end)  # the intervals that start before ``end``
        return before_end == 0 or self.latest_end[before_end - 1] <= start


def _day_candidates(day: date, tz: ZoneInfo, working: DailyWindow, length: timedelta) -> list[datetime]:
    first = _at(day, working.start, tz)
    last_day = day + timedelta(days=1) if working.wraps else day
    close = _at(last_day, working.end, tz)
    out = []
    # On the hour; a meeting must end by closing time.
    t = first
    while t + length <= close:
        out.append(t)
        t = (t.astimezone(ZoneInfo("UTC")) + timedelta(hours=1)).astimezone(tz)
    return out
