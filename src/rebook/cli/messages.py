"""rebook outbox ..., rebook worker, rebook template ..., rebook infopack ..."""

from __future__ import annotations

from pathlib import Path

import click

from rebook.cli import cli
from rebook.cli.base import (
    Ctx,
    Result,
    json_option,
    parse_id,
    run_for_seller,
    run_guarded,
    seller_command,
    setup_django,
    table,
    user_option,
)
from rebook.cli.present import iso, message_json, when
from rebook.errors import RebookError

# --- the outbox ----------------------------------------------------------------------------------


@cli.group("outbox", invoke_without_command=True)
@click.option("--status", help="review, scheduled, sending, sent, failed, withdrawn or discarded.")
@json_option
@user_option
@click.pass_context
def outbox_group(click_ctx: click.Context, status, as_json, username) -> None:
    """Planned messages: id, lead, kind (`booking_followup`, `connecting_moment`, `reschedule_offer`, `confirmation`,
    `nurture_move`, `nurture_checkin`), due time (for a retry: the next attempt), status, and a note: why a message
    was withdrawn or failed, or the last error before a retry. `--json` adds `attempts`, `last_error` and `sent_at`.
    """
    if click_ctx.invoked_subcommand is None:
        run_for_seller(_outbox_list, as_json, username, status=status)


def _outbox_list(ctx: Ctx, status) -> Result:
    from rebook.outbox.models import PlannedMessage

    messages = PlannedMessage.objects.filter(seller=ctx.seller).select_related("lead__seller").order_by("due", "id")
    if status:
        if status not in PlannedMessage.Status.values:
            raise RebookError(f"--status: unknown message status {status!r}; use one of {', '.join(PlannedMessage.Status.values)}")
        messages = messages.filter(status=status)
    items = list(messages)
    rows = [
        [str(m.pk), m.lead.name, m.kind, when(m.due, ctx.tz), m.status, m.last_error if m.status == "scheduled" else m.status_note]
        for m in items
    ]
    return Result([message_json(m, ctx.tz) for m in items], table(rows, ["ID", "LEAD", "KIND", "DUE", "STATUS", "NOTE"]))


def _message(ctx: Ctx, message_id: str):
    from rebook.outbox.selectors import message_get

    return message_get(seller=ctx.seller, message_id=parse_id(message_id, "ID"))


@seller_command(outbox_group, "show")
@click.argument("message_id", metavar="ID")
@click.option("--html", "show_html", is_flag=True, help="Print the HTML body instead of the text body.")
def outbox_show(ctx: Ctx, message_id, show_html) -> Result:
    """One message as it will go out (or as it went): recipient, subject, due time, attempts, attachments, calendar
    invitation, and the text body (`--html`: the HTML body). `--json` adds `to`, `subject`, `body`, `html`,
    `attachments`, `calendar`, `unsubscribe_url`, `edited` and `message_id`.
    """
    from rebook.outbox.selectors import message_preview

    message = _message(ctx, message_id)
    preview = message_preview(message, now=ctx.now())
    data = message_json(message, ctx.tz) | {
        "to": preview.to,
        "subject": preview.composed.subject,
        "body": preview.composed.text,
        "html": preview.composed.html,
        "attachments": [a.name for a in preview.composed.attachments],
        "calendar": preview.composed.calendar.method if preview.composed.calendar else None,
        "unsubscribe_url": preview.composed.unsubscribe_url or None,
        "edited": message.frozen and message.status != "sent",
        "attempts": message.attempts,
        "last_error": message.last_error or None,
        "message_id": message.message_id or None,
        "sent_at": iso(message.sent_at, ctx.tz),
    }
    lines = [
        f"Message {message.pk} ({message.kind}) for lead {message.lead_id}: {message.status}"
        + (f" ({message.status_note})" if message.status_note else ""),
        f"To:      {preview.to or '(the lead has no e-mail address)'}",
        f"Subject: {preview.composed.subject}",
        f"Due:     {when(message.due, ctx.tz)}" + (f"   sent {when(message.sent_at, ctx.tz)}" if message.sent_at else ""),
    ]
    if message.attempts or message.last_error:
        lines.append(f"Tries:   {message.attempts}" + (f", last error: {message.last_error}" if message.last_error else ""))
    extras = [a.name for a in preview.composed.attachments]
    if preview.composed.calendar:
        extras.append(f"calendar invitation ({preview.composed.calendar.method})")
    if extras:
        lines.append(f"Attached: {', '.join(extras)}")
    lines += ["", preview.composed.html if show_html else preview.composed.text.rstrip()]
    return Result(data, "\n".join(lines))


