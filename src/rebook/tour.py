"""A tour of the main pages and API lists, with real ids from a seller's data.

``bench/run.py`` times every stop and counts its SQL queries at seller and team size; the test suite
counts the queries at two small sizes and fails when they differ (an N+1 query).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from rebook.leads.models import Appointment, Cancellation, Lead
from rebook.outbox.models import PlannedMessage
from rebook.sellers.models import Seller


@dataclass(frozen=True)
class Stop:
    name: str
    path: str
    api: bool = False  # an API list: needs a token instead of a session
    manager: bool = False  # a manager's page


def tour(seller: Seller) -> list[Stop]:
    """Every main page a seller uses and every API list, for ``seller``'s busiest lead and latest items."""
    now = timezone.now()
    leads = Lead.objects.filter(seller=seller)
    busiest, surname = leads.annotate(n=Count("appointments")).order_by("-n", "id").values_list("id", "name").first() \
        or (None, "")
    upcoming = (
        Appointment.objects.filter(seller=seller, status=Appointment.Status.SCHEDULED, start__gt=now,
                                   lead__status__in=[Lead.Status.ACTIVE, Lead.Status.QUALIFIED])
        .order_by("start", "id").values_list("id", flat=True).first()
    )
    message = PlannedMessage.objects.filter(seller=seller).order_by("-id").values_list("id", flat=True).first()
    cancellation = (
        Cancellation.objects.filter(seller=seller, by="prospect").exclude(kind="no_show")
        .order_by("-id").values_list("id", flat=True).first()
    )
    stops = [
        Stop("Today", reverse("today")),
        Stop("Leads", reverse("leads")),
        Stop("Leads: search", reverse("leads") + "?" + urlencode({"q": surname.split()[-1] if surname else "a"})),
        Stop("Leads: nurture filter", reverse("leads") + "?status=nurture"),
        Stop("Nurture", reverse("nurture")),
        Stop("Outbox", reverse("outbox")),
        Stop("Outbox: sent", reverse("outbox") + "?status=sent"),
        Stop("Templates", reverse("templates")),
        Stop("Template", reverse("template", args=["connecting_moment"])),
        Stop("Info pack", reverse("infopack")),
        Stop("Policy", reverse("policy")),
        Stop("Reports", reverse("reports")),
        Stop("Import and export", reverse("data")),
        Stop("Tokens", reverse("tokens")),
        Stop("Team", reverse("team"), manager=True),
        Stop("API: leads", "/api/v1/leads", api=True),
        Stop("API: appointments", "/api/v1/appointments", api=True),
        Stop("API: cancellations", "/api/v1/cancellations", api=True),
        Stop("API: messages", "/api/v1/messages", api=True),
        Stop("API: webhooks", "/api/v1/webhooks", api=True),
        Stop("API: pipeline", "/api/v1/pipeline", api=True),
    ]
    if busiest is not None:
        stops += [Stop("Lead", reverse("lead", args=[busiest])), Stop("Book", reverse("lead_book", args=[busiest]))]
    if upcoming is not None:
        stops += [Stop("Cancel", reverse("appointment_cancel", args=[upcoming])),
                  Stop("Reschedule", reverse("appointment_reschedule", args=[upcoming]))]
    if message is not None:
        stops.append(Stop("Message", reverse("message", args=[message])))
    if cancellation is not None:
        stops.append(Stop("API: checklist", f"/api/v1/cancellations/{cancellation}/checklist", api=True))
    return stops
