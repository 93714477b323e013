from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "rebook.web"
    label = "web"
