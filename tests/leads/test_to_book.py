"""The leads a freed slot may go to, read in one statement of index-ordered parts, are the ones (and in the
order) that asking the ORM for each kind over every row gives: overdue follow-ups, oldest open cancellation
first; leads to book, qualified, active, new, the latest in touch first, never in touch last, then by id;
nurture check-ins coming due, soonest first. Never another seller's."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db.models import Case, F, IntegerField, Q, Value, When

from tests.conftest import NOW


def _references(seller, now, until):
    from rebook.leads.models import Lead
    from rebook.outbox.models import PlannedMessage
    from rebook.strategy.freed import CHECKIN_AHEAD, MAX_SUGGESTIONS, OVERDUE_AFTER

    pursued = (Lead.objects.filter(seller=seller, status__in=["new", "qualified", "active"])
               .filter(Q(scheduled_until__isnull=True) | Q(scheduled_until__lte=now)))
    follow = list(pursued.filter(open_cancellation_at__isnull=False, last_touch_at__lte=now - OVERDUE_AFTER)
                  .order_by("open_cancellation_at", "id").values_list("id", flat=True)[:MAX_SUGGESTIONS])
    rank = Case(When(status="qualified", then=Value(0)), When(status="active", then=Value(1)), default=Value(2),
                output_field=IntegerField())
    book = list(pursued.filter(open_cancellation_at=None).annotate(rank=rank)
                .order_by("rank", F("last_touch_at").desc(nulls_last=True), "id")
                .values_list("id", flat=True)[:MAX_SUGGESTIONS])
    checkins = list(PlannedMessage.objects.filter(
        seller=seller, lead__status="nurture", kind="nurture_checkin", status__in=PlannedMessage.PENDING,
        due__lte=until + CHECKIN_AHEAD).order_by("due", "id").values_list("lead_id", "due")[:MAX_SUGGESTIONS])
    return follow, book, checkins


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_same_leads_in_the_same_order_as_asking_for_each_kind_over_every_row(alice, bob, seed):
    from rebook.leads.models import Lead
    from rebook.leads.selectors import freed_candidates
    from rebook.outbox.models import PlannedMessage

    rng = random.Random(seed)
    touches = [NOW - timedelta(days=d) for d in (1, 2, 2, 5, 9)]  # repeated times: the id decides
    leads = []
    for i in range(rng.choice([8, 40, 90])):
        leads.append(Lead(
            seller=rng.choice([alice, alice, alice, bob]), name=f"Lead {i}", created_at=NOW,
            status=rng.choice(["new", "qualified", "active", "active", "nurture", "won", "lost"]),
            last_touch_at=rng.choice([None, None, *touches]),
            scheduled_until=rng.choice([None, None, NOW - timedelta(days=1), NOW + timedelta(days=3)]),
            open_cancellation_at=rng.choice([None, None, None, NOW - timedelta(days=2), NOW - timedelta(days=6)]),
        ))
    Lead.objects.bulk_create(leads)
    dues = [NOW + timedelta(days=d) for d in (-3, 1, 1, 4, 9, 30)]  # repeated times: the message's id decides
    PlannedMessage.objects.bulk_create([
        PlannedMessage(lead=lead, seller_id=lead.seller_id, key=f"k{i}", due=rng.choice(dues),
                       kind=rng.choice(["nurture_checkin", "nurture_checkin", "confirmation"]),
                       status=rng.choice(["review", "scheduled", "scheduled", "sent", "withdrawn"]))
        for lead in Lead.objects.all() for i in range(rng.choice([0, 1, 2, 3]))
    ])
    for seller in (alice, bob):
        until = NOW + timedelta(days=2)
        candidates = freed_candidates(seller=seller, now=NOW, until=until)
        follow, book, checkins = _references(seller, NOW, until)
        assert [c.lead_id for c in candidates if c.open_cancellation_at is not None] == follow
        assert [c.lead_id for c in candidates if c.status != "nurture" and c.open_cancellation_at is None] == book
        assert [(c.lead_id, c.next_checkin) for c in candidates if c.status == "nurture"] == checkins
        for c in candidates:
            lead = Lead.objects.get(pk=c.lead_id)
            assert lead.seller_id == seller.pk  # never another seller's
            assert (c.name, c.last_touch) == (lead.name, lead.last_touch_at)
            assert c.status == lead.status
            assert c.open_cancellation_at == (lead.open_cancellation_at if c.lead_id in follow else None)
