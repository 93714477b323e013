from __future__ import annotations

from django.urls import include, path

from rebook.api.api import api
from rebook.calendars import views as calendar_views
from rebook.outbox import views as outbox_views
from rebook.prospects import views as prospect_views

urlpatterns = [
    path("unsubscribe/<str:token>/", outbox_views.unsubscribe, name="unsubscribe"),
    # The prospect's pages (public): the signed token is the whole credential.
    path("p/<str:token>/", prospect_views.link, name="prospect_link"),
    path("p/<str:token>/meeting.ics", prospect_views.meeting_ics, name="prospect_ics"),
    path("p/<str:token>/cancel/", prospect_views.cancel, name="prospect_cancel"),
    path("p/<str:token>/move/", prospect_views.move, name="prospect_move"),
    path("p/<str:token>/suggest/", prospect_views.suggest, name="prospect_suggest"),
    path("p/<str:token>/confirm/", prospect_views.confirm, name="prospect_confirm"),
    path("api/v1/", api.urls),
    path("feed/<str:token>.ics", calendar_views.feed_view, name="feed"),
    path("", include("rebook.web.urls")),
]

handler400 = "rebook.web.errors.bad_request"
handler403 = "rebook.web.errors.forbidden"
handler404 = "rebook.web.errors.not_found"
handler500 = "rebook.web.errors.server_error"