@seller_command(outbox_group, "approve")
@click.argument("message_id", metavar="ID")
def outbox_approve(ctx: Ctx, message_id) -> Result:
    """Approve a message in `review`: it is `scheduled` and goes when due (at once if that has passed). On a `failed`
    message, tries again from the start.
    """
    from rebook.outbox.services import message_approve

    message = message_approve(message=_message(ctx, message_id), now=ctx.now())
    at = "as soon as the worker runs" if message.due <= ctx.now() else when(message.due, ctx.tz)
    return Result(message_json(message, ctx.tz), f"Approved message {message.pk}; it goes {at}")


@seller_command(outbox_group, "retry")
@click.argument("message_id", metavar="ID")
def outbox_retry(ctx: Ctx, message_id) -> Result:
    """Try a message again now: one that is `scheduled` for its next attempt after a temporary failure (it is due at
    once), or a `failed` one (from the start, like `approve`). A message that has not failed is refused.
    """
    from rebook.outbox.services import message_retry

    message = message_retry(message=_message(ctx, message_id), now=ctx.now())
    return Result(message_json(message, ctx.tz), f"Message {message.pk} goes again as soon as the worker runs")


@seller_command(outbox_group, "discard")
@click.argument("message_id", metavar="ID")
def outbox_discard(ctx: Ctx, message_id) -> Result:
    """The message will not be sent (`discarded`). Works on `review`, `scheduled` and `failed` messages."""
    from rebook.outbox.services import message_discard

    message = message_discard(message=_message(ctx, message_id), now=ctx.now())
    return Result(message_json(message, ctx.tz), f"Discarded message {message.pk}")


_SUBJECT = "Subject:"


@seller_command(outbox_group, "edit")
@click.argument("message_id", metavar="ID")
@click.option("--subject", help="New subject line.")
@click.option("--body", help="New text body (the HTML version is rebuilt from it unless --html is given).")
@click.option("--html", help="New HTML body.")
def outbox_edit(ctx: Ctx, message_id, subject, body, html) -> Result:
    """Change a message. Without options it opens `$EDITOR` on the subject line and the text body. A new text body also
    replaces the HTML body with the same text, unless `--html` is given. The message keeps its status: an edited
    message in review still needs `approve`.
    """
    from rebook.outbox.selectors import message_preview
    from rebook.outbox.services import message_edit

    message = _message(ctx, message_id)
    if subject is None and body is None and html is None:
        composed = message_preview(message, now=ctx.now()).composed
        edited = click.edit(f"{_SUBJECT} {composed.subject}\n\n{composed.text}", extension=".txt")
        if edited is None:
            return Result(message_json(message, ctx.tz), "Nothing changed (the editor was closed without saving)")
        first, _, rest = edited.partition("\n")
        if not first.startswith(_SUBJECT):
            path = _keep_draft(f"message-{message.pk}", edited)
            raise RebookError(f"line 1: the first line must start with {_SUBJECT!r}; your text is saved in {path}")
        subject, body = first[len(_SUBJECT) :].strip(), rest.strip()
    message = message_edit(message=message, subject=subject, body=body, html=html, now=ctx.now())
    return Result(message_json(message, ctx.tz), f"Edited message {message.pk}; it is still {message.status}")


def _keep_draft(name: str, text: str) -> Path:
    """Text the user typed that could not be saved is kept in a file, never thrown away."""
    from django.conf import settings
    from django.utils import timezone

    folder = Path(settings.REBOOK_HOME) / "drafts"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{timezone.now():%Y%m%d-%H%M%S}.txt"
    path.write_text(text, encoding="utf-8")
    return path


# --- the worker ----------------------------------------------------------------------------------


@cli.command("worker")
@click.option("--until-idle", is_flag=True, help="Send what is due now, then exit (for cron and tests).")
@click.option("--poll", default=5.0, type=float, show_default=True, metavar="SECONDS", help="Pause between looks when idle.")
@click.option("--lease", default=300, type=int, show_default=True, metavar="SECONDS",
              help="How long a claimed message is reserved before another worker may retry it.")
@click.option("--batch", default=50, type=int, show_default=True, metavar="N",
              help="Messages claimed at a time (one transaction); each is still sent and recorded on its own.")
