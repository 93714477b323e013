"""Every answer under /p/ is kept by no cache and no search engine, whatever gave it: a page, a 404 for a bad
token or an unknown path, a 405 for a wrong method, a 429, a failed CSRF check. The URL is the credential."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

PREFIX = "/p/"
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",  # never to another site; "no-referrer" would send "Origin: null" and fail CSRF
    "X-Robots-Tag": "noindex, nofollow",
}


def public_pages(get_response: Callable[[HttpRequest], HttpResponse]):
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if request.path_info.startswith(PREFIX):
            for name, value in HEADERS.items():
                response[name] = value
        return response

    return middleware
