from django.apps import AppConfig


class ProspectsConfig(AppConfig):
    name = "rebook.prospects"
    default_auto_field = "django.db.models.BigAutoField"
