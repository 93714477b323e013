"""The web app with Django's test client: privacy, forms that keep what was typed, security settings."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.test import Client

from rebook.leads.models import Appointment, Lead
from rebook.outbox.models import MessageTemplate, PlannedMessage
from tests.conftest import NOW
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("frozen")

# Every page and action that belongs to one seller, as (method, URL builder).
OWNED = [
    ("get", lambda s: f"/leads/{s['lead'].pk}/"),
    ("post", lambda s: f"/leads/{s['lead'].pk}/edit/"),
    ("post", lambda s: f"/leads/{s['lead'].pk}/log/"),
    ("get", lambda s: f"/leads/{s['lead'].pk}/book/"),
    ("post", lambda s: f"/leads/{s['lead'].pk}/book/"),
    ("post", lambda s: f"/leads/{s['lead'].pk}/not-interested/"),
    ("post", lambda s: f"/leads/{s['lead'].pk}/reactivate/"),
    ("post", lambda s: f"/leads/{s['lead'].pk}/qualify/"),
    ("post", lambda s: f"/leads/{s['lead'].pk}/status/"),
    ("get", lambda s: f"/appointments/{s['ahead'].pk}/cancel/"),
    ("post", lambda s: f"/appointments/{s['ahead'].pk}/cancel/"),
    ("get", lambda s: f"/appointments/{s['ahead'].pk}/reschedule/"),
    ("post", lambda s: f"/appointments/{s['ahead'].pk}/reschedule/"),
    ("post", lambda s: f"/appointments/{s['ahead'].pk}/held/"),
    ("post", lambda s: f"/appointments/{s['ahead'].pk}/no-show/"),
    ("post", lambda s: f"/cancellations/{s['cancellation'].pk}/judge/"),
    ("post", lambda s: f"/cancellations/{s['cancellation'].pk}/checklist/respond/"),
    ("get", lambda s: f"/outbox/{s['message'].pk}/"),
    ("post", lambda s: f"/outbox/{s['message'].pk}/"),
    ("post", lambda s: f"/outbox/{s['message'].pk}/approve/"),
    ("post", lambda s: f"/outbox/{s['message'].pk}/discard/"),
]
PAGES = ["/", "/leads/", "/leads/new/", "/nurture/", "/outbox/", "/templates/", "/templates/confirmation/",
         "/info-pack/", "/policy/", "/reports/"]


@pytest.mark.parametrize(("method", "url"), OWNED, ids=[f"{m} {i}" for i, (m, _) in enumerate(OWNED)])
def test_another_seller_gets_404_and_changes_nothing(bob_client, story, method, url):
    before = (Lead.objects.get(pk=story["lead"].pk).status, Appointment.objects.filter(status="scheduled").count(),
              PlannedMessage.objects.filter(status="review").count())
    response = getattr(bob_client, method)(url(story), {"valid": "true", "status": "won", "name": "Mallory"})
    assert response.status_code == 404
    after = (Lead.objects.get(pk=story["lead"].pk).status, Appointment.objects.filter(status="scheduled").count(),
             PlannedMessage.objects.filter(status="review").count())
    assert after == before


@pytest.mark.parametrize("url", PAGES + [f"/leads/{n}/" for n in (1,)])
def test_every_page_asks_for_sign_in(client, alice, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("url", PAGES)
def test_every_page_renders_for_its_seller(alice_client, story, url):
    response = alice_client.get(url)
    assert response.status_code == 200
    assert b"Sign out" in response.content


def test_another_sellers_lists_show_none_of_alices_leads(bob_client, story):
    for url in ("/", "/leads/", "/nurture/", "/outbox/?status=review", "/reports/"):
        assert b"Charlie" not in bob_client.get(url).content, url


def test_sign_in_uses_argon2_and_is_throttled(client, db):
    from rebook.sellers.services import seller_create

    seller = seller_create(username="dana", password=PASSWORD)
    assert seller.user.password.startswith("argon2$")
    for _ in range(5):
        response = client.post("/login/", {"username": "dana", "password": "wrong"})
        assert response.status_code == 200 and b"do not match" in response.content
    response = client.post("/login/", {"username": "dana", "password": PASSWORD})
    assert b"Too many failed sign-ins. Please wait 15 minutes" in response.content
    assert "_auth_user_id" not in client.session


def test_signing_in_and_out(client, db):
    from rebook.sellers.services import seller_create

    seller_create(username="dana", password=PASSWORD)
    response = client.post("/login/?next=/leads/", {"username": "dana", "password": PASSWORD, "next": "/leads/"})
    assert response.status_code == 302 and response["Location"] == "/leads/"
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_forms_refuse_a_post_without_its_csrf_token(alice, story):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice.user)
    response = client.post(f"/leads/{story['lead'].pk}/status/", {"status": "won"})
    assert response.status_code == 403
    assert Lead.objects.get(pk=story["lead"].pk).status != "won"


def test_security_headers_and_cookies(client, alice):
    from rebook.sellers.services import seller_set_password

    seller_set_password(seller=alice, password=PASSWORD)
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.cookies["sessionid"]["httponly"]
    assert response.cookies["sessionid"]["samesite"] == "Lax"
    page = client.get("/")
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assert page["X-Frame-Options"] == "DENY" and page["X-Content-Type-Options"] == "nosniff"


def test_adding_a_lead_keeps_what_was_typed_when_something_is_wrong(alice_client):
    response = alice_client.post("/leads/new/", {"name": "Dana Reyes", "email": "dana@@example", "timezone": "Mars/Olympus"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="Dana Reyes"' in page and 'value="dana@@example"' in page
    assert "errorlist" in page
    assert not Lead.objects.exists()
    response = alice_client.post("/leads/new/", {"name": "Dana Reyes", "email": "dana@example.com",
                                                 "timezone": "Europe/Paris", "source": "Chamber mixer"})
    lead = Lead.objects.get()
    assert response["Location"] == f"/leads/{lead.pk}/"
    assert (lead.email, lead.timezone, lead.source) == ("dana@example.com", "Europe/Paris", "Chamber mixer")


def test_markup_typed_into_a_field_is_shown_as_text(alice_client, alice):
    from rebook.leads.services import lead_create

    lead = lead_create(seller=alice, name='<script>alert("x")</script>', company="<b>Bold</b> & Co")
    for url in (f"/leads/{lead.pk}/", "/leads/"):
        page = alice_client.get(url).content.decode()
        assert "<script>alert" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
        assert "<b>Bold</b>" not in page


def test_booking_is_read_in_the_sellers_time_zone_and_a_dst_gap_is_refused(alice_client, charlie):
    # 8 March 2026, 02:30 does not exist in New York.
    response = alice_client.post(f"/leads/{charlie.pk}/book/", {"start": "2026-03-08T02:30", "duration": "45m",
                                                                "booked_by": "seller"})
    assert response.status_code == 400
    assert b"does not exist" in response.content and b'value="2026-03-08T02:30"' in response.content
    response = alice_client.post(f"/leads/{charlie.pk}/book/", {"start": "2026-03-09T10:00", "duration": "45m",
                                                                "location": "Their office", "booked_by": "seller"})
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.start.isoformat() == "2026-03-09T14:00:00+00:00"  # 10:00 EDT
    page = alice_client.get(f"/leads/{charlie.pk}/").content.decode()
    assert "Mon 9 Mar, 10:00 EDT" in page


def test_three_cancellations_from_the_web_move_the_lead_to_nurture(alice_client, charlie):
    for day in (3, 4, 5):
        alice_client.post(f"/leads/{charlie.pk}/book/", {"start": f"2026-03-0{day}T10:00", "duration": "30m",
                                                         "booked_by": "seller"})
        appointment = Appointment.objects.get(status="scheduled")
        page = alice_client.get(f"/appointments/{appointment.pk}/cancel/").content.decode()
        assert 'name="by"' in page and "Rebook suggests" in page
        response = alice_client.post(f"/appointments/{appointment.pk}/cancel/",
                                     {"by": "prospect", "reason": "something came up", "validity": "suggested"},
                                     follow=True)
    charlie.refresh_from_db()
    assert charlie.status == "nurture" and charlie.strikes == 3
    assert "has moved to the nurture list; a polite note is waiting for you" in response.content.decode()
    note = PlannedMessage.objects.get(lead=charlie, kind="nurture_move")
    assert note.status == "review"
    assert "Moved to nurture" in alice_client.get("/outbox/?status=review").content.decode()
    alice_client.post(f"/outbox/{note.pk}/approve/")
    note.refresh_from_db()
    assert note.status == "scheduled" and note.frozen


def test_the_seller_overrules_the_suggested_validity(alice_client, story):
    ahead = story["ahead"]
    alice_client.post(f"/appointments/{ahead.pk}/cancel/", {"by": "prospect", "reason": "my cat looked at me",
                                                            "validity": "valid"})
    c = ahead.cancellation
    assert (c.suggested_valid, c.valid, c.is_strike) == (False, True, False)


def test_the_reason_suggestion_updates_as_it_is_typed(alice_client):
    response = alice_client.get("/reasons/suggest/", {"reason": "my daughter is sick"}, HTTP_HX_REQUEST="true")
    assert b"valid</span>" in response.content and b"illness (&quot;sick&quot;)" in response.content


def test_rescheduling_offers_free_slots(alice_client, story):
    ahead = story["ahead"]
    page = alice_client.get(f"/appointments/{ahead.pk}/reschedule/").content.decode()
    assert 'name="suggested"' in page and "Tuesday 03 March, 09:00" in page
    response = alice_client.post(f"/appointments/{ahead.pk}/reschedule/", {"by": "seller", "validity": "suggested"})
    assert response.status_code == 400 and "Choose a suggested time or type another." in response.content.decode()
    slot = re.search(r'name="suggested" value="([^"]+)"', page)[1]
    assert datetime.fromisoformat(slot) == NOW + timedelta(days=1)  # Tuesday 09:00 New York, the first free hour
    response = alice_client.post(f"/appointments/{ahead.pk}/reschedule/", {
        "by": "seller", "validity": "suggested", "suggested": slot, "reason": "double-booked"})
    assert response.status_code == 302
    assert Appointment.objects.get(rescheduled_from=ahead).start == NOW + timedelta(days=1)


def test_ticking_the_checklist_with_htmx_returns_the_checklist(alice_client, story):
    c = story["cancellation"]
    response = alice_client.post(f"/cancellations/{c.pk}/checklist/respond/", {"done": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f'id="checklist-{c.pk}"' in response.content.decode() and "Untick" in response.content.decode()
    assert c.checklist.get(step="respond").done_by == "seller"


def test_editing_a_message_keeps_it_for_review(alice_client, story):
    message = story["message"]
    response = alice_client.post(f"/outbox/{message.pk}/", {"subject": "A short note", "body": "Hi Charlie,\nSee you.",
                                                            "html": ""})
    assert response.status_code == 302, response.content.decode()
    message.refresh_from_db()
    assert (message.subject, message.status, message.frozen) == ("A short note", "review", True)
    response = alice_client.post(f"/outbox/{message.pk}/", {"subject": "", "body": "still here"})
    assert response.status_code == 400 and b"still here" in response.content


def test_a_bad_template_is_refused_next_to_its_field_with_its_line(alice_client, alice):
    response = alice_client.post("/templates/confirmation/", {
        "kind": "confirmation", "subject": "Confirming", "text": "Hello {{ lead.first_name }},\n{{ lead.nmae }}",
        "html": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Line 2: unknown variable &#x27;lead.nmae&#x27;" in page and "{{ lead.nmae }}" in page
    assert not MessageTemplate.objects.exists()
    preview = alice_client.post("/templates/confirmation/preview/", {"subject": "Hi {{ lead.first_name }}",
                                                                     "text": "Dear {{ lead.name }}", "html": ""})
    assert b"Hi Sam" in preview.content and b"Dear Sam Sample" in preview.content


def test_the_policy_page_saves_and_refuses_with_the_field(alice_client, alice):
    page = alice_client.get("/policy/").content.decode()
    assert "Cancellations without a valid reason before a lead moves to the nurture list." in page
    from rebook.strategy.policy import policy_as_text

    values = policy_as_text(alice.policy) | {"strike_limit": "4", "quiet_hours": "21:00-07:00"}
    values = {k: v for k, v in values.items() if v != "false"}
    assert alice_client.post("/policy/", values).status_code == 302
    alice.refresh_from_db()
    assert (alice.strike_limit, alice.quiet_hours) == (4, "21:00-07:00")
    response = alice_client.post("/policy/", values | {"quiet_hours": "whenever"})
    assert response.status_code == 400 and b"whenever" in response.content
    alice.refresh_from_db()
    assert alice.quiet_hours == "21:00-07:00"


def test_the_info_pack_takes_text_links_and_a_file(alice_client, alice):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("guide.pdf", b"%PDF-1.4", content_type="application/pdf")
    response = alice_client.post("/info-pack/", {"text": "A short guide.", "links": "https://example.com/a\n",
                                                 "file": upload})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.info_text, alice.info_links) == ("A short guide.", ["https://example.com/a"])
    assert list(alice.info_files.values_list("name", flat=True)) == ["guide.pdf"]
    response = alice_client.post("/info-pack/", {"text": "Changed", "links": "not a link"})
    assert response.status_code == 400 and b"not a link" in response.content
    alice.refresh_from_db()
    assert alice.info_text == "A short guide."


def test_reports_draw_charts(alice_client, story):
    page = alice_client.get("/reports/").content.decode()
    assert page.count('<svg class="chart"') == 2
    assert "0 valid, 1 not valid" in page  # the week's bar describes itself
    assert "vague (1)" in page


def test_only_a_manager_sees_the_team_and_only_figures(client, alice, bob, story):
    client.force_login(bob.user)
    assert client.get("/team/").status_code == 404
    bob.is_manager = True
    bob.save()
    page = client.get("/team/").content.decode()
    assert "Alice Adams" in page and "Bob Brown" in page
    assert "Charlie" not in page and "Since we weren" not in page


def test_another_sellers_api_token_cannot_be_revoked_from_the_web(bob_client, alice):
    from rebook.api.services import token_create

    row, _ = token_create(seller=alice, name="alice's")
    assert bob_client.post(f"/tokens/{row.pk}/revoke/").status_code == 404
    row.refresh_from_db()
    assert row.revoked_at is None


def test_marking_a_lead_says_its_new_status(alice_client, charlie):
    response = alice_client.post(f"/leads/{charlie.pk}/status/", {"status": "won"}, follow=True)
    assert f"{charlie.name} is marked Won." in response.content.decode()


def test_a_long_history_shows_its_newest_part_with_a_link_to_all_of_it(alice_client, charlie):
    from rebook.leads.services import appointment_book, appointment_mark_held

    for week in range(14, 0, -1):  # fourteen past meetings, held
        start = NOW - timedelta(weeks=week)
        appointment_mark_held(appointment=appointment_book(lead=charlie, start=start, end=start + timedelta(hours=1),
                                                           booked_at=start - timedelta(days=2)))
    ahead = appointment_book(lead=charlie, start=NOW + timedelta(days=3), end=NOW + timedelta(days=3, hours=1))
    page = alice_client.get(f"/leads/{charlie.pk}/").content.decode()
    assert f"/appointments/{ahead.pk}/cancel/" in page  # every meeting ahead
    assert page.count('class="badge held"') == 10 and "Show the whole history" in page
    everything = alice_client.get(f"/leads/{charlie.pk}/?all=1").content.decode()
    assert everything.count('class="badge held"') == 14 and "Show the whole history" not in everything


def test_today_counts_the_messages_to_review_and_those_that_failed_of_this_seller_only(alice_client, story, bob):
    from rebook.leads.services import appointment_book, appointment_cancel, lead_create

    def todos() -> list[str]:
        html = alice_client.get("/").content.decode()
        return [re.sub(r"\s+", " ", t) for t in re.findall(r'<span class="what">([^<]*)</span>', html)]

    review = PlannedMessage.objects.filter(seller=story["lead"].seller, status="review")
    assert review.count() >= 2
    assert f"{review.count()} messages to review" in todos()
    assert not any("could not be sent" in t for t in todos())
    # Bob's own review and failed messages are his.
    dana = lead_create(seller=bob, name="Dana", email="dana@example.com")
    appointment_cancel(appointment=appointment_book(lead=dana, start=NOW + timedelta(days=3),
                                                    end=NOW + timedelta(days=3, hours=1)), by="prospect", reason="")
    PlannedMessage.objects.filter(seller=bob).update(status="failed")
    n = review.count()
    review.filter(pk=story["message"].pk).update(status="failed")
    assert f"{n - 1} message{'s' if n - 1 != 1 else ''} to review" in todos()
    assert "1 message could not be sent" in todos()
    review.update(status="scheduled")
    assert not any("to review" in t for t in todos())
    assert "1 message could not be sent" in todos()
