"""Rows to insert and update, gathered while a batch of leads is re-evaluated and written once for the
batch: one INSERT and one UPDATE per model and set of columns, instead of one of each per lead (a worker's
batch of sent check-ins plans a next one for each of fifty leads). ``Writes()`` writes at once, so a
single re-evaluation needs no flush."""

from __future__ import annotations

from collections.abc import Sequence


class Writes:
    def __init__(self, *, gather: bool = False) -> None:
        self.gather = gather
        self._created: dict[type, list] = {}
        self._updated: dict[tuple[type, tuple[str, ...]], list] = {}

    def create(self, model: type, rows: Sequence) -> None:
        if not rows:
            return
        if self.gather:
            self._created.setdefault(model, []).extend(rows)
        else:
            model.objects.bulk_create(rows)

    def update(self, model: type, rows: Sequence, fields: Sequence[str]) -> None:
        if not rows:
            return
        if self.gather:
            self._updated.setdefault((model, tuple(fields)), []).extend(rows)
        elif len(rows) == 1:
            rows[0].save(update_fields=fields)  # a plain UPDATE ... WHERE id, not bulk_update's CASE
        else:
            model.objects.bulk_update(rows, fields)

    def flush(self) -> None:
        """Write what was gathered: the inserts first, then the updates (of rows that existed before)."""
        created, updated = self._created, self._updated
        self._created, self._updated = {}, {}
        for model, rows in created.items():
            model.objects.bulk_create(rows)
        for (model, fields), rows in updated.items():
            model.objects.bulk_update(rows, fields)
