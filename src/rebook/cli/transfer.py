"""rebook import: calendar files and e-mails with invitations (contacts come later in this module)."""

from __future__ import annotations

from pathlib import Path

import click

from rebook.cli import cli
from rebook.cli.base import Ctx, Result, seller_command
from rebook.errors import RebookError


CONTACT_SUFFIXES = {".csv", ".tsv", ".txt", ".vcf", ".vcard"}
CALENDAR_SUFFIXES = {".ics", ".ical", ".ifb", ".eml", ".mbox", ".mbx"}


def file_kind(name: str, head: bytes) -> str:
    """"calendar" or "contacts", by the file's name, else by what it starts with."""
    suffix = Path(name).suffix.lower()
    if suffix in CONTACT_SUFFIXES:
        return "contacts"
    if suffix in CALENDAR_SUFFIXES:
        return "calendar"
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff").lstrip()
    upper = text.upper()
    if upper.startswith("BEGIN:VCARD"):
        return "contacts"
    if "BEGIN:VCALENDAR" in upper or text.startswith("From ") or "MIME-VERSION:" in upper:
        return "calendar"
    return "contacts"


@seller_command(cli, "import")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--from", "start", metavar="TIME", help="Calendars: first day of the window for recurring series (default: a year ago).")
@click.option("--to", "end", metavar="TIME", help="Calendars: last day of that window (default: a year ahead).")
@click.option("--map", "mapping", multiple=True, metavar="COLUMN=FIELD",
              help="Contacts (CSV): read COLUMN as FIELD (name, first_name, middle_name, last_name, email, phone, company, source, notes, ignore).")
@click.option("--region", metavar="CC", help="Contacts: region for phone numbers without a country code (default: REBOOK_PHONE_REGION).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, writable=True),
              help="Contacts: also write the rows not imported, with line and reason, to this CSV file.")
@click.option("--dry-run", is_flag=True, help="Show what would happen, and change nothing.")
def import_command(ctx: Ctx, path, start, end, mapping, region, report_path, dry_run) -> Result:
    """Import a calendar file (.ics), an e-mail with invitations (.eml, .mbox), or contacts (.csv, .vcf)."""
    name = "stdin" if path == "-" else Path(path).name
    try:
        stream = click.open_file(path, "rb")
        head = stream.read(4096)
    except OSError as e:
        raise RebookError(f"{path}: {e.strerror or e}") from None
    if file_kind(name, head) == "contacts":
        return _import_contacts(ctx, stream, head, path, name, mapping, region, report_path, dry_run)
    from rebook.calendars.services import WINDOW, calendar_import

    data = head + stream.read()
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
        spool = tempfile.TemporaryFile()
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
