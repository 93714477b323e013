"""Rows read as model instances without ``Model.__init__``: for the lists a page or a batch reads many rows
of, where making each instance (``from_db``: the values lined up against every field, then ``__init__``
setting them one by one) cost more than reading its row. The values are Django's own (``values_list``
applies the same converters); the instances behave as ``.only()``'s do: a field not read loads on access,
and a related object read with the row is cached on it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from django.db.models import Model, QuerySet, signals
from django.db.models.base import ModelState
from django.utils.dateparse import parse_datetime


def instances(queryset: QuerySet, fields: Sequence[str] | None = None, **related: Sequence[str]) -> list:
    """The rows of ``queryset`` as instances of its model with ``fields`` loaded (attribute names; all
    concrete fields by default), and for each keyword, the object its foreign key of that name points to,
    with those fields (its primary key among them), read in the same query."""
    model = queryset.model
    names = list(fields) if fields is not None else [f.attname for f in model._meta.concrete_fields]
    joined = []
    for name, wanted in related.items():
        field = model._meta.get_field(name)
        joined.append((name, field.attname, field.related_model, list(wanted)))
    for m in (model, *(target for *_, target, _ in joined)):
        if signals.pre_init.has_listeners(m) or signals.post_init.has_listeners(m):
            return _the_usual_way(queryset, names, joined)  # what __init__ would tell them: not skipped
    columns = names + [f"{name}__{f}" for name, _, _, wanted in joined for f in wanted]
    alias = queryset.db
    made = []
    for row in queryset.values_list(*columns):
        obj = _made(model, names, row, alias)
        start = len(names)
        for name, attname, target, wanted in joined:
            values = row[start:start + len(wanted)]
            start += len(wanted)
            obj._state.fields_cache[name] = _made(target, wanted, values, alias) if getattr(obj, attname) is not None else None
        made.append(obj)
    return made


def _made(model: type[Model], names: list[str], values: Sequence, alias: str) -> Model:
    obj = model.__new__(model)
    state = ModelState()
    state.adding, state.db = False, alias
    obj.__dict__.update(zip(names, values, strict=False))  # values: the row, related columns after
    obj._state = state
    return obj


def _the_usual_way(queryset: QuerySet, names: list[str], joined: list) -> list:
    meta = queryset.model._meta
    fields = [meta.get_field(n).name for n in names]  # only() takes names, not attnames ("lead", not "lead_id")
    fields += [f"{name}__{target._meta.get_field(f).name}" for name, _, target, wanted in joined for f in wanted]
    return list(queryset.select_related(*(name for name, *_ in joined)).only(*fields))


def moment(value) -> datetime | None:
    """A timestamp as the database hands back a column of a statement written as SQL, or an aggregate, made
    aware: PostgreSQL's is; SQLite's is in UTC, a naive datetime for a column, text for an aggregate."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else parse_datetime(str(value))
    return parsed if parsed is None or parsed.tzinfo else parsed.replace(tzinfo=UTC)
