"""The private calendar feed: no login, the secret token in the URL is the key."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.http import require_GET

from rebook.calendars.feed import feed, feed_stamp
from rebook.sellers.models import Seller


@require_GET
def feed_view(request, token: str) -> HttpResponse:
    """The private feed. Calendar apps poll it every few minutes to hours: a conditional GET (If-None-Match
    or If-Modified-Since) answers 304 from three small aggregates when nothing has changed."""
    seller = Seller.objects.filter(feed_token=token).exclude(feed_token="").select_related("user").first()
    if seller is None:
        raise Http404("no such feed")
    now = timezone.now()
    etag, last = feed_stamp(seller, now=now)
    modified = int(last.timestamp()) if last else None
    response = get_conditional_response(request, etag=etag, last_modified=modified)
    if response is None:
        response = HttpResponse(feed(seller, now=now), content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="rebook.ics"'
    response["ETag"] = etag
    if modified is not None:
        response["Last-Modified"] = http_date(modified)
    response["Cache-Control"] = "private, max-age=300"
    return response
