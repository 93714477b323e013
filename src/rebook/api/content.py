"""What an API write may carry: JSON (an object), or a multipart upload where an operation takes a file.

Without this, a body sent as text/plain, XML or a form was parsed as JSON anyway, and a body of `[]`,
`null` or a string passed for an object whose fields all have defaults.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

WRITES = {"POST", "PUT", "PATCH"}
UPLOADS = ("/api/v1/imports",)  # operations that take multipart/form-data


def _problem(status: int, title: str, detail: str) -> HttpResponse:
    body = {"type": f"/api/v1/problems/{title.lower().replace(' ', '-')}", "title": title, "status": status,
            "detail": detail}
    return HttpResponse(json.dumps(body), status=status, content_type="application/problem+json")


def json_bodies(get_response: Callable[[HttpRequest], HttpResponse]):
    def middleware(request: HttpRequest) -> HttpResponse:
        if request.method not in WRITES or not request.path.startswith("/api/v1/"):
            return get_response(request)
        kind = request.content_type or ""
        if request.path.rstrip("/") in UPLOADS:
            if kind != "multipart/form-data":
                return _problem(415, "Unsupported media type", "send the file as multipart/form-data")
            return get_response(request)
        try:
            body = request.body
        except RequestDataTooBig:
            return _problem(413, "Request too large", "a JSON body may be at most 2.5 MB")
        if not body.strip() or (kind == "multipart/form-data" and not request.POST and not request.FILES):
            return get_response(request)  # operations without a body (approve, held, ...), however it is framed
        if kind != "application/json" and not (kind.startswith("application/") and kind.endswith("+json")):
            return _problem(415, "Unsupported media type", f"send JSON (Content-Type: application/json), not {kind or 'no type'}")
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError) as e:
            return _problem(400, "Bad request", f"the body is not valid JSON ({e})"[:300])
        if not isinstance(document, dict):
            return _problem(422, "Invalid request", f"the body must be a JSON object, not {type(document).__name__}")
        return get_response(request)

    return middleware
