"""The links in the messages: where they appear, that they are the same URLs the command prints however
often it runs, the template variables, the self_service switch, and the seller's note."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rebook.leads.services import appointment_book, appointment_cancel
from rebook.outbox.compose import compose
from rebook.outbox.models import SELLER_NOTICE, PlannedMessage
from rebook.outbox.services import template_save
from rebook.outbox.templating import TemplateError
from rebook.prospects.links import Slot, manage_url
from rebook.sellers.services import seller_policy_set
from tests.clirunner import Rebook
from tests.conftest import NOW

pytestmark = pytest.mark.usefixtures("frozen")


def _message(lead, kind) -> PlannedMessage:
    return PlannedMessage.objects.get(lead=lead, kind=kind)


def test_a_booking_followup_carries_the_manage_link_in_both_bodies(meeting, charlie):
    composed = compose(_message(charlie, "booking_followup"), NOW)
    url = manage_url(meeting)
    assert url.startswith("http://testserver/p/") or url.startswith("http")
    assert url in composed.text and f'href="{url}"' in composed.html


def test_the_offer_carries_each_time_as_its_own_link_and_the_command_prints_the_same_urls(meeting, charlie):
    cancellation = appointment_cancel(appointment=meeting, by="prospect", reason="my daughter is sick")
    printed = Rebook().json("appt", "links", str(meeting.pk))
    assert printed == Rebook().json("appt", "links", str(meeting.pk))  # stable however often it runs
    assert set(printed) >= {"manage", "slots"} and len(printed["slots"]) == len(cancellation.offered) >= 2
    assert [s["start"] for s in printed["slots"]] == cancellation.offered  # listed before the offer is sent
    composed = compose(_message(charlie, "reschedule_offer"), NOW + timedelta(days=1))
    for slot in printed["slots"]:
        assert slot["url"] in composed.text and f'href="{slot["url"]}"' in composed.html
    assert printed["more"] in composed.text
    # A day later, when the offer really goes, the times (and so the links) are the ones fixed at the cancel.
    later = compose(_message(charlie, "reschedule_offer"), NOW + timedelta(days=2))
    assert later.text == composed.text
    text = Rebook()("appt", "links", str(meeting.pk)).stdout
    assert printed["manage"] in text and printed["slots"][0]["url"] in text


def test_a_confirmation_and_a_connecting_moment_link_to_the_new_meeting(meeting, charlie):
    appointment_cancel(appointment=meeting, by="prospect", reason="my daughter is sick")
    rebooked = appointment_book(lead=charlie, start=NOW + timedelta(days=6), end=NOW + timedelta(days=6, minutes=45))
    url = manage_url(rebooked)
    assert url in compose(_message(charlie, "confirmation"), NOW).text
    assert url in compose(_message(charlie, "connecting_moment"), NOW).text


def test_a_template_sellers_edited_before_still_prints_each_time_with_slot(meeting, charlie, alice):
    template_save(seller=alice, kind="reschedule_offer", subject="New times",
                  text="Pick one:\n{% for slot in slots %}* {{ slot }}\n{% endfor %}")
    appointment_cancel(appointment=meeting, by="prospect", reason="my daughter is sick")
    text = compose(_message(charlie, "reschedule_offer"), NOW).text
    assert "* Tuesday 3 March 2026 at" in text or "* Wednesday" in text
    assert "/p/" not in text  # the seller's own words, no links added behind their back
    # The new variables are known to the checker; a misspelt one is refused with its line.
    template_save(seller=alice, kind="reschedule_offer", subject="New times",
                  text="{% for slot in slots %}{{ slot.when }}: {{ slot.url }}\n{% endfor %}{{ more_times_url }}")
    with pytest.raises(TemplateError, match="line 1"):
        template_save(seller=alice, kind="reschedule_offer", subject="x", text="{% for s in slots %}{{ s.link }}{% endfor %}")


def test_with_self_service_off_new_messages_carry_no_links_but_still_every_time(meeting, charlie, alice):
    seller_policy_set(seller=alice, key="self_service", value="false")
    assert "/p/" not in compose(_message(charlie, "booking_followup"), NOW).text
    appointment_cancel(appointment=meeting, by="prospect", reason="my daughter is sick")
    offer = compose(_message(charlie, "reschedule_offer"), NOW)
    assert "/p/" not in offer.text and "/p/" not in offer.html
    assert offer.text.count("- ") >= 2 and "2026 at" in offer.text
    assert "self_service is off" in Rebook()("appt", "links", str(meeting.pk)).stdout


def test_slot_prints_as_its_time():
    from datetime import UTC, datetime

    slot = Slot("Tuesday 3 March 2026 at 9:00 AM EST", "https://x/p/t/", datetime(2026, 3, 3, 14, tzinfo=UTC))
    assert str(slot) == slot.when and f"{slot}" == slot.when and slot.url == "https://x/p/t/"


def test_the_note_to_the_seller_goes_at_once_to_the_seller_whatever_the_quiet_hours(meeting, charlie, alice, smtp,
                                                                                  prospect, frozen):
    from rebook.outbox.worker import Worker
    from tests.prospects.conftest import path_of, post_form

    seller_policy_set(seller=alice, key="quiet_hours", value="00:00-23:59")  # nothing goes to leads now
    page = path_of(manage_url(meeting))
    post_form(prospect, page, page + "cancel/", {"reason": "my daughter is sick"})
    Worker(name="t").run(until_idle=True)
    [mail] = smtp.messages
    assert mail["To"] == "Alice Adams <alice@example.com>"
    assert mail["Subject"].startswith("Valid cancellation: Charlie Chen cancelled Wednesday's meeting")
    assert "In their words: \u201cmy daughter is sick\u201d" in mail.get_body(("plain",)).get_content()
    assert PlannedMessage.objects.get(kind=SELLER_NOTICE).status == "sent"
    # Re-judging the lead never withdraws the note.
    from rebook.leads.services import lead_reevaluate

    lead_reevaluate(lead=charlie, now=NOW)
    assert PlannedMessage.objects.get(kind=SELLER_NOTICE).status == "sent"


def test_today_shows_what_prospects_did_through_their_links(meeting, charlie, alice_client, prospect):
    from tests.prospects.conftest import path_of, post_form

    page = path_of(manage_url(meeting))
    post_form(prospect, page, page + "cancel/", {"reason": "my daughter is sick"})
    html = alice_client.get("/").content.decode()
    assert "Through your links" in html and "Charlie Chen cancelled Wednesday&#x27;s meeting" in html


def test_the_lead_page_shows_the_links_to_copy(meeting, charlie, alice_client):
    html = alice_client.get(f"/leads/{charlie.pk}/").content.decode()
    assert manage_url(meeting) in html and 'data-copy="manage-' in html
