"""rebook appt ..., rebook cancellation ..., rebook checklist, rebook freed"""

from __future__ import annotations

from datetime import datetime

import click

from rebook.cli import cli
from rebook.cli.base import Ctx, Result, parse_id, seller_command, table
from rebook.cli.present import appointment_json, cancellation_json, cancellation_line, message_json, when
from rebook.errors import RebookError
from rebook.timeparse import iso


@cli.group("appt")
def appt_group() -> None:
    """Appointments: book, cancel, reschedule, and record what happened."""


def _outcome(ctx: Ctx, cancellation, **extra) -> Result:
    """What cancel, reschedule and no-show print: the cancellation, the strikes, what was planned."""
    from rebook.leads.models import Lead
    from rebook.strategy.reasons import CATEGORY_LABELS

    lead = Lead.objects.select_related("seller").get(pk=cancellation.lead_id)
    policy = ctx.seller.policy
    planned = list(lead.messages.filter(status__in=["review", "scheduled"]).select_related("lead").order_by("due", "id"))
    data = cancellation_json(cancellation, ctx.tz, policy.late_notice) | {
        "strikes": lead.strikes,
        "strike_limit": policy.strike_limit,
        "lead_status": lead.status,
        "planned_messages": [message_json(m, ctx.tz) for m in planned],
        **extra,
    }
    if lead.status == "nurture":
        why = "not interested" if lead.nurture_reason == "not_interested" else f"strike {lead.strikes} of {policy.strike_limit}"
        verdict = f"{why}: {lead.name} moved to the nurture list; pending messages withdrawn, a polite note planned."
    else:
        verdict = f"{lead.name}: {lead.strikes} of {policy.strike_limit} strikes; status {lead.status}."
    lines = [
        cancellation_line(cancellation, ctx.tz, policy.late_notice),
        f"Reason: {CATEGORY_LABELS[cancellation.category]}"
        + (f' (matched "{cancellation.matched}")' if cancellation.matched else "")
        + ("; judge it with rebook cancellation judge" if cancellation.needs_review else ""),
        verdict,
        *(f"Planned: #{m.pk} {m.kind} due {when(m.due, ctx.tz)} [{m.status}]" for m in planned),
    ]
    return Result(data, "\n".join(lines))


def _appointment(ctx: Ctx, raw_id: str):
    from rebook.leads.selectors import appointment_get

    return appointment_get(seller=ctx.seller, appointment_id=parse_id(raw_id, "APPT_ID"))


@seller_command(appt_group, "book")
@click.argument("lead_id")
@click.option("--at", "at_text", required=True, metavar="TIME", help="When it starts; a past time logs a meeting that already happened.")
@click.option("--duration", default="45m", show_default=True, help="e.g. 30m, 1h, 1h30m.")
@click.option("--end", "end_text", metavar="TIME", help="When it ends (instead of --duration).")
@click.option("--where", default="", help="Location or meeting link.")
@click.option("--by", type=click.Choice(["seller", "prospect"]), default="seller", show_default=True,
              help="Who proposed the meeting.")
def appt_book(ctx: Ctx, lead_id, at_text, duration, end_text, where, by) -> Result:
    """Book an appointment and print its id (`--json`: `id`, `lead_id`, `start`, `end`, `status`, ..., `clashes`). A
    past `--at` logs a meeting that already happened. `--by` says who proposed it. A time that overlaps an event in
    your connected calendars is booked, with a note naming it (`clashes`: "Team meeting 10:00-11:00").
    """
    from rebook.calendars.busy import clashes
    from rebook.leads.selectors import lead_get
    from rebook.leads.services import appointment_book
    from rebook.strategy.durations import parse_duration
    from rebook.strategy.limits import MAX_MEETING

    lead = lead_get(seller=ctx.seller, lead_id=parse_id(lead_id, "LEAD_ID"))
    start = ctx.time(at_text, "--at")
    end = ctx.time(end_text, "--end") if end_text else start + parse_duration(duration, what="--duration", maximum=MAX_MEETING)
    appt = appointment_book(lead=lead, start=start, end=end, location=where, booked_by=by)
    found = clashes(ctx.seller, appt.start, appt.end)
    warning = f"\nNote: it clashes with {'; '.join(found)} in your calendar." if found else ""
    return Result({**appointment_json(appt, ctx.tz), "clashes": found}, str(appt.pk) + warning)


