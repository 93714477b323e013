"""Times as sellers type them: ISO 8601 or phrases like "tomorrow 10am", in the seller's zone.

Phrases are read by ``dateparser`` (English only, dates in the future preferred for bare times);
turning the local wall-clock time into an instant is done here, so that daylight-saving gaps
and repeated hours are handled on purpose rather than by accident.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from rebook.errors import RebookError
from rebook.strategy.limits import EARLIEST, LATEST, check_instant


def zone(name: str, what: str = "") -> ZoneInfo:
    """The IANA zone ``name``; a refusal starts with ``what`` (a field's name) when given."""
    try:
        if not name or name.strip() != name:
            raise ValueError
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        hint = ""
        lowered = name.lower()
        close = sorted(z for z in available_timezones() if lowered and lowered in z.lower())[:3]
        if close:
            hint = f" (did you mean {', '.join(close)}?)"
        prefix = f"{what}: " if what else ""
        raise RebookError(f"{prefix}unknown time zone {name!r}{hint}; use an IANA name such as Europe/Paris") from None


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """Attach ``tz`` to a wall-clock time; refuse times that do not exist, take the first of repeated ones."""
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        # In a gap, fold=0 and fold=1 disagree and neither survives a round trip through UTC.
        if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
            raise RebookError(
                f"{naive:%Y-%m-%d %H:%M} does not exist in {tz.key}: the clocks go forward then; "
                "pick a time outside the skipped hour"
            )
    return first


def parse_time(text: str, *, tz: ZoneInfo, now: datetime, what: str = "time") -> datetime:
    """Return an aware datetime in UTC for ``text`` read in ``tz``, relative to ``now``."""
    raw = (text or "").strip()
    if not raw:
        raise RebookError(f"{what}: no time given")
    if len(raw) > 100:
        raise RebookError(f"{what}: cannot read {raw[:40]!r}...: too long for a time")
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        parsed = _parse_phrase(raw, tz, now, what)
    # Checked on the wall-clock year first: shifting year 9999 or year 1 to UTC would overflow.
    if not (EARLIEST.year <= parsed.year < LATEST.year):
        raise RebookError(f"{what}: {parsed.date().isoformat()} is outside the dates Rebook keeps "
                          f"({EARLIEST:%Y-%m-%d} to {LATEST.year - 1}-12-31)")
    if parsed.tzinfo is None:
        parsed = localize(parsed, tz)
    return check_instant(parsed.astimezone(UTC), what)


def _parse_phrase(raw: str, tz: ZoneInfo, now: datetime, what: str) -> datetime:
    import dateparser  # imported late: only phrases need it

    base = now.astimezone(tz).replace(tzinfo=None)
    try:
        parsed = _dateparser_parse(dateparser, raw, base)
    except (OverflowError, ValueError):
        parsed = None  # "in 99999999 days" and the like
    if parsed is None:
        raise RebookError(
            f"{what}: cannot read {raw!r}; use ISO 8601 (2026-03-14T10:00) or a phrase like 'tomorrow 10am'"
        )
    return parsed


def _dateparser_parse(dateparser, raw: str, base: datetime) -> datetime | None:
    return dateparser.parse(
        raw,
        languages=["en"],
        settings={
            "RELATIVE_BASE": base,
            "PREFER_DATES_FROM": "future",
            "RETURN_AS_TIMEZONE_AWARE": False,
            "PARSERS": ["relative-time", "absolute-time", "custom-formats"],
        },
    )


def to_local(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz)


def iso(instant: datetime | None, tz: ZoneInfo) -> str | None:
    return None if instant is None else instant.astimezone(tz).isoformat(timespec="seconds")


def human(instant: datetime | None, tz: ZoneInfo) -> str:
    if instant is None:
        return "-"
    return instant.astimezone(tz).strftime("%a %Y-%m-%d %H:%M %Z")


def human_span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{sign}{days}d{hours}h" if hours else f"{sign}{days}d"
    if hours:
        return f"{sign}{hours}h{minutes:02d}m" if minutes else f"{sign}{hours}h"
    return f"{sign}{minutes}m"
