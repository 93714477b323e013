"""Leads: the list with search and filters, one lead's page with its timeline, and the lead actions."""

from __future__ import annotations

from datetime import timedelta

from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render
from django.views.decorators.http import require_POST

from rebook.calendars.busy import clashes
from rebook.errors import RebookError
from rebook.forecast.services import risks
from rebook.leads import services
from rebook.leads.models import Appointment, Cancellation, Channel, Lead
from rebook.leads.selectors import lead_checklists, lead_get, lead_history, lead_interest, lead_next_steps
from rebook.prospects import links as prospect_links
from rebook.strategy.followups import past_follow_up
from rebook.web.forms import ActivityForm, BookForm, LeadFilterForm, LeadForm, ReasonForm, rendered
from rebook.web.views.base import done, image_response, now, owned, refused, seller_view

PAGE_SIZE = 50


@seller_view
def lead_list(request):
    seller = request.seller
    leads = Lead.objects.filter(seller=seller)
    sources = sorted(set(leads.exclude(source="").values_list("source", flat=True)))
    filters = LeadFilterForm(request.GET or None, sources=sources)
    if filters.is_valid():
        q, status, source = (filters.cleaned_data[k] for k in ("q", "status", "source"))
        if q:
            leads = leads.filter(Q(name__icontains=q) | Q(company__icontains=q) | Q(email__icontains=q))
        if status:
            leads = leads.filter(status=status)
        if source:
            leads = leads.filter(source=source)
    page = Paginator(leads.order_by("name", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "web/leads.html", {
        "filters": filters, "page": page, "query": query.urlencode(), "form": LeadForm(),
    })


@seller_view
def lead_new(request):
    form = LeadForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            lead = services.lead_create(
                seller=request.seller, name=data["name"], email=data["email"], phone=data["phone"],
                company=data["company"], source=data["source"], notes=data["notes"], timezone_name=data["timezone"],
            )
        except RebookError as e:
            _error_to_field(form, e)
        else:
            return done(request, f"Added {lead.name}.", "lead", lead.pk)
    return render(request, "web/lead_new.html", {"form": form})


def _error_to_field(form, error: RebookError) -> None:
    """Put a service's error next to the field it names ("lead name: ...", "email: ..."), else on top."""
    text = str(error)
    for name in form.fields:
        for prefix in (f"lead {name}: ", f"--{name}: ", f"{name}: "):
            if text.startswith(prefix):
                form.add_error(name, text.removeprefix(prefix))
                return
    form.add_error(None, text)


def _through(row) -> str:
    return " through the prospect's link" if row.channel == Channel.SELF_SERVICE else ""


def _links(loaded, lead, seller, moment) -> None:
    """The prospect's links beside each meeting: to move or cancel one still ahead; after a cancellation,
    each offered time and a page of more times (the URLs the messages carry)."""
    cancelled = {c.appointment_id: c for c in loaded.cancellations if c.kind != Cancellation.Kind.RESCHEDULE}
    for a in loaded.appointments:
        a.links = None
        if not seller.self_service:
            continue
        if a.status == Appointment.Status.SCHEDULED and a.start > moment:
            a.lead = lead
            a.links = {"manage": prospect_links.manage_url(a)}
        elif a.pk in cancelled and a.start > moment - timedelta(days=prospect_links.LINK_DAYS):
            c = cancelled[a.pk]
            c.appointment = a
            a.links = {"slots": prospect_links.slots(c, moment, describe=lambda s: s.isoformat()),
                       "more": prospect_links.more_times_url(c)}


def _timeline(loaded, messages, tz):
    entries = []
    for a in loaded.activities:
        entries.append({"at": a.at, "kind": "contact", "title": f"{a.get_kind_display()} ({a.get_direction_display().lower()})", "text": a.notes})
    for a in loaded.appointments:
        entries.append({"at": a.booked_at, "kind": "booked", "title": f"Booked a meeting for {a.start.astimezone(tz):%a %d %b %H:%M}{_through(a)}", "text": a.location, "appointment": a})
    for c in loaded.cancellations:
        entries.append({"at": c.at, "kind": "cancelled", "title": f"{c.get_kind_display().capitalize()} by {c.get_by_display()}{_through(c)}", "text": c.reason, "cancellation": c})
    for m in messages:
        if m.status == "sent":
            entries.append({"at": m.sent_at, "kind": "message", "title": f"Sent: {m.subject or m.kind}", "text": "", "message": m})
    return sorted(entries, key=lambda e: e["at"], reverse=True)


# A lead page shows the newest of a long history, with a link to all of it: the busiest leads have
# hundreds of entries, and rendering them all was most of the page's time.
SHOWN_PAST = 10  # past meetings (every meeting ahead is shown)
SHOWN_CANCELLATIONS = 10
SHOWN_TIMELINE = 30


@seller_view
def lead_detail(request, lead_id: int):
    seller, moment = request.seller, now()
    everything = request.GET.get("all") == "1"
    lead = owned(lead_get, seller=seller, lead_id=lead_id)
    messages = list(lead.messages.order_by("due", "id"))
    loaded = lead_history(lead, messages=messages)
    newest_first = list(reversed(loaded.cancellations))
    cancellations = newest_first if everything else newest_first[:SHOWN_CANCELLATIONS]
    # Checklists for the cancellations still being followed up (older ones are history: with the whole
    # history shown, all of them).
    recent = [c for c in cancellations if everything or not past_follow_up(c.at, moment)]
    checklists = lead_checklists(lead, loaded, only=recent)
    for c in cancellations:
        c.lead = lead
        c.steps = checklists.get(c.pk)
    _links(loaded, lead, seller, moment)
    ahead = [a for a in loaded.appointments if a.status == Appointment.Status.SCHEDULED and a.start > moment]
    past = [a for a in reversed(loaded.appointments) if a not in ahead]
    appointments = [*reversed(ahead), *(past if everything else past[:SHOWN_PAST])]
    forecast = risks(ahead, seller) if ahead else {}
    details = {f: getattr(lead, f) for f in LeadForm.base_fields}
    for a in appointments:
        a.risk_info = forecast.get(a.pk)
    timeline = _timeline(loaded, messages, seller.tz)
    suggestions = list(lead.suggestions.filter(status="pending").select_related("appointment"))
    for s in suggestions:
        s.lead = lead  # this lead: not read again
    return render(request, "web/lead.html", {
        "lead": lead,
        "interest": lead_interest(lead, loaded),
        "steps": lead_next_steps(lead, loaded, messages, moment, commands=False),
        "appointments": appointments,
        "cancellations": cancellations,
        "hidden": 0 if everything else (len(loaded.appointments) - len(appointments)
                                        + len(newest_first) - len(cancellations)
                                        + max(len(timeline) - SHOWN_TIMELINE, 0)),
        "planned": [m for m in messages if m.status in ("review", "scheduled", "failed")],  # "messages" is the flash
        "timeline": timeline if everything else timeline[:SHOWN_TIMELINE],
        "now": moment,
        "log_form": rendered(lambda: ActivityForm(seller=seller), ("log", seller.timezone)),
        "reason_form": rendered(ReasonForm, ("reason",)),
        "edit_form": rendered(lambda: LeadForm(initial=details), ("edit", *details.items())),
        "terminal": lead.status in ("won", "lost", "do_not_contact"),
        "suggestions": suggestions,
        "cards": list(lead.cards.only("id", "file", "event", "created_at")),
    })


@seller_view
@require_POST
def lead_edit(request, lead_id: int):
    lead = owned(lead_get, seller=request.seller, lead_id=lead_id)
    form = LeadForm(request.POST)
    if form.is_valid():
        try:
            services.lead_update(lead=lead, **{k: v for k, v in form.cleaned_data.items()})
        except RebookError as e:
            _error_to_field(form, e)
        else:
            return done(request, "Saved.", "lead", lead.pk)
    return render(request, "web/lead_form.html", {"lead": lead, "form": form}, status=400)


@seller_view
@require_POST
def lead_log(request, lead_id: int):
    lead = owned(lead_get, seller=request.seller, lead_id=lead_id)
    form = ActivityForm(request.POST, seller=request.seller)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.activity_log(lead=lead, kind=data["kind"], direction=data["direction"], at=data["at"], notes=data["notes"])
        except RebookError as e:
            _error_to_field(form, e)
        else:
            return done(request, "Contact logged.", "lead", lead.pk)
    return render(request, "web/lead_log.html", {"lead": lead, "form": form}, status=400)


@seller_view
def lead_book(request, lead_id: int):
    lead = owned(lead_get, seller=request.seller, lead_id=lead_id)
    form = BookForm(request.POST or None, seller=request.seller)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            appointment = services.appointment_book(
                lead=lead, start=data["start"], end=data["start"] + data["duration"], location=data["location"],
                booked_by=data["booked_by"], timezone_name=request.seller.timezone,
            )
        except RebookError as e:
            _error_to_field(form, e)
        else:
            local = appointment.start.astimezone(request.seller.tz)
            found = clashes(request.seller, appointment.start, appointment.end)
            note = f" Note: it clashes with {'; '.join(found)} in your calendar." if found else ""
            return done(request, f"Booked {lead.name} for {local:%A %d %B at %H:%M}.{note}", "lead", lead.pk)
    return render(request, "web/lead_book.html", {"lead": lead, "form": form}, status=400 if form.errors else 200)


def _lead_action(request, lead_id: int, act, said):
    """Run one lead service; flash what it did (from the lead it returns), or why it could not."""
    lead = owned(lead_get, seller=request.seller, lead_id=lead_id)
    try:
        lead = act(lead)
    except RebookError as e:
        return refused(request, e, "lead", lead.pk)
    return done(request, said(lead), "lead", lead.pk)


@seller_view
@require_POST
def lead_not_interested(request, lead_id: int):
    form = ReasonForm(request.POST)
    form.is_valid()
    reason = form.cleaned_data.get("reason", "")
    return _lead_action(request, lead_id, lambda lead: services.lead_not_interested(lead=lead, reason=reason),
                        lambda lead: f"{lead.name} is on the nurture list; a kind note is planned.")


@seller_view
@require_POST
def lead_reactivate(request, lead_id: int):
    return _lead_action(request, lead_id, lambda lead: services.lead_reactivate(lead=lead),
                        lambda lead: f"{lead.name} is active again, with a clean slate.")


@seller_view
@require_POST
def lead_qualify(request, lead_id: int):
    notes = request.POST.get("notes", "")
    return _lead_action(request, lead_id, lambda lead: services.lead_qualify(lead=lead, notes=notes),
                        lambda lead: f"{lead.name} is qualified.")


@seller_view
@require_POST
def lead_set_status(request, lead_id: int):
    status = request.POST.get("status", "")
    return _lead_action(request, lead_id, lambda lead: services.lead_set_status(lead=lead, status=status),
                        lambda lead: f"{lead.name} is marked {lead.get_status_display()}.")


@seller_view
def nurture(request):
    from rebook.outbox.models import PlannedMessage
    from rebook.strategy.followups import NURTURE_CHECKIN

    leads = Lead.objects.filter(seller=request.seller, status=Lead.Status.NURTURE).order_by("-nurture_since", "id")
    page = Paginator(leads, PAGE_SIZE).get_page(request.GET.get("page"))
    checkins = dict(
        PlannedMessage.objects.filter(lead__in=[lead.pk for lead in page], kind=NURTURE_CHECKIN,
                                      status__in=PlannedMessage.PENDING)
        .values_list("lead_id", "due")
    )
    for lead in page:
        lead.next_checkin = checkins.get(lead.pk)
    return render(request, "web/nurture.html", {"page": page, "query": ""})



@seller_view
def lead_card(request, lead_id: int, card_id: int):
    """The business card the lead came from, as it was photographed."""
    from django.http import Http404

    from rebook.cards.models import BusinessCard

    lead = owned(lead_get, seller=request.seller, lead_id=lead_id)
    card = BusinessCard.objects.filter(lead=lead, pk=card_id).first()
    if card is None:
        raise Http404("no such card")
    return image_response(bytes(card.data), card.content_type, f"card-{card.pk}")
