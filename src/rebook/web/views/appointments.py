"""Appointment actions: cancel (with the suggested validity shown), reschedule (with free slots), held,
no-show; judging a reason; ticking the checklist."""

from __future__ import annotations

from datetime import timedelta

from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from rebook.calendars.busy import clashes
from rebook.errors import RebookError
from rebook.leads import services
from rebook.leads.models import Appointment
from rebook.leads.selectors import appointment_get, cancellation_checklist, cancellation_get
from rebook.strategy.hours import suggest_slots
from rebook.web.forms import CancelForm, JudgeForm, RescheduleForm, validity_value
from rebook.web.views.base import done, is_htmx, now, owned, refused, seller_view


def _outcome(c) -> str:
    lead = c.lead
    lead.refresh_from_db()
    parts = [f"{c.get_kind_display().capitalize()} recorded: {c.get_category_display()}, "
             f"{'valid' if c.valid else 'not valid'}."]
    if c.is_strike:
        parts.append(f"Strike {lead.strikes} of {lead.seller.strike_limit}.")
    if lead.status == "nurture":
        parts.append(f"{lead.name} has moved to the nurture list; a polite note is waiting for you in the outbox.")
    return " ".join(parts)


@seller_view
def appointment_cancel(request, appointment_id: int):
    appointment = owned(appointment_get, seller=request.seller, appointment_id=appointment_id)
    form = CancelForm(request.POST or None, seller=request.seller)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            c = services.appointment_cancel(
                appointment=appointment, by=data["by"], reason=data["reason"],
                valid=validity_value(data["validity"]), at=data["at"],
            )
        except RebookError as e:
            form.add_error(None, str(e))
        else:
            return done(request, _outcome(c), "lead", appointment.lead_id)
    return render(request, "web/cancel.html", {
        "appointment": appointment, "form": form,
        "verdict": request.seller.classifier.classify(form["reason"].value() or ""),
    }, status=400 if form.errors else 200)


@seller_view
@require_GET
def reason_suggestion(request):
    """The validity Rebook suggests for a reason as it is typed (an htmx fragment)."""
    verdict = request.seller.classifier.classify(request.GET.get("reason", ""))
    return render(request, "web/_verdict.html", {"verdict": verdict})


def _slots(seller, appointment, moment) -> list[tuple[str, str]]:
    horizon = moment + timedelta(days=28)
    busy = Appointment.objects.filter(
        seller=seller, status=Appointment.Status.SCHEDULED, start__lt=horizon, end__gt=moment
    ).exclude(pk=appointment.pk).values_list("start", "end")
    starts = suggest_slots(after=moment, tz=seller.tz, working=seller.policy.working_window,
                           length=appointment.end - appointment.start, busy=busy, count=5)
    tz = seller.tz
    return [(s.isoformat(), f"{s.astimezone(tz):%A %d %B, %H:%M}") for s in starts]


@seller_view
def appointment_reschedule(request, appointment_id: int):
    seller = request.seller
    appointment = owned(appointment_get, seller=seller, appointment_id=appointment_id)
    slots = _slots(seller, appointment, now())
    form = RescheduleForm(request.POST or None, seller=seller, slots=slots)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            c, moved = services.appointment_reschedule(
                appointment=appointment, to=data["new_start"], by=data["by"], reason=data["reason"],
                valid=validity_value(data["validity"]), at=data["at"],
            )
        except RebookError as e:
            form.add_error(None, str(e))
        else:
            text = _outcome(c)
            if moved is not None:
                text += f" New time: {moved.start.astimezone(seller.tz):%A %d %B at %H:%M}."
                found = clashes(seller, moved.start, moved.end)
                if found:
                    text += f" Note: it clashes with {'; '.join(found)} in your calendar."
            return done(request, text, "lead", appointment.lead_id)
    return render(request, "web/reschedule.html", {
        "appointment": appointment, "form": form,
        "verdict": seller.classifier.classify(form["reason"].value() or ""),
    }, status=400 if form.errors else 200)


@seller_view
@require_POST
def appointment_held(request, appointment_id: int):
    appointment = owned(appointment_get, seller=request.seller, appointment_id=appointment_id)
    try:
        services.appointment_mark_held(appointment=appointment)
    except RebookError as e:
        return refused(request, e, "lead", appointment.lead_id)
    return done(request, "Marked as held. Well done.", "lead", appointment.lead_id)


@seller_view
@require_POST
def appointment_no_show(request, appointment_id: int):
    appointment = owned(appointment_get, seller=request.seller, appointment_id=appointment_id)
    try:
        c = services.appointment_mark_no_show(appointment=appointment)
    except RebookError as e:
        return refused(request, e, "lead", appointment.lead_id)
    return done(request, _outcome(c), "lead", appointment.lead_id)


@seller_view
@require_POST
def cancellation_judge(request, cancellation_id: int):
    c = owned(cancellation_get, seller=request.seller, cancellation_id=cancellation_id)
    form = JudgeForm(request.POST)
    if not form.is_valid():
        return refused(request, RebookError("choose valid or not valid"), "lead", c.lead_id)
    services.cancellation_judge(cancellation=c, valid=form.cleaned_data["valid"])
    return done(request, f"Judged {'valid' if form.cleaned_data['valid'] else 'not valid'}; everything is recomputed.",
                "lead", c.lead_id)


@seller_view
@require_POST
def checklist_tick(request, cancellation_id: int, step: str):
    c = owned(cancellation_get, seller=request.seller, cancellation_id=cancellation_id)
    try:
        services.checklist_tick(cancellation=c, step=step, done=request.POST.get("done") != "0")
    except RebookError as e:
        return refused(request, e, "lead", c.lead_id)
    if is_htmx(request):
        c = cancellation_get(seller=request.seller, cancellation_id=cancellation_id)
        return render(request, "web/_checklist.html", {"c": c, "steps": cancellation_checklist(c)})
    return done(request, "Checklist updated.", "lead", c.lead_id)
