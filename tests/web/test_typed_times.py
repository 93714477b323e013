"""Times are typed as people say them on every form that takes one, as the docs promise."""

from __future__ import annotations

from datetime import datetime, timedelta

from rebook.leads.models import Appointment
from rebook.leads.services import lead_create


def test_a_meeting_is_booked_from_a_phrase_typed_on_the_form(alice, alice_client, frozen):
    lead = lead_create(seller=alice, name="Dana Reyes", email="dana@reyes.example")
    form = alice_client.get(f"/leads/{lead.pk}/book/").content.decode()
    assert 'type="datetime-local"' not in form and "tomorrow 10am" in form  # a text box that says how
    answer = alice_client.post(f"/leads/{lead.pk}/book/", {"start": "tomorrow 10am", "duration": "45m",
                                                           "booked_by": "seller"})
    assert answer.status_code == 302, answer.content.decode()[:500]
    start = Appointment.objects.get(lead=lead).start.astimezone(alice.tz)
    tomorrow = (datetime.now(alice.tz) + timedelta(days=1)).date()
    assert (start.date(), start.hour, start.minute) == (tomorrow, 10, 0)


def test_a_phrase_that_is_no_time_says_so_on_the_form(alice, alice_client, frozen):
    lead = lead_create(seller=alice, name="Dana Reyes", email="dana@reyes.example")
    answer = alice_client.post(f"/leads/{lead.pk}/book/", {"start": "whenever suits", "duration": "45m",
                                                           "booked_by": "seller"})
    assert answer.status_code == 400 and not Appointment.objects.exists()
    assert "whenever suits" in answer.content.decode()  # what was typed stays, with the error beside it
