from __future__ import annotations

from django.urls import include, path

from rebook.outbox import views as outbox_views

urlpatterns = [
    path("unsubscribe/<str:token>/", outbox_views.unsubscribe, name="unsubscribe"),
    path("", include("rebook.web.urls")),
]