@seller_command(appt_group, "cancel")
@click.argument("appt_id")
@click.option("--by", type=click.Choice(["prospect", "seller"]), required=True, help="Who called it off.")
@click.option("--reason", default="", help="What they said; it is classified, and you can overrule it.")
@click.option("--valid/--not-valid", default=None, help="Your judgement of the reason (default: the suggestion).")
@click.option("--at", "at_text", metavar="TIME", help="When it was called off (default: now); notice runs from then.")
def appt_cancel(ctx: Ctx, appt_id, by, reason, valid, at_text) -> Result:
    """Record a cancellation and apply the strategy. `--at` is when it was called off (default: now); the notice runs
    from then to the start. Prints the classification and what was planned; `--json` gives `cancellation_id`,
    `appointment_id`, `category`, `suggested_valid`, `valid`, `needs_review`, `late`, `notice_hours`, `strike`,
    `strikes`, `strike_limit`, `lead_status` and `planned_messages`.
    """
    from rebook.leads.services import appointment_cancel

    appt = _appointment(ctx, appt_id)
    at = ctx.time(at_text, "--at") if at_text else None
    cancellation = appointment_cancel(appointment=appt, by=by, reason=reason, valid=valid, at=at)
    return _outcome(ctx, cancellation)


@seller_command(appt_group, "reschedule")
@click.argument("appt_id")
@click.option("--to", "to_text", required=True, metavar="TIME", help="The new start time.")
@click.option("--by", type=click.Choice(["prospect", "seller"]), required=True, help="Who asked to move it.")
@click.option("--reason", default="", help="Why it moved, if they said; it is classified, and you can overrule it.")
@click.option("--valid/--not-valid", default=None, help="Your judgement of the reason (default: the suggestion).")
@click.option("--at", "at_text", metavar="TIME", help="When it was moved (default: now).")
def appt_reschedule(ctx: Ctx, appt_id, to_text, by, reason, valid, at_text) -> Result:
    """Move a meeting. The old row becomes `rescheduled` and a new appointment is booked at the new time. A prospect's
    reschedule counts as a cancellation. Prints what `appt cancel` prints, plus `appointment_id` (the new
    appointment, or null if the lead just moved to nurture) and `previous_appointment_id`; a move by the seller onto
    a busy time of your calendars says so (`new_appointment.clashes`).
    """
    from rebook.calendars.busy import clashes
    from rebook.leads.services import appointment_reschedule

    appt = _appointment(ctx, appt_id)
    to = ctx.time(to_text, "--to")
    at = ctx.time(at_text, "--at") if at_text else None
    cancellation, moved = appointment_reschedule(appointment=appt, to=to, by=by, reason=reason, valid=valid, at=at)
    result = _outcome(
        ctx, cancellation, appointment_id=moved.pk if moved else None, previous_appointment_id=appt.pk,
        new_appointment=appointment_json(moved, ctx.tz) if moved else None,
    )
    if moved:
        result.text += f"\nNew appointment #{moved.pk} at {when(moved.start, ctx.tz)}"
        found = clashes(ctx.seller, moved.start, moved.end) if by == "seller" else []
        result.data["new_appointment"]["clashes"] = found
        if found:
            result.text += f"\nNote: it clashes with {'; '.join(found)} in your calendar."
    else:
        result.text += "\nThe new time was not booked: the lead is on the nurture list."
    return result


@seller_command(appt_group, "held")
@click.argument("appt_id")
def appt_held(ctx: Ctx, appt_id) -> Result:
    """Record that the meeting took place. This is only possible once its start has passed."""
    from rebook.leads.services import appointment_mark_held

    appt = appointment_mark_held(appointment=_appointment(ctx, appt_id))
    return Result(appointment_json(appt, ctx.tz), f"Appointment {appt.pk} held")


