from __future__ import annotations

from django.apps import AppConfig


class SellersConfig(AppConfig):
    name = "rebook.sellers"
    label = "sellers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from rebook import lengths

        lengths.connect()
