"""The one error type users see: a message that says what is wrong and where."""

from __future__ import annotations


class RebookError(Exception):
    """Bad input or a request the rules refuse; nothing has been changed."""


class Conflict(RebookError):
    """A well-formed request that the present state refuses: the meeting is already cancelled, the message
    already sent. The API answers 409; elsewhere it is any other refusal."""


def shown(value: str, limit: int = 60) -> str:
    """A value from the user's file, quoted for a note or an error: whole when short; else its start and its
    length, so that a pasted page in one cell does not flood the report (the note's line says where it is)."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}… ({len(value):,} characters)"
