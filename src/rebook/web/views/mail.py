"""The seller's mailbox (Settings) and what replies suggest (apply or dismiss, from Today or the lead's page)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from rebook.errors import RebookError
from rebook.mailbox.imap import without_password
from rebook.mailbox.models import Mailbox
from rebook.mailbox.services import (
    mailbox_poll_now,
    mailbox_remove,
    mailbox_set,
    mailbox_test,
    suggestion_apply,
    suggestion_dismiss,
    suggestion_get,
)
from rebook.timeparse import parse_time
from rebook.web.forms import TimezoneForm
from rebook.web.views.base import counted, done, now, owned, refused, seller_view


class MailboxForm(forms.Form):
    url = forms.CharField(label="Mailbox address", max_length=500, help_text=(
        "imaps://LOGIN@imap.example.com:993/INBOX (or imap://...:143/INBOX?starttls=1). For Gmail, Outlook and "
        "Fastmail, use an app password."))
    password = forms.CharField(label="Password", max_length=500, widget=forms.PasswordInput(render_value=False),
                               required=False, help_text="Kept encrypted; never shown again. Leave empty if it is in the address.")
    trusted = forms.CharField(label="Your mail provider's authserv-id", max_length=500, required=False, help_text=(
        "Whose Authentication-Results header proves who sent a mail (mx.google.com for Gmail, none for Microsoft "
        "365, messagingengine.com for Fastmail). Leave empty and Rebook guesses it from the address."))


def settings_page_response(request, *, form: MailboxForm | None = None, timezone_form: TimezoneForm | None = None,
                           calendar_form=None, status: int = 200):
    """The Settings page, with the form that was sent (and its errors) in place of a blank one."""
    from rebook.web.views.calendars import calendars_context

    return render(request, "web/settings.html", {
        "box": Mailbox.objects.filter(seller=request.seller).first(), "form": form or MailboxForm(),
        "timezone_form": timezone_form or TimezoneForm(initial={"timezone": request.seller.timezone}),
        **calendars_context(request.seller, calendar_form)}, status=status)


@seller_view
def settings_page(request):
    form = MailboxForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mailbox_set(seller=request.seller, url=form.cleaned_data["url"], password=form.cleaned_data["password"] or None,
                        trusted=form.cleaned_data["trusted"] or None)
        except RebookError as e:
            form.add_error("url", str(e))
        else:
            return done(request, "Mailbox saved. Rebook reads it (and never changes it) from now on.", "settings")
    if form.is_bound and form.errors and "url" in form.data:
        # Shown again for correcting, but never with a password in it (the page may be cached or looked at).
        data = form.data.copy()
        data["url"] = without_password(data["url"])
        form.data = data
    return settings_page_response(request, form=form, status=400 if form.errors else 200)


@seller_view
@require_POST
def timezone_set(request):
    """The seller's time zone, chosen on Settings (the zone every page shows and every typed time is read in)."""
    from rebook.sellers.services import seller_update

    form = TimezoneForm(request.POST)
    if form.is_valid():
        seller = seller_update(seller=request.seller, timezone_name=form.cleaned_data["timezone"])
        return done(request, f"Times are shown in {seller.timezone} from now on.", "settings")
    return settings_page_response(request, timezone_form=form, status=400)


@seller_view
@require_POST
def mailbox_action(request, action: str):
    if action not in ("test", "poll", "remove"):
        raise Http404("no such action")
    box = Mailbox.objects.filter(seller=request.seller).first()
    if box is None:
        return redirect("settings")
    if action == "remove":
        mailbox_remove(seller=request.seller)
        return done(request, "Mailbox removed; its password is forgotten.", "settings")
    try:
        if action == "test":
            result = mailbox_test(mailbox=box)
            return done(request, f"Connected: {counted(result['messages'], 'message')} in {result['folder']}.", "settings")
        report = mailbox_poll_now(mailbox=box)
        if report.error:
            raise RebookError(report.error)
        handled = ", ".join(f"{k}: {v}" for k, v in sorted(report.handled.items())) or "nothing new about your leads"
        return done(request, f"Read {counted(report.read, 'new message')}: {handled}.", "settings")
    except RebookError as e:
        return refused(request, e, "settings")


def _back(request, fallback: str = "today"):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


@seller_view
@require_POST
def suggestion_decide(request, suggestion_id: int, action: str):
    if action not in ("apply", "dismiss"):
        raise Http404("no such action")
    s = owned(suggestion_get, seller=request.seller, suggestion_id=suggestion_id)
    try:
        if action == "apply":
            to = None
            if request.POST.get("to"):
                to = parse_time(request.POST["to"], tz=request.seller.tz, now=now(), what="the new time")
            s = suggestion_apply(suggestion=s, to=to)
            text = f"Applied: {s.note}."
        else:
            suggestion_dismiss(suggestion=s)
            text = "Dismissed."
    except RebookError as e:
        messages.error(request, str(e))
        return _back(request)
    messages.success(request, text)
    return _back(request)
