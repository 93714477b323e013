"""The error pages: styled like the rest, readable on a phone, each with a way on. A prospect's (under /p/ and
/unsubscribe/) says nothing of the seller's app; a seller's leads back to Today. They use no database, so a
page still comes when the database is what failed."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

PUBLIC = ("/p/", "/unsubscribe/")
WORDS = {
    400: ("This request could not be read", "Something in it was not as the page sent it."),
    403: ("This is not allowed", "If you were signed in, your session may have ended: go back, reload the page "
                                 "and try again."),
    404: ("Nothing here", "The address may be mistyped, or what it pointed to was removed."),
    405: ("Not like that", "This address is for a form's button, not for opening in a browser."),
    500: ("Something went wrong on our side", "It has been logged. Please try again in a moment."),
}
PUBLIC_WAY_ON = {
    404: "If you came from a link in an e-mail, the meeting may have been moved or cancelled since: the newest "
         "e-mail about it has a link that works, or reply to it to reach the person you are meeting.",
}


def page(request: HttpRequest, status: int) -> HttpResponse:
    public = request.path_info.startswith(PUBLIC)
    title, text = WORDS.get(status, WORDS[400])
    if request.path_info.startswith("/api/"):  # the API answers in its own form, problem JSON (RFC 9457)
        body = {"type": "about:blank", "title": title, "status": status, "detail": text}
        return HttpResponse(json.dumps(body), status=status, content_type="application/problem+json")
    html = render_to_string("web/error.html", {
        "status": status, "title": title, "text": text, "public": public,
        "way_on": PUBLIC_WAY_ON.get(status, "Go back to the e-mail you came from and use its newest link.")
        if public else "",
    })
    return HttpResponse(html, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return page(request, 400)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return page(request, 403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return page(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return page(request, 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return page(request, 403)


def styled_errors(get_response: Callable[[HttpRequest], HttpResponse]):
    """A 405 from a view that takes only POST (``require_POST``) comes with no body: give it the page, and keep
    its Allow header. The API's answers are its own (problem JSON)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if response.status_code == 405 and not response.content and not request.path_info.startswith("/api/"):
            styled = page(request, 405)
            if "Allow" in response:
                styled["Allow"] = response["Allow"]
            return styled
        return response

    return middleware
