"""rebook init, rebook user ..., rebook lead ..."""

from __future__ import annotations

import click

from rebook.cli import cli
from rebook.cli.base import (
    Ctx,
    Result,
    json_option,
    parse_id,
    run_guarded,
    seller_command,
    setup_django,
    table,
    user_option,
)
from rebook.cli.present import appointment_json, cancellation_json, cancellation_line, lead_json, message_json, when
from rebook.errors import RebookError
from rebook.timeparse import iso


def _seller_json(seller) -> dict:
    return {
        "username": seller.username,
        "name": seller.name,
        "emails": seller.emails,
        "timezone": seller.timezone,
        "manager": seller.is_manager,
        "can_sign_in": seller.user.has_usable_password(),
    }


@cli.command("init")
@click.option("--name", help="Your name, as prospects see it.")
@click.option("--email", help="Your e-mail address(es), comma-separated: they tell you from the prospect in calendar files.")
@click.option("--timezone", "timezone_name", metavar="TZ", help="Your IANA time zone, e.g. Europe/London.")
@json_option
@user_option
def init_command(name, email, timezone_name, as_json, username) -> None:
    """Create the database, migrate it, and create or update the first seller (or the one named by `--user`).
    `--email` takes one or more comma-separated addresses; they tell you from the prospect in imported calendar
    files. `--timezone` takes an IANA name; the default is the machine's own zone or `REBOOK_TIMEZONE`. Optional:
    every other command migrates and creates a default seller (named after your login) on first use.
    """

    def body() -> Result:
        setup_django()
        from django.conf import settings

        from rebook.sellers.models import Seller
        from rebook.sellers.services import seller_create, seller_resolve, seller_update

        wanted = username or settings.REBOOK_USER or None
        if wanted and not Seller.objects.filter(user__username=wanted).exists():
            seller = seller_create(username=wanted, display_name=name or "", email=email or "", timezone_name=timezone_name)
        else:
            seller = seller_update(
                seller=seller_resolve(wanted), display_name=name, email=email, timezone_name=timezone_name
            )
        db = settings.DATABASES["default"]
        where = db["NAME"] if db["ENGINE"].endswith("sqlite3") else f"{db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}"
        data = {"seller": _seller_json(seller), "database": str(where)}
        text = f"Ready: seller {seller.username} ({seller.name}, {seller.timezone}); database {where}"
        return Result(data, text)

    run_guarded(body, as_json)


@cli.group("user")
def user_group() -> None:
    """Sellers who use this Rebook."""


@user_group.command("add")
@click.argument("new_username", metavar="USERNAME")
@click.option("--name", default="", help="Display name.")
@click.option("--email", default="", help="E-mail address(es), comma-separated.")
@click.option("--timezone", "timezone_name", metavar="TZ", help="IANA time zone (default: this machine's).")
@click.option("--manager", is_flag=True, help="May see the whole team's figures in the web app.")
@json_option
def user_add(new_username, name, email, timezone_name, manager, as_json) -> None:
    """Add a seller. The password for the web app comes from `REBOOK_PASSWORD` (it must be at least 8 characters and
    not a common one). `--manager` lets them see the team's figures. Without `--timezone` (and `REBOOK_TIMEZONE`),
    the machine's zone is a guess, and every page of the web app asks them to choose theirs on Settings.
    """

    def body() -> Result:
        import os

        setup_django()
        from rebook.sellers.services import seller_create

        seller = seller_create(
            username=new_username, display_name=name, email=email, timezone_name=timezone_name,
            password=os.environ.get("REBOOK_PASSWORD") or None, is_manager=manager,
        )
        return Result(_seller_json(seller), f"Added seller {seller.username}")

    run_guarded(body, as_json)


@user_group.command("password")
@click.argument("username")
@json_option
def user_password(username, as_json) -> None:
    """Set a seller's password for the web app, from `REBOOK_PASSWORD` or asked on the terminal."""

    def body() -> Result:
        import os

        setup_django()
        from rebook.sellers.services import seller_resolve, seller_set_password

        seller = seller_resolve(username)
        password = os.environ.get("REBOOK_PASSWORD") or click.prompt(
            f"New password for {seller.username}", hide_input=True, confirmation_prompt=True, err=True
        )
        seller_set_password(seller=seller, password=password)
        return Result(_seller_json(seller), f"Set the password of {seller.username}")

    run_guarded(body, as_json)


@user_group.command("list")
@json_option
def user_list(as_json) -> None:
    """List the sellers."""

    def body() -> Result:
        setup_django()
        from rebook.sellers.models import Seller

        sellers = list(Seller.objects.select_related("user").order_by("user__username"))
        rows = [[s.username, s.name, ", ".join(s.emails), s.timezone] for s in sellers]
        return Result([_seller_json(s) for s in sellers], table(rows, ["USERNAME", "NAME", "EMAILS", "TIMEZONE"]))

    run_guarded(body, as_json)


@cli.group("lead")
def lead_group() -> None:
    """Leads: the people you are trying to meet."""


