"""rebook.reads.instances: the same instances Django's own queryset makes, field for field, at less cost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import NOW

pytestmark = pytest.mark.usefixtures("frozen")


def _values(obj) -> dict:
    return {k: v for k, v in obj.__dict__.items() if k != "_state"}


@pytest.fixture
def history(alice, charlie):
    from rebook.leads.services import appointment_book, appointment_cancel

    first = appointment_book(lead=charlie, start=NOW + timedelta(days=1), end=NOW + timedelta(days=1, hours=1),
                             location="Café Zoë", now=NOW)
    appointment_cancel(appointment=first, by="prospect", reason="My child is sick", now=NOW)
    appointment_book(lead=charlie, start=NOW + timedelta(days=8), end=NOW + timedelta(days=8, hours=1), now=NOW)
    return charlie


def test_every_field_as_django_reads_it(history):
    from rebook.leads.models import Appointment, Cancellation
    from rebook.reads import instances

    for model in (Appointment, Cancellation):
        queryset = model.objects.filter(lead=history).order_by("id")
        ours, theirs = instances(queryset), list(queryset)
        assert len(ours) == len(theirs) > 0
        for a, b in zip(ours, theirs, strict=True):
            assert type(a) is type(b) and a == b
            assert _values(a) == _values(b)  # aware datetimes, UUIDs, decimals: the same converted values
            assert a._state.adding is False and a._state.db == b._state.db
            assert not a.get_deferred_fields()


def test_some_fields_and_a_related_object_in_one_query(history):
    from rebook.leads.models import Appointment
    from rebook.reads import instances

    queryset = Appointment.objects.filter(lead=history).order_by("start")
    with CaptureQueriesContext(connection) as queries:
        read = instances(queryset, ("id", "lead_id", "start"), lead=("id", "name"))
        assert [a.lead.name for a in read] == ["Charlie Chen", "Charlie Chen"]
        assert [a.start for a in read] == [NOW + timedelta(days=1), NOW + timedelta(days=8)]
    assert len(queries) == 1
    assert read[0].get_deferred_fields() >= {"end", "location"}
    with CaptureQueriesContext(connection) as queries:
        assert read[0].location == "Café Zoë"  # not read: loaded on access, as with only()
        assert read[0].lead.company == "Chen Bakery"
    assert len(queries) == 2
    read[1].title = "Second look"
    read[1].save(update_fields=["title"])
    assert Appointment.objects.get(pk=read[1].pk).title == "Second look"


def test_an_empty_foreign_key_is_none(alice, charlie):
    from rebook.leads.models import Appointment
    from rebook.leads.services import appointment_book
    from rebook.reads import instances

    appointment_book(lead=charlie, start=NOW + timedelta(days=2), end=NOW + timedelta(days=2, hours=1), now=NOW)
    field = next(f for f in Appointment._meta.concrete_fields if f.is_relation and f.null)
    read = instances(Appointment.objects.filter(lead=charlie), ("id", field.attname), **{field.name: ("id",)})
    with CaptureQueriesContext(connection) as queries:
        assert getattr(read[0], field.name) is None
    assert len(queries) == 0


def test_models_with_init_signals_are_made_the_usual_way(history):
    from django.db.models import signals

    from rebook.leads.models import Appointment
    from rebook.reads import instances

    seen = []

    def note(sender, instance, **kwargs):
        seen.append(instance)

    signals.post_init.connect(note, sender=Appointment)
    try:
        read = instances(Appointment.objects.filter(lead=history), ("id", "start"), lead=("id", "name"))
    finally:
        signals.post_init.disconnect(note, sender=Appointment)
    assert len(seen) == len(read) == 2 and {a.lead.name for a in read} == {"Charlie Chen"}
