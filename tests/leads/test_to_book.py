"""Today's leads to book, read in index order per status, are the ones (and in the order) that ranking every
pursued lead gives: qualified, active, new; the latest in touch first, never in touch last, then by id."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db.models import Case, F, IntegerField, Q, Value, When

from tests.conftest import NOW


def _ranked_reference(seller, now):
    rank = Case(When(status="qualified", then=Value(0)), When(status="active", then=Value(1)), default=Value(2),
                output_field=IntegerField())
    from rebook.leads.models import Lead
    from rebook.strategy.freed import MAX_SUGGESTIONS

    return list(Lead.objects.filter(seller=seller, status__in=["new", "qualified", "active"], open_cancellation_at=None)
                .filter(Q(scheduled_until__isnull=True) | Q(scheduled_until__lte=now))
                .annotate(rank=rank).order_by("rank", F("last_touch_at").desc(nulls_last=True), "id")
                .values_list("id", flat=True)[:MAX_SUGGESTIONS])


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_same_leads_in_the_same_order_as_ranking_them_all(alice, bob, seed):
    from rebook.leads.models import Lead
    from rebook.leads.selectors import _to_book

    rng = random.Random(seed)
    touches = [NOW - timedelta(days=d) for d in (1, 2, 2, 5, 9)]  # repeated times: the id decides
    leads = []
    for i in range(rng.choice([8, 40, 90])):
        leads.append(Lead(
            seller=rng.choice([alice, alice, alice, bob]), name=f"Lead {i}", created_at=NOW,
            status=rng.choice(["new", "qualified", "active", "active", "nurture", "won", "lost"]),
            last_touch_at=rng.choice([None, None, *touches]),
            scheduled_until=rng.choice([None, None, NOW - timedelta(days=1), NOW + timedelta(days=3)]),
            open_cancellation_at=rng.choice([None, None, None, NOW - timedelta(days=2)]),
        ))
    Lead.objects.bulk_create(leads)
    for seller in (alice, bob):
        ours = [lead.pk for lead in _to_book(seller, NOW)]
        assert ours == _ranked_reference(seller, NOW)
        assert all(Lead.objects.get(pk=pk).seller_id == seller.pk for pk in ours)  # never another seller's
