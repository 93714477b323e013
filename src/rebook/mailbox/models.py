"""A seller's mailbox, the mails Rebook handled from it, and the suggestions they gave rise to."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from rebook.leads.models import Appointment, Lead
from rebook.sellers.models import Seller


class Mailbox(models.Model):
    seller = models.OneToOneField(Seller, on_delete=models.CASCADE, related_name="mailbox")
    security = models.CharField(max_length=10, choices=[("ssl", "IMAPS"), ("starttls", "STARTTLS"), ("plain", "plain")])
    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField()
    username = models.CharField(max_length=254)
    # Encrypted with a key derived from the secret key (Fernet); never shown again, never logged.
    secret = models.BinaryField()
    folder = models.CharField(max_length=255, default="INBOX")
    # The authserv-ids whose Authentication-Results header is believed (the seller's mail provider's own, guessed
    # from the host when the mailbox is set), comma-separated; "none" is a header that names none (Microsoft).
    trusted_authserv = models.CharField(max_length=500, blank=True)
    # Where reading got to: the folder's UIDVALIDITY and the last UID handled. Saved in the same
    # transaction as what that message changed.
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    failures = models.PositiveIntegerField(default=0)
    next_poll_at = models.DateTimeField(null=True, blank=True)  # after an error: backoff
    claimed_by = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.username} at {self.host}"


class InboundMail(models.Model):
    """A mail Rebook read past its headers (from a lead, an answer to its own mail, a calendar reply for
    one of the seller's meetings, or a delivery report), and what came of it. Mail that is none of those
    is never stored."""

    class Outcome(models.TextChoices):
        CALENDAR = "calendar", "a calendar reply, imported"
        REPLY = "reply", "a reply, logged on the lead"
        SUGGESTION = "suggestion", "a reply that suggests a change"
        AUTO_REPLY = "auto_reply", "an automatic reply, logged"
        BOUNCE = "bounce", "a delivery failure"
        BAD = "bad", "could not be read"
        IGNORED = "ignored", "not acted on: the sender failed authentication, or may not change that meeting"

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="mails")
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="+")
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_mails")
    uid = models.BigIntegerField()
    message_id = models.CharField(max_length=500)
    sender = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    detail = models.CharField(max_length=500, blank=True)
    # Whether the sender is who the From field says (rebook.strategy.trust): verified, unverified or failed;
    # empty for mail read before Rebook judged it.
    trust = models.CharField(max_length=10, blank=True)
    trust_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["seller", "message_id"], name="one_inbound_mail_per_message_id")]


class Suggestion(models.Model):
    """What a reply seems to ask for, waiting for the seller's one click (or applied at once by policy)."""

    class Kind(models.TextChoices):
        CANCEL = "cancel"
        RESCHEDULE = "reschedule"
        NOT_INTERESTED = "not_interested"
        UNSUBSCRIBE = "unsubscribe"

    class Status(models.TextChoices):
        PENDING = "pending"
        APPLIED = "applied"
        DISMISSED = "dismissed"

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="+")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="suggestions")
    appointment = models.ForeignKey(Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    mail = models.ForeignKey(InboundMail, null=True, blank=True, on_delete=models.SET_NULL, related_name="suggestions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    reason = models.TextField(blank=True)
    proposed_start = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    note = models.CharField(max_length=300, blank=True)  # what applying did, or why it could not
    # The mail's sender proved to be who it says (rebook.strategy.trust); an unverified one is shown as such and
    # never applied automatically.
    sender_verified = models.BooleanField(default=False)
    # What was read, for learning from the seller's Apply and Dismiss: the subject and the new text of the reply.
    text = models.TextField(blank=True)
    # How sure the rules are (rebook.strategy.replies: "high" or "low"), and what the seller's own decisions on
    # replies like it say ("you dismissed 4 of 5 replies like this"), when there are enough of them.
    confidence = models.CharField(max_length=10, blank=True)
    learned = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["seller", "status", "received_at"])]


class ReplyModel(models.Model):
    """A seller's own text model of which suggestions they apply, kept as data (vocabulary, weights,
    calibration; see rebook.mailbox.learning), never as a pickle."""

    seller = models.OneToOneField(Seller, on_delete=models.CASCADE, related_name="reply_model")
    data = models.JSONField()
    decisions = models.PositiveIntegerField()  # how many the seller had decided when it was fitted (on the latest)
    trained_at = models.DateTimeField()
