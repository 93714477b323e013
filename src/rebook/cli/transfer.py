"""rebook import: calendar files and e-mails with invitations (contacts come later in this module)."""

from __future__ import annotations

from pathlib import Path

import click

from rebook.cli import cli
from rebook.cli.base import Ctx, Result, json_option, run_guarded, seller_command, setup_django
from rebook.errors import RebookError
from rebook.filekind import file_kind


@seller_command(cli, "import")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, allow_dash=True))
@click.argument("history_path", metavar="[HISTORY.csv]", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--from", "start", metavar="TIME", help="Calendars: first day of the window for recurring series (default: a year ago).")
@click.option("--to", "end", metavar="TIME", help="Calendars: last day of that window (default: a year ahead).")
@click.option("--map", "mapping", multiple=True, metavar="COLUMN=FIELD",
              help="Contacts (CSV): read COLUMN as FIELD (name, first_name, middle_name, last_name, email, phone, company, source, notes, ignore).")
@click.option("--region", metavar="CC", help="Contacts: region for phone numbers without a country code (default: REBOOK_PHONE_REGION).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, writable=True),
              help="Contacts: also write the rows not imported, with line and reason, to this CSV file.")
@click.option("--dry-run", is_flag=True, help="Show what would happen, and change nothing.")
def import_command(ctx: Ctx, path, history_path, start, end, mapping, region, report_path, dry_run) -> Result:
    """Import a calendar file (`.ics`), e-mail (`.eml`) or mailbox (`.mbox`), or contacts (`.csv`, `.vcf`); the kind is
    told by the file name, else by its content (`-` reads standard input). `--from` and `--to` bound the occurrences
    taken from recurring series. `--map`, `--region` and `--report` are for contacts. `--dry-run` changes nothing.
    Prints what happened to each event or row; `--json` gives, for calendars, `counts`, `events` (`where`,
    `outcome`, `detail`, `appointment_id`, `lead_id`), `rejected` and `warnings`, and for contacts `created`,
    `merged`, `unchanged`, `refused` (`line`, `reason`), `notes` and `columns`. Outcomes: `booked`, `rescheduled`,
    `updated`, `cancelled`, `recorded_cancelled`, `unchanged`, `stale`.

    `rebook import history FILE.csv [--map COLUMN=FIELD ...] [--dry-run]`:

    Import past appointments from another tool, one row per appointment (see "Which meetings are at risk"). `--json`
    gives `rows`, `meetings`, `unchanged`, `leads_created`, `refused` (`line`, `reason`), `columns` (field to
    column) and `attributes` (the other columns, kept on the leads).
    """
    if history_path is not None:
        if path != "history":
            raise RebookError(f"import takes one FILE, or: rebook import history FILE.csv (not {path!r})")
        return _import_history(ctx, history_path, mapping, dry_run)
    name = "stdin" if path == "-" else Path(path).name
    try:
        stream = click.open_file(path, "rb")
        head = stream.read(4096)
    except OSError as e:
        raise RebookError(f"{path}: {e.strerror or e}") from None
    if file_kind(name, head) == "contacts":
        return _import_contacts(ctx, stream, head, path, name, mapping, region, report_path, dry_run)
    from rebook.calendars.events import Budget
    from rebook.calendars.services import BATCH, WINDOW, calendar_import

    data = head + stream.read()
    now = ctx.now()
    window = (ctx.time(start, "--from") if start else now - WINDOW, ctx.time(end, "--to") if end else now + WINDOW)
    if window[1] <= window[0]:
        raise RebookError("--to must be after --from")
    bar = None

    def progress(done: int, total: int) -> None:
        # A bar once a file turns out to hold many events (a series expands as it is read).
        nonlocal bar
        if bar is None and total >= 500 and not ctx.as_json:
            bar = click.progressbar(length=total, label=f"Importing {name}", file=click.get_text_stream("stderr"))
            bar.__enter__()
        if bar is not None:
            bar.update(done - bar.pos)

    try:
        # Your own file, on your own machine: no limit on its events or time (an upload has them), and
        # committed a batch at a time, so a long import keeps what it did if it is stopped.
        report = calendar_import(seller=ctx.seller, data=data, name=name, window=window, dry_run=dry_run, now=now,
                                 progress=progress, budget=Budget.unbounded(), commit_every=BATCH)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    return Result(report.as_dict(), _report_text(report))


def _import_history(ctx, path, mapping, dry_run) -> Result:
    import os

    from rebook.forecast.history import history_import

    name = "stdin" if path == "-" else Path(path).name
    try:
        stream = click.open_file(path, "rb")
        size = os.path.getsize(path) if path != "-" else 0
    except OSError as e:
        raise RebookError(f"{path}: {e.strerror or e}") from None
    show_bar = not ctx.as_json and size > 1_000_000
    with click.progressbar(length=size, label=f"Reading {name}", file=click.get_text_stream("stderr")) if show_bar else _NoBar() as bar:
        last = [0]

        def progress(rows: int) -> None:
            position = stream.tell() if hasattr(stream, "tell") else 0
            bar.update(max(position - last[0], 0))
            last[0] = max(position, last[0])

        report = history_import(seller=ctx.seller, stream=stream, name=name, overrides=_parse_map(mapping),
                                dry_run=dry_run, progress=progress, now=ctx.now())
    head = "Would import" if dry_run else "Imported"
    lines = [f"{head} {name}: {report.meetings:,} meeting(s), {report.leads_created:,} new lead(s), "
             f"{report.unchanged:,} already there, {len(report.refused)} row(s) not imported"]
    lines += [f"  line {line}: not imported: {reason}" for line, reason in report.refused[:50]]
    if len(report.refused) > 50:
        lines.append(f"  ... and {len(report.refused) - 50} more (see --json)")
    if report.attributes:
        lines.append(f"Kept on each lead: {', '.join(report.attributes)}")
    return Result(report.as_dict(), "\n".join(lines))


def _report_text(report) -> str:
    head = "Would import" if report.dry_run else "Imported"
    counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in report.counts().items() if n)
    lines = [f"{head} {report.file}: {counts or 'nothing'}"]
    lines += [f"  {e.outcome.replace('_', ' ')}: {e.where}: {e.detail}" for e in report.events]
    lines += [f"  rejected: {r}" for r in report.rejected]
    lines += [f"  note: {w}" for w in report.warnings]
    return "\n".join(lines)


