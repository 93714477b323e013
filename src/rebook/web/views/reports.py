"""Reports as charts (inline SVG, drawn on the server), and the team view for managers."""

from __future__ import annotations

from datetime import timedelta

from django.http import Http404
from django.shortcuts import render

from rebook.leads import reports
from rebook.web.views.base import now, seller_view


@seller_view
def report(request):
    seller, moment = request.seller, now()
    weeks = reports.cancellations_per_week(seller=seller, now=moment)
    since = moment - timedelta(days=90)
    reasons = reports.reason_counts(seller=seller, since=since)
    funnel = reports.funnel(seller=seller, since=since, now=moment)
    cover = reports.coverage(seller=seller, now=moment)
    top = max([w.total for w in weeks] + [1])
    week_bars = []
    for i, w in enumerate(weeks):
        valid_h, not_valid_h = 100 * w.valid / top, 100 * w.not_valid / top
        week_bars.append({
            "w": w, "x": i * 20 + 2, "label_x": i * 20 + 10,
            "valid_y": 100 - valid_h, "valid_h": valid_h,
            "not_valid_y": 100 - valid_h - not_valid_h, "not_valid_h": not_valid_h,
        })
    reason_top = max([r.count for r in reasons] + [1])
    cover_top = max([c.booked for c in cover] + [c.target for c in cover] + [1])
    return render(request, "web/reports.html", {
        "weeks": week_bars,
        "reasons": [{"r": r, "pct": 100 * r.count / reason_top} for r in reasons],
        "funnel": [
            {"label": label, "n": n, "pct": 100 * n / max(funnel.booked, 1)}
            for label, n in (("Booked", funnel.booked), ("Held", funnel.held), ("Cancelled or moved", funnel.cancelled),
                             ("No-show", funnel.no_show), ("Still ahead", funnel.still_ahead))
        ],
        "cover": [
            {"c": c, "x": i * 50 + 10, "label_x": i * 50 + 25, "y": 100 - 100 * c.booked / cover_top,
             "h": 100 * c.booked / cover_top}
            for i, c in enumerate(cover)
        ],
        "target_y": 100 - 100 * seller.weekly_meeting_target / cover_top,
        "target": seller.weekly_meeting_target,
    })


@seller_view
def team(request):
    if not request.seller.is_manager:
        raise Http404("only managers see the team")
    return render(request, "web/team.html", {"rows": reports.team_figures(now=now())})
