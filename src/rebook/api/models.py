"""API tokens (stored hashed), their rate-limit windows, and idempotency records."""

from __future__ import annotations

from django.db import models

from rebook.sellers.models import Seller


class ApiToken(models.Model):
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="The first characters, to tell tokens apart.")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token; the token itself is never kept.")
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]


class RateWindow(models.Model):
    """Requests made with one token in one minute."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE)
    window = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "window"], name="one_window_per_token_minute")]


class IdempotencyRecord(models.Model):
    """The first response to a write sent with an Idempotency-Key, replayed for retries of it."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="Method, path and body, hashed.")
    status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty while the first request runs.")
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="one_record_per_token_key")]


class ImportRun(models.Model):
    """An upload from the web app or the API, queued for the worker, with its report once it has run."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"  # the file could not be read at all; `error` says why

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="api_imports")
    file = models.CharField(max_length=255)
    kind = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DONE)
    data = models.BinaryField(null=True, blank=True, help_text="The upload, until the worker has read it.")
    options = models.JSONField(default=dict, blank=True)
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["created_at"], name="import_queued", condition=models.Q(status="queued"))]


class InboundHook(models.Model):
    """The seller's signed URL where a booking tool can post cancellations and reschedules."""

    seller = models.OneToOneField(Seller, on_delete=models.CASCADE, related_name="inbound_hook")
    token = models.CharField(max_length=64, unique=True)
    secret = models.CharField(max_length=64)
    created_at = models.DateTimeField()
