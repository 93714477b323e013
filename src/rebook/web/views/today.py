"""Today: the meetings ahead, cancellations that need action, messages to review, the pipeline, freed time."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import Min
from django.shortcuts import render

from rebook.cards.models import BusinessCard
from rebook.cards.services import any_card_sql
from rebook.forecast.services import model_by_id, model_id_sql, risks
from rebook.leads.models import Appointment, Cancellation, Lead, Party
from rebook.leads.selectors import cancellations_checklists, change_stamp, freed, freed_candidates, pipeline
from rebook.mailbox.models import Suggestion
from rebook.mailbox.services import any_pending_sql
from rebook.outbox.models import SELLER_NOTICE, PlannedMessage
from rebook.outbox.selectors import any_news_sql, waiting_sql
from rebook.reads import instances
from rebook.strategy.followups import FOLLOW_UP_WINDOW
from rebook.strategy.freed import freed_time
from rebook.web.views.base import now, seller_view

SHOWN = 10  # at most this many cancellations and freed slots on the page; the rest are a click away
WEEK_SHOWN = 5  # the rest of the week's meetings: the first few, and how many more
NEWS_FOR = timedelta(days=3)  # how long a prospect's action through a link stays at the top


@seller_view
def today(request):
    seller, moment = request.seller, now()
    tz = seller.tz
    midnight = datetime.combine(moment.astimezone(tz).date() + timedelta(days=1), time(0), tzinfo=tz)
    # Two weeks ahead, read once, with what the pipeline and the forecast weigh them by (a busy seller has
    # hundreds); the few the page shows are read in full below. Converting every column of every meeting
    # of the fortnight, with its lead's, was a third of the page's time at 400 meetings.
    fortnight = instances(Appointment.objects.filter(
        seller=seller, status=Appointment.Status.SCHEDULED, start__gte=moment - timedelta(hours=2),
        start__lt=moment + timedelta(days=14),
    ).order_by("start", "id"), ("id", "lead_id", "seller_id", "start", "status"))
    # What changes whenever the seller's leads or meetings do: the pipeline's counts and the meetings'
    # risks are kept while it stays the same (one query, read once for both). In the same query, what the
    # page's smaller parts need first: which risk model is the latest, the messages to review and those
    # that failed, and whether there is any business card, reply suggestion or note of a prospect's action
    # (most days there is none, and their lists are not read).
    row = change_stamp(seller, model_id_sql(seller), waiting_sql(seller, PlannedMessage.Status.REVIEW),
                       waiting_sql(seller, PlannedMessage.Status.FAILED), any_card_sql(seller),
                       any_pending_sql(seller), any_news_sql(seller, moment - NEWS_FOR))
    stamp, (model_id, review_count, failed_count, has_cards, has_suggestions, has_news) = row[:3], row[3:]
    model = model_by_id(model_id)
    forecast = risks(fortnight, seller, model, stamp=stamp) if model else {}
    for a in fortnight:
        a.risk_info = forecast.get(a.pk)
    upcoming = [a for a in fortnight if a.start < moment + timedelta(days=7)]
    at_risk = [a for a in upcoming if a.risk_info and a.risk_info.probability >= seller.risk_confirm_threshold
               and a.start > moment][:3]
    today_ids = [a.pk for a in upcoming if a.start < midnight]
    week = [a for a in upcoming if a.start >= midnight]
    shown = _full(seller, {*today_ids, *(a.pk for a in week[:WEEK_SHOWN]), *(a.pk for a in at_risk)}, forecast)
    recent = list(
        Cancellation.objects.filter(seller=seller, by=Party.PROSPECT, at__gte=moment - FOLLOW_UP_WINDOW)
        .select_related("lead", "appointment")
        .order_by("-at")[:SHOWN]
    )
    for c in recent:
        c.lead.seller = seller  # the leads' seller is this one: not read again with every row
    needing_action = []
    checklists = cancellations_checklists(recent)
    for c in recent:
        steps = checklists[c.pk]
        open_steps = [s for s, _ in steps if not s.done and not s.skipped]
        if open_steps or c.needs_review:
            counted = [s for s, _ in steps if not s.skipped]
            needing_action.append({"cancellation": c, "steps": steps, "open": len(open_steps), "total": len(counted),
                                   "done": sum(1 for s in counted if s.done)})
    at_risk = [shown[a.pk] for a in at_risk]
    opened = Appointment.objects.filter(
        seller=seller, status__in=[Appointment.Status.CANCELLED, Appointment.Status.RESCHEDULED], start__gt=moment
    ).select_related("lead").order_by("start")[:3]
    opened = list(opened)
    for a in opened:
        a.lead.seller = seller
    ends = [a.end for a in opened + at_risk]
    candidates = freed_candidates(seller=seller, now=moment, until=max(ends)) if ends else []
    freed_slots = [
        {"appointment": a, "suggestions": freed(appointment=a, now=moment, candidates=candidates)[:3]} for a in opened
    ]
    # A meeting likely to fall through: its slot, offered ahead of time to a lead who is waiting.
    risky_slots = [{"appointment": a, "suggestions": freed_time([c for c in candidates if c.lead_id != a.lead_id],
                                                                a.end, moment)[:1]} for a in at_risk]
    return render(request, "web/today.html", {
        "today": [shown[pk] for pk in today_ids],
        "week": [shown[a.pk] for a in week[:WEEK_SHOWN]],
        "week_more": max(0, len(week) - WEEK_SHOWN),
        "needing_action": needing_action,
        "review_count": review_count,
        "failed_count": failed_count,
        "pipeline": pipeline(seller=seller, now=moment, stamp=stamp, fortnight=fortnight, forecast=(
            lambda appointments: {a.pk: forecast[a.pk].probability for a in appointments if a.pk in forecast})
            if forecast else None),
        "freed": freed_slots,
        "risky": risky_slots,
        # Leads from business cards not yet contacted, oldest card first: the follow-up call.
        # From the cards (few) to their leads, rather than through every lead of the seller.
        "cards_to_call": list(
            Lead.objects.filter(pk__in=BusinessCard.objects.filter(lead__seller=seller).values("lead_id"),
                                activities__isnull=True, appointments__isnull=True)
            .only("id", "name", "company", "source", "phone")  # what the page shows
            .annotate(first_card=Min("cards__created_at")).order_by("first_card", "id")[:5]
        ) if has_cards else [],
        "suggestions": list(Suggestion.objects.filter(seller=seller, status=Suggestion.Status.PENDING)
                            .select_related("lead", "appointment").order_by("-received_at")[:SHOWN])
        if has_suggestions else [],
        # What prospects did through their links lately, newest first: the notes sent to the seller.
        "prospect_news": list(PlannedMessage.objects.filter(
            seller=seller, kind=SELLER_NOTICE, created_at__gte=moment - NEWS_FOR)
            .only("id", "lead_id", "subject", "created_at").order_by("-created_at", "-id")[:5]) if has_news else [],
    })


def _full(seller, ids: set[int], forecast: dict) -> dict[int, Appointment]:
    """The meetings the page shows, by id, with the columns it shows and their leads' names."""
    if not ids:
        return {}
    rows = instances(Appointment.objects.filter(seller=seller, pk__in=ids), (
        "id", "lead_id", "seller_id", "start", "end", "status", "location", "title", "booked_at", "booked_by",
        "chain", "risk"), lead=("id", "name", "seller_id", "status"))
    for a in rows:
        a.risk_info = forecast.get(a.pk)
    return {a.pk: a for a in rows}
