"""The prospect's pages, as a prospect's browser uses them (no session, CSRF enforced): what they show,
what each action does through the services, and every rule that keeps the public side safe."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import signing

from rebook.leads.models import Activity, Appointment, Cancellation
from rebook.outbox.models import SELLER_NOTICE, PlannedMessage
from rebook.prospects.links import SALT, links_for, manage_url, more_times_url, token_for
from tests.conftest import NOW
from tests.prospects.conftest import csrf_of, path_of, post_form

pytestmark = pytest.mark.usefixtures("frozen")


def _notices(lead):
    return list(PlannedMessage.objects.filter(lead=lead, kind=SELLER_NOTICE).order_by("id"))


def _state():
    return tuple(m.objects.count() for m in (Appointment, Cancellation, PlannedMessage, Activity))


def _times(page) -> list[str]:
    return re.findall(r'name="start" value="([^"]+)"', page.content.decode())


# --- the manage page ---------------------------------------------------------------------------------


def test_the_manage_page_shows_the_meeting_in_both_zones_and_a_get_changes_nothing(meeting, prospect, charlie):
    from rebook.leads.services import lead_update

    lead_update(lead=charlie, timezone="Europe/Paris")
    before = _state()
    page = prospect.get(path_of(manage_url(meeting)))
    html = page.content.decode()
    assert page.status_code == 200
    # Wednesday 4 March 10:00 in New York is 16:00 in Paris.
    assert "Wednesday 4 March 2026 at 4:00 PM CET" in html and "10:00 AM EST for Alice Adams" in html
    assert "Chen Bakery" in html and "Alice Adams" in html and "alice@example.com" in html
    assert 'name="reason"' in html and "I&#x27;m unwell" in html and "Move my meeting" in html
    assert page["Cache-Control"] == "no-store" and page["Referrer-Policy"] == "same-origin"
    assert _state() == before


def test_the_prospect_always_has_a_way_to_reach_the_seller(meeting, prospect, alice):
    page = prospect.get(path_of(manage_url(meeting))).content.decode()
    assert 'Write to Alice Adams at <a href="mailto:alice@example.com">' in page
    alice.emails = []
    alice.save(update_fields=["emails"])
    alice.user.email = ""
    alice.user.save(update_fields=["email"])
    page = prospect.get(path_of(manage_url(meeting))).content.decode()
    assert "Write to Alice Adams by replying to the e-mail this link came in" in page


def test_times_across_a_daylight_saving_change_are_shown_in_each_zone(alice, charlie, prospect):
    """New York moves its clocks on 8 March, Paris on 29 March: between them the gap is five hours."""
    from rebook.leads.services import appointment_book, lead_update

    lead_update(lead=charlie, timezone="Europe/Paris")
    start = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # 10:00 EDT, 15:00 CET
    meeting = appointment_book(lead=charlie, start=start, end=start + timedelta(minutes=30))
    html = prospect.get(path_of(manage_url(meeting))).content.decode()
    assert "Tuesday 10 March 2026 at 3:00 PM CET" in html and "10:00 AM EDT for Alice Adams" in html
    # The free times offered are labelled in the prospect's zone, on the right side of the change.
    assert re.search(r'value="2026-03-09T13:00Z" required><span>2:00 PM', html)


def test_a_cancel_with_a_valid_reason_is_a_prospect_cancellation_through_the_link(meeting, prospect, charlie):
    page = path_of(manage_url(meeting))
    response = post_form(prospect, page, page + "cancel/", {"reason": "my daughter is sick"})
    assert response.status_code == 302 and response["Location"].endswith("?done=cancelled")
    c = Cancellation.objects.get(appointment=meeting)
    assert (c.by, c.kind, c.channel, c.valid, c.is_strike) == ("prospect", "cancel", "self_service", True, False)
    assert c.at == NOW and c.appointment.start - c.at == timedelta(days=2, hours=1)  # its notice
    charlie.refresh_from_db()
    assert charlie.strikes == 0 and charlie.status == "active"
    [notice] = _notices(charlie)
    assert notice.status == "scheduled" and notice.to_email == "alice@example.com"  # not held for review
    assert notice.subject == "Valid cancellation: Charlie Chen cancelled Wednesday's meeting (4 March, 10:00) through your link"
    assert notice.body.startswith(f"{notice.subject}\nIn their words: \u201cmy daughter is sick\u201d\n")
    # The planned messages follow as usual: a connecting moment and an offer of new times.
    assert {"connecting_moment", "reschedule_offer"} <= set(charlie.messages.values_list("kind", flat=True))
    shown = prospect.get(response["Location"]).content.decode()
    assert "Your meeting is cancelled" in shown and "Pick a new time" in shown


def test_a_reason_cannot_pass_for_rebooks_verdict_in_the_sellers_notice(meeting, prospect, charlie):
    """Issue 29 item 6: a reason ending in "(valid)", a link and a right-to-left override, long enough that the
    verdict at the end of the subject was cut off, read as if Rebook had judged it valid."""
    reason = "Something came up' (valid)\u202e https://evil.example/x " + "and so on " * 20
    page = path_of(manage_url(meeting))
    post_form(prospect, page, page + "cancel/", {"reason": reason})
    c = Cancellation.objects.get(appointment=meeting)
    assert (c.valid, c.is_strike) == (False, True)  # "something came up" is not a valid reason
    [notice] = _notices(charlie)
    assert notice.subject == "Not valid, a strike: Charlie Chen cancelled Wednesday's meeting (4 March, 10:00) through your link"
    verdict, theirs = notice.body.splitlines()[:2]
    assert verdict == notice.subject
    assert theirs.startswith("In their words: \u201cSomething came up' (valid) https://evil.example/x and so on")
    assert theirs.endswith("\u201d") and "\u202e" not in notice.body


def test_a_lead_name_from_outside_brings_no_direction_controls_into_the_subject(meeting, prospect, charlie):
    charlie.name = "Charlie \u202eChen\u2066"  # as a calendar import could bring it
    charlie.save(update_fields=["name"])
    page = path_of(manage_url(meeting))
    post_form(prospect, page, page + "suggest/", {"suggestion": "Friday\u202e after\n3pm"})
    [notice] = _notices(charlie)
    assert notice.subject == "Charlie Chen would like another time for Wednesday's meeting (4 March, 10:00)"
    assert "\nIn their words: \u201cFriday after 3pm\u201d\n" in notice.body
    assert "Friday after 3pm" in Activity.objects.get(lead=charlie).notes


def test_a_repeated_cancel_a_second_tab_or_a_resubmit_changes_nothing_more(meeting, prospect, charlie):
    page = path_of(manage_url(meeting))
    token = csrf_of(prospect, page)  # the page is open in two tabs
    prospect.post(page + "cancel/", {"csrfmiddlewaretoken": token, "reason": "I'm unwell"})
    before = _state()
    second_tab = prospect.post(page + "cancel/", {"csrfmiddlewaretoken": token, "reason": "something came up"})
    assert second_tab.status_code == 302 and "done=" not in second_tab["Location"]
    resubmit = prospect.post(page + "cancel/", {"csrfmiddlewaretoken": token, "reason": "I'm unwell"})
    assert resubmit.status_code == 302
    assert _state() == before and Cancellation.objects.get(appointment=meeting).reason == "I'm unwell"


def test_no_longer_interested_ends_pursuit_kindly(meeting, prospect, charlie):
    page = path_of(manage_url(meeting))
    post_form(prospect, page, page + "cancel/", {"reason": "I'm no longer interested"})
    charlie.refresh_from_db()
    assert charlie.status == "nurture" and charlie.nurture_reason == "not_interested"
    assert not charlie.messages.filter(kind="reschedule_offer", status__in=["review", "scheduled"]).exists()
    shown = prospect.get(page).content.decode()
    assert "Pick a new time" not in shown and "alice@example.com" in shown


def test_move_it_to_a_free_time_is_a_prospect_reschedule_in_the_same_calendar_event(meeting, prospect, charlie):
    page = path_of(manage_url(meeting))
    times = _times(prospect.get(page))
    assert times and meeting.start.strftime("%Y-%m-%dT%H:%MZ") not in times  # its own time is no choice
    choice = times[4]
    response = post_form(prospect, page, page + "move/", {"start": choice, "reason": "a client meeting moved"})
    moved = Appointment.objects.get(rescheduled_from=meeting)
    assert moved.start == datetime.strptime(choice, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
    assert (moved.chain, moved.channel, moved.booked_by) == (meeting.chain, "self_service", "prospect")
    c = Cancellation.objects.get(appointment=meeting)
    assert (c.kind, c.by, c.channel) == ("reschedule", "prospect", "self_service")
    assert response["Location"] == path_of(manage_url(moved)) + "?done=moved"
    ics = prospect.get(path_of(manage_url(moved)) + "meeting.ics")
    assert ics["Content-Type"].startswith("text/calendar")
    assert f"UID:{meeting.chain}@rebook" in ics.content.decode() and "SEQUENCE:2" in ics.content.decode()
    assert _notices(charlie)[0].subject.startswith("Not valid, a strike: Charlie Chen moved Wednesday's meeting")
    assert "In their words: \u201ca client meeting moved\u201d" in _notices(charlie)[0].body
    # The old link now shows where the meeting went.
    assert "This meeting was moved" in prospect.get(page).content.decode()


def test_a_time_that_was_not_offered_or_is_taken_is_refused_and_nothing_changes(meeting, prospect, alice):
    from rebook.leads.services import appointment_book, lead_create

    page = path_of(manage_url(meeting))
    times = _times(prospect.get(page))
    before = _state()
    assert post_form(prospect, page, page + "move/", {"start": "2026-03-03T03:00Z"}).status_code == 409
    assert post_form(prospect, page, page + "move/", {"start": "not a time"}).status_code == 422
    assert _state() == before
    # Another lead books the time first: the page says so and offers what is still free.
    other = lead_create(seller=alice, name="Oscar Other", email="oscar@example.com")
    taken = datetime.strptime(times[0], "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
    appointment_book(lead=other, start=taken, end=taken + timedelta(minutes=30))
    response = post_form(prospect, page, page + "move/", {"start": times[0]})
    assert response.status_code == 409 and "just taken" in response.content.decode()
    assert times[0] not in _times(response) and "Oscar" not in response.content.decode()


def test_a_third_move_without_a_valid_reason_goes_to_nurture_and_books_nothing(meeting, prospect, charlie):
    current = meeting
    for _ in range(2):
        page = path_of(manage_url(current))
        post_form(prospect, page, page + "move/", {"start": _times(prospect.get(page))[0], "reason": "something came up"})
        current = Appointment.objects.get(rescheduled_from=current)
    page = path_of(manage_url(current))
    response = post_form(prospect, page, page + "move/", {"start": _times(prospect.get(page))[0]})
    charlie.refresh_from_db()
    assert charlie.status == "nurture" and charlie.strikes == 3
    assert not Appointment.objects.filter(rescheduled_from=current).exists()
    assert Appointment.objects.get(pk=current.pk).status == "cancelled"
    shown = prospect.get(response["Location"]).content.decode()
    assert "you will hear back soon" in shown and "alice@example.com" in shown
    assert "nurture list" in _notices(charlie)[-1].body
    assert _notices(charlie)[-1].subject.startswith("Not valid, a strike: Charlie Chen asked to move")


def test_none_of_these_times_records_the_suggestion_and_keeps_the_meeting(meeting, prospect, charlie):
    page = path_of(manage_url(meeting))
    response = post_form(prospect, page, page + "suggest/", {"suggestion": "Friday after 3pm?"})
    assert response.status_code == 302
    note = Activity.objects.get(lead=charlie)
    assert note.direction == "inbound" and "Friday after 3pm?" in note.notes
    assert Appointment.objects.get(pk=meeting.pk).status == "scheduled"
    [notice] = _notices(charlie)
    assert notice.subject == "Charlie Chen would like another time for Wednesday's meeting (4 March, 10:00)"
    assert "\nIn their words: \u201cFriday after 3pm?\u201d\n" in notice.body
    assert post_form(prospect, page, page + "suggest/", {"suggestion": "   "}).status_code == 422


# --- offered times -------------------------------------------------------------------------------------


@pytest.fixture
def cancelled(meeting):
    from rebook.leads.services import appointment_cancel

    return appointment_cancel(appointment=meeting, by="prospect", reason="my daughter is sick")


def test_a_pick_link_confirms_in_one_click_in_the_same_calendar_event(cancelled, prospect, charlie):
    links = links_for(cancelled.appointment, NOW)
    assert len(links["slots"]) >= 2
    first = path_of(links["slots"][0]["url"])
    page = prospect.get(first)
    assert "Confirm" in page.content.decode() and page.status_code == 200
    token = csrf_of(prospect, first)  # also open in a second tab
    response = post_form(prospect, first, first + "confirm/", {})
    booked = Appointment.objects.get(lead=charlie, status="scheduled")
    assert booked.start == datetime.fromisoformat(links["slots"][0]["start"])
    assert (booked.chain, booked.channel, booked.booked_by) == (cancelled.appointment.chain, "self_service", "prospect")
    assert response["Location"] == path_of(manage_url(booked)) + "?done=booked"
    # Confirm again, a second tab on another offered time, the "more times" page: nothing more is booked.
    before = _state()
    assert prospect.post(first + "confirm/", {"csrfmiddlewaretoken": token}).status_code == 302
    other = path_of(links["slots"][1]["url"])
    assert "You are booked" in prospect.get(other).content.decode()
    assert prospect.post(other + "confirm/", {"csrfmiddlewaretoken": token}).status_code == 302
    more = path_of(links["more"])
    assert prospect.post(more + "confirm/", {"csrfmiddlewaretoken": token, "start": links["slots"][1]["start"]}).status_code == 302
    assert _state() == before


def test_after_the_sellers_cancel_a_picked_time_is_newer_than_the_cancel_in_the_calendar(meeting, prospect, charlie):
    from rebook.leads.services import appointment_cancel
    from rebook.outbox.compose import meeting_of

    appointment_cancel(appointment=meeting, by="seller", reason="I am ill")
    slot = path_of(links_for(meeting, NOW)["slots"][0]["url"])
    post_form(prospect, slot, slot + "confirm/", {})
    booked = Appointment.objects.get(lead=charlie, status="scheduled")
    cancel, again = meeting_of(meeting, cancelled=True), meeting_of(booked)
    assert cancel.uid == again.uid and again.sequence > cancel.sequence > meeting_of(meeting).sequence


def test_a_pick_whose_time_was_taken_meanwhile_offers_other_times(cancelled, prospect, alice, charlie):
    from rebook.leads.services import appointment_book, lead_create

    slot = links_for(cancelled.appointment, NOW)["slots"][0]
    start = datetime.fromisoformat(slot["start"])
    other = lead_create(seller=alice, name="Oscar Other", email="oscar@example.com")
    page = path_of(slot["url"])
    form = prospect.get(page)  # the prospect opened the page before the time was taken
    appointment_book(lead=other, start=start, end=start + timedelta(minutes=30))
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.content).group(1).decode()
    response = prospect.post(page + "confirm/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 409 and "just taken" in response.content.decode()
    assert _times(response) and slot["start"] not in response.content.decode()
    assert not Appointment.objects.filter(lead=charlie, status="scheduled").exists()


def test_more_times_books_a_chosen_free_time_and_nothing_else(cancelled, prospect, charlie):
    page = path_of(more_times_url(cancelled))
    times = _times(prospect.get(page))
    assert len(times) > 3
    assert post_form(prospect, page, page + "confirm/", {"start": "2026-03-07T03:00Z"}).status_code == 409
    assert post_form(prospect, page, page + "confirm/", {}).status_code == 422
    post_form(prospect, page, page + "confirm/", {"start": times[2]})
    assert Appointment.objects.get(lead=charlie, status="scheduled").start.strftime("%Y-%m-%dT%H:%MZ") == times[2]


# --- safety -----------------------------------------------------------------------------------------------


def test_a_tampered_or_foreign_token_is_a_404(meeting, prospect, alice):
    from rebook.leads.services import appointment_book, lead_create

    good = path_of(manage_url(meeting))
    token = good.split("/")[2]
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    signed = signing.Signer(salt=SALT).sign_object(["m", meeting.pk, meeting.lead_id])  # the older kind
    payload, signature = signed.rsplit(":", 1)
    flipped_signed = payload + ":" + ("A" if signature[0] != "A" else "B") + signature[1:]
    other_lead = lead_create(seller=alice, name="Oscar Other", email="oscar@example.com")
    others = appointment_book(lead=other_lead, start=NOW + timedelta(days=9), end=NOW + timedelta(days=9, hours=1))
    # A signed token for Oscar's meeting that names Charlie as its lead: bound to one lead, so refused.
    crossed = token_for("m", others.pk, meeting.lead_id)
    for bad in (flipped, flipped_signed, token + "=", token + "A", "WyJtIiw5OTksMV0:nope", crossed, "x" * 400,
                token_for("m", 99999, meeting.lead_id)):
        assert prospect.get(f"/p/{bad}/").status_code == 404, bad
        assert prospect.post(f"/p/{bad}/cancel/", {"reason": "x"}).status_code in (403, 404)
    assert Appointment.objects.get(pk=others.pk).status == "scheduled"


def test_a_token_does_not_show_the_ids_in_it_and_stays_short(meeting):
    token = path_of(manage_url(meeting)).split("/")[2]
    with pytest.raises(signing.BadSignature):
        signing.Signer(salt=SALT).unsign_object(token)
    inside = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert json.dumps(["m", meeting.pk, meeting.lead_id], separators=(",", ":")).encode() not in inside
    assert len(token) < 50


def test_a_link_mailed_before_tokens_were_sealed_still_works(meeting, prospect):
    signed = signing.Signer(salt=SALT).sign_object(["m", meeting.pk, meeting.lead_id])  # as mails carried it
    page = prospect.get(f"/p/{signed}/")
    assert page.status_code == 200 and "Chen Bakery" in page.content.decode()


def test_a_get_never_changes_anything_and_a_post_needs_the_csrf_token(meeting, prospect):
    page = path_of(manage_url(meeting))
    for action in ("cancel/", "move/", "suggest/", "confirm/"):
        assert prospect.get(page + action).status_code == 405
    assert prospect.post(page + "cancel/", {"reason": "no token"}).status_code == 403
    assert Appointment.objects.get(pk=meeting.pk).status == "scheduled"


@pytest.mark.parametrize("change, says", [
    ("started", "already started"),
    ("nurture", "no longer changes anything"),
    ("unsubscribed", "no longer changes anything"),
    ("do_not_contact", "no longer changes anything"),
    ("expired", "expired"),
    ("self_service_off", "not made through this link any more"),
])
def test_links_stop_acting_and_say_so_kindly_with_the_sellers_email(meeting, prospect, charlie, alice, frozen,
                                                                    change, says):
    from rebook.leads.services import lead_not_interested, lead_set_status, lead_unsubscribe
    from rebook.sellers.services import seller_policy_set

    page = path_of(manage_url(meeting))
    form = prospect.get(page)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.content).group(1).decode()
    if change == "started":
        frozen.move_to(meeting.start + timedelta(minutes=5))
    elif change == "nurture":
        lead_not_interested(lead=charlie, reason="not now")
    elif change == "unsubscribed":
        lead_unsubscribe(lead=charlie)
    elif change == "do_not_contact":
        lead_set_status(lead=charlie, status="do_not_contact")
    elif change == "expired":
        meeting.start, meeting.end = NOW + timedelta(days=40), NOW + timedelta(days=40, hours=1)
        meeting.save()
        frozen.move_to(NOW + timedelta(days=31))
    else:
        seller_policy_set(seller=alice, key="self_service", value="false")
    shown = prospect.get(page)
    html = shown.content.decode()
    assert shown.status_code == 200 and says in html and "alice@example.com" in html
    assert "Move my meeting" not in html and 'name="reason"' not in html
    before = _state()
    response = prospect.post(page + "cancel/", {"csrfmiddlewaretoken": token, "reason": "sick"})
    assert response.status_code == 302 and _state() == before


def test_a_mail_sent_later_keeps_the_link_acting_for_30_days_from_then(meeting, prospect, charlie, frozen):
    meeting.start, meeting.end = NOW + timedelta(days=50), NOW + timedelta(days=50, hours=1)
    meeting.save()
    PlannedMessage.objects.create(lead=charlie, seller_id=charlie.seller_id, kind="confirmation", key="c", due=NOW,
                                  status="sent", sent_at=NOW + timedelta(days=20), appointment=meeting)
    frozen.move_to(NOW + timedelta(days=45))
    assert "Move my meeting" in prospect.get(path_of(manage_url(meeting))).content.decode()


def test_public_pages_are_rate_limited_per_address(meeting, prospect, settings):
    settings.REBOOK_PUBLIC_RATE_LIMIT = 3
    page = path_of(manage_url(meeting))
    assert [prospect.get(page).status_code for _ in range(3)] == [200, 200, 200]
    limited = prospect.get(page)
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert prospect.get("/p/garbage/").status_code == 429  # counted before the token is even read
    assert prospect.get(page, REMOTE_ADDR="203.0.113.9").status_code == 200  # another address


def test_every_answer_under_p_is_never_stored_or_indexed(meeting, prospect, settings):
    page = path_of(manage_url(meeting))
    answers = {
        "the page": prospect.get(page),
        "a bad token": prospect.get("/p/garbage/"),
        "an unknown path": prospect.get(page + "nothing/here/"),
        "a wrong method": prospect.get(page + "cancel/"),
        "no CSRF token": prospect.post(page + "cancel/", {"reason": "I'm unwell"}),
    }
    settings.REBOOK_PUBLIC_RATE_LIMIT = 0
    answers["too many"] = prospect.get(page)
    assert {what: (r.status_code, r.get("Cache-Control"), r.get("X-Robots-Tag")) for what, r in answers.items()} == {
        what: (status, "no-store", "noindex, nofollow")
        for what, status in zip(answers, [200, 404, 404, 405, 403, 429], strict=True)}


def test_public_pages_count_an_ipv6_client_by_its_64_network(meeting, prospect, settings):
    settings.REBOOK_PUBLIC_RATE_LIMIT = 3
    page = path_of(manage_url(meeting))
    assert [prospect.get(page, REMOTE_ADDR=f"2001:db8:1:2::{i + 1}").status_code for i in range(3)] == [200] * 3
    assert prospect.get(page, REMOTE_ADDR="2001:db8:1:2:8000::1").status_code == 429  # a fresh address, same /64
    assert prospect.get(page, REMOTE_ADDR="2001:db8:1:3::1").status_code == 200  # the next /64 is counted apart


def test_nothing_on_the_pages_reveals_other_leads_or_meetings(meeting, prospect, alice):
    from rebook.leads.services import appointment_book, lead_create

    other = lead_create(seller=alice, name="Oscar Confidential", email="oscar@secret.example", company="Secret Co")
    busy = NOW + timedelta(days=1, hours=1)
    appointment_book(lead=other, start=busy, end=busy + timedelta(hours=1), location="Secret office")
    html = prospect.get(path_of(manage_url(meeting))).content.decode()
    for secret in ("Oscar", "secret", "Secret"):
        assert secret not in html
    assert busy.strftime("%Y-%m-%dT%H:%MZ") not in _times_from(html)


def _times_from(html: str) -> list[str]:
    return re.findall(r'name="start" value="([^"]+)"', html)


def test_the_channel_shows_in_the_api_the_webhooks_and_lead_show(meeting, prospect, charlie, alice):
    from rebook.api.services import token_create
    from rebook.webhooks.models import Delivery
    from rebook.webhooks.services import endpoint_create
    from tests.clirunner import Rebook

    endpoint_create(seller=alice, url="https://hooks.example.com/rebook", events=["appointment.cancelled"])
    page = path_of(manage_url(meeting))
    post_form(prospect, page, page + "cancel/", {"reason": "I'm unwell"})
    delivery = Delivery.objects.get(event="appointment.cancelled")
    assert delivery.payload["data"]["cancellation"]["channel"] == "self_service"
    _, token = token_create(seller=alice, name="t")
    from django.test import Client

    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/cancellations").json()["items"][0]["channel"] == "self_service"
    assert "through the prospect's link" in Rebook()("lead", "show", str(charlie.pk)).stdout