@seller_command(lead_group, "add")
@click.argument("name")
@click.option("--email", default="", help="Their e-mail address (checked; messages go there).")
@click.option("--phone", default="", help="Their phone number (one without a +country code is read in your region).")
@click.option("--company", default="", help="Their company.")
@click.option("--source", default="", help="Where you met, e.g. 'Chamber of Commerce mixer'.")
@click.option("--notes", default="", help="Anything to remember about them.")
@click.option("--timezone", "timezone_name", default="", metavar="TZ", help="The lead's IANA time zone (default: yours).")
def lead_add(ctx: Ctx, name, email, phone, company, source, notes, timezone_name) -> Result:
    """Add a lead and print its id (`--json`: the lead, with `id`, `name`, `email`, `status`, `strikes`). `--source`
    records where you met. `--timezone` is the lead's IANA zone, for the times in their messages and their quiet
    hours (default: yours).
    """
    from rebook.leads.services import lead_create

    lead = lead_create(
        seller=ctx.seller, name=name, email=email, phone=phone, company=company, source=source, notes=notes,
        timezone_name=timezone_name,
    )
    return Result(lead_json(lead, ctx.tz), str(lead.pk))


@seller_command(lead_group, "list")
@click.option("--status", help="new, qualified, active, nurture, won, lost or do_not_contact.")
def lead_list_command(ctx: Ctx, status) -> Result:
    """List leads, optionally only those with status `new`, `qualified`, `active`, `nurture`, `won`, `lost` or
    `do_not_contact`.
    """
    from rebook.leads.selectors import lead_list

    leads = list(lead_list(seller=ctx.seller, status=status).select_related("seller"))
    rows = [[str(x.pk), x.name, x.company, x.status, f"{x.strikes}/{ctx.seller.strike_limit}", x.email] for x in leads]
    return Result([lead_json(x, ctx.tz) for x in leads], table(rows, ["ID", "NAME", "COMPANY", "STATUS", "STRIKES", "EMAIL"]))


@seller_command(lead_group, "show")
@click.argument("lead_id")
def lead_show(ctx: Ctx, lead_id) -> Result:
    """Show the lead's details, strikes, the interest balance (a number from -1, all the interest is yours, to +1, all
    theirs, and a plain sentence), next steps, and its appointments, cancellations, contacts and messages.
    """
    from rebook.leads.selectors import lead_get, lead_history, lead_interest, lead_next_steps

    lead = lead_get(seller=ctx.seller, lead_id=parse_id(lead_id, "LEAD_ID"))
    loaded = lead_history(lead)
    interest = lead_interest(lead, loaded)
    messages = list(lead.messages.select_related("lead").order_by("due", "id"))
    steps = lead_next_steps(lead, loaded, messages, ctx.now())
    late = ctx.seller.policy.late_notice
    for a in loaded.appointments:
        a.lead = lead
    data = lead_json(lead, ctx.tz) | {
        "interest": {"balance": interest.balance, "verdict": interest.verdict, "sentence": interest.sentence},
        "next_steps": steps,
        "appointments": [appointment_json(a, ctx.tz) for a in loaded.appointments],
        "cancellations": [cancellation_json(c, ctx.tz, late) for c in loaded.cancellations],
        "contacts": [
            {"id": a.pk, "kind": a.kind, "direction": a.direction, "at": iso(a.at, ctx.tz), "notes": a.notes}
            for a in loaded.activities
        ],
        "messages": [message_json(m, ctx.tz) for m in messages],
    }
    lines = [
        f"{lead.name} (#{lead.pk}) - {lead.status}, {lead.strikes} of {ctx.seller.strike_limit} strikes",
        *(f"  {label}: {value}" for label, value in (
            ("Company", lead.company), ("Email", lead.email), ("Phone", lead.phone),
            ("Source", lead.source), ("Notes", lead.notes), ("Qualifying notes", lead.qualifying_notes),
        ) if value),
        f"  Interest: {interest.sentence} (balance {interest.balance:+.2f})",
        "",
        "Next steps:",
        *(f"  - {s}" for s in steps or ["nothing pressing"]),
        "",
        "Appointments:",
        *(f"  #{a.pk} {when(a.start, ctx.tz)} - {a.status}" + (f" at {a.location}" if a.location else "")
          + (" (booked through the prospect's link)" if a.channel == "self_service" else "")
          for a in loaded.appointments),
        "",
        "Cancellations:",
        *(f"  {cancellation_line(c, ctx.tz, late)}" for c in loaded.cancellations),
        "",
        "Contacts:",
        *(f"  {when(a.at, ctx.tz)} {a.direction} {a.kind}" + (f": {a.notes}" if a.notes else "") for a in loaded.activities),
        "",
        "Messages:",
        *(f"  #{m.pk} {m.kind} due {when(m.due, ctx.tz)} - {m.status}" + (f" ({m.status_note})" if m.status_note else "")
          for m in messages),
    ]
    return Result(data, "\n".join(lines))


