"""The one page a prospect can reach: one-click unsubscribe (RFC 8058), no login needed."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from rebook.leads.models import Lead
from rebook.leads.services import lead_unsubscribe
from rebook.outbox.mail import unsubscribe_lead_id


@csrf_exempt  # the signed token in the URL is the credential; mail clients POST without a session
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    lead_id = unsubscribe_lead_id(token)
    lead = Lead.objects.select_related("seller__user").filter(pk=lead_id).first() if lead_id else None
    if lead is None:
        return render(request, "outbox/unsubscribe.html", {"invalid": True}, status=404)
    if request.method == "POST":
        # A GET only shows a button: link scanners and previews follow GETs and must not unsubscribe.
        lead = lead_unsubscribe(lead=lead)
    return render(request, "outbox/unsubscribe.html", {"lead": lead, "done": lead.unsubscribed_at is not None})
