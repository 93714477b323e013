"""rebook calendar ...: the seller's own calendars, read for busy times so that no offered time clashes."""

from __future__ import annotations

import os

import click

from rebook.cli import cli
from rebook.cli.base import Ctx, Result, parse_id, seller_command, table
from rebook.cli.present import appointment_json, when
from rebook.timeparse import iso


@cli.group("calendar")
def calendar_group() -> None:
    """Your own calendars (CalDAV, or an iCal address): their busy times keep every offered time clear."""


def _show(c, tz) -> dict:
    return {"id": c.pk, "name": c.name, "kind": c.kind, "url": c.url, "login": c.login or None,
            "busy_only": c.busy_only, "writes": c.writes, "busy_times": c.events,
            "only": [n for n in c.only.split(",") if n],
            "calendars": [{"name": n, "url": u} for n, _, u in (line.partition("\t") for line in c.found.splitlines())],
            "last_sync": c.last_sync_at.isoformat() if c.last_sync_at else None,
            "last_error": c.last_error or None, "problems": [p for p in c.problems.splitlines() if p]}


@seller_command(calendar_group, "add")
@click.argument("url")
@click.option("--login", default="", help="The login name (or put it in the URL).")
@click.option("--name", "label", default="", help='What to call it ("Work", "Family"); by default its host.')
@click.option("--busy-only", is_flag=True, help="Read it for busy times only (every calendar is, in this version).")
@click.option("--only", default="", metavar="NAME[,NAME...]",
              help="Of an account's calendars, read only these (by name); by default all of them.")
@click.option("--write", "writes", is_flag=True,
              help="Write your Rebook meetings into this CalDAV calendar, and take back what is done to them there.")
def calendar_add_command(ctx: Ctx, url, login, label, busy_only, only, writes) -> Result:
    """Connect a calendar and read it once (see "Your calendar"): CalDAV (`https://`, `caldav://`; a collection or a
    principal; iCloud, Fastmail, Nextcloud, Radicale...) or an iCalendar address (`.ics`, `webcal://`, such as
    Google's or Outlook's secret address). The password comes from the URL or
    `REBOOK_CALENDAR_PASSWORD` and is stored encrypted. An address that cannot be read is not added. `--name` is
    what to call it (by default its host); `--busy-only` is what every calendar is in this version; `--only` reads,
    of an account's calendars, those named (by default all); `--write` makes it the one CalDAV calendar your Rebook
    meetings are written into (see "Two ways, with one CalDAV calendar"). `--json` gives `id`, `name`, `kind`
    (`caldav` or `ics`), `url`, `login`, `busy_only`, `writes`, `only`, `calendars` (each calendar of the account:
    `name`, `url`), `busy_times`, `last_sync`, `last_error`, `problems`.
    """
    from rebook.calendars.connections import connection_add

    c = connection_add(seller=ctx.seller, url=url, login=login,
                       password=os.environ.get("REBOOK_CALENDAR_PASSWORD") or None, name=label, writes=writes, only=only)
    problems = f" {len(c.problems.splitlines())} event(s) could not be read: see rebook calendar show." if c.problems else ""
    return Result(_show(c, ctx.tz), f"Calendar {c.name!r} added ({c.get_kind_display()}): {c.events} busy time(s) in "
                                    f"the next 90 days; offered times now keep clear of them."
                                    + (" Your Rebook meetings are written into it." if c.writes else "") + problems)


@seller_command(calendar_group, "list")
def calendar_list_command(ctx: Ctx) -> Result:
    """Every connected calendar: busy times held, when last read, the last error (`--json`: a list as `add` gives)."""
    from rebook.calendars.models import Connection

    rows = list(Connection.objects.filter(seller=ctx.seller).order_by("name"))
    data = [_show(c, ctx.tz) for c in rows]
    if not rows:
        return Result(data, "No calendar connected. Add one with: rebook calendar add URL")
    return Result(data, table([[c.pk, c.name, c.get_kind_display(), c.events,
                                when(c.last_sync_at, ctx.tz) if c.last_sync_at else "never", c.last_error or "-"]
                               for c in rows], ["ID", "NAME", "KIND", "BUSY", "LAST READ", "ERROR"]))


def _offer(row, tz) -> dict:
    return {"id": row.pk, "lead_id": row.lead_id, "lead": row.lead.name, "summary": row.summary,
            "start": iso(row.start, tz), "end": iso(row.end, tz), "calendar": row.connection.name}


