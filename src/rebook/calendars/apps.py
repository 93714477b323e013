from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "rebook.calendars"
    label = "calendars"
    default_auto_field = "django.db.models.BigAutoField"
