"""Keyboard and touch, in Chromium: the first Tab reaches a skip link, the focus ring is visible (3:1 at
least against what is behind it), checklist ticks are 24 px square at least, and "Sign out" sits on the nav's
line."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.test_docs_page import contrast
from tests.conftest import NOW
from tests.web.test_browser import DESKTOP, PHONE, browser, seller, sign_in  # noqa: F401

pytestmark = pytest.mark.browser


def _rgb_to_hex(value: str) -> str:
    parts = [int(float(p)) for p in value[value.index("(") + 1:value.index(")")].split(",")[:3]]
    return "#" + "".join(f"{p:02x}" for p in parts)


def test_the_first_tab_skips_to_the_content_and_the_focus_shows(browser, live_server, seller):  # noqa: F811
    from rebook.leads.services import appointment_book, appointment_cancel, lead_create

    lead = lead_create(seller=seller, name="Dana Reyes", email="dana@example.com")
    first = appointment_book(lead=lead, start=NOW + timedelta(days=400), end=NOW + timedelta(days=400, hours=1))
    appointment_cancel(appointment=first, by="prospect", reason="something came up")
    page = browser.new_page(viewport=PHONE)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Skip to the content"
    ring = page.evaluate("getComputedStyle(document.activeElement).outlineColor")
    assert contrast(_rgb_to_hex(ring), "#ffffff") >= 3
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    ticks = page.locator(".checklist button.link")
    assert ticks.count() >= 1
    for i in range(ticks.count()):
        box = ticks.nth(i).bounding_box()
        assert box["width"] >= 24 and box["height"] >= 24, box
    page.set_viewport_size(DESKTOP)
    sign_out = page.get_by_role("button", name="Sign out").bounding_box()
    today = page.get_by_role("link", name="Today").bounding_box()
    assert abs((sign_out["y"] + sign_out["height"]) - (today["y"] + today["height"])) <= 2
