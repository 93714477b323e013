"""Error pages for sellers and for prospects: styled, sized for a phone, each with a way on; never Django's bare
"Not Found"."""

from __future__ import annotations

from django.test import Client, RequestFactory

from rebook.web.errors import server_error

VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def test_a_seller_asking_for_a_lead_that_does_not_exist_gets_a_page_with_a_way_back(alice_client):
    answer = alice_client.get("/leads/999999/")
    page = answer.content.decode()
    assert answer.status_code == 404 and VIEWPORT in page and "app.css" in page
    assert "Nothing here" in page and 'href="/"' in page and "Go to Today" in page
    assert "<h1>Not Found</h1>" not in page


def test_a_prospect_with_a_tampered_link_gets_a_page_that_says_what_to_do(db):
    answer = Client().get("/p/not-a-real-token/")
    page = answer.content.decode()
    assert answer.status_code == 404 and VIEWPORT in page
    assert "newest" in page and "reply to it" in page and "Go to Today" not in page
    assert answer["Cache-Control"] == "no-store" and answer["X-Robots-Tag"] == "noindex, nofollow"


def test_a_button_address_opened_in_a_browser_is_a_styled_405_that_keeps_allow(alice_client):
    answer = alice_client.get("/settings/mailbox/poll/")
    assert answer.status_code == 405 and answer["Allow"] == "POST"
    assert "Not like that" in answer.content.decode()


def test_a_form_sent_without_its_csrf_token_is_a_styled_403(alice, db):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice.user)
    answer = browser.post("/leads/new/", {"name": "Eve"})
    assert answer.status_code == 403 and "your session may have ended" in answer.content.decode()


def test_a_server_error_page_needs_no_database():
    answer = server_error(RequestFactory().get("/leads/"))
    assert answer.status_code == 500 and "Something went wrong on our side" in answer.content.decode()


def test_the_api_keeps_its_own_answers(alice):
    from rebook.api.services import token_create

    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(seller=alice, name='t')[1]}")
    answer = api.get("/api/v1/nothing-here")
    assert answer.status_code == 404 and answer["Content-Type"] == "application/problem+json"
    assert answer.json()["status"] == 404
