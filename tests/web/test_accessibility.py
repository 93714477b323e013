"""axe-core (bundled with axe-playwright-python) on every page of the seller's app and the prospect's pages, at
phone and desktop width, in Chromium: no serious or critical violation."""

from __future__ import annotations

import pytest

from tests.web.test_browser import DESKTOP, PHONE, browser, seller, seller_pages, sign_in  # noqa: F401

pytestmark = pytest.mark.browser


def _violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert len(results.response["passes"]) > 10  # axe really looked at the page
    out = []
    for v in results.response["violations"]:
        if v["impact"] in ("serious", "critical"):
            targets = [", ".join(n["target"]) for n in v["nodes"][:3]]
            out.append(f"{v['id']} ({v['impact']}): {v['help']} at {targets}")
    return out


def test_no_page_has_a_serious_or_critical_accessibility_violation(browser, live_server, seller):  # noqa: F811
    from urllib.parse import urlsplit

    from django.utils import timezone

    from rebook.demo import load_demo
    from rebook.leads.models import Appointment, Cancellation, Lead
    from rebook.outbox.models import PlannedMessage
    from rebook.prospects.links import manage_url, more_times_url

    load_demo(seller=seller, now=timezone.now())
    lead = Lead.objects.filter(cancellations__isnull=False).order_by("id").first()
    ahead = Appointment.objects.filter(status="scheduled", start__gt=timezone.now()).first()
    cancelled = Cancellation.objects.filter(by="prospect").order_by("-at").first()
    pages = seller_pages(lead, ahead, PlannedMessage.objects.first()) | {"not found": "/leads/999999/"}
    public_pages = {"manage": urlsplit(manage_url(ahead)).path, "not found (prospect)": "/p/nothing-here/",
                    "more times": urlsplit(more_times_url(cancelled)).path}
    found: list[str] = []
    for size_name, size in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(viewport=size)
        page = context.new_page()
        for name, url in public_pages.items():
            page.goto(f"{live_server.url}{url}")
            found += [f"{name} at {size_name}: {v}" for v in _violations(page)]
        sign_in(page, live_server)
        for name, path in pages.items():
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            found += [f"{name} at {size_name}: {v}" for v in _violations(page)]
        context.close()
    assert not found, "\n".join(found)


def test_the_check_does_find_a_violation_when_there_is_one(browser, live_server, seller):  # noqa: F811
    page = browser.new_page(viewport=PHONE)
    sign_in(page, live_server)
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=x.png>')")
    assert any(v.startswith("image-alt (critical)") for v in _violations(page))