@seller_command(calendar_group, "show")
@click.argument("calendar")
def calendar_show_command(ctx: Ctx, calendar) -> Result:
    """One calendar, by id or name: its address (never its password), when it was last read, the last error, the events
    it could not read, and meetings with your leads in it that Rebook does not know (`--json`: as `add` gives, and
    `to_book`: `id`, `lead_id`, `lead`, `summary`, `start`, `end`, `calendar`).
    """
    from rebook.calendars.busy import to_book
    from rebook.calendars.connections import connection_get

    c = connection_get(ctx.seller, calendar)
    offers = [r for r in to_book(ctx.seller) if r.connection_id == c.pk]
    data = {**_show(c, ctx.tz), "to_book": [_offer(r, ctx.tz) for r in offers]}
    lines = [f"{c.name} ({c.get_kind_display()}): {c.url}" + (f" as {c.login}" if c.login else ""),
             f"Busy times held: {c.events}",
             f"Last read: {when(c.last_sync_at, ctx.tz) if c.last_sync_at else 'never'}",
             f"Last error: {c.last_error or 'none'}"]
    if data["calendars"]:
        lines.append("Calendars of the account: " + "; ".join(
            f"{x['name']}{'' if not data['only'] or x['name'] in data['only'] else ' (not read)'} <{x['url']}>"
            for x in data["calendars"]))
    lines += [f"Not read: {p}" for p in data["problems"]]
    lines += [f"With your lead {r.lead.name}: {r.summary or 'a meeting'} at {when(r.start, ctx.tz)} (book it in "
              f"Rebook: rebook calendar book {r.pk})" for r in offers]
    return Result(data, "\n".join(lines))


@seller_command(calendar_group, "book")
@click.argument("meeting_id", metavar="ID")
def calendar_book_command(ctx: Ctx, meeting_id) -> Result:
    """Book in Rebook a meeting with one of your leads found in your calendar (`ID` from `to_book`), with the event's
    `UID`; prints the new appointment's id (`--json`: as `appt book` gives).
    """
    from rebook.calendars.connections import book_from_calendar

    meeting = book_from_calendar(seller=ctx.seller, busy_id=parse_id(meeting_id, "ID"))
    return Result(appointment_json(meeting, ctx.tz), str(meeting.pk))


@seller_command(calendar_group, "test")
@click.argument("calendar")
def calendar_test_command(ctx: Ctx, calendar) -> Result:
    """Read the calendar now and keep nothing; fails with the reason when it cannot be read. `--json` gives
    `connection`, `changed`, `busy`, `problems`, `error`.
    """
    from rebook.calendars.connections import connection_get, connection_test
    from rebook.errors import RebookError

    report = connection_test(connection=connection_get(ctx.seller, calendar))
    if report.error:
        raise RebookError(f"calendar {report.connection!r}: {report.error}")
    return Result(report.as_dict(), f"Calendar {report.connection!r} answers: {report.busy} busy time(s) in the next "
                                    f"90 days" + (" (unchanged since the last read)." if not report.changed else "."))


@seller_command(calendar_group, "remove")
@click.argument("calendar")
def calendar_remove_command(ctx: Ctx, calendar) -> Result:
    """Forget a calendar, its password and its busy times."""
    from rebook.calendars.connections import connection_get, connection_remove

    c = connection_get(ctx.seller, calendar)
    name = c.name
    connection_remove(connection=c)
    return Result({"removed": name}, f"Calendar {name!r} removed.")


@seller_command(calendar_group, "sync")
@click.argument("calendar", required=False)
def calendar_sync_command(ctx: Ctx, calendar) -> Result:
    """Read every calendar (or one) now and keep its busy times; an error is reported and kept on that calendar.
    `--json` gives a list as `test` does.
    """
    from rebook.calendars.connections import connection_get, connection_sync
    from rebook.calendars.models import Connection

    rows = [connection_get(ctx.seller, calendar)] if calendar else list(
        Connection.objects.filter(seller=ctx.seller).order_by("name"))
    reports = [connection_sync(connection=c) for c in rows]
    lines = [f"{r.connection}: " + (f"error: {r.error}" if r.error else f"{r.busy} busy time(s)"
                                     + ("" if r.changed else ", unchanged")) for r in reports]
    return Result([r.as_dict() for r in reports], "\n".join(lines) or "No calendar connected.")
