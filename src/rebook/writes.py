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


def insert_rows(model: type, rows: Sequence) -> None:
    """Insert new rows as ``bulk_create`` does (the same columns and values, each row's id set), on SQLite in
    statements written with ``?`` and run on the driver's cursor: Django's SQLite cursor rewrites each ``%s``
    as ``?`` with a regular expression, and builds each value through its insert compiler, which over
    a calendar file's thousands of new meetings took longer than SQLite's inserts."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    if connection.vendor != "sqlite" or not connection.features.can_return_rows_from_bulk_insert:
        model.objects.bulk_create(rows)
        return
    params = []
    for row in rows:
        row._prepare_related_fields_for_save(operation_name="bulk_create")
        for f in fields:
            value = f.pre_save(row, add=True)
            if hasattr(value, "resolve_expression"):  # an expression: Django's compiler writes it
                model.objects.bulk_create(rows)
                return
            params.append(f.get_db_prep_save(value, connection))
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    row_sql = "(" + ", ".join(["?"] * len(fields)) + ")"
    per_statement = max(1, min(2000, max_params() // len(fields)))
    for start in range(0, len(rows), per_statement):
        chunk = rows[start:start + per_statement]
        sql = (f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {', '.join([row_sql] * len(chunk))} "
               f"RETURNING {quote(model._meta.pk.column)}")
        insert_returning(chunk, sql, params[start * len(fields):(start + len(chunk)) * len(fields)], driver=True)


def insert_returning(chunk: Sequence, sql: str, params: list, driver: bool = False) -> None:
    """Run an INSERT ... RETURNING id for ``chunk`` and give each row its id, as bulk_create does; with
    ``driver``, on the database driver's cursor (the SQL in its own placeholder style)."""
    if driver:
        cursor = connection.connection.cursor()
        try:
            ids = [r[0] for r in cursor.execute(sql, params).fetchall()]
        finally:
            cursor.close()
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            ids = [r[0] for r in cursor.fetchall()]
    alias = connection.alias
    for row, pk in zip(chunk, ids, strict=True):
        row.pk = pk
        row._state.adding, row._state.db = False, alias


def max_params() -> int:
    """How many parameters one SQLite statement may carry: its compiled-in limit (32,766 by default since
    3.32; Django assumes 999)."""
    import sqlite3

    connection.ensure_connection()
    return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
