from django.apps import AppConfig


class MailboxConfig(AppConfig):
    name = "rebook.mailbox"
    default_auto_field = "django.db.models.BigAutoField"