@seller_command(appt_group, "no-show")
@click.argument("appt_id")
def appt_no_show(ctx: Ctx, appt_id) -> Result:
    """Record that the prospect did not come. Only possible once the start has passed. Prints what `appt cancel`
    prints.
    """
    from rebook.leads.services import appointment_mark_no_show

    return _outcome(ctx, appointment_mark_no_show(appointment=_appointment(ctx, appt_id)))


@seller_command(appt_group, "list")
@click.option("--lead", "lead_id", help="Only this lead's appointments.")
@click.option("--status", help="scheduled, cancelled, rescheduled, held or no_show.")
def appt_list(ctx: Ctx, lead_id, status) -> Result:
    """List appointments, by start time."""
    from rebook.leads.selectors import appointment_list

    appts = list(
        appointment_list(
            seller=ctx.seller, lead_id=parse_id(lead_id, "--lead") if lead_id else None, status=status
        )
    )
    from rebook.forecast.services import risks

    now = ctx.now()
    found = risks([a for a in appts if a.status == "scheduled" and a.start > now], ctx.seller)
    rows = [[str(a.pk), when(a.start, ctx.tz), a.lead.name, a.status, a.location, str(found.get(a.pk) or "")]
            for a in appts]
    data = [appointment_json(a, ctx.tz) | {"risk": found[a.pk].as_dict() if a.pk in found else None} for a in appts]
    return Result(data, table(rows, ["ID", "START", "LEAD", "STATUS", "WHERE", "RISK"]))


@seller_command(appt_group, "links")
@click.argument("appt_id")
def appt_links(ctx: Ctx, appt_id) -> Result:
    """The prospect's links for a meeting, exactly as the messages carry them: `manage` (to move or cancel it) and,
    after a cancellation, `slots` (each offered time with its own link, listed before the offer is sent) and `more`
    (a page of more times). See "What the prospect sees".
    """
    from rebook.prospects.links import links_for

    appointment = _appointment(ctx, appt_id)
    links = links_for(appointment, ctx.now())
    lines = [f"Move or cancel: {links['manage']}"]
    lines += [f"{when(datetime.fromisoformat(s['start']), ctx.tz)}: {s['url']}" for s in links["slots"]]
    if links["more"]:
        lines.append(f"More times: {links['more']}")
    if not ctx.seller.self_service:
        lines.append("Note: self_service is off in your policy, so these pages only say to contact you.")
    return Result(links | {"self_service": ctx.seller.self_service}, "\n".join(lines))


@cli.group("cancellation")
def cancellation_group() -> None:
    """Cancellations: judge whether a reason was valid."""


@seller_command(cancellation_group, "judge")
@click.argument("cancellation_id")
@click.option("--valid/--not-valid", default=None, help="Your judgement: it wins over the suggestion.")
def cancellation_judge_command(ctx: Ctx, cancellation_id, valid) -> Result:
    """Your word on a reason's validity. Strikes, status, messages and checklists are recomputed (a lead can come back
    from nurture).
    """
    from rebook.leads.selectors import cancellation_get
    from rebook.leads.services import cancellation_judge

    if valid is None:
        raise RebookError("say --valid or --not-valid")
    c = cancellation_get(seller=ctx.seller, cancellation_id=parse_id(cancellation_id, "CANCELLATION_ID"))
    return _outcome(ctx, cancellation_judge(cancellation=c, valid=valid))


@seller_command(cancellation_group, "list")
@click.option("--needs-review", is_flag=True, help="Only those whose reason was not recognised and not yet judged.")
def cancellation_list(ctx: Ctx, needs_review) -> Result:
    """List cancellations, newest first; `--needs-review` shows only unrecognised reasons you have not judged yet."""
    from rebook.leads.models import Cancellation

    rows = Cancellation.objects.filter(seller=ctx.seller).select_related("appointment", "lead").order_by("-at", "-id")
    if needs_review:
        rows = rows.filter(category="unknown", valid_override__isnull=True)
    late = ctx.seller.policy.late_notice
    items = list(rows)
    text = "\n".join(f"{c.lead.name}: {cancellation_line(c, ctx.tz, late)}" for c in items) or "(none)"
    return Result([cancellation_json(c, ctx.tz, late) | {"lead": c.lead.name} for c in items], text)


