from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "rebook.api"
    label = "api"