@seller_command(lead_group, "edit")
@click.argument("lead_id")
@click.option("--name", help="A new name.")
@click.option("--email", help="A new e-mail address (\"\" removes it).")
@click.option("--phone", help="A new phone (\"\" removes it).")
@click.option("--company", help="A new company (\"\" removes it).")
@click.option("--source", help="Where you met (\"\" removes it).")
@click.option("--notes", help="New notes; they replace the old ones.")
@click.option("--timezone", metavar="TZ", help='The lead\'s IANA time zone; "" for yours.')
def lead_edit(ctx: Ctx, lead_id, **fields) -> Result:
    """Change a lead's details (`--timezone ""` goes back to yours)."""
    from rebook.leads.selectors import lead_get
    from rebook.leads.services import lead_update

    changes = {k: v for k, v in fields.items() if v is not None}
    if not changes:
        raise RebookError("nothing to change: give at least one of --name, --email, --phone, --company, --source, --notes, --timezone")
    lead = lead_update(lead=lead_get(seller=ctx.seller, lead_id=parse_id(lead_id, "LEAD_ID")), **changes)
    return Result(lead_json(lead, ctx.tz), f"Updated lead {lead.pk}")


@seller_command(lead_group, "qualify")
@click.argument("lead_id")
@click.option("--notes", default="", help="Answers to your qualifying questions, kept with the lead.")
def lead_qualify_command(ctx: Ctx, lead_id, notes) -> Result:
    """Mark the lead qualified, keeping `--notes` (the answers to your qualifying questions)."""
    from rebook.leads.selectors import lead_get
    from rebook.leads.services import lead_qualify

    lead = lead_qualify(lead=lead_get(seller=ctx.seller, lead_id=parse_id(lead_id, "LEAD_ID")), notes=notes)
    return Result(lead_json(lead, ctx.tz), f"Lead {lead.pk} qualified; status {lead.status}")


@seller_command(lead_group, "reactivate")
@click.argument("lead_id")
def lead_reactivate_command(ctx: Ctx, lead_id) -> Result:
    """Bring a nurture or lost lead back with a clean slate."""
    from rebook.leads.selectors import lead_get
    from rebook.leads.services import lead_reactivate

    lead = lead_reactivate(lead=lead_get(seller=ctx.seller, lead_id=parse_id(lead_id, "LEAD_ID")))
    return Result(lead_json(lead, ctx.tz), f"Lead {lead.pk} reactivated; status {lead.status}")


@seller_command(lead_group, "not-interested")
@click.argument("lead_id")
@click.option("--reason", default="", help="What they said, kept with the cancelled meetings.")
def lead_not_interested_command(ctx: Ctx, lead_id, reason) -> Result:
    """End pursuit at once, kindly. Future meetings are called off, the lead moves to nurture, pending messages are
    withdrawn, and a polite note and check-ins are planned.
    """
    from rebook.leads.selectors import lead_get
    from rebook.leads.services import lead_not_interested

    lead = lead_not_interested(lead=lead_get(seller=ctx.seller, lead_id=parse_id(lead_id, "LEAD_ID")), reason=reason)
    return Result(
        lead_json(lead, ctx.tz),
        f"Lead {lead.pk} moved to the nurture list; planned messages withdrawn and a polite note planned.",
    )


@seller_command(lead_group, "set-status")
@click.argument("lead_id")
@click.argument("status", type=click.Choice(["won", "lost", "do_not_contact"]))
def lead_set_status_command(ctx: Ctx, lead_id, status) -> Result:
    """Mark the outcome. Nothing more is planned for the lead."""
    from rebook.leads.selectors import lead_get
    from rebook.leads.services import lead_set_status

    lead = lead_set_status(lead=lead_get(seller=ctx.seller, lead_id=parse_id(lead_id, "LEAD_ID")), status=status)
    return Result(lead_json(lead, ctx.tz), f"Lead {lead.pk} is now {lead.status}")


@seller_command(lead_group, "log")
@click.argument("lead_id")
@click.option("--kind", type=click.Choice(["call", "email", "text", "meeting", "note"]), default="call", show_default=True, help="How you were in touch.")
@click.option("--direction", type=click.Choice(["outbound", "inbound"]), default="outbound", show_default=True,
              help="outbound: you reached out; inbound: they did.")
@click.option("--at", "at_text", metavar="TIME", help="When it happened (default: now).")
@click.option("--notes", default="", help="What was said.")
def lead_log(ctx: Ctx, lead_id, kind, direction, at_text, notes) -> Result:
    """Log a contact. Contacts feed the interest balance (`outbound`: you reached out; `inbound`: they did)."""
    from rebook.leads.selectors import lead_get
    from rebook.leads.services import activity_log

    lead = lead_get(seller=ctx.seller, lead_id=parse_id(lead_id, "LEAD_ID"))
    at = ctx.time(at_text, "--at") if at_text else None
    activity = activity_log(lead=lead, kind=kind, direction=direction, at=at, notes=notes)
    data = {"id": activity.pk, "lead_id": lead.pk, "kind": kind, "direction": direction, "at": iso(activity.at, ctx.tz)}
    return Result(data, f"Logged {direction} {kind} with {lead.name}")

