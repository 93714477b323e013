"""rebook.writes.insert_rows: the rows bulk_create would insert, with their ids, on every database."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.forms.models import model_to_dict

from rebook.leads.models import Appointment, Lead
from rebook.writes import insert_rows
from tests.conftest import NOW

pytestmark = pytest.mark.usefixtures("frozen")


def meetings(lead: Lead, n: int, tag: str) -> list[Appointment]:
    """New meetings with every kind of column set: times, text with quotes, JSON, a UUID, booleans, nulls."""
    return [Appointment(lead=lead, seller_id=lead.seller_id, start=NOW + timedelta(days=i, minutes=7),
                        end=NOW + timedelta(days=i, hours=1), timezone="Europe/Berlin", location=f"Room '{i}' \"{tag}\"",
                        title=f"{tag} {i} ☕", ical_uid=f"{tag}-{i}@x", ical_sequence=i, all_day=i % 2 == 0,
                        participants=[{"name": "Dana", "email": f"d{i}@x.example"}], booked_at=NOW, created_at=NOW,
                        chain=uuid.UUID(int=i + 1), recurrence_id=None if i % 3 else NOW + timedelta(days=i))
            for i in range(n)]


def row(a: Appointment) -> dict:
    values = model_to_dict(a)
    values.pop("id")
    values["title"] = values["title"].split(" ", 1)[1]  # the tag differs
    values["ical_uid"] = values["ical_uid"].split("-", 1)[1]
    values["location"] = values["location"].rsplit(" ", 1)[0]
    return values


def test_the_rows_and_ids_are_those_bulk_create_gives(alice, django_assert_max_num_queries):
    lead = Lead.objects.create(seller=alice, name="Dana", email="dana@x.example", created_at=NOW)
    ours, django = meetings(lead, 2500, "ours"), meetings(lead, 2500, "django")  # more than one statement holds
    with django_assert_max_num_queries(3):
        insert_rows(Appointment, ours)
    Appointment.objects.bulk_create(django)
    assert all(a.pk and not a._state.adding for a in ours)
    read = {a.pk: a for a in Appointment.objects.filter(ical_uid__startswith="ours")}
    assert [a.pk for a in ours] == sorted(read), "each row got its own id, in order"
    theirs = {a.ical_uid.split("-", 1)[1]: row(a) for a in Appointment.objects.filter(ical_uid__startswith="django")}
    for a in ours:
        assert row(read[a.pk]) == theirs[a.ical_uid.split("-", 1)[1]]
        assert read[a.pk].updated_at is not None and a.updated_at == read[a.pk].updated_at


def test_a_row_whose_related_object_was_saved_after_it_was_made(alice):
    """As bulk_create: a meeting made with a lead not yet saved takes the lead's id once it has one."""
    lead = Lead(seller=alice, name="New", email="new@x.example", created_at=NOW)
    [meeting] = meetings(lead, 1, "late")
    insert_rows(Lead, [lead])
    insert_rows(Appointment, [meeting])
    assert Appointment.objects.get(pk=meeting.pk).lead_id == lead.pk
