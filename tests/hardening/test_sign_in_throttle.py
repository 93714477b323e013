"""Sign-in throttling per account and per address, separately; the client's address from X-Forwarded-For
only through a trusted proxy; someone else's failures never lock a seller out of their own account."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.web.test_views import PASSWORD

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def dana(db):
    from rebook.sellers.services import seller_create

    return seller_create(username="dana", password=PASSWORD)


def sign_in(client: Client, username: str, password: str, ip: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": ip} | ({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {})
    return client.post("/login/", {"username": username, "password": password}, **extra)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_failures_for_names_that_do_not_exist_do_not_pause_real_accounts_from_that_address(dana, db):
    attacker = Client()
    for i in range(5):
        sign_in(attacker, f"nobody{i}", "x", "203.0.113.9")
    office_colleague = Client()
    sign_in(office_colleague, "dana", PASSWORD, "203.0.113.9")
    assert signed_in(office_colleague)


def test_someone_elses_failures_do_not_block_the_right_password_from_a_new_address(dana):
    attacker = Client()
    for _ in range(8):
        response = sign_in(attacker, "dana", "guess", "198.51.100.7")
    assert b"Too many failed sign-ins" in response.content  # the attacker is paused
    dana_on_the_train = Client()
    sign_in(dana_on_the_train, "dana", PASSWORD, "192.0.2.44")
    assert signed_in(dana_on_the_train)


def test_an_account_guessed_from_many_addresses_pauses_except_for_a_browser_that_signed_in_before(dana):
    laptop = Client()
    sign_in(laptop, "dana", PASSWORD, "192.0.2.1")
    assert signed_in(laptop)
    laptop.post("/logout/")
    for i in range(20):  # a botnet: four tries from each of five addresses
        sign_in(Client(), "dana", "guess", f"198.51.100.{i // 4 + 10}")
    stranger = Client()
    response = sign_in(stranger, "dana", PASSWORD, "192.0.2.99")
    assert b"Too many failed sign-ins" in response.content and not signed_in(stranger)
    sign_in(laptop, "dana", PASSWORD, "192.0.2.2")  # the browser she always uses, from another network
    assert signed_in(laptop)


def test_one_address_is_paused_after_many_failures_for_any_names(dana):
    attacker = Client()
    for i in range(20):
        sign_in(attacker, f"user{i}", "x", "203.0.113.50")
    response = sign_in(attacker, "dana", PASSWORD, "203.0.113.50")
    assert b"Too many failed sign-ins" in response.content and not signed_in(attacker)


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(dana, settings):
    from django.test import RequestFactory

    from rebook.web.client import client_address

    factory = RequestFactory()
    forged = factory.get("/", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="10.0.0.1")
    assert client_address(forged) == "198.51.100.1"
    settings.REBOOK_TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]
    proxied = factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.5, 10.1.1.1")
    assert client_address(proxied) == "192.0.2.5"  # the right-most hop our proxies did not add
    assert client_address(factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="not-an-ip")) == "127.0.0.1"

    # Behind the proxy, each user has their own counter: one person's failures do not pause the others.
    for _ in range(5):
        sign_in(Client(), "dana", "guess", "127.0.0.1", forwarded="198.51.100.66")
    colleague = Client()
    sign_in(colleague, "dana", PASSWORD, "127.0.0.1", forwarded="192.0.2.77")
    assert signed_in(colleague)


def test_an_ipv6_client_is_its_64_network_and_a_mapped_ipv4_address_is_the_ipv4_one(settings):
    from django.test import RequestFactory

    from rebook.web.client import client_address

    factory = RequestFactory()
    assert client_address(factory.get("/", REMOTE_ADDR="2001:db8:1:2:a:b:c:d")) == "2001:db8:1:2::/64"
    assert client_address(factory.get("/", REMOTE_ADDR="::ffff:192.0.2.5")) == "192.0.2.5"
    assert client_address(factory.get("/", REMOTE_ADDR="")) is None
    settings.REBOOK_TRUSTED_PROXIES = ["127.0.0.1"]
    proxied = factory.get("/", REMOTE_ADDR="::ffff:127.0.0.1", HTTP_X_FORWARDED_FOR="2001:db8:9:9::77")
    assert client_address(proxied) == "2001:db8:9:9::/64"


def test_failures_from_many_addresses_of_one_ipv6_64_are_counted_as_one_address(dana):
    for i in range(5):  # the limit, each try from a fresh address of the same /64
        sign_in(Client(), "dana", "guess", f"2001:db8:1:2::{i + 1:x}")
    same_network = Client()
    response = sign_in(same_network, "dana", PASSWORD, "2001:db8:1:2:ffff::1")
    assert b"Too many failed sign-ins" in response.content and not signed_in(same_network)
    next_network = Client()
    sign_in(next_network, "dana", PASSWORD, "2001:db8:1:3::1")  # another /64 is another address
    assert signed_in(next_network)


def test_every_cookie_the_app_sets_is_httponly_and_samesite(dana, client):
    page = client.get("/login/")
    assert "csrftoken" in page.cookies
    response = client.post("/login/", {"username": "dana", "password": PASSWORD})
    cookies = {**page.cookies, **response.cookies}
    assert {"csrftoken", "sessionid", "rebook_known"} <= set(cookies)
    for name, morsel in cookies.items():
        assert morsel["httponly"] and morsel["samesite"] == "Lax", name
