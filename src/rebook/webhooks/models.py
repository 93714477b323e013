"""Webhooks: the URLs a seller registered, and the outbox of deliveries to them (drained by the worker)."""

from __future__ import annotations

from django.db import models

from rebook.sellers.models import Seller

EVENTS = (
    "lead.created", "lead.moved_to_nurture", "appointment.booked", "appointment.cancelled",
    "appointment.rescheduled", "appointment.held", "appointment.no_show", "message.sent", "suggestion.created",
)


class Endpoint(models.Model):
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list, help_text="Event names; empty means every event.")
    secret = models.CharField(max_length=64, help_text="Signs each delivery (HMAC-SHA256).")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]


class Delivery(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled"
        SENDING = "sending"
        DELIVERED = "delivered"
        FAILED = "failed"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=50)
    payload = models.JSONField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    due = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    claimed_by = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_response = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["due"], name="webhook_due_scheduled", condition=models.Q(status="scheduled")),
        ]
