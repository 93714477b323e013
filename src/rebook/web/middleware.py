"""Every response: a Content-Security-Policy (only this site's own scripts, styles and images); every request:
no body larger than the biggest upload allowed."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from rebook.strategy.limits import MAX_UPLOAD_BYTES

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def content_security_policy(get_response: Callable[[HttpRequest], HttpResponse]):
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response.headers.setdefault("Content-Security-Policy", POLICY)
        return response

    return middleware


# The largest upload plus room for the form around it.
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + 1024 * 1024


def request_size_limit(get_response: Callable[[HttpRequest], HttpResponse]):
    """Refuse a body larger than any upload may be before it is read, so nothing is streamed to disk."""

    def middleware(request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_REQUEST_BYTES:
            limit = MAX_UPLOAD_BYTES // (1024 * 1024)
            detail = f"the request is {length // (1024 * 1024)} MB; the largest upload is {limit} MB"
            if request.path.startswith("/api/"):
                body = {"type": "/api/v1/problems/too-large", "title": "Upload too large", "status": 413,
                        "detail": detail}
                return HttpResponse(json.dumps(body), status=413, content_type="application/problem+json")
            return HttpResponse(f"Too large: {detail}.", status=413, content_type="text/plain; charset=utf-8")
        return get_response(request)

    return middleware
