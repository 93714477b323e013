"""The calendar import benchmark's baseline: the same file parsed by `icalendar` alone, each event's start
read and put in UTC, with nothing written anywhere.

    python bench/baseline_calendar.py FILE.ics
"""

from __future__ import annotations

import sys
from datetime import UTC

import icalendar


def main() -> None:
    with open(sys.argv[1], "rb") as f:
        calendar = icalendar.Calendar.from_ical(f.read())
    starts = [event.get("DTSTART").dt.astimezone(UTC) for event in calendar.walk("VEVENT")]
    print(len(starts))


if __name__ == "__main__":
    main()
