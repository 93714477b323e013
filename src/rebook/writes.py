"""Rows to insert and update, gathered while a batch of leads is re-evaluated and written once for the
batch: one INSERT per model, and one UPDATE statement per model and set of columns run for every row
(pipelined by psycopg), instead of statements per lead (a worker's batch of sent check-ins plans a next
one for each of fifty leads). ``Writes()`` writes at once, so a single re-evaluation needs no flush."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection


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
        """Write ``fields`` of ``rows`` as they are (``auto_now`` is the caller's to set)."""
        if not rows:
            return
        if self.gather:
            self._updated.setdefault((model, tuple(fields)), []).extend(rows)
        elif len(rows) == 1:
            rows[0].save(update_fields=fields)
        else:
            update_rows(model, rows, fields)

    def flush(self) -> None:
        """Write what was gathered: the inserts first, then the updates (of rows that existed before)."""
        created, updated = self._created, self._updated
        self._created, self._updated = {}, {}
        for model, rows in created.items():
            model.objects.bulk_create(rows)
        for (model, fields), rows in updated.items():
            update_rows(model, rows, fields)


def update_rows(model: type, rows: Sequence, fields: Sequence[str]) -> None:
    """``UPDATE ... SET fields WHERE id`` for each row, as one statement run many times: Django's
    ``bulk_update`` builds a CASE expression per column whose cost in Python grows faster than the rows
    (two seconds for a few thousand)."""
    if not rows:
        return
    meta, quote = model._meta, connection.ops.quote_name
    columns = [meta.get_field(name) for name in fields]
    sql = (f"UPDATE {quote(meta.db_table)} SET {', '.join(f'{quote(c.column)} = %s' for c in columns)} "
           f"WHERE {quote(meta.pk.column)} = %s")
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[c.get_db_prep_save(getattr(row, c.attname), connection) for c in columns] + [row.pk]
                                 for row in rows])


def update_if(model: type, changes: dict, **where) -> int:
    """``UPDATE ... SET changes WHERE`` each of ``where`` equals its value; the number of rows changed. For
    the statement a loop runs for every item (the worker records each message it sent): Django's
    ``filter().update()`` spends longer building it than the database takes to run it."""
    meta, quote = model._meta, connection.ops.quote_name
    sets = [meta.get_field(name) for name in changes]
    tests = [meta.get_field(name) for name in where]
    sql = (f"UPDATE {quote(meta.db_table)} SET {', '.join(f'{quote(c.column)} = %s' for c in sets)} "
           f"WHERE {' AND '.join(f'{quote(c.column)} = %s' for c in tests)}")
    params = [c.get_db_prep_save(v, connection) for c, v in zip(sets, changes.values(), strict=True)]
    params += [c.get_db_prep_value(v, connection, prepared=False) for c, v in zip(tests, where.values(), strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