@seller_command(cli, "checklist")
@click.argument("appt_id")
@click.option("--tick", "tick", metavar="STEP", multiple=True, help="Mark a step done (repeatable).")
@click.option("--untick", "untick", metavar="STEP", multiple=True, help="Mark a step not done.")
def checklist_command(ctx: Ctx, appt_id, tick, untick) -> Result:
    """The checklist for a prospect's cancellation. The steps are `respond`, `reason`, `offer_times`, `send_info`,
    `reuse_time`, `confirm`, `nurture` and `pipeline`. Rebook ticks the steps it does itself (`reason`,
    `offer_times`, `send_info`, `confirm`, `nurture`) when the facts show they are done; you tick the rest. A step
    that does not apply says why.
    """
    from rebook.leads.selectors import cancellation_checklist
    from rebook.leads.services import checklist_tick

    appt = _appointment(ctx, appt_id)
    from rebook.leads.models import Cancellation

    cancellation = Cancellation.objects.filter(appointment=appt).select_related("lead__seller").first()
    if cancellation is None:
        raise RebookError(f"appointment {appt.pk} has not been cancelled, moved or missed; it has no checklist")
    for step in tick:
        checklist_tick(cancellation=cancellation, step=step, done=True)
    for step in untick:
        checklist_tick(cancellation=cancellation, step=step, done=False)
    steps = cancellation_checklist(cancellation)
    data = {
        "appointment_id": appt.pk,
        "cancellation_id": cancellation.pk,
        "steps": [
            {
                "step": s.key, "title": s.title, "done": s.done, "who": s.done_by,
                "done_by": item.done_by if item and item.done_at else None,
                "done_at": iso(item.done_at, ctx.tz) if item else None,
                "skipped": s.skipped,
            }
            for s, item in steps
        ],
    }
    lines = [f"Checklist for appointment #{appt.pk} ({appt.lead.name}):"]
    for s, item in steps:
        mark = "[x]" if s.done else "[-]" if s.skipped else "[ ]"
        note = f" (not needed: {s.skipped})" if s.skipped else ""
        who = f" - done by {'Rebook' if item and item.done_by == 'system' else 'you'}" if s.done else ""
        lines.append(f"  {mark} {s.key:<12} {s.title}{who}{note}")
    return Result(data, "\n".join(lines))


@seller_command(cli, "freed")
@click.argument("appt_id")
def freed_command(ctx: Ctx, appt_id) -> Result:
    """For a cancelled or moved future appointment, a ranked list of what to do with the slot. First come overdue
    follow-ups (leads who cancelled two or more days ago, have not been rebooked and have had no contact since),
    then nurture check-ins due within a week, then qualified, active and new leads with nothing booked (the warmest
    first).
    """
    from rebook.leads.selectors import freed

    appt = _appointment(ctx, appt_id)
    suggestions = freed(appointment=appt, now=ctx.now())
    data = {
        "appointment_id": appt.pk,
        "slot": {"start": iso(appt.start, ctx.tz), "end": iso(appt.end, ctx.tz)},
        "suggestions": [
            {"rank": i, "lead_id": s.lead_id, "lead": s.name, "action": s.action, "reason": s.reason}
            for i, s in enumerate(suggestions, 1)
        ],
    }
    lines = [f"The slot {when(appt.start, ctx.tz)} is free. Best uses:"]
    lines += [f"  {i}. {s.name} (#{s.lead_id}): {s.reason}" for i, s in enumerate(suggestions, 1)]
    if not suggestions:
        lines.append("  Nothing urgent: prospect for new leads, or prepare for your next meetings.")
    return Result(data, "\n".join(lines))
