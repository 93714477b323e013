"""Every text field keeps its length limit on every database.

PostgreSQL refuses a value longer than a column's max_length; SQLite stores it. This check runs before
any Rebook model is saved, so a 5,000-character name is refused with the same clear message on both.
"""

from __future__ import annotations

from django.db import models
from django.db.models.signals import pre_save

from rebook.errors import RebookError


def check_lengths(sender, instance: models.Model, update_fields=None, **kwargs) -> None:
    for field in sender._meta.concrete_fields:
        if not isinstance(field, models.CharField) or not field.max_length:
            continue
        if update_fields is not None and field.name not in update_fields:
            continue
        value = getattr(instance, field.attname)
        if isinstance(value, str) and len(value) > field.max_length:
            raise RebookError(f"{field.name}: at most {field.max_length} characters, not {len(value)}")


def connect() -> None:
    pre_save.connect(check_lengths, dispatch_uid="rebook.lengths")
