"""A worker told to stop (SIGTERM, SIGINT) asks the long job in hand, an import, to give up at its next
safe point: between two events of a calendar, between two rows of a contact file. The job raises
Interrupted there, its transaction is undone, and the worker puts the file back in the queue."""

from __future__ import annotations

import threading

_requested = threading.Event()


class Interrupted(BaseException):
    """Not an Exception, so that no importer's catch-all swallows it."""


def request_stop() -> None:
    _requested.set()


def clear() -> None:
    _requested.clear()


def check() -> None:
    """Raise Interrupted if a stop was requested; called by long loops at points where stopping is safe."""
    if _requested.is_set():
        raise Interrupted
