"""The prospect's whole loop, in headless Chromium at phone size with a real SMTP server: a booking
follow-up arrives with a link; the prospect cancels ("my daughter is sick": valid, no strike); the
reschedule offer arrives with a link per time; the prospect confirms one; the confirmation arrives with an
invitation for the same calendar event (same UID, higher SEQUENCE). Every prospect page is photographed."""

from __future__ import annotations

import re
from datetime import timedelta

import icalendar
import pytest
from django.utils import timezone

from tests.web.test_browser import PHONE, SHOTS, browser, no_sideways_scroll  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _links(mail) -> list[str]:
    text = mail.get_body(("plain",)).get_content()
    return re.findall(r"https?://\S+/p/\S+?/(?=\s|$)", text)


def _invitation(mail) -> icalendar.Event:
    [part] = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    return next(iter(icalendar.Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")))


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    no_sideways_scroll(page)
    page.screenshot(path=SHOTS / f"prospect-{name}-phone.png", full_page=True)


def test_the_prospect_cancels_picks_a_new_time_and_gets_the_same_event_again(browser, live_server, settings):  # noqa: F811
    from rebook.leads.models import Appointment, Cancellation
    from rebook.leads.services import appointment_book, lead_create
    from rebook.outbox.worker import Worker
    from rebook.sellers.services import seller_create, seller_policy_set
    from tests.smtpserver import SMTPServer

    settings.REBOOK_BASE_URL = live_server.url
    seller = seller_create(username="sam", display_name="Sam Seller", email="sam@example.com",
                           timezone_name="America/New_York")
    for key, value in {"auto_send": "true", "quiet_hours": "off", "connecting_moment_delay": "0m",
                       "reschedule_offer_delay": "0m", "confirmation_lead_time": "30d"}.items():
        seller_policy_set(seller=seller, key=key, value=value)
    lead = lead_create(seller=seller, name="Dana Reyes", email="dana@example.com", timezone_name="Europe/London")
    now = timezone.now()
    start = (now + timedelta(days=4)).replace(minute=0, second=0, microsecond=0)
    first = appointment_book(lead=lead, start=start, end=start + timedelta(minutes=45), location="Video call",
                             booked_at=now - timedelta(days=2))  # the booking follow-up is due now

    server = SMTPServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    page = browser.new_page(viewport=PHONE)
    try:
        assert Worker(name="journey").run(until_idle=True).sent == 1
        [followup] = server.messages
        assert followup["To"] == "Dana Reyes <dana@example.com>"
        first_event = _invitation(followup)
        [manage] = _links(followup)

        # The manage page: the meeting, "move it", "cancel it".
        page.goto(manage)
        page.get_by_role("heading", name="Your meeting with Sam Seller").wait_for()
        _shoot(page, "manage")
        page.get_by_label("Or say it in your own words").fill("my daughter is sick")
        page.get_by_role("button", name="Cancel the meeting").click()
        page.get_by_text("Your meeting is cancelled").wait_for()
        _shoot(page, "cancelled")
        c = Cancellation.objects.get(appointment=first)
        assert (c.by, c.channel, c.valid, c.is_strike) == ("prospect", "self_service", True, False)

        # The seller hears at once; the connecting moment and the offer follow as usual.
        Worker(name="journey").run(until_idle=True)
        by_subject = {m["Subject"]: m for m in server.messages[1:]}
        notice = next(m for s, m in by_subject.items() if s.startswith("Valid cancellation: Dana Reyes cancelled"))
        assert notice["To"] == "Sam Seller <sam@example.com>"
        offer = next(m for m in server.messages if "new time" in m["Subject"].lower())
        slot_links = _links(offer)
        assert len(slot_links) >= 3  # two or three times, and "more times"

        # The page with more times, then one offered time, confirmed.
        page.goto(slot_links[-1])
        page.get_by_role("heading", name=re.compile("Pick a new time")).wait_for()
        _shoot(page, "more-times")
        page.goto(slot_links[0])
        page.get_by_role("button", name="Confirm").wait_for()
        _shoot(page, "pick")
        page.get_by_role("button", name="Confirm").click()
        page.get_by_text("Your new meeting is booked").wait_for()
        _shoot(page, "booked")
        booked = Appointment.objects.get(lead=lead, status="scheduled")
        assert (booked.chain, booked.channel) == (first.chain, "self_service")

        # A repeated confirm (back button, then Confirm again) books nothing more.
        page.goto(slot_links[0])
        page.get_by_text("You are booked").wait_for()
        _shoot(page, "already-booked")
        assert Appointment.objects.filter(lead=lead, status="scheduled").count() == 1

        # The confirmation carries the same event, one step further.
        sent_before = len(server.messages)
        Worker(name="journey").run(until_idle=True)
        confirmation = next(m for m in server.messages[sent_before:] if m["To"] == "Dana Reyes <dana@example.com>"
                            and m["Subject"].startswith("Confirming"))
        event = _invitation(confirmation)
        assert str(event["UID"]) == str(first_event["UID"]) == f"{first.chain}@rebook"
        assert int(event["SEQUENCE"]) > int(first_event["SEQUENCE"])
        assert event.decoded("DTSTART") == booked.start

        # A link that no longer acts, and a broken one.
        page.goto(manage)
        _shoot(page, "old-link")
        response = page.goto(manage.rstrip("/") + "x/")
        assert response.status == 404
    finally:
        page.close()
        server.stop()
