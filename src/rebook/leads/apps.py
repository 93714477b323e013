from __future__ import annotations

from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "rebook.leads"
    label = "leads"
    default_auto_field = "django.db.models.BigAutoField"
