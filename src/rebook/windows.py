"""Counting requests per key and minute in a table (a rate limit several processes share)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, models, transaction
from django.db.models import F


def count_this_minute(model: type[models.Model], now: datetime, **key) -> int:
    """Count one more request for ``key`` in the current minute of ``model`` (fields: the key's, ``window``
    and ``count``) and return the minute's count so far. Each new minute clears minutes older than an hour,
    whoever they counted."""
    window = now.replace(second=0, microsecond=0)
    rows = model.objects.filter(window=window, **key)
    if not rows.update(count=F("count") + 1):
        try:
            with transaction.atomic():
                model.objects.create(window=window, count=1, **key)
            model.objects.filter(window__lt=window - timedelta(hours=1)).delete()
        except IntegrityError:  # another request of the same minute made it first
            rows.update(count=F("count") + 1)
    return rows.values_list("count", flat=True).first() or 0
