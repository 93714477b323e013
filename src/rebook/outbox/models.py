"""The outbox: every message Rebook plans, written in the same transaction as the change that caused it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from rebook.leads.models import Appointment, Cancellation, Lead
from rebook.strategy.followups import MESSAGE_KINDS


class PlannedMessage(models.Model):
    class Status(models.TextChoices):
        REVIEW = "review"  # waiting for the seller
        SCHEDULED = "scheduled"  # approved (or auto-send), waiting for its due time
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"
        WITHDRAWN = "withdrawn"  # no longer wanted, e.g. the lead moved to nurture
        DISCARDED = "discarded"  # the seller said no

    PENDING = (Status.REVIEW, Status.SCHEDULED)

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=30, choices=[(k, k) for k in MESSAGE_KINDS])
    # What the strategy calls this message ("connecting_moment:c12"); stable across re-evaluations.
    key = models.CharField(max_length=100)
    appointment = models.ForeignKey(Appointment, null=True, blank=True, on_delete=models.SET_NULL)
    cancellation = models.ForeignKey(Cancellation, null=True, blank=True, on_delete=models.SET_NULL)
    due = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices)
    status_note = models.CharField(max_length=300, blank=True, help_text="Why it was withdrawn, or why it failed.")
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due", "id"]
        constraints = [models.UniqueConstraint(fields=["lead", "key"], name="one_message_per_key")]
        indexes = [
            # The worker's query: due messages waiting to go. Partial, so it stays small.
            models.Index(fields=["due"], name="outbox_due_scheduled", condition=models.Q(status="scheduled")),
        ]
