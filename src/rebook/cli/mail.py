"""rebook mailbox ..., rebook mail poll, rebook inbox ...: the seller's own mailbox, and what replies suggest."""

from __future__ import annotations

import os

import click

from rebook.cli import cli
from rebook.cli.base import Ctx, Result, json_option, parse_id, run_for_seller, seller_command, table, user_option
from rebook.cli.present import when


@cli.group("mailbox")
def mailbox_group() -> None:
    """Your mailbox, read (never changed) for the replies prospects send."""


def _show(box) -> dict:
    return {"host": box.host, "port": box.port, "security": box.security, "login": box.username, "folder": box.folder,
            "last_poll": box.last_poll_at.isoformat() if box.last_poll_at else None, "last_error": box.last_error or None,
            "last_uid": box.last_uid, "trusted_authserv": [t for t in box.trusted_authserv.split(",") if t]}


@seller_command(mailbox_group, "set")
@click.argument("url")
@click.option("--login", help="The login name, when it is awkward to write in the URL (an address with @).")
@click.option("--trust", "trusted", metavar="AUTHSERV-ID[,...]",
              help="Whose Authentication-Results prove a sender (your provider's: mx.google.com, none for Microsoft "
                   "365, messagingengine.com); by default guessed from the host.")
def mailbox_set_command(ctx: Ctx, url, login, trusted) -> Result:
    """Connect the mailbox replies land in (see "Replies and your mailbox"). The password comes from the URL or
    `REBOOK_IMAP_PASSWORD` and is stored encrypted; `--login` gives the login name when an address with `@` is
    awkward in the URL. `--trust` names whose `Authentication-Results` prove a sender (by default guessed from the
    host). A loopback or private address is refused unless `REBOOK_IMAP_ALLOW_PRIVATE=true`.
    """
    from rebook.mailbox.services import mailbox_set

    box = mailbox_set(seller=ctx.seller, url=url, user=login, password=os.environ.get("REBOOK_IMAP_PASSWORD") or None,
                      trusted=trusted)
    trust_line = (f"Senders are verified by the Authentication-Results of: {box.trusted_authserv}." if box.trusted_authserv
                  else "No mail provider to trust is known for this host: no sender can be verified, so replies only "
                       "make suggestions. Set one with --trust.")
    return Result(_show(box), f"Mailbox set: {box.username} at {box.host}:{box.port}/{box.folder} ({box.security}). "
                              f"{trust_line} Check it with: rebook mailbox test")


@seller_command(mailbox_group, "show")
def mailbox_show(ctx: Ctx) -> Result:
    """Host, folder, the trusted `authserv-id`s (`trusted_authserv` in `--json`), when it was last read, and the last
    error.
    """
    from rebook.mailbox.services import mailbox_get

    box = mailbox_get(ctx.seller)
    data = _show(box)
    lines = [f"{box.username} at {box.host}:{box.port}/{box.folder} ({box.security})",
             f"Trusted mail provider (authserv-id): {box.trusted_authserv or 'none set: no sender can be verified'}",
             f"Last read: {when(box.last_poll_at, ctx.tz) if box.last_poll_at else 'never'}",
             f"Last error: {box.last_error or 'none'}"]
    return Result(data, "\n".join(lines))


@seller_command(mailbox_group, "test")
def mailbox_test_command(ctx: Ctx) -> Result:
    """Connect, open the folder read-only and count its messages."""
    from rebook.mailbox.services import mailbox_get, mailbox_test

    result = mailbox_test(mailbox=mailbox_get(ctx.seller))
    return Result(result, f"Connected: {result['messages']} message(s) in {result['folder']} on {result['host']}.")


@seller_command(mailbox_group, "remove")
def mailbox_remove_command(ctx: Ctx) -> Result:
    """Forget the mailbox and its password; what it brought in stays on the leads."""
    from rebook.mailbox.services import mailbox_remove

    removed = mailbox_remove(seller=ctx.seller)
    return Result({"removed": removed}, "Mailbox removed." if removed else "No mailbox was set.")


@cli.group("mail")
def mail_group() -> None:
    """Mail that comes in."""


@seller_command(mail_group, "poll")
def mail_poll(ctx: Ctx) -> Result:
    """Read the mailbox once now (`read`, `handled` by outcome, `skipped`, `duplicates`). Exits 1 with the reason when
    it cannot connect, or when the worker is reading it at that moment.
    """
    from rebook.errors import RebookError
    from rebook.mailbox.services import mailbox_get, mailbox_poll_now

    report = mailbox_poll_now(mailbox=mailbox_get(ctx.seller))
    if report.error:
        raise RebookError(f"mailbox: {report.error}")
    handled = ", ".join(f"{k}: {v}" for k, v in sorted(report.handled.items())) or "nothing"
    return Result(report.as_dict(), f"Read {report.read} new message(s): {handled}; skipped {report.skipped} "
                                    f"(not about a lead or meeting){f', {report.duplicates} already read' if report.duplicates else ''}.")


