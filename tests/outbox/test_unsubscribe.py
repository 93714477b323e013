"""One-click unsubscribe (RFC 8058): no login, a GET never unsubscribes, a POST does, and it sticks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rebook.errors import RebookError
from rebook.leads.models import Lead
from rebook.leads.services import appointment_book, appointment_cancel, lead_reactivate
from rebook.outbox.mail import unsubscribe_token
from rebook.outbox.models import PlannedMessage
from tests.conftest import NOW

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def nurtured(alice, charlie):
    for day in (1, 2, 3):
        start = NOW + timedelta(days=day + 3)
        a = appointment_book(lead=charlie, start=start, end=start + timedelta(hours=1))
        appointment_cancel(appointment=a, by="prospect", reason="something came up")
    charlie.refresh_from_db()
    assert charlie.status == "nurture"
    return charlie


def test_a_get_only_shows_the_button(client, nurtured):
    response = client.get(f"/unsubscribe/{unsubscribe_token(nurtured.pk)}/")
    assert response.status_code == 200
    assert b"Stop all e-mail from Alice Adams" in response.content and b'method="post"' in response.content
    nurtured.refresh_from_db()
    assert nurtured.unsubscribed_at is None


def test_a_one_click_post_unsubscribes_and_withdraws_what_is_planned(client, nurtured):
    from django.test import Client

    csrf_checking = Client(enforce_csrf_checks=True)  # mail clients have no CSRF cookie
    response = csrf_checking.post(f"/unsubscribe/{unsubscribe_token(nurtured.pk)}/", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and b"You are unsubscribed" in response.content
    nurtured.refresh_from_db()
    assert nurtured.status == Lead.Status.DO_NOT_CONTACT and nurtured.unsubscribed_at == NOW
    pending = PlannedMessage.objects.filter(lead=nurtured, status__in=PlannedMessage.PENDING)
    assert not pending.exists()
    withdrawn = PlannedMessage.objects.filter(lead=nurtured, status="withdrawn", kind__startswith="nurture")
    assert withdrawn.count() == 2 and {m.status_note for m in withdrawn} == {"the lead unsubscribed"}
    assert nurtured.activities.get().notes == "Unsubscribed with the link in a message."

    # A second click changes nothing; reactivating the lead does not bring the mail back.
    assert client.post(f"/unsubscribe/{unsubscribe_token(nurtured.pk)}/").status_code == 200
    assert nurtured.activities.count() == 1


def test_an_unsubscribed_lead_cannot_be_reactivated_into_receiving_mail(client, nurtured):
    client.post(f"/unsubscribe/{unsubscribe_token(nurtured.pk)}/")
    nurtured.refresh_from_db()
    with pytest.raises(RebookError, match="is do_not_contact"):
        lead_reactivate(lead=nurtured)
    assert not PlannedMessage.objects.filter(lead=nurtured, status__in=PlannedMessage.PENDING).exists()


@pytest.mark.parametrize("token", ["nonsense", "1:forged-signature"])
def test_a_forged_or_broken_link_unsubscribes_nobody(client, nurtured, token):
    response = client.post(f"/unsubscribe/{token}/")
    assert response.status_code == 404 and b"This link does not work" in response.content
    nurtured.refresh_from_db()
    assert nurtured.unsubscribed_at is None
