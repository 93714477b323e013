"""Durations as people type them: "45m", "1h30m", "2h", "90" (minutes), "3d"."""

from __future__ import annotations

import re
from datetime import timedelta

from rebook.errors import RebookError
from rebook.strategy.limits import MAX_DURATION

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(d|days?|h|hours?|hrs?|m|mins?|minutes?|s|secs?|seconds?)", re.I)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(
    text: str, *, allow_zero: bool = False, what: str = "duration", maximum: timedelta = MAX_DURATION
) -> timedelta:
    raw = text.strip()
    if len(raw) > 40:
        raise RebookError(f"{what}: cannot read {raw[:40]!r}...; use forms like 45m, 1h30m, 2h or 3d")
    if re.fullmatch(r"\d+", raw):
        total = int(raw) * 60.0
    else:
        compact = raw.replace(" ", "")
        parts = _PART.findall(compact)
        if not parts or "".join(n + u for n, u in parts).lower() != compact.lower():
            raise RebookError(f"{what}: cannot read {text!r}; use forms like 45m, 1h30m, 2h or 3d")
        total = sum(float(n) * _UNIT_SECONDS[u[0].lower()] for n, u in parts)
    if total < 0 or (total == 0 and not allow_zero):
        raise RebookError(f"{what} must be longer than zero, not {text!r}")
    if total > maximum.total_seconds():
        raise RebookError(f"{what} can be at most {format_duration(maximum)}, not {text!r}")
    return timedelta(seconds=total)


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0"
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)
