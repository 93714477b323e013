from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "rebook.webhooks"
    label = "webhooks"
