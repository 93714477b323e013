"""The private calendar feed: no login, the secret token in the URL is the key."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from rebook.calendars.feed import feed
from rebook.sellers.models import Seller


@require_GET
def feed_view(request, token: str) -> HttpResponse:
    seller = Seller.objects.filter(feed_token=token).exclude(feed_token="").select_related("user").first()
    if seller is None:
        raise Http404("no such feed")
    response = HttpResponse(feed(seller, now=timezone.now()), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="rebook.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
