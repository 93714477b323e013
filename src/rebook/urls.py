from __future__ import annotations

from django.urls import include, path

from rebook.api.api import api
from rebook.calendars import views as calendar_views
from rebook.outbox import views as outbox_views

urlpatterns = [
    path("unsubscribe/<str:token>/", outbox_views.unsubscribe, name="unsubscribe"),
    path("api/v1/", api.urls),
    path("feed/<str:token>.ics", calendar_views.feed_view, name="feed"),
    path("", include("rebook.web.urls")),
]
