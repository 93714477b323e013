"""The bulk generator behind `rebook demo --scale` and the benchmarks: deterministic, and faithful to the
services (re-evaluating a generated lead through the services changes nothing)."""

from __future__ import annotations

import pytest

from tests.conftest import NOW


def _generate(**kw):
    from rebook.scale import generate

    return generate(now=NOW, **{"sellers": 1, "leads_per_seller": 60, **kw})


def _snapshot():
    from rebook.leads.models import Appointment, Cancellation, ChecklistItem, Lead
    from rebook.outbox.models import PlannedMessage

    return (
        list(Lead.objects.order_by("id").values_list("name", "email", "status", "strikes", "nurture_since", "last_touch_at",
                                                        "open_cancellation_at", "scheduled_until")),
        list(Appointment.objects.order_by("id").values_list("lead_id", "start", "status", "rescheduled_from_id")),
        list(Cancellation.objects.order_by("id").values_list("appointment_id", "reason", "category", "is_strike")),
        list(PlannedMessage.objects.order_by("id").values_list("key", "status", "due")),
        list(ChecklistItem.objects.order_by("id").values_list("cancellation_id", "step", "done_by")),
    )


@pytest.mark.django_db
def test_sizes_and_mix():
    summary = _generate(sellers=2, leads_per_seller=100)
    assert summary.sellers == 2 and summary.leads == 200
    assert 760 <= summary.appointments <= 800  # four per lead, less what ends before now
    rate = summary.prospect_cancellations / summary.appointments
    assert 0.15 < rate < 0.35
    assert summary.nurture > 0 and summary.messages_sent > 0 and summary.checklist_items > 0
    from rebook.leads.models import Appointment, Cancellation, Lead

    assert Appointment.objects.filter(rescheduled_from__isnull=False).exists()  # reschedule chains
    assert Cancellation.objects.filter(kind="no_show").exists()
    assert Lead.objects.values("source").distinct().count() > 5
    assert {s.username for s in __import__("rebook.sellers.models", fromlist=["Seller"]).Seller.objects.all()} == {
        "seller001", "seller002"}


@pytest.mark.django_db
def test_same_seed_same_rows(django_db_blocker):
    _generate(seed=3)
    first = _snapshot()
    from rebook.leads.models import Lead
    from rebook.sellers.models import Seller

    Lead.objects.all().delete()
    Seller.objects.all().delete()
    __import__("django.contrib.auth", fromlist=["get_user_model"]).get_user_model().objects.all().delete()
    _generate(seed=3)
    second = _snapshot()
    assert [len(x) for x in first] == [len(x) for x in second]
    # ids differ (new rows), the content does not
    assert first[0] == second[0] and first[3][:50] == [(k, s, d) for k, s, d in second[3][:50]]


@pytest.mark.django_db
def test_the_services_agree_with_the_generated_state():
    """Re-evaluating every lead through the services (the writers of record) changes no status, strike,
    pending message or checklist item: the generator derives what the services would."""
    from rebook.leads.services import lead_reevaluate
    from rebook.sellers.models import Seller

    _generate(leads_per_seller=150, seed=5)
    before = _snapshot()
    seller = Seller.objects.get()
    for lead in seller.leads.select_related("seller__user"):
        lead_reevaluate(lead=lead, now=NOW)
    after = _snapshot()
    assert after[0] == before[0]
    assert after[2] == before[2]
    assert after[3] == before[3]
    assert after[4] == before[4]


@pytest.mark.django_db
def test_refuses_a_seller_with_leads(alice, charlie):
    from rebook.errors import RebookError

    with pytest.raises(RebookError, match="already has leads"):
        _generate(first_seller=alice)


@pytest.mark.usefixtures("frozen")
def test_demo_scale_command(alice):
    from tests.clirunner import Rebook

    rebook = Rebook()
    out = rebook.json("demo", "--scale", "2", "--leads-per-seller", "30")
    assert out["sellers"] == 2 and out["leads"] == 60 and out["seller_usernames"] == ["alice", "seller002"]
    assert len(rebook.json("lead", "list", "--user", "alice")) == 30  # the first history is yours
    assert "already has leads" in rebook.error("demo", "--scale", "1", "--user", "alice")
    assert "--leads-per-seller: only with --scale" in rebook.error("demo", "--leads-per-seller", "5", "--user", "alice")
