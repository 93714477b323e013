"""Taking one row of a work table (messages, webhook deliveries, queued imports) for one worker, with a
lease, and when to try again after a failure.

The row is picked with SELECT ... FOR UPDATE SKIP LOCKED where the database has it, so workers do not
queue behind each other, and taken with a conditional UPDATE, so two workers never both own it. A row
whose worker died (its lease ran out) is taken again before new work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.db import connection, models, transaction
from django.db.models import Q


def claim_one(model: type[models.Model], ready: Sequence[Q], order: Sequence[str], **take) -> int | None:
    """The pk of the first row matching one of ``ready`` (in that order of preference), updated with ``take``."""
    with transaction.atomic():
        for condition in ready:
            candidates = model.objects.filter(condition).order_by(*order)
            if connection.features.has_select_for_update_skip_locked:
                candidates = candidates.select_for_update(skip_locked=True)
            pk = candidates.values_list("pk", flat=True).first()
            if pk is not None and model.objects.filter(condition, pk=pk).update(**take):
                return pk
    return None


BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)


def backoff(attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: 1, 2, 4, 8 ... minutes, at most six hours."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)
