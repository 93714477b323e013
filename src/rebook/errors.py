"""The one error type users see: a message that says what is wrong and where."""

from __future__ import annotations


class RebookError(Exception):
    """Bad input or a request the rules refuse; nothing has been changed."""