@cli.group("inbox", invoke_without_command=True)
@click.option("--all", "show_all", is_flag=True, help="Applied and dismissed ones too.")
@json_option
@user_option
@click.pass_context
def inbox_group(click_ctx, show_all, as_json, username) -> None:
    """What replies suggest, pending ones first (`--all` adds the applied and dismissed)."""
    if click_ctx.invoked_subcommand is None:
        run_for_seller(_inbox_list, as_json, username, show_all=show_all)


def _inbox_list(ctx: Ctx, show_all=False) -> Result:
    from rebook.mailbox.models import Suggestion
    from rebook.mailbox.services import suggestion_json

    rows = Suggestion.objects.filter(seller=ctx.seller).select_related("lead")
    if not show_all:
        rows = rows.filter(status=Suggestion.Status.PENDING)
    rows = list(rows[:200])
    lines = [[str(s.pk), when(s.received_at, ctx.tz), s.lead.name, s.kind,
              when(s.proposed_start, ctx.tz) if s.proposed_start else "", s.reason[:60], s.status] for s in rows]
    return Result([suggestion_json(s) for s in rows],
                  table(lines, ["ID", "RECEIVED", "LEAD", "KIND", "PROPOSED", "REASON", "STATUS"]) if rows else
                  "No suggestions waiting.")


@seller_command(inbox_group, "apply")
@click.argument("suggestion_id")
@click.option("--to", "to_text", metavar="TIME", help="For a move: the new time (default: the one they proposed).")
def inbox_apply(ctx: Ctx, suggestion_id, to_text) -> Result:
    """Do what the reply asked, as if you had typed it, at the mail's date; `--to` gives the new time for a move
    whose reply named none.
    """
    from rebook.mailbox.services import suggestion_apply, suggestion_get, suggestion_json

    s = suggestion_get(seller=ctx.seller, suggestion_id=parse_id(suggestion_id, "SUGGESTION_ID"))
    s = suggestion_apply(suggestion=s, to=ctx.time(to_text, "--to") if to_text else None)
    return Result(suggestion_json(s), f"Applied: {s.note}.")


@seller_command(inbox_group, "dismiss")
@click.argument("suggestion_id")
def inbox_dismiss(ctx: Ctx, suggestion_id) -> Result:
    """Set a suggestion aside; nothing changes."""
    from rebook.mailbox.services import suggestion_dismiss, suggestion_get, suggestion_json

    s = suggestion_dismiss(suggestion=suggestion_get(seller=ctx.seller, suggestion_id=parse_id(suggestion_id, "SUGGESTION_ID")))
    return Result(suggestion_json(s), f"Dismissed suggestion {s.pk}.")


@seller_command(inbox_group, "evaluate")
def inbox_evaluate(ctx: Ctx) -> Result:
    """How well your replies are read, on your own Apply and Dismiss decisions in time order (`decisions`, `warmup`,
    `evaluated`, and per kind `suggested`, `applied`, `kept`, `kept_applied`, `precision_rules`,
    `precision_learned`, `recall_learned`). Exits 1 while there are fewer than 40 decisions.
    """
    from rebook.mailbox.services import reply_evaluate

    result = reply_evaluate(seller=ctx.seller)

    def pct(v):
        return "-" if v is None else f"{v:.2f}"

    rows = [[k["kind"], str(k["suggested"]), str(k["applied"]), pct(k["precision_rules"]), str(k["kept"]),
             pct(k["precision_learned"]), pct(k["recall_learned"])] for k in result["kinds"]]
    head = (f"{result['decisions']} decided suggestions; the first {result['warmup']} only teach, the "
            f"{result['evaluated']} after them are judged.\n")
    return Result(result, head + table(rows, ["KIND", "SUGGESTED", "APPLIED", "PRECISION", "WITH LEARNING",
                                              "PRECISION", "RECALL"]))


@cli.group("risk")
def risk_group() -> None:
    """The cancellation forecast: train it, and measure how well it does."""


@seller_command(risk_group, "train")
@click.option("--team", is_flag=True, help="Train the team's model (on every seller's history) instead of yours.")
def risk_train(ctx: Ctx, team) -> Result:
    """Train and store a new version of your forecast (`--team`: the team's, on every seller's history), choosing
    logistic regression or gradient-boosted trees on your history in time order. Refused with too little history
    (fewer than 200 finished meetings or 30 cancellations). `--json` gives `version`, `n_train`, `n_positive`,
    `team`, `kind` (`logistic` or `trees`) and `choice` (`chosen`, `why`, `scores` per kind on the latest 20% of the
    training meetings).
    """
    from rebook.forecast.services import score_upcoming, train

    row = train(seller=None if team else ctx.seller)
    score_upcoming(seller=ctx.seller)  # the meetings ahead get their risk, and risky ones an earlier confirmation
    choice = row.parameters.get("choice", {})
    data = {"version": row.version, "n_train": row.n_train, "n_positive": row.n_positive, "team": team,
            "kind": row.parameters.get("kind", "logistic"), "choice": choice}
    return Result(data, f"Trained version {row.version} on {row.n_train:,} finished meetings "
                        f"({row.n_positive:,} cancelled or missed).\nModel: {choice.get('why', data['kind'])}.")


