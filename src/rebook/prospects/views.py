"""The pages behind a prospect's links. Public: no login, every request treated as hostile.

A GET only shows (mail scanners and link previews open links); every change is a POST with a CSRF token,
answered with a redirect to the page that shows the state as it now is, so a reload, a second tab or the
back button changes nothing more. A token that is tampered with or unknown is a 404; a link that no
longer acts says so kindly and gives the seller's e-mail. Nothing here shows other leads or meetings,
or the seller's calendar beyond the free times offered.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from functools import wraps
from itertools import groupby

from django.conf import settings
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from rebook.calendars.invitations import REQUEST, invitation
from rebook.errors import RebookError
from rebook.leads.models import Appointment, Cancellation
from rebook.outbox.compose import meeting_of, when
from rebook.outbox.models import PlannedMessage
from rebook.prospects import links, services
from rebook.prospects.models import AddressWindow
from rebook.strategy.followups import RESCHEDULE_OFFER
from rebook.web.client import client_address
from rebook.windows import count_this_minute

CHOICES = ["I'm unwell", "Something urgent came up", "My child is sick", "I'm no longer interested"]
DONE = {
    "cancelled": "Your meeting is cancelled. Thank you for letting us know.",
    "moved": "Your meeting is moved.",
    "booked": "Your new meeting is booked.",
    "suggested": "Thank you: your suggestion was passed on, and you will hear back soon. Your meeting stays "
                 "booked until then.",
    "nurture": "Thank you for letting us know. No new time was booked for now; you will hear back soon.",
}


# --- guards ----------------------------------------------------------------------------------------


def _address_key(request: HttpRequest) -> str:
    """A keyed hash of the client's address (an IPv6 client's /64), so the table never holds an address."""
    raw = (client_address(request) or "unknown").encode()
    return hmac.new(settings.SECRET_KEY.encode(), raw, hashlib.sha256).hexdigest()


def _over_limit(request: HttpRequest, now: datetime) -> int | None:
    """Count this request in the address's minute; the seconds to wait when past the limit."""
    count = count_this_minute(AddressWindow, now, address=_address_key(request))
    return max(1, 60 - now.second) if count > settings.REBOOK_PUBLIC_RATE_LIMIT else None


def public(view):
    """Rate-limited per address. (Never cached or indexed, and no Referer: prospects.middleware, for every
    answer under /p/.)"""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str, *args, **kwargs) -> HttpResponse:
        wait = _over_limit(request, timezone.now())
        if wait is None:
            return view(request, token, *args, **kwargs)
        response = render(request, "prospects/limited.html", {"wait": wait}, status=429)
        response["Retry-After"] = str(wait)
        return response

    return wrapper


def _target(token: str) -> links.Target:
    target = links.resolve(token) if len(token) < 300 else None
    if target is None:
        raise Http404("no such link")
    return target


def _last_sent(target: links.Target) -> datetime | None:
    sent = PlannedMessage.objects.filter(lead_id=(target.appointment or target.cancellation).lead_id,
                                         status=PlannedMessage.Status.SENT)
    if target.kind == links.MANAGE:
        sent = sent.filter(appointment=target.appointment)
    else:
        sent = sent.filter(cancellation=target.cancellation, kind=RESCHEDULE_OFFER)
    return sent.aggregate(last=Max("sent_at"))["last"]


def _problem(target: links.Target, now: datetime) -> str | None:
    return links.link_problem(target, now, last_sent=_last_sent(target))


# --- what the pages show ---------------------------------------------------------------------------


