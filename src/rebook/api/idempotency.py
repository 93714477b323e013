"""Idempotency-Key for API writes: a retried request with the same key gets the first response back
and changes nothing more. A key reused for a different request is refused."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _problem(status: int, title: str, detail: str) -> HttpResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return HttpResponse(json.dumps(body), status=status, content_type="application/problem+json")


def _fingerprint(request: HttpRequest) -> str:
    """What makes two requests the same: method, path and body. An upload is hashed from its parsed parts, in
    chunks, so a large file is never held in memory (Django keeps uploads in temporary files)."""
    digest = hashlib.sha256(f"{request.method} {request.get_full_path()}\n".encode())
    if request.content_type == "multipart/form-data":
        for name in sorted(request.POST):
            digest.update(f"{name}={request.POST.getlist(name)!r}\n".encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                digest.update(f"{name}:{upload.name}:{upload.size}\n".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(request.body)
    return digest.hexdigest()


def idempotency(get_response: Callable[[HttpRequest], HttpResponse]):
    def middleware(request: HttpRequest) -> HttpResponse:
        key = request.headers.get("Idempotency-Key")
        if not key or request.method not in WRITES or not request.path.startswith("/api/"):
            return get_response(request)
        from rebook.api.models import IdempotencyRecord
        from rebook.api.services import token_lookup

        auth = request.headers.get("Authorization", "")
        token = token_lookup(auth[7:].strip()) if auth.lower().startswith("bearer ") else None
        if token is None:
            return get_response(request)  # the API answers 401 itself
        if len(key) > 255:
            return _problem(400, "Bad Idempotency-Key", "Idempotency-Key: at most 255 characters")
        from rebook.api.services import RateLimited, rate_limit_check

        try:  # a replay is a request like any other: it counts, and waits its turn when the token is limited
            rate_limit_check(token=token, now=timezone.now())
        except RateLimited as e:
            response = _problem(429, "Too many requests",
                                f"this token made too many requests this minute; retry after {e.retry_after} seconds")
            response["Retry-After"] = str(e.retry_after)
            return response
        request.rebook_rate_counted = True
        try:
            fingerprint = _fingerprint(request)
        except RequestDataTooBig:
            return _problem(413, "Request too large", "the body is larger than a JSON request may be; "
                            "upload files as multipart/form-data")
        record = IdempotencyRecord.objects.filter(token=token, key=key).first()
        if record is None:
            try:
                record = IdempotencyRecord.objects.create(token=token, key=key, fingerprint=fingerprint,
                                                          created_at=timezone.now())
            except IntegrityError:
                return _problem(409, "Request in progress", "a request with this Idempotency-Key is still running")
        else:
            if record.fingerprint != fingerprint:
                return _problem(422, "Idempotency-Key reused",
                                "this Idempotency-Key was first used for a different request")
            if record.status is None:
                return _problem(409, "Request in progress", "a request with this Idempotency-Key is still running")
            replay = HttpResponse(bytes(record.body), status=record.status, content_type=record.content_type)
            replay["Idempotent-Replayed"] = "true"
            return replay
        response = get_response(request)
        if response.status_code >= 500 or response.status_code == 429:
            record.delete()  # not an answer to keep: a retry may run the request again
        else:
            record.status = response.status_code
            record.content_type = response.get("Content-Type", "application/json")
            record.body = response.content
            record.save(update_fields=["status", "content_type", "body"])
        return response

    return middleware
