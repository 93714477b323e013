"""Re-evaluating leads in a batch (the worker after sending, a calendar import): the same result as one at a
time, with the batch's new and changed rows written together."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rebook.leads.models import ChecklistItem, Lead
from rebook.leads.services import appointment_book, appointment_cancel, lead_create, lead_reevaluate, leads_reevaluate
from rebook.outbox.models import PlannedMessage
from tests.conftest import NOW

pytestmark = pytest.mark.usefixtures("frozen")


def leads_with_a_cancellation(seller, n: int) -> list[Lead]:
    leads = []
    for i in range(n):
        lead = lead_create(seller=seller, name=f"Lead {i}", email=f"lead{i}@example.net")
        start = NOW + timedelta(days=3, hours=i % 5)
        appointment = appointment_book(lead=lead, start=start, end=start + timedelta(minutes=30))
        appointment_cancel(appointment=appointment, by="prospect", reason="something came up")
        leads.append(lead)
    return leads


def state(leads):
    ids = [lead.pk for lead in leads]
    return (sorted(Lead.objects.filter(pk__in=ids).values_list("id", "status", "strikes", "last_touch_at")),
            sorted(PlannedMessage.objects.filter(lead__in=ids).exclude(status="withdrawn")  # history, once forgotten
                   .values_list("lead_id", "key", "status", "due")),
            sorted(ChecklistItem.objects.filter(cancellation__lead__in=ids).values_list(
                "cancellation_id", "step", "done_by")))


def forget_plans(leads):
    """As if the rules had changed: the planned messages and checklists are gone, to be made again."""
    PlannedMessage.objects.filter(lead__in=leads).delete()
    ChecklistItem.objects.filter(cancellation__lead__in=leads).delete()


def test_a_batch_writes_what_one_at_a_time_writes(alice):
    leads = leads_with_a_cancellation(alice, 6)
    expected = state(leads)
    forget_plans(leads)
    leads_reevaluate([lead.pk for lead in leads], now=NOW)
    assert state(leads) == expected
    forget_plans(leads)
    for lead in Lead.objects.filter(pk__in=[lead.pk for lead in leads]).select_related("seller__user"):
        lead_reevaluate(lead=lead, now=NOW)
    assert state(leads) == expected


def test_a_batchs_new_rows_go_in_together(alice):
    """The queries of a batch do not grow with the leads in it: with 3 leads or 12 to plan messages and
    checklists for, the same number."""
    few, many = leads_with_a_cancellation(alice, 3), leads_with_a_cancellation(alice, 12)
    counts = []
    for leads in (few, many):
        forget_plans(leads)
        with CaptureQueriesContext(connection) as queries:
            leads_reevaluate([lead.pk for lead in leads], now=NOW)
        counts.append(len(queries))
        assert PlannedMessage.objects.filter(lead__in=leads).count() >= 2 * len(leads)
        assert ChecklistItem.objects.filter(cancellation__lead__in=leads).exists()
    assert counts[0] == counts[1]


def test_only_messages_leaves_an_unchanged_lead_row_alone(alice, frozen):
    [lead] = leads_with_a_cancellation(alice, 1)
    stamp = Lead.objects.get(pk=lead.pk).updated_at
    frozen.move_to(NOW + timedelta(hours=1))
    leads_reevaluate([lead.pk], now=NOW + timedelta(hours=1), only_messages=True)
    assert Lead.objects.get(pk=lead.pk).updated_at == stamp  # nothing in the row changed
    leads_reevaluate([lead.pk], now=NOW + timedelta(hours=1))
    assert Lead.objects.get(pk=lead.pk).updated_at == NOW + timedelta(hours=1)  # any other change moves it

    Lead.objects.filter(pk=lead.pk).update(strikes=0, status="active")  # behind the services' back: now stale
    frozen.move_to(NOW + timedelta(hours=2))
    leads_reevaluate([lead.pk], now=NOW + timedelta(hours=2), only_messages=True)
    row = Lead.objects.get(pk=lead.pk)
    assert (row.strikes, row.updated_at) == (1, NOW + timedelta(hours=2))  # a field changed: written