@json_option
def worker_command(until_idle, poll, lease, batch, as_json) -> None:
    """Send due messages for every seller, until stopped. `--until-idle` exits when nothing is due. `--poll` is the
    pause between looks when idle (default 5). `--lease` is how long a claimed message is reserved for this worker
    (default 300); after that, another worker may retry it. `--batch` is how many due messages it claims at a time,
    in one transaction (default 50); each is still sent and recorded on its own, and on SIGTERM the ones not yet
    tried are given back at once. Prints one line per message; `--json` prints the counts (`sent`, `retried`,
    `failed`, `held`, `withdrawn`) and those lines at the end. It also runs queued imports (uploads from the web app
    and the API), webhook deliveries, uploaded cards, the forecast's training and the mailbox polls. Without
    `REBOOK_SMTP_URL` it says so and sends no mail, but still runs those. Each of those jobs runs isolated: whatever
    one mail, upload, import, delivery or message raises is recorded on that job (the message is tried again later
    with the error in `last_error`, the import or card is `failed` with why, the mailbox shows the error and backs
    off), logged, and the worker goes on with everyone else's work; a step that fails outside any one job (the
    database away) is tried again after a growing pause. `rebook serve` starts its worker again whenever it dies,
    and says why in its log ("the worker was killed by SIGKILL (pid 4242); starting it again in 2 s"), waiting
    longer while it keeps dying at once.
    """

    def body() -> Result:
        from datetime import timedelta

        setup_django()
        from django.conf import settings

        from rebook.outbox.worker import Worker

        send_mail = not settings.EMAIL_BACKEND.endswith("NotConfiguredBackend")
        if not send_mail and not as_json:
            click.echo("REBOOK_SMTP_URL is not set: no mail is sent; running imports and webhooks only.")
        if lease < 1:
            raise RebookError("--lease: at least 1 second (keep it well above your SMTP server's slowest answer)")
        if batch < 1:
            raise RebookError("--batch: at least 1 message")
        report = None if as_json else (lambda line: click.echo(line))
        worker = Worker(lease=timedelta(seconds=lease), poll=poll, report=report, batch=batch, send_mail=send_mail)
        worker.install_signal_handlers()
        tally = worker.run(until_idle=until_idle)
        data = {k: getattr(tally, k) for k in ("sent", "retried", "failed", "held", "withdrawn")}
        summary = ", ".join(f"{v} {k}" for k, v in data.items())
        return Result(data | {"log": tally.lines}, f"Worker stopped: {summary}")

    run_guarded(body, as_json)


# --- templates -----------------------------------------------------------------------------------

KIND = click.Choice(
    ["booking_followup", "connecting_moment", "reschedule_offer", "confirmation", "nurture_move", "nurture_checkin"]
)
_HTML_MARK = "===== HTML body (delete everything below this line for text-only mail) ====="


@cli.group("template")
def template_group() -> None:
    """The wording of each kind of message: shipped defaults, yours to edit."""


@seller_command(template_group, "list")
def template_list(ctx: Ctx) -> Result:
    """Each kind of message, its subject, and whether it is your version or the shipped default."""
    from rebook.outbox.compose import template_source

    rows, data = [], []
    for kind in KIND.choices:
        source = template_source(ctx.seller, kind)
        data.append({"kind": kind, "subject": source.subject, "custom": source.custom})
        rows.append([kind, "yours" if source.custom else "default", source.subject])
    return Result(data, table(rows, ["KIND", "VERSION", "SUBJECT"]))


@seller_command(template_group, "show")
@click.argument("kind", type=KIND)
def template_show(ctx: Ctx, kind) -> Result:
    """The template's source: `Subject:` line, text body, and HTML body after a marker line."""
    from rebook.outbox.compose import template_source

    source = template_source(ctx.seller, kind)
    data = {"kind": kind, "subject": source.subject, "text": source.text, "html": source.html, "custom": source.custom}
    return Result(data, _template_document(source.subject, source.text, source.html))


def _template_document(subject: str, text: str, html: str) -> str:
    return f"{_SUBJECT} {subject}\n\n{text.strip()}\n\n{_HTML_MARK}\n{html.strip()}\n"


def _read_template_document(document: str) -> tuple[str, str, str]:
    first, _, rest = document.partition("\n")
    if not first.startswith(_SUBJECT):
        raise RebookError(f"subject, line 1: the first line must start with {_SUBJECT!r}")
    text, _, html = rest.partition(_HTML_MARK)
    return first[len(_SUBJECT) :].strip(), text.strip("\n") + "\n", html.strip()


@seller_command(template_group, "edit")
@click.argument("kind", type=KIND)
@click.option("--subject", help="The subject line.")
@click.option("--text", help="The text body.")
@click.option("--html", help='The HTML body ("" for text-only mail).')
@click.option("--file", "path", type=click.Path(dir_okay=False, allow_dash=True),
              help="Read the whole template (as `rebook template show` prints it) from this file, or - for stdin.")
