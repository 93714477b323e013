"""rebook import: calendar files and e-mails with invitations (contacts come later in this module)."""

from __future__ import annotations

from pathlib import Path

import click

from rebook.cli import cli
from rebook.cli.base import Ctx, Result, seller_command
from rebook.errors import RebookError


@seller_command(cli, "import")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--from", "start", metavar="TIME", help="First day of the window for recurring series (default: a year ago).")
@click.option("--to", "end", metavar="TIME", help="Last day of that window (default: a year ahead).")
@click.option("--dry-run", is_flag=True, help="Show what would happen, and change nothing.")
def import_command(ctx: Ctx, path, start, end, dry_run) -> Result:
    """Import a calendar file (.ics) or an e-mail (.eml, .mbox) carrying invitations or cancellations."""
    from rebook.calendars.services import WINDOW, calendar_import

    name = "stdin" if path == "-" else Path(path).name
    try:
        data = click.open_file(path, "rb").read()
    except OSError as e:
        raise RebookError(f"{path}: {e.strerror or e}") from None
    now = ctx.now()
    window = (ctx.time(start, "--from") if start else now - WINDOW, ctx.time(end, "--to") if end else now + WINDOW)
    if window[1] <= window[0]:
        raise RebookError("--to must be after --from")
    report = calendar_import(seller=ctx.seller, data=data, name=name, window=window, dry_run=dry_run, now=now)
    return Result(report.as_dict(), _report_text(report))


def _report_text(report) -> str:
    head = "Would import" if report.dry_run else "Imported"
    counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in report.counts().items() if n)
    lines = [f"{head} {report.file}: {counts or 'nothing'}"]
    lines += [f"  {e.outcome.replace('_', ' ')}: {e.where}: {e.detail}" for e in report.events]
    lines += [f"  rejected: {r}" for r in report.rejected]
    lines += [f"  note: {w}" for w in report.warnings]
    return "\n".join(lines)
