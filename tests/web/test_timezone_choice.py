"""A seller made without a time zone is asked for one on every page, and chooses it on Settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rebook.sellers.models import Seller
from rebook.sellers.services import seller_create

BANNER = "a guess"


@pytest.fixture
def dee(db, settings):
    settings.REBOOK_TIMEZONE = ""  # a zone only guessed, as `rebook user add dee` without --timezone makes it
    return seller_create(username="dee", display_name="Dee Diaz", email="dee@example.com")


@pytest.fixture
def dee_client(client, dee):
    client.force_login(dee.user)
    return client


def test_a_seller_made_without_a_zone_is_asked_for_one_on_every_page(dee, dee_client):
    assert dee.timezone_chosen is False
    for url in ("/", "/leads/", "/outbox/", "/reports/"):
        page = dee_client.get(url).content.decode()
        assert f"Times are shown in {dee.timezone}, {BANNER}" in page, url
        assert 'href="/settings/#timezone"' in page, url
    settings_page = dee_client.get("/settings/").content.decode()
    assert 'id="timezone"' in settings_page and 'name="timezone"' in settings_page
    assert 'data-browser-zone="yes"' in settings_page  # the browser's own zone is preselected there
    assert '<option value="Europe/Berlin"' in settings_page


def test_choosing_a_zone_shows_every_time_in_it_and_stops_asking(dee, dee_client):
    from rebook.leads.services import appointment_book, lead_create

    lead = lead_create(seller=dee, name="Eli Ortiz", email="eli@example.com")
    start = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)
    appointment_book(lead=lead, start=start, end=start + timedelta(hours=1))

    answer = dee_client.post("/settings/timezone/", {"timezone": "Europe/Berlin"})
    assert answer.status_code == 302
    dee = Seller.objects.get(pk=dee.pk)
    assert (dee.timezone, dee.timezone_chosen) == ("Europe/Berlin", True)
    page = dee_client.get(f"/leads/{lead.pk}/").content.decode()
    assert BANNER not in page
    assert "13:00 CET" in page  # noon UTC, in Berlin's winter
    assert 'data-browser-zone="no"' in dee_client.get("/settings/").content.decode()


def test_a_zone_that_does_not_exist_is_refused_and_changes_nothing(dee, dee_client):
    answer = dee_client.post("/settings/timezone/", {"timezone": "Mars/Olympus_Mons"})
    assert answer.status_code == 400
    assert "Select a valid choice" in answer.content.decode()
    dee = Seller.objects.get(pk=dee.pk)
    assert dee.timezone_chosen is False
    assert dee_client.get("/settings/timezone/").status_code == 405


def test_a_zone_given_when_the_seller_is_made_counts_as_chosen(db, settings, alice, alice_client):
    assert alice.timezone_chosen is True
    assert BANNER not in alice_client.get("/").content.decode()
    settings.REBOOK_TIMEZONE = "Asia/Tokyo"  # the operator chose it for everyone
    assert seller_create(username="erin").timezone_chosen is True


def test_the_command_line_sets_it_too(db, settings):
    from rebook.sellers.services import seller_resolve
    from tests.clirunner import Rebook

    settings.REBOOK_TIMEZONE = ""
    seller_create(username="finn")
    Rebook()("init", "--user", "finn", "--timezone", "America/Chicago")
    finn = seller_resolve("finn")
    assert (finn.timezone, finn.timezone_chosen) == ("America/Chicago", True)
