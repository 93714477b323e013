"""A lead and its history: contacts, appointments, cancellations and each cancellation's checklist.

They live in one app because the strategy reads them together: every change to one of them
re-evaluates the lead as a whole (see ``rebook.leads.services.lead_reevaluate``).
"""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

from django.db import models
from django.utils.timezone import now as utcnow

from rebook.sellers.models import Seller
from rebook.strategy import checklist, history, reasons


class Party(models.TextChoices):
    SELLER = history.SELLER, "seller"
    PROSPECT = history.PROSPECT, "prospect"


class Lead(models.Model):
    class Status(models.TextChoices):
        NEW = "new"
        QUALIFIED = "qualified"
        ACTIVE = "active"
        NURTURE = "nurture"
        WON = "won"
        LOST = "lost"
        DO_NOT_CONTACT = "do_not_contact"

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="leads")
    name = models.CharField(max_length=200)
    company = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    source = models.CharField(max_length=200, blank=True, help_text="Where you met, e.g. a networking event.")
    # The lead's own zone for times in messages and quiet hours; blank means the seller's.
    timezone = models.CharField(max_length=64, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    # A delivery report said mail to this address failed: when, and what the server said.
    email_bounced_at = models.DateTimeField(null=True, blank=True)
    email_bounce_reason = models.CharField(max_length=300, blank=True)
    # From an imported appointment history: the key the other tool used, and its other columns.
    history_key = models.CharField(max_length=200, blank=True, db_index=True)
    attributes = models.JSONField(default=dict, blank=True)
    notes = models.TextField(blank=True)
    qualifying_notes = models.TextField(blank=True, help_text="Answers to your qualifying questions.")
    qualified_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    # Kept in step with the strategy by lead_reevaluate, so lists can filter and sort on them.
    strikes = models.PositiveSmallIntegerField(default=0)
    nurture_since = models.DateTimeField(null=True, blank=True)
    nurture_reason = models.CharField(max_length=30, blank=True)
    not_interested_at = models.DateTimeField(null=True, blank=True)
    reactivated_at = models.DateTimeField(null=True, blank=True)
    # Kept by lead_reevaluate from the history (rebook.strategy.freed.touchpoints), for freed-time suggestions.
    last_touch_at = models.DateTimeField(null=True, blank=True)
    open_cancellation_at = models.DateTimeField(null=True, blank=True)
    scheduled_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=utcnow)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [# By status, and within it by last touch: Today's leads to book read a few rows of each.
                   models.Index(fields=["seller", "status", "-last_touch_at", "id"], name="lead_to_book"),
                   # The calendar feed's ETag: the latest change to a seller's leads, from the index alone.
                   models.Index(fields=["seller", "updated_at"], name="lead_seller_updated"),
                   # Today's "follow up" suggestions: leads with a cancellation still open, oldest first.
                   models.Index(fields=["seller", "open_cancellation_at"], name="lead_open_cancellation",
                                condition=models.Q(open_cancellation_at__isnull=False))]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} (#{self.pk})"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone) if self.timezone else self.seller.tz


class Activity(models.Model):
    """A contact with the lead: a call, an e-mail, a message, a note."""

    class Kind(models.TextChoices):
        CALL = "call"
        EMAIL = "email"
        TEXT = "text"
        MEETING = "meeting"
        NOTE = "note"

    class Direction(models.TextChoices):
        OUTBOUND = "outbound"
        INBOUND = "inbound"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    at = models.DateTimeField()
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=utcnow)

    class Meta:
        ordering = ["at", "id"]


class Channel(models.TextChoices):
    SELLER = "seller", "entered by the seller"
    SELF_SERVICE = "self_service", "through the prospect's link"
    EMAIL = "email", "from the prospect's reply"
    CALENDAR = "calendar", "from the seller's connected calendar"


