"""The one error type users see: a message that says what is wrong and where."""

from __future__ import annotations


class RebookError(Exception):
    """Bad input or a request the rules refuse; nothing has been changed."""


class Conflict(RebookError):
    """A well-formed request that the present state refuses: the meeting is already cancelled, the message
    already sent. The API answers 409; elsewhere it is any other refusal."""
