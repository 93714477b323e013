"""Sign in (throttled) and sign out, with Django's auth views."""

from __future__ import annotations

import math

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core import signing

from rebook.sellers.services import login_failure_record, login_success_record, login_wait
from rebook.web.client import client_address
from rebook.web.forms import LoginForm
from rebook.web.views.base import now

KNOWN_BROWSER_COOKIE = "rebook_known"
KNOWN_BROWSER_SALT = "rebook.login.known-browser"
KNOWN_BROWSER_AGE = 365 * 24 * 3600


def _known_names(request) -> list[str]:
    """The accounts this browser has signed in to (OWASP's device cookie, signed)."""
    try:
        names = signing.loads(request.COOKIES.get(KNOWN_BROWSER_COOKIE, ""), salt=KNOWN_BROWSER_SALT,
                              max_age=KNOWN_BROWSER_AGE)
    except signing.BadSignature:
        return []
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def known_browser(request, username: str) -> bool:
    return username.lower() in _known_names(request)


class ThrottledLoginForm(LoginForm):
    """Sign-in pauses for 15 minutes after too many failures: see sellers.services.login_wait."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        client = client_address(self.request) if self.request else None
        # LoginFailure.ip is an address column (inet on PostgreSQL): an IPv6 /64 is kept as its first address.
        ip = client.partition("/")[0] if client else None
        wait = login_wait(username=username, ip=ip, now=now(),
                          known_browser=bool(self.request) and known_browser(self.request, username))
        if wait is not None:
            minutes = max(1, math.ceil(wait.total_seconds() / 60))
            raise forms.ValidationError(
                f"Too many failed sign-ins. Please wait {minutes} minute{'s' if minutes != 1 else ''} and try again.",
                code="throttled",
            )
        try:
            data = super().clean()
        except forms.ValidationError:
            login_failure_record(username=username, ip=ip, now=now())
            raise
        login_success_record(username=username, ip=ip)
        return data


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = ThrottledLoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        names = _known_names(self.request)[-4:] + [form.get_user().username.lower()]
        response.set_cookie(KNOWN_BROWSER_COOKIE, signing.dumps(sorted(set(names)), salt=KNOWN_BROWSER_SALT),
                            max_age=KNOWN_BROWSER_AGE, httponly=True, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
        return response


class LogoutView(auth_views.LogoutView):
    pass
