"""Sign in (throttled) and sign out, with Django's auth views."""

from __future__ import annotations

import math

from django import forms
from django.contrib.auth import views as auth_views

from rebook.sellers.services import login_failure_record, login_success_record, login_wait
from rebook.web.forms import LoginForm
from rebook.web.views.base import now


class ThrottledLoginForm(LoginForm):
    """After LOGIN_FAILURE_LIMIT failures for an account or an address, sign-in pauses for 15 minutes."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip = self.request.META.get("REMOTE_ADDR") if self.request else None
        wait = login_wait(username=username, ip=ip, now=now())
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
        login_success_record(username=username)
        return data


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = ThrottledLoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass
