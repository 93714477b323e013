"""The card a lead came from: the image as photographed, kept with the lead, and what was read from it."""

from __future__ import annotations

import base64

from django.db import models
from django.utils import timezone

from rebook.leads.models import Lead


class BusinessCard(models.Model):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="cards")
    file = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    data = models.BinaryField()
    event = models.CharField(max_length=200, blank=True)
    fields = models.JSONField(default=dict)  # what was read, with a confidence per field
    text = models.TextField(blank=True)  # the raw OCR text
    created_at = models.DateTimeField(default=timezone.now)

    @property
    def image(self) -> str:
        """The photo as a data: URI, for exports (a spreadsheet or a script can still get the image back)."""
        kind = self.content_type if self.content_type.startswith("image/") else "application/octet-stream"
        return f"data:{kind};base64," + base64.b64encode(bytes(self.data)).decode()


class CardUpload(models.Model):
    """A card photo uploaded on the "Add from cards" page, waiting to be read by the worker and then reviewed
    by the seller. Saving it makes (or fills in) a lead and moves the image to a BusinessCard."""

    class Status(models.TextChoices):
        QUEUED = "queued"  # waiting for the worker
        READ = "read"  # fields read: waiting for the seller's review
        FAILED = "failed"  # could not be read; `error` says why
        SAVED = "saved"  # a lead was made or filled in from it

    seller = models.ForeignKey("sellers.Seller", on_delete=models.CASCADE, related_name="card_uploads")
    file = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, blank=True)
    data = models.BinaryField(null=True, blank=True, help_text="The image, until the card is saved.")
    event = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    fields = models.JSONField(default=dict, blank=True)  # what was read, with a confidence per field
    error = models.TextField(blank=True)
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    claimed_by = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["seller", "status"], name="card_upload_seller_status")]
