from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "rebook.cards"
    default_auto_field = "django.db.models.BigAutoField"
