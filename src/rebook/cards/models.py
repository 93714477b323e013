"""The card a lead came from: the image as photographed, kept with the lead, and what was read from it."""

from __future__ import annotations

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
