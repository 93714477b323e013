from django.apps import AppConfig


class ForecastConfig(AppConfig):
    name = "rebook.forecast"
    default_auto_field = "django.db.models.BigAutoField"
