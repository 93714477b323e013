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
