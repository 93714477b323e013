"""How leads, appointments, cancellations and messages look on the command line, as JSON and as text."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from rebook.strategy.reasons import CATEGORY_LABELS
from rebook.timeparse import human, human_span, iso


def lead_json(lead, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": lead.pk,
        "name": lead.name,
        "company": lead.company,
        "email": lead.email,
        "phone": lead.phone,
        "source": lead.source,
        "notes": lead.notes,
        "status": lead.status,
        "strikes": lead.strikes,
        "strike_limit": lead.seller.strike_limit,
        "qualified_at": iso(lead.qualified_at, tz),
        "qualifying_notes": lead.qualifying_notes,
        "nurture_since": iso(lead.nurture_since, tz),
        "nurture_reason": lead.nurture_reason or None,
        "timezone": lead.timezone or None,
        "unsubscribed_at": iso(lead.unsubscribed_at, tz),
        "created_at": iso(lead.created_at, tz),
    }


def appointment_json(a, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": a.pk,
        "lead_id": a.lead_id,
        "lead": a.lead.name,
        "start": iso(a.start, tz),
        "end": iso(a.end, tz),
        "timezone": a.timezone,
        "location": a.location,
        "status": a.status,
        "booked_by": a.booked_by,
        "booked_at": iso(a.booked_at, tz),
        "rescheduled_from": a.rescheduled_from_id,
        "channel": a.channel,
    }


def cancellation_json(c, tz: ZoneInfo, late_notice) -> dict[str, Any]:
    notice = c.appointment.start - c.at
    return {
        "cancellation_id": c.pk,
        "appointment_id": c.appointment_id,
        "lead_id": c.lead_id,
        "by": c.by,
        "kind": c.kind,
        "at": iso(c.at, tz),
        "notice_hours": round(notice.total_seconds() / 3600, 2),
        "late": c.by == "prospect" and notice < late_notice,
        "reason": c.reason,
        "category": c.category,
        "matched": c.matched or None,
        "suggested_valid": c.suggested_valid,
        "valid": c.valid,
        "judged_by_seller": c.valid_override is not None,
        "needs_review": c.needs_review,
        "strike": c.is_strike,
        "channel": c.channel,
    }


def message_json(m, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": m.pk,
        "lead_id": m.lead_id,
        "lead": m.lead.name,
        "kind": m.kind,
        "due": iso(m.due, tz),
        "status": m.status,
        "note": m.status_note or None,
        "appointment_id": m.appointment_id,
        "cancellation_id": m.cancellation_id,
        "attempts": m.attempts,
        "last_error": m.last_error or None,
        "sent_at": iso(m.sent_at, tz),
    }


def cancellation_line(c, tz: ZoneInfo, late_notice) -> str:
    notice = c.appointment.start - c.at
    who = "you" if c.by == "seller" else "the prospect"
    verb = {"cancel": "cancelled", "reschedule": "moved", "no_show": "did not show up for"}[c.kind]
    reason = f' "{c.reason}"' if c.reason else ""
    if c.kind == "no_show":
        head = f"the prospect {verb} appointment #{c.appointment_id}"
    else:
        late = " (late)" if c.by == "prospect" and notice < late_notice else ""
        head = f"{who} {verb} appointment #{c.appointment_id} with {human_span(notice)} notice{late}"
    validity = "valid" if c.valid else "not valid"
    judged = ", your judgement" if c.valid_override is not None else ""
    review = " - judge it: reason not recognised" if c.needs_review else ""
    strike = " - strike" if c.is_strike else ""
    link = " through the prospect's link" if c.channel == "self_service" else ""
    return f"cancellation #{c.pk}: {head}{link}{reason}; {CATEGORY_LABELS[c.category]}, {validity}{judged}{strike}{review}"


def when(instant, tz: ZoneInfo) -> str:
    return human(instant, tz)
