"""The outbox: review, edit, approve, discard; failures with their reasons."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import render
from django.views.decorators.http import require_POST

from rebook.errors import RebookError
from rebook.outbox import services
from rebook.outbox.models import PlannedMessage
from rebook.outbox.selectors import message_get, message_preview
from rebook.web.forms import MessageEditForm
from rebook.web.views.base import done, now, owned, refused, seller_view

TABS = [("review", "To review"), ("scheduled", "Scheduled"), ("failed", "Failed"), ("sent", "Sent"),
        ("withdrawn", "Withdrawn"), ("discarded", "Discarded")]


@seller_view
def outbox(request):
    status = request.GET.get("status", "review")
    if status not in dict(TABS):
        status = "review"
    messages = PlannedMessage.objects.filter(seller=request.seller, status=status).select_related("lead")
    order = ("-sent_at", "-id") if status == "sent" else ("due", "id")
    page = Paginator(messages.order_by(*order), 50).get_page(request.GET.get("page"))
    counts = {
        row["status"]: row["n"]
        for row in PlannedMessage.objects.filter(seller=request.seller).values("status").annotate(n=Count("id"))
    }
    tabs = [(key, label, counts.get(key, 0)) for key, label in TABS]
    return render(request, "web/outbox.html", {"page": page, "status": status, "tabs": tabs})


@seller_view
def message_detail(request, message_id: int):
    message = owned(message_get, seller=request.seller, message_id=message_id)
    preview = message_preview(message, now=now())
    form = MessageEditForm(request.POST or None, initial={
        "subject": preview.composed.subject, "body": preview.composed.text, "html": preview.composed.html,
    })
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        html = data["html"] if data["html"].strip() != preview.composed.html.strip() else None
        try:
            services.message_edit(message=message, subject=data["subject"], body=data["body"], html=html)
        except RebookError as e:
            if message.status not in services.EDITABLE:
                return refused(request, e, "message", message.pk)  # the edit form is not on the page
            form.add_error(None, str(e))
        else:
            return done(request, "Saved your changes. The message still waits for your approval."
                        if message.status == "review" else "Saved your changes.", "message", message.pk)
    return render(request, "web/message.html", {
        "message": message, "preview": preview, "form": form,
        "editable": message.status in services.EDITABLE,
    }, status=400 if form.errors else 200)


@seller_view
@require_POST
def message_approve(request, message_id: int):
    message = owned(message_get, seller=request.seller, message_id=message_id)
    try:
        services.message_approve(message=message)
    except RebookError as e:
        return refused(request, e, "message", message.pk)
    return done(request, f"Approved: it goes to {message.lead.name} when due.", "outbox")


@seller_view
@require_POST
def message_retry(request, message_id: int):
    message = owned(message_get, seller=request.seller, message_id=message_id)
    try:
        services.message_retry(message=message)
    except RebookError as e:
        return refused(request, e, "message", message.pk)
    return done(request, f"It goes to {message.lead.name} again as soon as the worker runs.", "outbox")


@seller_view
@require_POST
def message_discard(request, message_id: int):
    message = owned(message_get, seller=request.seller, message_id=message_id)
    try:
        services.message_discard(message=message)
    except RebookError as e:
        return refused(request, e, "message", message.pk)
    return done(request, "Discarded; it will not be sent.", "outbox")