def _meeting(appointment: Appointment) -> dict:
    lead, seller = appointment.lead, appointment.lead.seller
    theirs, ours = lead.tz, seller.tz
    return {
        "when": when(appointment.start, theirs),
        "seller_when": when(appointment.start, ours) if theirs.key != ours.key else "",
        "length": int((appointment.end - appointment.start).total_seconds() // 60),
        "location": appointment.location,
        "status": appointment.status,
    }


def _days(starts: list[datetime], tz) -> list[dict]:
    """Free times grouped by day, in the prospect's zone, each with the value the form posts."""
    out = []
    for day, group in groupby(starts, key=lambda s: s.astimezone(tz).date()):
        out.append({"label": f"{day:%A} {day.day} {day:%B}", "times": [
            {"value": s.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ"),
             "label": f"{s.astimezone(tz):%I:%M %p}".lstrip("0")}
            for s in group]})
    return out


def _parse_start(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _base(target: links.Target, token: str) -> dict:
    lead = (target.appointment or target.cancellation).lead
    return {"token": token, "seller": lead.seller, "lead_first": lead.name.split()[0] if lead.name.split() else "",
            "tz": lead.tz.key}


def _manage_token(appointment: Appointment) -> str:
    return links.token_for(links.MANAGE, appointment.pk, appointment.lead_id)


def _state_page(request, target: links.Target, token: str, now: datetime, **extra) -> HttpResponse:
    appointment = target.appointment
    context = _base(target, token) | {"meeting": _meeting(appointment), "done": DONE.get(request.GET.get("done", ""))}
    problem = _problem(target, now)
    status = appointment.status
    if status == Appointment.Status.SCHEDULED and problem is None:
        context |= {"active": True, "choices": CHOICES, "days": _days(
            services.free_times(appointment=appointment, now=now, moving=True), appointment.lead.tz)}
    elif status == Appointment.Status.RESCHEDULED:
        moved = Appointment.objects.filter(rescheduled_from=appointment).first()
        if moved is not None:
            context["next_url"] = reverse("prospect_link", args=[_manage_token(moved)])
            context["next"] = _meeting(moved)
    elif status == Appointment.Status.CANCELLED:
        cancellation = Cancellation.objects.filter(appointment=appointment).first()
        current = services.current_meeting(cancellation) if cancellation else None
        if current is not None:
            context["next_url"] = reverse("prospect_link", args=[_manage_token(current)])
            context["next"] = _meeting(current)
        elif cancellation is not None and problem is None:
            offer = links.Target(links.OFFER, cancellation=cancellation, appointment=appointment)
            if _problem(offer, now) is None:
                context["more_url"] = reverse("prospect_link", args=[
                    links.token_for(links.OFFER, cancellation.pk, cancellation.lead_id)])
    context["problem"] = problem
    return render(request, "prospects/manage.html", context | extra, status=extra.pop("status", 200))


def _offer_page(request, target: links.Target, token: str, now: datetime, status: int = 200, **extra) -> HttpResponse:
    cancellation = target.cancellation
    context = _base(target, token) | {"missed": _meeting(cancellation.appointment)} | extra
    current = services.current_meeting(cancellation)
    problem = _problem(target, now)
    if current is not None:
        context |= {"booked": _meeting(current), "booked_url": reverse("prospect_link", args=[_manage_token(current)])}
    elif problem is not None:
        context["problem"] = problem
    elif target.start is not None and "taken" not in extra:
        context["pick"] = {"when": when(target.start, cancellation.lead.tz),
                           "seller_when": when(target.start, cancellation.lead.seller.tz)
                           if cancellation.lead.tz.key != cancellation.lead.seller.tz.key else ""}
    else:
        context["days"] = _days(services.free_times(appointment=cancellation.appointment, now=now, moving=False),
                                cancellation.lead.tz)
    return render(request, "prospects/offer.html", context, status=status)


# --- the pages -------------------------------------------------------------------------------------


@require_GET
@public
def link(request: HttpRequest, token: str) -> HttpResponse:
    target = _target(token)
    now = timezone.now()
    if target.kind == links.MANAGE:
        return _state_page(request, target, token, now)
    return _offer_page(request, target, token, now)


@require_GET
@public
def meeting_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The meeting as a calendar file (the same event, UID and sequence as the invitations by e-mail)."""
    target = _target(token)
    if target.kind != links.MANAGE or target.appointment.status != Appointment.Status.SCHEDULED:
        raise Http404("no meeting to add")
    data = invitation(meeting_of(target.appointment), method=REQUEST, stamp=timezone.now())
    response = HttpResponse(data, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="meeting.ics"'
    return response


def _after(target: links.Target, outcome: services.Outcome, token: str) -> HttpResponse:
    """Post, then redirect: the page that shows the state as it is now."""
    shown = outcome.appointment
    destination = _manage_token(shown) if shown is not None else token
    what = outcome.what if outcome.changed else ""
    return redirect(reverse("prospect_link", args=[destination]) + (f"?done={what}" if what else ""))


def _active_manage(request, token: str, now: datetime) -> links.Target | HttpResponse:
    target = _target(token)
    if target.kind != links.MANAGE:
        raise Http404("no such link")
    if _problem(target, now) is not None or target.appointment.status != Appointment.Status.SCHEDULED:
        return redirect(reverse("prospect_link", args=[token]))  # shows why, or what happened before
    return target


def manage_action(view):
    """A POST on a manage link that still acts: the view gets the meeting's target and the time. Otherwise
    the page that shows why (or what happened before) is shown instead."""

    @require_POST
    @public
    @wraps(view)
    def wrapper(request: HttpRequest, token: str) -> HttpResponse:
        now = timezone.now()
        target = _active_manage(request, token, now)
        if isinstance(target, HttpResponse):
            return target
        return view(request, token, target, now)

    return wrapper


@manage_action
def cancel(request: HttpRequest, token: str, target: links.Target, now: datetime) -> HttpResponse:
    outcome = services.prospect_cancel(appointment=target.appointment, reason=request.POST.get("reason", ""), now=now)
    return _after(target, outcome, token)


@manage_action
def move(request: HttpRequest, token: str, target: links.Target, now: datetime) -> HttpResponse:
    start = _parse_start(request.POST.get("start", ""))
    if start is None:
        return _state_page(request, target, token, now, error="Choose one of the times first.", status=422)
    try:
        outcome = services.prospect_move(appointment=target.appointment, start=start,
                                         reason=request.POST.get("reason", ""), now=now)
    except services.SlotTaken:
        return _state_page(request, target, token, now, status=409,
                           error="Sorry, that time was just taken. Here are the times still free.")
    return _after(target, outcome, token)


@manage_action
def suggest(request: HttpRequest, token: str, target: links.Target, now: datetime) -> HttpResponse:
    try:
        outcome = services.prospect_suggest(appointment=target.appointment, text=request.POST.get("suggestion", ""),
                                            now=now)
    except RebookError:
        return _state_page(request, target, token, now, error="Write the day and time that would suit you.",
                           status=422)
    return redirect(reverse("prospect_link", args=[token]) + f"?done={outcome.what}")


@require_POST
@public
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    now = timezone.now()
    target = _target(token)
    if target.kind != links.OFFER:
        raise Http404("no such link")
    if _problem(target, now) is not None:
        return redirect(reverse("prospect_link", args=[token]))  # the page says why
    start = target.start
    if start is None and services.current_meeting(target.cancellation) is not None:
        return redirect(reverse("prospect_link", args=[token]))  # already rebooked: shows the meeting
    if start is None:  # chosen from the list of more times: it must be one of them
        start = _parse_start(request.POST.get("start", ""))
        if start not in services.free_times(appointment=target.cancellation.appointment, now=now, moving=False):
            return _offer_page(request, target, token, now, status=409 if start else 422,
                               error="Sorry, that time is not free any more. Here are the times still free."
                               if start else "Choose one of the times first.")
    try:
        outcome = services.prospect_pick(cancellation=target.cancellation, start=start, now=now)
    except services.SlotTaken:
        return _offer_page(request, target, token, now, status=409, taken=True,
                           error="Sorry, that time was just taken. Here are the times still free.")
    return _after(target, outcome, token)
