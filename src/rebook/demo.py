"""A realistic demo: four months of one seller's leads, meetings and cancellations.

Everything goes through the services, with explicit past times, so the demo shows exactly what the
rules make of such a history: chronic cancellers on the nurture list, valid reasons forgiven,
a reason waiting for judgement, a slot freed this week, and a pipeline that needs topping up.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.db import transaction

from rebook.errors import RebookError
from rebook.leads import services as s
from rebook.leads.models import Appointment, Cancellation, Lead
from rebook.sellers.models import Seller
from rebook.timeparse import localize

PEOPLE = [
    ("Dana Reyes", "Reyes Landscaping"), ("Marcus Bell", "Bell & Sons Plumbing"), ("Priya Nair", "Nair Dental"),
    ("Tom Okafor", "Okafor Logistics"), ("Sofia Lindqvist", "Lindqvist Design"), ("Ben Carter", "Carter Fitness"),
    ("Aiko Tanaka", "Tanaka Bakery"), ("Luis Romero", "Romero Auto"), ("Hannah Weiss", "Weiss Legal"),
    ("Jamal Hughes", "Hughes Roofing"), ("Chloe Martin", "Martin Florals"), ("Ravi Patel", "Patel Pharmacy"),
    ("Emma Novak", "Novak Yoga"), ("Oliver Grant", "Grant Realty"), ("Fatima Zahra", "Zahra Catering"),
    ("Noah Fischer", "Fischer IT"), ("Grace Kim", "Kim Tutoring"), ("Leo Rossi", "Rossi Trattoria"),
    ("Maya Cohen", "Cohen Photography"), ("Sam O'Brien", "O'Brien Electric"), ("Isla Murray", "Murray Vets"),
    ("Ethan Brooks", "Brooks Coffee"), ("Zoe Laurent", "Laurent Salon"), ("Kofi Mensah", "Mensah Imports"),
]
SOURCES = ["Chamber of Commerce mixer", "Referral from a client", "LinkedIn", "Trade show", "Website form", "BNI breakfast"]
VALID_REASONS = [
    "My son is sick with the flu", "Family emergency, so sorry", "My flight was cancelled",
    "There's a snowstorm and the roads are closed", "Funeral for my uncle", "Car broke down on the highway",
    "Work emergency - our servers are down, outage at work",
]
INVALID_REASONS = ["Something came up", "Too busy this week", "Forgot, sorry", "", "Can't make it", "Double booked"]
UNKNOWN_REASONS = ["My accountant needs me that day", "We are moving offices"]

# The storyline of each lead, in order of PEOPLE.
PLOTS = [
    "chronic", "steady_won", "valid_then_held", "two_strikes", "upcoming", "chronic", "new", "not_interested",
    "freed_today", "no_show", "qualified", "steady", "unknown_reason", "valid_then_held", "upcoming", "chronic_late",
    "new", "steady", "one_strike", "upcoming", "qualified", "valid_then_held", "steady_won", "new",
]


class _Story:
    def __init__(self, seller: Seller, now: datetime, rng: random.Random) -> None:
        self.seller, self.now, self.rng = seller, now, rng

    def slot(self, days_from_now: int) -> datetime:
        day = (self.now.astimezone(self.seller.tz) + timedelta(days=days_from_now)).date()
        while day.weekday() >= 5:
            day += timedelta(days=1)
        hour = self.rng.choice([9, 10, 11, 13, 14, 15, 16])
        return localize(datetime.combine(day, time(hour, self.rng.choice([0, 30]))), self.seller.tz)

    def book(self, lead: Lead, days: int, booked_days_before: int = 7, by: str = "seller") -> Appointment:
        start = self.slot(days)
        booked = min(start - timedelta(days=booked_days_before), self.now)
        s.activity_log(lead=lead, kind="call", direction="outbound" if by == "seller" else "inbound", at=booked, now=self.now)
        return s.appointment_book(
            lead=lead, start=start, end=start + timedelta(minutes=45), booked_by=by, booked_at=booked, now=self.now,
            location=self.rng.choice(["Their office", "Zoom", "Coffee shop on Main St", "Phone"]),
        )

    def cancel(self, appt: Appointment, reason: str, hours_notice: float, by: str = "prospect") -> Cancellation:
        at = min(appt.start - timedelta(hours=hours_notice), self.now)
        return s.appointment_cancel(appointment=appt, by=by, reason=reason, at=at, now=self.now)

    def held(self, appt: Appointment) -> None:
        s.appointment_mark_held(appointment=appt, now=self.now)


DEMO_NAME, DEMO_EMAIL = "Sam Rivera", "sam.rivera@example.com"  # the demo seller, as prospects see them


@transaction.atomic
def load_demo(*, seller: Seller, now: datetime, seed: int = 7) -> dict[str, int]:
    if seller.leads.exists():
        raise RebookError(
            f"seller {seller.username} already has leads; load the demo into an empty Rebook, "
            "e.g. REBOOK_HOME=$(mktemp -d) rebook demo"
        )
    from rebook.sellers.services import seller_info_pack_set, seller_update

    # Prospects see the seller's name and write to their address: never the login name, never nobody.
    if not seller.display_name or not seller.email:
        seller_update(seller=seller, display_name=seller.display_name or DEMO_NAME,
                      email=None if seller.email else DEMO_EMAIL)

    # An info pack, so the connecting moments in the demo show what they share.
    seller_info_pack_set(
        seller=seller,
        text="A two-minute read on how clients like you got the most out of our first meeting.",
        links=["https://example.com/first-meeting-guide"],
    )
    rng = random.Random(seed)
    story = _Story(seller, now, rng)
    for (name, company), plot in zip(PEOPLE, PLOTS, strict=True):
        first = name.split()[0].lower()
        lead = s.lead_create(
            seller=seller, name=name, company=company, source=rng.choice(SOURCES),
            email=f"{first}@{company.split()[0].lower().replace(chr(39), '')}.example",
            phone=f"+1 555 01{rng.randint(10, 99)}", now=now - timedelta(days=rng.randint(60, 120)),
        )
        _play(story, lead, plot)
    leads = Lead.objects.filter(seller=seller)
    return {
        "leads": leads.count(),
        "appointments": Appointment.objects.filter(seller=seller).count(),
        "cancellations": Cancellation.objects.filter(seller=seller).count(),
        "nurture": leads.filter(status=Lead.Status.NURTURE).count(),
    }


def _play(story: _Story, lead: Lead, plot: str) -> None:
    rng = story.rng
    if plot == "new":
        return
    if plot == "qualified":
        s.lead_qualify(lead=lead, notes="Budget approved; decides with a partner.", now=story.now)
        return
    if plot in ("chronic", "chronic_late"):
        notice = 3 if plot == "chronic_late" else 30
        for days in (-70, -45, -20):
            story.cancel(story.book(lead, days), rng.choice(INVALID_REASONS), notice)
        return
    if plot == "two_strikes":
        for days in (-50, -25):
            story.cancel(story.book(lead, days), rng.choice(INVALID_REASONS), 20)
        story.book(lead, 4)
        return
    if plot == "one_strike":
        story.cancel(story.book(lead, -12), "Something came up", 5)
        return
    if plot == "not_interested":
        story.cancel(story.book(lead, -30), "Too busy", 48)
        story.book(lead, 6)
        s.lead_not_interested(lead=lead, reason="Went with another supplier", now=story.now)
        return
    if plot == "valid_then_held":
        story.cancel(story.book(lead, -40), rng.choice(VALID_REASONS), 12)
        story.held(story.book(lead, -30, booked_days_before=5))
        story.book(lead, rng.randint(3, 12))
        return
    if plot == "unknown_reason":
        story.cancel(story.book(lead, -3, booked_days_before=10), rng.choice(UNKNOWN_REASONS), 26)
        return
    if plot == "freed_today":
        appt = story.book(lead, 2, booked_days_before=6)
        story.cancel(appt, "Something came up", 40)
        return
    if plot == "no_show":
        appt = story.book(lead, -8)
        s.appointment_mark_no_show(appointment=appt, now=story.now)
        story.book(lead, 5, booked_days_before=2, by="prospect")
        return
    if plot == "upcoming":
        story.book(lead, rng.randint(1, 9), booked_days_before=rng.choice([1, 3, 6]))
        return
    # steady and steady_won: regular meetings held, the odd valid reschedule
    for days in (-110, -90, -75, -60, -45):
        story.held(story.book(lead, days, booked_days_before=6))
    second = story.book(lead, -30)
    if rng.random() < 0.5:
        _cancel, second = s.appointment_reschedule(
            appointment=second, to=second.start + timedelta(days=2), by="prospect",
            reason=rng.choice(VALID_REASONS), at=second.start - timedelta(days=1), now=story.now,
        )
    story.held(second)
    if plot == "steady_won":
        s.lead_set_status(lead=lead, status="won", now=story.now)
    else:
        story.book(lead, rng.randint(2, 13))