def _parse_map(items) -> dict[str, str]:
    out = {}
    for item in items:
        column, sep, target = item.rpartition("=")
        if not sep or not column.strip():
            raise RebookError(f"--map: expected COLUMN=FIELD, e.g. \"E-mail Address=email\", not {item!r}")
        out[column.strip()] = target.strip().lower()
    return out


def _import_contacts(ctx, stream, head, path, name, mapping, region, report_path, dry_run) -> Result:
    import os
    import tempfile

    from rebook.contacts.services import contact_import

    if path == "-":  # a pipe cannot seek: keep it in a temporary file (bounded memory)
        spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the process; read below)
        spool.write(head)
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            spool.write(chunk)
        stream, size = spool, spool.tell()
    else:
        size = os.path.getsize(path)
    stream.seek(0)
    show_bar = not ctx.as_json and size > 1_000_000
    with click.progressbar(length=size, label=f"Reading {name}", file=click.get_text_stream("stderr")) if show_bar else _NoBar() as bar:
        last = [0]

        def progress(position: int) -> None:
            bar.update(position - last[0])
            last[0] = position

        report = contact_import(seller=ctx.seller, stream=stream, name=name, overrides=_parse_map(mapping),
                                region=region, dry_run=dry_run, progress=progress, now=ctx.now())
    if report_path:
        Path(report_path).write_text(report.report_csv(), encoding="utf-8")
    head_line = "Would import" if dry_run else "Imported"
    lines = [f"{head_line} {name}: {report.created} new lead(s), {report.merged} merged into existing ones, "
             f"{report.unchanged} already there, {len(report.refused)} row(s) not imported"]
    lines += [f"  line {line}: not imported: {reason}" for line, reason in report.refused]
    lines += [f"  line {line}: {note}" for line, note in report.notes]
    if report_path:
        lines.append(f"Report written to {report_path}")
    return Result(report.as_dict(), "\n".join(lines))


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n: int) -> None:
        pass


@seller_command(cli, "export")
@click.argument("fmt", metavar="ics|csv|json", type=click.Choice(["ics", "csv", "json"]))
@click.option("--table", default="leads", show_default=True,
              type=click.Choice(["leads", "appointments", "cancellations", "contacts", "messages", "cards"]),
              help="csv: which table (json holds them all).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, allow_dash=True), default="-",
              help="Write to this file instead of standard output.")
def export_command(ctx: Ctx, fmt, table, output) -> Result | None:
    """Write your calendar (the feed), one table as CSV (`--table`: `leads`, `appointments`, `cancellations`,
    `contacts`, `messages`, `cards`; default `leads`), or everything as JSON, to standard output or `--output`.
    """
    from rebook.backup import export_csv, export_json
    from rebook.calendars.feed import feed

    if ctx.as_json and output == "-":
        raise RebookError("--json is for messages about the export; the export itself goes to standard output")
    if fmt == "ics":
        with click.open_file(output, "wb") as out:
            out.write(feed(ctx.seller, now=ctx.now()))
    else:
        with _text_output(output) as out:
            if fmt == "csv":
                export_csv(ctx.seller, table, out)
            else:
                export_json(ctx.seller, out, now=ctx.now())
    if output == "-":
        return None
    return Result({"format": fmt, "file": output}, f"Wrote {output}")


def _text_output(output: str):
    import contextlib
    import sys

    if output == "-":
        return contextlib.nullcontext(sys.stdout)
    return open(output, "w", encoding="utf-8", newline="")  # noqa: SIM115 (returned to a with block)


@seller_command(cli, "feed")
@click.option("--rotate", is_flag=True, help="Make a new secret URL; the old one stops working.")
def feed_command(ctx: Ctx, rotate) -> Result:
    """Print your private calendar feed URL, for Google Calendar, Outlook or Apple Calendar to subscribe to;
    `--rotate` replaces it with a new one (the old one stops working)."""
    from rebook.calendars.feed import feed_token_rotate, feed_url

    if rotate:
        feed_token_rotate(seller=ctx.seller)
    url = feed_url(ctx.seller)
    return Result({"url": url}, url)


@cli.command("backup")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, writable=True))
@json_option
def backup_command(path, as_json) -> None:
    """Write a consistent snapshot of the whole database (all sellers), safe while Rebook runs."""

    def body() -> Result:
        setup_django()
        from rebook.backup import backup

        kind = backup(Path(path))
        what = "a SQLite copy" if kind == "sqlite" else "a JSON dump"
        return Result({"file": path, "kind": kind}, f"Backed up to {path} ({what})")

    run_guarded(body, as_json)


@cli.command("restore")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@json_option
def restore_command(path, as_json) -> None:
    """Restore a backup into an empty database, and the secret key with it (`--json` adds `secret_key`: what was done
    with it).
    """

    def body() -> Result:
        setup_django()
        from rebook.backup import restore

        result = restore(Path(path))
        counts = ", ".join(f"{n} {k}" for k, n in result.items() if k != "secret_key")
        return Result(result, f"Restored {counts}. The secret key that signs links: {result['secret_key']}")

    run_guarded(body, as_json)
