"""Trained forecast models, kept in the database (not pickles on disk), versioned per seller."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from rebook.sellers.models import Seller


class RiskModel(models.Model):
    # None: the model trained on the whole team's history, for sellers with too little of their own.
    seller = models.ForeignKey(Seller, null=True, blank=True, on_delete=models.CASCADE, related_name="risk_models")
    version = models.PositiveIntegerField()
    trained_at = models.DateTimeField(default=timezone.now)
    # The model as plain numbers (see rebook.strategy.risk.Model) and how it was trained.
    parameters = models.JSONField()
    n_train = models.PositiveIntegerField()
    n_positive = models.PositiveIntegerField()
    outcomes_at_training = models.PositiveIntegerField(help_text="Finished meetings known when it was trained.")

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["seller", "version"], name="one_risk_model_version")]
