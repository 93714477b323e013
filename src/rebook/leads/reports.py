"""Reads for the reports page and the team view: counts, never message bodies.

Each figure is one or two aggregate queries, whatever the size of the history.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q

from rebook.leads.models import Appointment, Cancellation, Lead, Party
from rebook.sellers.models import Seller
from rebook.strategy.reasons import CATEGORY_LABELS, VALID_CATEGORIES


@dataclass(frozen=True)
class WeekCancellations:
    week: date
    valid: int
    not_valid: int

    @property
    def total(self) -> int:
        return self.valid + self.not_valid


@dataclass(frozen=True)
class ReasonCount:
    label: str
    count: int
    valid: bool


@dataclass(frozen=True)
class Funnel:
    booked: int
    held: int
    cancelled: int
    no_show: int
    still_ahead: int


@dataclass(frozen=True)
class WeekCoverage:
    week: date
    booked: int
    target: int


def week_start(moment: datetime, tz) -> date:
    local = moment.astimezone(tz).date()
    return local - timedelta(days=local.weekday())


def cancellations_per_week(*, seller: Seller, now: datetime, weeks: int = 12) -> list[WeekCancellations]:
    tz = seller.tz
    first = week_start(now, tz) - timedelta(weeks=weeks - 1)
    since = datetime.combine(first, time(0), tzinfo=tz)
    rows = Cancellation.objects.filter(seller=seller, by=Party.PROSPECT, at__gte=since).values_list(
        "at", "valid_override", "suggested_valid"
    )
    valid, not_valid = Counter(), Counter()
    for at, override, suggested in rows:
        (valid if (suggested if override is None else override) else not_valid)[week_start(at, tz)] += 1
    out = []
    for i in range(weeks):
        week = first + timedelta(weeks=i)
        out.append(WeekCancellations(week, valid[week], not_valid[week]))
    return out


def reason_counts(*, seller: Seller, since: datetime) -> list[ReasonCount]:
    rows = (
        Cancellation.objects.filter(seller=seller, by=Party.PROSPECT, at__gte=since)
        .values("category")
        .annotate(n=Count("id"))
        .order_by("-n", "category")
    )
    return [ReasonCount(CATEGORY_LABELS[r["category"]], r["n"], r["category"] in VALID_CATEGORIES) for r in rows]


def funnel(*, seller: Seller, since: datetime, now: datetime) -> Funnel:
    """What became of the meetings booked since ``since`` (a reschedule counts once, by its outcome)."""
    s = Appointment.Status
    counts = Appointment.objects.filter(seller=seller, booked_at__gte=since).aggregate(
        held=Count("id", filter=Q(status=s.HELD)),
        cancelled=Count("id", filter=Q(status=s.CANCELLED)),
        no_show=Count("id", filter=Q(status=s.NO_SHOW)),
        ahead=Count("id", filter=Q(status=s.SCHEDULED)),
    )
    booked = counts["held"] + counts["cancelled"] + counts["no_show"] + counts["ahead"]
    return Funnel(booked, counts["held"], counts["cancelled"], counts["no_show"], counts["ahead"])


def coverage(*, seller: Seller, now: datetime, weeks: int = 4) -> list[WeekCoverage]:
    tz = seller.tz
    first = week_start(now, tz)
    until = datetime.combine(first + timedelta(weeks=weeks), time(0), tzinfo=tz)
    starts = Appointment.objects.filter(
        seller=seller, status=Appointment.Status.SCHEDULED, start__gte=now, start__lt=until
    ).values_list("start", flat=True)
    per_week = Counter(week_start(start, tz) for start in starts)
    target = seller.weekly_meeting_target
    return [WeekCoverage(first + timedelta(weeks=i), per_week[first + timedelta(weeks=i)], target) for i in range(weeks)]


@dataclass(frozen=True)
class SellerFigures:
    seller: Seller
    leads: int
    active: int
    nurture: int
    meetings_next_7_days: int
    cancellations_30_days: int
    valid_30_days: int
    held_30_days: int


def team_figures(*, now: datetime) -> list[SellerFigures]:
    """Per seller: counts for a manager. Five queries for the whole team, each answered from an index."""
    sellers = list(Seller.objects.select_related("user").order_by("user__username"))
    # Grouped by (seller, status), which the (seller, status) index answers on its own.
    leads: dict[int, dict[str, int]] = {}
    for r in Lead.objects.values("seller", "status").annotate(n=Count("*")).order_by():  # *: index-only
        row = leads.setdefault(r["seller"], {"n": 0})
        row["n"] += r["n"]
        row[r["status"]] = r["n"]
    month = now - timedelta(days=30)
    # Two ranges of the (status, start, seller) index, each read from the index alone.
    ahead = dict(
        Appointment.objects.filter(status=Appointment.Status.SCHEDULED, start__gte=now, start__lt=now + timedelta(days=7))
        .values("seller").annotate(n=Count("seller")).values_list("seller", "n").order_by()
    )
    held = dict(
        Appointment.objects.filter(status=Appointment.Status.HELD, start__gte=month, start__lt=now)
        .values("seller").annotate(n=Count("seller")).values_list("seller", "n").order_by()
    )
    cancels = {
        r["seller"]: r
        for r in Cancellation.objects.filter(by=Party.PROSPECT, at__gte=month).values("seller").annotate(
            n=Count("seller"),  # a column of the index, so the count never reads the table
            valid=Count("seller", filter=Q(valid_override=True) | Q(valid_override__isnull=True, suggested_valid=True)),
        )
    }
    empty: dict = {}
    return [
        SellerFigures(
            seller=s,
            leads=leads.get(s.pk, empty).get("n", 0),
            active=leads.get(s.pk, empty).get(Lead.Status.ACTIVE, 0),
            nurture=leads.get(s.pk, empty).get(Lead.Status.NURTURE, 0),
            meetings_next_7_days=ahead.get(s.pk, 0),
            cancellations_30_days=cancels.get(s.pk, empty).get("n", 0),
            valid_30_days=cancels.get(s.pk, empty).get("valid", 0),
            held_30_days=held.get(s.pk, 0),
        )
        for s in sellers
    ]