class Appointment(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = history.SCHEDULED
        CANCELLED = history.CANCELLED
        RESCHEDULED = history.RESCHEDULED
        HELD = history.HELD
        NO_SHOW = history.NO_SHOW

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="appointments")
    # The lead's seller, kept here so that a seller's calendar is one index range, not a join through
    # every lead (set by the services from the lead; a lead never changes seller).
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    timezone = models.CharField(max_length=64)
    location = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    booked_at = models.DateTimeField(default=utcnow)
    booked_by = models.CharField(max_length=10, choices=Party.choices, default=Party.SELLER)
    # A reschedule keeps the old row (status "rescheduled") and links the new one to it.
    rescheduled_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rescheduled_to"
    )
    # One id for the whole chain of reschedules: the UID of the calendar invitation.
    chain = models.UUIDField(default=uuid.uuid4, editable=False)
    # Where an imported calendar event came from: its UID (and RECURRENCE-ID for one occurrence of a
    # series), and the SEQUENCE and DTSTAMP of the version applied, so a stale update is recognised.
    title = models.CharField(max_length=300, blank=True)
    all_day = models.BooleanField(default=False)
    ical_uid = models.CharField(max_length=500, blank=True, db_index=True)
    recurrence_id = models.DateTimeField(null=True, blank=True)
    ical_sequence = models.BigIntegerField(default=0)
    ical_stamp = models.DateTimeField(null=True, blank=True)
    # Other people invited besides the lead, as [{"name": ..., "email": ...}].
    participants = models.JSONField(default=list, blank=True)
    # The forecast's chance it is cancelled or missed (0..1), kept while it is ahead; None without a model.
    risk = models.FloatField(null=True, blank=True)
    # How it came in: typed by the seller (CLI, web, API), or by the prospect through a link.
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.SELLER)
    created_at = models.DateTimeField(default=utcnow)
    # When what the calendar feed shows of it last changed: the feed's ETag and each event's DTSTAMP.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            # With the seller in it, the team's counts by status and time are read from the index alone.
            models.Index(fields=["status", "start", "seller"], name="appointment_status_start"),
            models.Index(fields=["seller", "status", "start"]),
            models.Index(fields=["seller", "updated_at"], name="appointment_seller_updated"),
            # A calendar import finds the event it already has by UID: without the seller and the UID in
            # one index, SQLite walked all of the seller's meetings for each event.
            models.Index(fields=["seller", "ical_uid", "recurrence_id"], name="appointment_seller_uid"),
        ]
        constraints = [models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="appointment_ends_after_start")]

    def __str__(self) -> str:
        return f"appointment #{self.pk}"


class Cancellation(models.Model):
    """A cancelled, moved or missed appointment: who, when, how much notice, why, and whether that counts."""

    class Kind(models.TextChoices):
        CANCEL = history.CANCEL
        RESCHEDULE = history.RESCHEDULE
        NO_SHOW = history.MISSED, "no-show"

    appointment = models.OneToOneField(Appointment, on_delete=models.CASCADE, related_name="cancellation")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="cancellations")
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="+")  # as on Appointment
    by = models.CharField(max_length=10, choices=Party.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CANCEL)
    at = models.DateTimeField(help_text="When it was called off.")
    reason = models.TextField(blank=True)
    category = models.CharField(max_length=30, choices=[(c, reasons.CATEGORY_LABELS[c]) for c in reasons.ALL_CATEGORIES])
    matched = models.CharField(max_length=100, blank=True, help_text="The phrase that decided the category.")
    suggested_valid = models.BooleanField()
    # The seller's judgement, which always wins over the suggestion; None until they judge.
    valid_override = models.BooleanField(null=True, blank=True)
    judged_at = models.DateTimeField(null=True, blank=True)
    is_strike = models.BooleanField(default=False)
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.SELLER)
    # The new times offered after it, as ISO instants (UTC), fixed when it is recorded, so the links to
    # them in every message and on every page are the same ones.
    offered = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=utcnow)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            # The team's last 30 days, read from the index alone (validity included).
            models.Index(fields=["by", "at", "seller", "suggested_valid", "valid_override"], name="cancellation_recent"),
            models.Index(fields=["seller", "by", "at"]),
        ]

    @property
    def valid(self) -> bool:
        return self.suggested_valid if self.valid_override is None else self.valid_override

    @property
    def needs_review(self) -> bool:
        return self.category == reasons.UNKNOWN and self.valid_override is None

    @property
    def notice(self):
        return self.appointment.start - self.at


class ChecklistItem(models.Model):
    cancellation = models.ForeignKey(Cancellation, on_delete=models.CASCADE, related_name="checklist")
    step = models.CharField(max_length=20, choices=[(key, title) for key, title, _ in checklist.STEPS])
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.CharField(max_length=10, blank=True)  # "system" or "seller" once done

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cancellation", "step"], name="one_item_per_step")]
