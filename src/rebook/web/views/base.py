"""What every page view shares: the signed-in seller, 404 for what is not theirs, and flash messages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from rebook.errors import RebookError
from rebook.sellers.models import Seller


def seller_view(fn: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Sign-in required; ``request.seller`` is the signed-in seller. A user with no seller gets 404."""

    @login_required
    @wraps(fn)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # The user is the one the session just read: not joined and read again with the seller.
        seller = next(iter(Seller.objects.filter(user_id=request.user.pk)[:1]), None)
        if seller is None:
            raise Http404("no seller for this account")
        seller.user = request.user
        request.seller = seller
        timezone.activate(seller.tz)  # every time on the page in the seller's zone
        try:
            return fn(request, *args, **kwargs)
        finally:
            timezone.deactivate()

    return wrapper


def owned(getter: Callable, **kwargs):
    """Fetch through a selector scoped to the seller; another seller's id is simply not found (404)."""
    try:
        return getter(**kwargs)
    except RebookError as e:
        raise Http404(str(e)) from None


def now():
    return timezone.now()


def counted(n: int, word: str, words: str | None = None) -> str:
    """ "1 busy time", "3 busy times": a count said in words."""
    return f"{n} {word if n == 1 else (words or word + 's')}"


def done(request: HttpRequest, text: str, to: str, *args) -> HttpResponse:
    messages.success(request, text)
    return redirect(to, *args)


def refused(request: HttpRequest, error: RebookError, to: str, *args) -> HttpResponse:
    messages.error(request, str(error))
    return redirect(to, *args)


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def image_response(data: bytes, content_type: str, name: str) -> HttpResponse:
    """An uploaded image shown inline, as what it claims to be only when that is a plain image type (never
    SVG or HTML, which a browser would run): anything else downloads."""
    kind = content_type if content_type.startswith("image/") and content_type != "image/svg+xml" else "application/octet-stream"
    response = HttpResponse(data, content_type=kind)
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
