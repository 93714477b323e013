"""The outbox: every message Rebook plans, written in the same transaction as the change that caused it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from rebook.leads.models import Appointment, Cancellation, Lead
from rebook.sellers.models import Seller
from rebook.strategy.followups import MESSAGE_KINDS

MESSAGE_TITLES = {
    "booking_followup": "Booking follow-up",
    "connecting_moment": "Connecting moment",
    "reschedule_offer": "Reschedule offer",
    "confirmation": "Confirmation",
    "nurture_move": "Moved to nurture",
    "nurture_checkin": "Nurture check-in",
}
# Not planned by the strategy: a short note to the seller about what a prospect did through a link. It goes
# to the seller (never held for review, no quiet hours) and is never withdrawn by a re-evaluation.
SELLER_NOTICE = "seller_notice"
MESSAGE_TITLES[SELLER_NOTICE] = "Note to you"
TEMPLATE_KINDS = [(k, MESSAGE_TITLES[k]) for k in MESSAGE_KINDS]
KIND_CHOICES = [*TEMPLATE_KINDS, (SELLER_NOTICE, MESSAGE_TITLES[SELLER_NOTICE])]


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
    # The lead's seller, kept here so that a seller's outbox is one index range (set with the lead).
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, choices=KIND_CHOICES)
    # What the strategy calls this message ("connecting_moment:c12"); stable across re-evaluations.
    key = models.CharField(max_length=100)
    appointment = models.ForeignKey(Appointment, null=True, blank=True, on_delete=models.SET_NULL)
    cancellation = models.ForeignKey(Cancellation, null=True, blank=True, on_delete=models.SET_NULL)
    due = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices)
    status_note = models.CharField(max_length=300, blank=True, help_text="Why it was withdrawn, or why it failed.")
    # The content. Empty until frozen: a message is rendered from the seller's templates when shown
    # or sent, and frozen (kept as is) once the seller edits or approves it, or when it is sent.
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    frozen = models.BooleanField(default=False)
    # Delivery. A message waiting for a retry stays "scheduled", with ``due`` its next attempt.
    to_email = models.CharField(max_length=254, blank=True)
    message_id = models.CharField(max_length=200, blank=True, help_text="The Message-ID header, kept for resends.")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due", "id"]
        constraints = [models.UniqueConstraint(fields=["lead", "key"], name="one_message_per_key")]
        indexes = [
            models.Index(fields=["seller", "status", "due"]),
            # The outbox's Sent tab, newest first.
            models.Index(fields=["seller", "-sent_at"], name="outbox_sent_by_seller", condition=models.Q(status="sent")),
            # The worker's query: due messages waiting to go. Partial, so it stays small.
            models.Index(fields=["due"], name="outbox_due_scheduled", condition=models.Q(status="scheduled")),
            models.Index(fields=["lease_until"], name="outbox_lease_sending", condition=models.Q(status="sending")),
            # Today's news for the seller (notices of what prospects did), newest first.
            models.Index(fields=["seller", "kind", "-created_at"], name="outbox_kind_by_seller"),
        ]

    def __str__(self) -> str:
        return f"message #{self.pk} ({self.kind})"

    @property
    def note(self) -> str:
        """Why it was withdrawn or failed, or why it is held (the API's name for status_note)."""
        return self.status_note


class MessageTemplate(models.Model):
    """A seller's own version of one kind of message; kinds without a row use the shipped default."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="templates")
    kind = models.CharField(max_length=30, choices=TEMPLATE_KINDS)
    subject = models.CharField(max_length=300)
    text = models.TextField()
    html = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["seller", "kind"], name="one_template_per_kind")]
