"""Rows to insert and update, gathered while a batch of leads is re-evaluated and written once for the
batch: one INSERT per model, and one UPDATE per model and set of columns (on SQLite run for every row; on
PostgreSQL one statement for all, from arrays), instead of statements per lead (a worker's batch of sent check-ins plans a next
one for each of fifty leads). ``Writes()`` writes at once, so a single re-evaluation needs no flush."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator, Sequence

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import JSONField, Model
from django.db.models.base import ModelState


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
            insert_new(model, rows)

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
            insert_new(model, rows)
        for (model, fields), rows in updated.items():
            update_rows(model, rows, fields)


def update_rows(model: type, rows: Sequence, fields: Sequence[str]) -> None:
    """``UPDATE ... SET fields WHERE id`` for each row, as one statement run many times (on PostgreSQL, one
    statement for them all): Django's ``bulk_update`` builds a CASE expression per column whose cost in
    Python grows faster than the rows (two seconds for a few thousand)."""
    if not rows:
        return
    meta, quote = model._meta, connection.ops.quote_name
    columns = [meta.get_field(name) for name in fields]
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor == "postgresql" and len(rows) > 1:
        _update_from_arrays(db, meta, columns, rows)
        return
    sql = (f"UPDATE {quote(meta.db_table)} SET {', '.join(f'{quote(c.column)} = %s' for c in columns)} "
           f"WHERE {quote(meta.pk.column)} = %s")
    prepared = [(c.attname, _preparer(c, db)) for c in columns]  # each distinct value once, as insert_new
    with db.cursor() as cursor:
        cursor.executemany(sql, [[prepare(getattr(row, attname)) for attname, prepare in prepared] + [row.pk]
                                 for row in rows])


def _update_from_arrays(db, meta, columns: list, rows: Sequence) -> None:
    """On PostgreSQL, one ``UPDATE ... FROM UNNEST`` of a column array each, bound by the server: the
    statement run once a row, even pipelined, has the server plan and run thousands (a calendar import
    re-evaluates every lead it touched). A row given twice ends as its last copy says, as it would there."""
    last = {row.pk: row for row in rows}
    quote = db.ops.quote_name
    sets = ", ".join(f"{quote(c.column)} = u.c{i}" for i, c in enumerate(columns))
    arrays = ", ".join([*(f"%s::{c.db_type(db).split('(')[0]}[]" for c in columns), f"%s::{meta.pk.rel_db_type(db)}[]"])
    names = ", ".join(f"c{i}" for i in range(len(columns)))
    sql = (f"UPDATE {quote(meta.db_table)} AS t SET {sets} FROM UNNEST({arrays}) AS u({names}, id) "
           f"WHERE t.{quote(meta.pk.column)} = u.id")
    params = [[prepare(getattr(row, c.attname)) for row in last.values()]
              for c, prepare in ((c, _preparer(c, db)) for c in columns)]
    params.append(list(last))
    import psycopg

    db.ensure_connection()
    with db.wrap_database_errors, psycopg.Cursor(db.connection) as cursor:  # binds on the server
        cursor.execute(sql, params)


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


def new_like(blank: Model, **values) -> Model:
    """A new, unsaved row: a copy of ``blank`` (made once with ``Model.__init__``, its defaults set) with
    these attribute values (attnames: ``lead_id``, not ``lead``), without ``__init__``'s work per field (what
    ``copy.copy`` does, without its pickling protocol). The objects cached on the blank (its seller) stay
    cached; a JSON value not given is copied, never shared."""
    model = type(blank)
    row = model.__new__(model)
    state = ModelState()
    state.fields_cache = dict(blank._state.fields_cache)
    row.__dict__.update(blank.__dict__, **values, _state=state)
    for name in _json_attnames(model):
        if name not in values:
            row.__dict__[name] = copy.deepcopy(blank.__dict__[name])
    return row


@functools.cache
def _json_attnames(model: type) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields if isinstance(f, JSONField))


def insert_new(model: type, rows: Sequence, *, per_statement: int = 1000) -> None:
    """Insert new rows as ``bulk_create`` would (the same columns and values, ``auto_now`` and
    ``auto_now_add`` set to one moment, each row given its id), in fewer and cheaper statements: a column
    whose value is the same in every row is prepared for the database once, and the statements run on the
    driver's own cursor with its own placeholders (Django's SQLite cursor rewrites each ``%s`` with a
    regular expression, and keeps a statement under 999 parameters; on PostgreSQL the values are bound by
    the server instead of quoted into the text in Python). Other databases: ``bulk_create``."""
    if not rows:
        return
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql") or not connection.features.can_return_rows_from_bulk_insert:
        model.objects.bulk_create(rows)
        return
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: each use of the proxy ``connection`` costs a lookup
    meta, quote = model._meta, db.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    for row in rows:
        row._prepare_related_fields_for_save(operation_name="bulk_create")  # a parent saved after it was set
    first = rows[0]
    moment = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    for f in moment:
        value = f.pre_save(first, add=True)  # the moment, as bulk_create sets it
        for row in rows:
            setattr(row, f.attname, value)
    constant, positions = [], []
    for i, f in enumerate(fields):
        value = getattr(first, f.attname)
        if (positions or i < len(fields) - 1) and all(getattr(row, f.attname) == value for row in rows):
            constant.append((i, f.get_db_prep_save(value, db)))
        else:
            positions.append(i)
    base = [None] * len(fields)
    for i, prepared in constant:
        base[i] = prepared
    varying = [(i, fields[i].attname, _preparer(fields[i], db)) for i in positions]
    columns = ", ".join(quote(f.column) for f in fields)
    alias = db.alias
    db.ensure_connection()
    if vendor == "postgresql":
        # As bulk_create does, each varying column is one array, unnested; a constant is sent once. Bound by
        # the server (psycopg's own cursor, whatever cursor Django makes): Django's quotes each value into
        # the statement's text in Python.
        given = dict(constant)
        selected = ", ".join(f"%s::{f.db_type(db)}" if i in given else f"u.c{i}" for i, f in enumerate(fields))
        arrays = ", ".join(f"%s::{fields[i].db_type(db).split('(')[0]}[]" for i in positions)
        names = ", ".join(f"c{i}" for i in positions)
        sql = (f"INSERT INTO {quote(meta.db_table)} ({columns}) SELECT {selected} FROM UNNEST({arrays}) "
               f"WITH ORDINALITY AS u({names}, n) ORDER BY u.n RETURNING {quote(meta.pk.column)}")
        chunk_size = per_statement
    else:
        chunk_size = max(1, min(per_statement, _max_params() // len(fields)))
        row_sql = "(" + ", ".join(["?"] * len(fields)) + ")"
    for start, end in _spans(len(rows), chunk_size, by_powers=vendor == "sqlite"):
        chunk = rows[start:end]
        if vendor == "postgresql":
            params = [value for _, value in constant]
            params += [[prep(getattr(row, attname)) for row in chunk] for _, attname, prep in varying]
        else:
            params = []
            for row in chunk:
                values = base.copy()
                for i, attname, prep in varying:
                    values[i] = prep(getattr(row, attname))
                params += values
            sql = (f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([row_sql] * len(chunk))} "
                   f"RETURNING {quote(meta.pk.column)}")
        ids = _run_returning(sql, params)
        for row, pk in zip(chunk, ids, strict=True):
            row.pk = pk
            row._state.adding, row._state.db = False, alias


def _spans(n: int, size: int, *, by_powers: bool) -> Iterator[tuple[int, int]]:
    """Where each statement's rows start and end: ``size`` rows each, and the rest in one, or (``by_powers``)
    in powers of two. SQLite's statements list their rows, and its driver keeps the last 128 it prepared: a
    batch of 917 rows and one of 923 would each leave a prepared statement of megabytes behind, where full
    statements and 512 + 256 + ... + 1 reuse a dozen shapes whatever the counts."""
    start = 0
    while n - start >= size:
        yield start, start + size
        start += size
    rest = n - start
    if rest and not by_powers:
        yield start, n
        return
    bit = 1 << max(rest.bit_length() - 1, 0)
    while rest:
        if rest & bit:
            yield start, start + bit
            start, rest = start + bit, rest - bit
        bit >>= 1


def _preparer(field, db) -> Callable:
    """``field.get_db_prep_save`` of one value, each distinct value prepared once (the rows of a batch repeat
    their times, names and kinds); a JSON value (a list, a dict) each time."""
    if isinstance(field, JSONField):
        return lambda value: field.get_db_prep_save(value, db)
    prepared: dict = {}

    def prepare(value):
        try:
            return prepared[value]
        except KeyError:
            result = prepared[value] = field.get_db_prep_save(value, db)
            return result
        except TypeError:  # not hashable
            return field.get_db_prep_save(value, db)
    return prepare


def _run_returning(sql: str, params: list) -> list:
    """Run an ``INSERT ... RETURNING id`` on the driver's own cursor (the SQL in its placeholder style); its
    errors become Django's, as on Django's cursor."""
    db = connections[DEFAULT_DB_ALIAS]
    with db.wrap_database_errors:
        if db.vendor == "postgresql":
            import psycopg

            cursor = psycopg.Cursor(db.connection)  # binds on the server
        else:
            cursor = db.connection.cursor()
        try:
            cursor.execute(sql, params)
            return [r[0] for r in cursor.fetchall()]
        finally:
            cursor.close()


def _max_params() -> int:
    """How many parameters one SQLite statement may carry: its compiled-in limit (32,766 by default since
    3.32; Django assumes 999)."""
    import sqlite3

    connection.ensure_connection()
    return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
