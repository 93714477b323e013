"""Values read once inside a block and afresh outside it: what a batch (a worker's batch of messages, a
calendar import) asks for again and again, and may read once, since a change made meanwhile can wait
for the next batch. Knows no Django."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any


class Remembered:
    def __init__(self, name: str) -> None:
        self._known: ContextVar[dict | None] = ContextVar(name, default=None)

    @contextmanager
    def block(self) -> Iterator[None]:
        """Inside (and inside blocks nested in it), each key is read once."""
        token = self._known.set({}) if self._known.get() is None else None
        try:
            yield
        finally:
            if token is not None:
                self._known.reset(token)

    def get(self, key: Hashable, read: Callable[[], Any]) -> Any:
        """``read()``, or what it gave for ``key`` earlier in the block."""
        known = self._known.get()
        if known is None:
            return read()
        if key not in known:
            known[key] = read()
        return known[key]