@seller_command(risk_group, "evaluate")
@click.option("--at", "at_text", metavar="DATE", help="Split here: train before, test from (default: the last 20%).")
@click.option("--team", is_flag=True, help="Evaluate on every seller's history.")
def risk_evaluate(ctx: Ctx, at_text, team) -> Result:
    """Train on the meetings that started before the split and report on the later ones: `auc`, `brier`, `base_brier`,
    `n_train`, `n_test`, `split`, a ten-bin `calibration` table, `model` (the kind chosen), `choice` (as `risk
    train` gives it) and `kinds` (`auc` and `brier` of each kind on the test meetings).
    """
    from rebook.forecast.services import KIND_WORDS, evaluate

    result = evaluate(seller=None if team else ctx.seller, at=ctx.time(at_text, "--at") if at_text else None)
    lines = [f"Trained on {result['n_train']:,} meetings before {result['split'][:10]}, tested on {result['n_test']:,} after.",
             f"ROC AUC {result['auc']:.3f}; Brier {result['brier']:.4f} against {result['base_brier']:.4f} for the "
             f"base rate ({(1 - result['brier'] / result['base_brier']) * 100:+.1f}% better)" if result["base_brier"] else "",
             f"Model: {result['choice']['why']}.",
             "On the test meetings: " + "; ".join(f"{KIND_WORDS[k]} AUC {v['auc']:.3f}, Brier {v['brier']:.4f}"
                                                   for k, v in result["kinds"].items()) + ".",
             "Calibration (predicted / observed, meetings):"]
    lines += [f"  {b['from']:.1f}-{b['to']:.1f}: {b['predicted']:.2f} / {b['observed']:.2f} ({b['n']})"
              for b in result["calibration"]]
    return Result(result, "\n".join(line for line in lines if line))


@cli.group("card")
def card_group() -> None:
    """Business cards: read them from photos or scans, offline, and save them as leads."""


@seller_command(card_group, "scan")
@click.argument("images", nargs=-1, required=True, metavar="IMAGE...",
                type=click.Path(exists=True, dir_okay=False))
@click.option("--event", default="", help='Where you met them, kept as the lead\'s source ("Chamber mixer, 12 Mar").')
@click.option("--dry-run", is_flag=True, help="Only print what was read.")
@click.option("--yes", is_flag=True, help="Save without asking (for scripts).")
def card_scan_command(ctx: Ctx, images, event, dry_run, yes) -> Result:
    """Read business cards (JPEG, PNG, HEIC, TIFF, WebP; a PDF scan is one card a page) on this machine, show the
    fields, and save them as leads, or fill in what an existing lead is missing (see "Business cards"). A card that
    cannot be read says why; the others go on. `--event` becomes the leads' source; `--dry-run` only prints what was
    read; `--yes` saves without asking.
    """
    from pathlib import Path

    from django.conf import settings

    from rebook.cards.services import card_save, card_scan_file
    from rebook.errors import RebookError

    scans = []
    for image in images:
        path = Path(image)
        scans += card_scan_file(data=path.read_bytes(), name=path.name, region=settings.REBOOK_PHONE_REGION)
    lines = []
    for s in scans:
        if s.error:
            lines.append(f"{s.file}: not read: {s.error}")
            continue
        f = s.fields
        low = [k for k, v in f.confidence.items() if 0 < v < 0.5]
        lines.append(f"{s.file}: {f.name or '(no name)'}" + (f", {f.title}" if f.title else "") +
                     (f", {f.company}" if f.company else "") + "".join(f"; {e}" for e in f.emails) +
                     "".join(f"; {p.number}" + (f" ({p.kind})" if p.kind else "") for p in f.phones) +
                     (f"  [check: {', '.join(low)}]" if low else ""))
    readable = [s for s in scans if not s.error]
    if readable and not dry_run and (yes or ctx.as_json or click.confirm("\n".join(lines) + "\nSave these as leads?",
                                                                          err=True, default=True)):
        for s in readable:
            try:
                card_save(seller=ctx.seller, scan=s, event=event)
                lines.append(f"{s.file}: saved as lead {s.lead_id}" + (" (filled in an existing lead)" if s.merged else ""))
            except RebookError as e:
                s.error = str(e)
                lines.append(f"{s.file}: not saved: {e}")
    return Result([s.as_dict() for s in scans], "\n".join(lines))
