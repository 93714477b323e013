"""A seller: the person whose leads these are, with their time zone, addresses and policy."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models

from rebook.strategy.policy import Policy, policy_keys
from rebook.strategy.reasons import ReasonClassifier

_DEFAULTS = Policy()


class Seller(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="seller")
    display_name = models.CharField(max_length=200, blank=True)
    # The seller's own addresses: they tell "me" from the prospect in imported calendar files.
    emails = models.JSONField(default=list, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    # False while the zone is only a guess (the machine's, for a seller made without one): every page asks for it.
    timezone_chosen = models.BooleanField(default=False)
    # A manager sees the whole team's figures (never message bodies); everyone sees their own leads.
    is_manager = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    # The policy, one column per key of rebook.strategy.policy.Policy.
    strike_limit = models.PositiveSmallIntegerField(default=_DEFAULTS.strike_limit)
    no_show_counts = models.BooleanField(default=_DEFAULTS.no_show_counts)
    held_meeting_resets = models.BooleanField(default=_DEFAULTS.held_meeting_resets)
    benefit_of_the_doubt = models.BooleanField(default=_DEFAULTS.benefit_of_the_doubt)
    late_notice_hours = models.PositiveIntegerField(default=_DEFAULTS.late_notice_hours)
    weekly_meeting_target = models.PositiveIntegerField(default=_DEFAULTS.weekly_meeting_target)
    connecting_moment_delay = models.DurationField(default=timedelta(hours=2))
    reschedule_offer_delay = models.DurationField(default=timedelta(hours=24))
    booking_followup_delay = models.DurationField(default=timedelta(hours=24))
    confirmation_lead_time = models.DurationField(default=timedelta(hours=24))
    nurture_checkin_days = models.PositiveIntegerField(default=_DEFAULTS.nurture_checkin_days)
    auto_send = models.BooleanField(default=_DEFAULTS.auto_send)
    self_service = models.BooleanField(default=_DEFAULTS.self_service)
    auto_apply_replies = models.BooleanField(default=_DEFAULTS.auto_apply_replies)
    risk_confirm_threshold = models.FloatField(default=_DEFAULTS.risk_confirm_threshold)
    quiet_hours = models.CharField(max_length=20, default=_DEFAULTS.quiet_hours)
    working_hours = models.CharField(max_length=20, default=_DEFAULTS.working_hours)
    # Edited phrase lists for the reason classifier, by category; categories not here use the defaults.
    reason_phrases = models.JSONField(default=dict, blank=True)
    # The secret in the private calendar feed's URL; rotating it cuts off every old subscription.
    feed_token = models.CharField(max_length=64, blank=True, db_index=True)
    # The info pack: what the connecting-moment message shares (files are InfoPackFile rows).
    info_text = models.TextField(blank=True)
    info_links = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return self.name

    @property
    def username(self) -> str:
        return self.user.get_username()

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def email(self) -> str:
        return self.emails[0] if self.emails else (self.user.email or "")

    @property
    def policy(self) -> Policy:
        return Policy(**{key: getattr(self, key) for key in policy_keys()})

    @property
    def classifier(self) -> ReasonClassifier:
        return ReasonClassifier.from_phrases(self.reason_phrases)


class InfoPackFile(models.Model):
    """A file the seller shares with prospects after a cancellation; kept in the database so every
    web and worker process sees it."""

    MAX_BYTES = 10 * 1024 * 1024

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="info_files")
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    data = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["seller", "name"], name="one_info_file_per_name")]


class LoginFailure(models.Model):
    """A failed sign-in, kept briefly so that guessing passwords gets slow (see services.login_*)."""

    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    at = models.DateTimeField(db_index=True)
