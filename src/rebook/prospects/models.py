"""Requests to the public pages, counted per client address and minute, for their rate limit."""

from __future__ import annotations

from django.db import models


class AddressWindow(models.Model):
    # A keyed hash of the client's address: the table never holds an address in clear.
    address = models.CharField(max_length=64)
    window = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["address", "window"], name="one_window_per_address_minute")]
