from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client

from tests.conftest import NOW
from tests.outbox.conftest import smtp  # noqa: F401  (a real SMTP server)


@pytest.fixture
def prospect():
    """A browser with no session: the prospect."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def meeting(alice, charlie):
    """Charlie's meeting with Alice, Wednesday 4 March 2026 at 10:00 New York time."""
    from rebook.leads.services import appointment_book

    start = NOW + timedelta(days=2, hours=1)
    return appointment_book(lead=charlie, start=start, end=start + timedelta(minutes=45), location="Chen Bakery")


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def post_form(client: Client, page_path: str, action: str, data: dict):
    """Read the page as a browser would, then post to ``action`` with the CSRF token from that page's form."""
    page = client.get(page_path)
    assert page.status_code == 200, page.status_code
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content)
    assert token, "the page has no form"
    return client.post(action, {"csrfmiddlewaretoken": token.group(1).decode(), **data})


def csrf_of(client: Client, page_path: str) -> str:
    """The CSRF token of a page's form, as a tab opened on it holds it."""
    page = client.get(page_path)
    return re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
