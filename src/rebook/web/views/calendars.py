"""The seller's connected calendars, on the Settings page: add one, read it now, remove it."""

from __future__ import annotations

from django import forms
from django.http import Http404
from django.views.decorators.http import require_POST

from rebook.calendars.busy import stale, to_book
from rebook.calendars.connections import (
    book_from_calendar,
    connection_add,
    connection_get,
    connection_remove,
    connection_sync,
)
from rebook.calendars.models import Connection
from rebook.errors import RebookError
from rebook.mailbox.imap import without_password
from rebook.web.views.base import counted, done, now, refused, seller_view


class CalendarForm(forms.Form):
    url = forms.CharField(label="Calendar address", max_length=1000, help_text=(
        "A CalDAV address (iCloud: https://caldav.icloud.com/, Fastmail, Nextcloud, any CalDAV server), or an "
        "iCal address ending in .ics (Google's or Outlook's secret address)."))
    login = forms.CharField(label="Login", max_length=254, required=False)
    password = forms.CharField(label="Password", max_length=500, widget=forms.PasswordInput(render_value=False),
                               required=False, help_text="An app password; kept encrypted, never shown again.")
    name = forms.CharField(label="Call it", max_length=100, required=False, help_text='"Work", "Family"...')
    only = forms.CharField(label="Only these calendars", max_length=1000, required=False, help_text=(
        "For an account's address: the names of the calendars that count as busy, comma-separated; empty for all."))
    writes = forms.BooleanField(label="Write my Rebook meetings into this calendar", required=False, help_text=(
        "One CalDAV calendar: meetings booked, moved or cancelled in Rebook appear there, and moving or deleting "
        "them there does the same in Rebook."))

    prefix = "calendar"  # the mailbox's form on the same page has an address and a password too


def calendars_context(seller, form: CalendarForm | None = None) -> dict:
    return {"calendars": list(Connection.objects.filter(seller=seller).order_by("name")),
            "calendar_form": form or CalendarForm(), "stale_calendars": stale(seller, now()),
            "to_book": to_book(seller, now())}


@seller_view
@require_POST
def calendar_book(request, busy_id: int):
    try:
        meeting = book_from_calendar(seller=request.seller, busy_id=busy_id, now=now())
    except RebookError as e:
        return refused(request, e, "settings")
    local = meeting.start.astimezone(request.seller.tz)
    return done(request, f"Booked in Rebook: {meeting.lead.name}, {local:%A %d %B at %H:%M}.", "lead", meeting.lead_id)


@seller_view
@require_POST
def calendar_add(request):
    form = CalendarForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            c = connection_add(seller=request.seller, url=data["url"], login=data["login"],
                               password=data["password"] or None, name=data["name"], writes=data["writes"], only=data["only"], now=now())
        except RebookError as e:
            form.add_error("url", str(e))
        else:
            return done(request, f"Calendar {c.name} added: {counted(c.events, 'busy time')} in the next 90 days. Offered "
                                 "times now keep clear of them." + (" Your Rebook meetings are written into it."
                                                                    if c.writes else ""), "settings")
    from rebook.web.views.mail import settings_page_response

    data = form.data.copy()  # shown again for correcting, never with a password in it
    data["calendar-password"] = ""
    data["calendar-url"] = without_password(data.get("calendar-url", ""))
    form.data = data
    return settings_page_response(request, calendar_form=form, status=400)


@seller_view
@require_POST
def calendar_action(request, connection_id: int, action: str):
    if action not in ("sync", "remove"):
        raise Http404("no such action")
    try:
        c = connection_get(request.seller, str(connection_id))
    except RebookError:
        raise Http404("no such calendar") from None
    if action == "remove":
        connection_remove(connection=c)
        return done(request, f"Calendar {c.name} removed, with its password and busy times.", "settings")
    report = connection_sync(connection=c, now=now())
    if report.error:
        return refused(request, RebookError(f"{c.name}: {report.error}"), "settings")
    return done(request, f"{c.name} read: {counted(report.busy, 'busy time')}" + ("." if report.changed else ", unchanged."),
                "settings")
