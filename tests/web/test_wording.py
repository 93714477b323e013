"""What the seller reads says things as a person would: no "(s)", no internal ids, one way of writing a day."""

from __future__ import annotations

import re


def test_next_steps_name_meetings_by_their_day_and_count_messages_in_words(alice_client, story, frozen):
    page = alice_client.get(f"/leads/{story['lead'].pk}/").content.decode()
    assert "(s)" not in page and "appointment #" not in page and "cancellation #" not in page
    day = story["cancelled"].start.astimezone(story["lead"].seller.tz)
    assert f"Checklist for the meeting of {day:%a %-d %b}" in page
    count = story["lead"].messages.filter(status="review").count()
    assert re.search(rf"Review {count} planned message{'s' if count != 1 else ''}\b", page)


def test_a_cancellation_without_a_reason_says_so_once_and_the_suggestion_gives_its_verdict_once(
        alice_client, charlie, frozen):
    from datetime import timedelta

    from rebook.leads.services import appointment_book, appointment_cancel
    from tests.conftest import NOW

    first = appointment_book(lead=charlie, start=NOW + timedelta(days=2), end=NOW + timedelta(days=2, hours=1))
    appointment_cancel(appointment=first, by="prospect", reason="")
    page = alice_client.get(f"/leads/{charlie.pk}/").content.decode().lower()
    assert page.count("no reason given") == 1
    ahead = appointment_book(lead=charlie, start=NOW + timedelta(days=5), end=NOW + timedelta(days=5, hours=1))
    form = alice_client.get(f"/appointments/{ahead.pk}/cancel/", {"reason": "something came up"}).content.decode()
    verdict = form[form.index('id="verdict"'):form.index("</p>", form.index('id="verdict"'))]
    assert verdict.count("not valid") == 1, verdict


def test_each_chart_has_its_numbers_in_a_table_beside_it(alice_client, story, frozen):
    page = alice_client.get("/reports/").content.decode()
    assert page.count('<table class="numbers small">') == 2
    assert "<th scope=\"col\">Valid</th><th scope=\"col\">Not valid</th>" in page
    assert "<th scope=\"col\">Booked</th><th scope=\"col\">Target</th>" in page


def test_no_page_or_message_counts_with_an_s_in_brackets():
    """ "3 busy time(s)" reads like a form letter: every count on the seller's pages is said in words."""
    from pathlib import Path

    from rebook.web.views.base import counted

    assert (counted(1, "busy time"), counted(3, "busy time"), counted(0, "reply", "replies")) == (
        "1 busy time", "3 busy times", "0 replies")
    web = Path(__file__).parent.parent.parent / "src" / "rebook"
    offenders = [str(p.relative_to(web)) for p in [*web.glob("web/**/*.py"), *web.glob("**/templates/**/*.html")]
                 if "(s)" in p.read_text()]
    assert offenders == []
