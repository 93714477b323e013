"""A calendar's events as CalDAV stores them (one resource a UID), for the tests and the bench."""

from __future__ import annotations


def one_per_uid(text: str) -> list[str]:
    """A calendar's events as CalDAV stores them: one resource for each UID (a series with its moved ones)."""
    head, _, rest = text.partition("BEGIN:VEVENT")
    blocks = ("BEGIN:VEVENT" + rest).split("END:VCALENDAR")[0].split("BEGIN:VEVENT")[1:]
    by_uid: dict[str, list[str]] = {}
    for block in blocks:
        uid = block.split("UID:", 1)[1].split("\n", 1)[0]
        by_uid.setdefault(uid, []).append("BEGIN:VEVENT" + block)
    return [head + "".join(parts) + "END:VCALENDAR\n" for parts in by_uid.values()]
