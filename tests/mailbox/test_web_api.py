"""Suggestions on the web pages and through the API; the Settings page; the suggestion.created webhook; the
auto_apply_replies policy."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from rebook.leads.models import Cancellation
from rebook.mailbox.models import InboundMail, Mailbox, Suggestion
from tests.mailbox.test_poll import ALICE, dana, mail, meeting  # noqa: F401


def _suggest(lead, appointment, kind="cancel", reason="My son is sick, I have to cancel.", proposed=None, verified=True):
    from rebook.mailbox.services import _suggest as suggest

    box = Mailbox.objects.filter(seller=lead.seller).first() or Mailbox.objects.create(
        seller=lead.seller, security="plain", host="127.0.0.1", port=143, username="x", secret=b"x")
    record = InboundMail.objects.create(mailbox=box, seller=lead.seller, lead=lead, uid=1,
                                        message_id=f"m{Suggestion.objects.count()}@x", received_at=timezone.now(),
                                        outcome="suggestion")
    return suggest(record, lead, appointment, kind, reason=reason, proposed=proposed, received=timezone.now(),
                   now=timezone.now(), verified=verified)


def test_today_and_the_lead_page_show_suggestions_with_apply_and_dismiss(alice_client, dana, meeting):  # noqa: F811
    s = _suggest(dana, meeting)
    today = alice_client.get("/").content.decode()
    assert "wants to cancel" in today and "My son is sick" in today
    lead_page = alice_client.get(f"/leads/{dana.pk}/").content.decode()
    assert "From Dana Reyes" in lead_page and "replies" in lead_page and f"/suggestions/{s.pk}/apply/" in lead_page
    response = alice_client.post(f"/suggestions/{s.pk}/apply/", {"next": f"/leads/{dana.pk}/"})
    assert response.status_code == 302 and response["Location"] == f"/leads/{dana.pk}/"
    assert Cancellation.objects.get(appointment=meeting).channel == "email"
    assert "wants to cancel" not in alice_client.get("/").content.decode()  # done items are gone
    # An outside "next" is not followed.
    other = _suggest(dana, None, kind="unsubscribe", reason="Please stop writing.")
    response = alice_client.post(f"/suggestions/{other.pk}/dismiss/", {"next": "https://evil.example/"})
    assert response["Location"] == "/" and Suggestion.objects.get(pk=other.pk).status == "dismissed"


def test_another_sellers_suggestion_is_404(bob_client, dana, meeting):  # noqa: F811
    s = _suggest(dana, meeting)
    assert bob_client.post(f"/suggestions/{s.pk}/apply/").status_code == 404
    assert Suggestion.objects.get(pk=s.pk).status == "pending"


def test_a_move_without_a_time_asks_for_one(alice_client, dana, meeting):  # noqa: F811
    s = _suggest(dana, meeting, kind="reschedule", reason="Can we find another day?")
    assert 'name="to"' in alice_client.get("/").content.decode()
    alice_client.post(f"/suggestions/{s.pk}/apply/")
    assert Suggestion.objects.get(pk=s.pk).status == "pending"  # refused: no time
    when = (meeting.start + timedelta(days=2)).astimezone(dana.seller.tz).strftime("%Y-%m-%dT%H:%M")
    alice_client.post(f"/suggestions/{s.pk}/apply/", {"to": when})
    assert Suggestion.objects.get(pk=s.pk).status == "applied"


def test_the_api_lists_applies_and_dismisses(alice, dana, meeting):  # noqa: F811
    from rebook.api.services import token_create

    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(seller=alice, name='t')[1]}")
    s = _suggest(dana, meeting)
    t = _suggest(dana, None, kind="not_interested", reason="We went with another vendor.")
    items = api.get("/api/v1/suggestions").json()["items"]
    assert {i["id"] for i in items} == {s.pk, t.pk} and items[0]["status"] == "pending"
    assert api.post(f"/api/v1/suggestions/{s.pk}/apply", {}, content_type="application/json").json()["status"] == "applied"
    assert api.post(f"/api/v1/suggestions/{s.pk}/apply", {}, content_type="application/json").status_code == 409
    assert api.post(f"/api/v1/suggestions/{t.pk}/dismiss").json()["status"] == "dismissed"
    assert api.get("/api/v1/suggestions").json()["items"] == []
    assert len(api.get("/api/v1/suggestions", {"status": "applied"}).json()["items"]) == 1


def test_a_suggestion_is_announced_by_webhook(alice, dana, meeting):  # noqa: F811
    from rebook.webhooks.models import Delivery
    from rebook.webhooks.services import endpoint_create

    endpoint_create(seller=alice, url="https://hooks.example.com/x", events=["suggestion.created"])
    s = _suggest(dana, meeting)
    payload = Delivery.objects.get(event="suggestion.created").payload
    assert payload["data"]["suggestion"]["id"] == s.pk and payload["data"]["suggestion"]["kind"] == "cancel"


def test_auto_apply_replies_applies_a_clear_cancellation_and_tells_the_seller(alice, dana, meeting):  # noqa: F811
    from rebook.outbox.models import SELLER_NOTICE, PlannedMessage
    from rebook.sellers.services import seller_policy_set

    seller_policy_set(seller=alice, key="auto_apply_replies", value="true")
    alice.refresh_from_db()
    dana.seller.refresh_from_db()
    s = _suggest(dana, meeting)
    assert Suggestion.objects.get(pk=s.pk).status == "applied"
    assert Cancellation.objects.get(appointment=meeting).valid
    assert PlannedMessage.objects.filter(kind=SELLER_NOTICE, lead=dana).exists()


def test_an_unclear_reason_waits_for_the_seller_even_with_auto_apply(alice, dana, meeting):  # noqa: F811
    from rebook.sellers.services import seller_policy_set

    seller_policy_set(seller=alice, key="auto_apply_replies", value="true")
    dana.seller.refresh_from_db()
    s = _suggest(dana, meeting, reason="I need to cancel, my cat looked at me funny.")
    assert Suggestion.objects.get(pk=s.pk).status == "pending"


def test_the_settings_page_saves_tests_and_removes_a_mailbox(alice_client, alice, dovecot):
    page = alice_client.get("/settings/").content.decode()
    assert "Your mailbox" in page and "never marks" in page
    response = alice_client.post("/settings/", {"url": f"imap://{ALICE}@127.0.0.1:{dovecot.port}/INBOX".replace(
        f"{ALICE}@", "alice%40example.com@"), "password": "alice-secret"})
    assert response.status_code == 302
    box = Mailbox.objects.get(seller=alice)
    assert box.username == ALICE and b"alice-secret" not in bytes(box.secret)
    assert "alice-secret" not in alice_client.get("/settings/").content.decode()
    response = alice_client.post("/settings/mailbox/test/", follow=True)
    assert "Connected" in response.content.decode()
    assert alice_client.post("/settings/", {"url": "ftp://x"}).status_code == 400
    alice_client.post("/settings/mailbox/remove/")
    assert not Mailbox.objects.filter(seller=alice).exists()
    assert alice_client.post("/settings/mailbox/explode/").status_code == 404


def test_a_bounced_address_is_flagged_on_the_lead_page_until_it_changes(alice_client, dana):  # noqa: F811
    from rebook.leads.services import lead_update

    type(dana).objects.filter(pk=dana.pk).update(email_bounced_at=timezone.now(), email_bounce_reason="550 User unknown")
    assert "bounced" in alice_client.get(f"/leads/{dana.pk}/").content.decode()
    lead_update(lead=type(dana).objects.get(pk=dana.pk), email="dana@new.example")
    assert "bounced" not in alice_client.get(f"/leads/{dana.pk}/").content.decode()