def template_edit(ctx: Ctx, kind, subject, text, html, path) -> Result:
    """Change a template: in `$EDITOR` (the document `template show` prints), from `--file` (that same document; `-`
    reads stdin), or part by part with `--subject`, `--text` and `--html` (`--html ""` for text-only mail). A
    template that does not check out is refused with the part, line and name, and the previous version stays in use.
    """
    from rebook.outbox.compose import template_source
    from rebook.outbox.services import template_save

    current = template_source(ctx.seller, kind)
    typed = None
    if path:
        typed = click.open_file(path, encoding="utf-8").read()
        subject, text, html = _read_template_document(typed)
    elif subject is None and text is None and html is None:
        typed = click.edit(_template_document(current.subject, current.text, current.html), extension=".txt")
        if typed is None:
            return Result({"kind": kind, "changed": False}, "Nothing changed (the editor was closed without saving)")
        subject, text, html = _read_template_document(typed)
    try:
        template_save(
            seller=ctx.seller, kind=kind,
            subject=current.subject if subject is None else subject,
            text=current.text if text is None else text,
            html=current.html if html is None else html,
            now=ctx.now(),
        )
    except RebookError as e:
        kept = f"; your text is saved in {_keep_draft(f'template-{kind}', typed)}" if typed and not path else ""
        raise RebookError(f"template {kind} not saved: {e}{kept}. The previous version stays in use") from None
    return Result({"kind": kind, "changed": True}, f"Saved your {kind} template")


@seller_command(template_group, "preview")
@click.argument("kind", type=KIND)
@click.option("--html", "show_html", is_flag=True, help="Print the HTML body instead of the text body.")
def template_preview(ctx: Ctx, kind, show_html) -> Result:
    """The template rendered for a sample lead, Sam Sample."""
    from rebook.outbox.compose import render_source, sample_context, template_source

    subject, text, html = render_source(template_source(ctx.seller, kind), sample_context(ctx.seller, ctx.now()))
    return Result({"kind": kind, "subject": subject, "text": text, "html": html},
                  f"Subject: {subject}\n\n{html if show_html else text.rstrip()}")


@seller_command(template_group, "reset")
@click.argument("kind", type=KIND)
def template_reset_command(ctx: Ctx, kind) -> Result:
    """Go back to the shipped default."""
    from rebook.outbox.services import template_reset

    template_reset(seller=ctx.seller, kind=kind)
    return Result({"kind": kind, "custom": False}, f"{kind} uses the shipped default again")


# --- the info pack -------------------------------------------------------------------------------


@cli.group("infopack")
def infopack_group() -> None:
    """What the connecting-moment message shares: a short text, links and files."""


def _infopack(seller) -> Result:
    files = list(seller.info_files.values_list("name", "content_type"))
    data = {"text": seller.info_text, "links": seller.info_links, "files": [{"name": n, "type": t} for n, t in files]}
    lines = [f"Text:  {seller.info_text or '(none)'}", f"Links: {', '.join(seller.info_links) or '(none)'}",
             f"Files: {', '.join(n for n, _ in files) or '(none)'}"]
    return Result(data, "\n".join(lines))


@seller_command(infopack_group, "show")
def infopack_show(ctx: Ctx) -> Result:
    """The info pack: text, links and files."""
    return _infopack(ctx.seller)


@seller_command(infopack_group, "set")
@click.option("--text", help="A few sentences to share.")
@click.option("--link", "links", multiple=True, metavar="URL", help="A web address to share; repeat for several.")
@click.option("--no-links", is_flag=True, help="Remove every link.")
def infopack_set(ctx: Ctx, text, links, no_links) -> Result:
    """Set the text, and the links (given links replace the old ones; `--no-links` removes them all)."""
    from rebook.sellers.services import seller_info_pack_set

    if text is None and not links and not no_links:
        raise RebookError("nothing to change: give --text, --link or --no-links")
    seller = seller_info_pack_set(seller=ctx.seller, text=text, links=list(links) if links or no_links else None)
    return _infopack(seller)


@seller_command(infopack_group, "attach")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--name", help="The file name the prospect sees (default: the file's own).")
def infopack_attach(ctx: Ctx, path, name) -> Result:
    """Attach a file (at most 10 MB) to every connecting moment; `--name` is the name the prospect sees. A file of the
    same name is replaced.
    """
    from rebook.sellers.services import seller_info_file_add

    file = Path(path)
    seller_info_file_add(seller=ctx.seller, name=name or file.name, data=file.read_bytes())
    return _infopack(ctx.seller)


@seller_command(infopack_group, "detach")
@click.argument("name")
def infopack_detach(ctx: Ctx, name) -> Result:
    """Remove a file."""
    from rebook.sellers.services import seller_info_file_remove

    seller_info_file_remove(seller=ctx.seller, name=name)
    return _infopack(ctx.seller)
