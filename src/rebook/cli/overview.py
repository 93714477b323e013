"""rebook pipeline, rebook policy ..., rebook reasons ..., rebook demo"""

from __future__ import annotations

import click

from rebook.cli import cli
from rebook.cli.base import Ctx, Result, seller_command, table
from rebook.errors import RebookError


@seller_command(cli, "pipeline")
def pipeline_command(ctx: Ctx) -> Result:
    """Meetings in the next 7 and 14 days; your historical prospect-cancellation rate; the meetings to expect; the gap
    to `weekly_meeting_target`, in appointments to book and new leads to find (at your own lead-to-appointment
    rate); and how much of the week a single cancellation would take away. With little history, the rates lean on a
    prior of 25% cancellations and 50% of leads booked.
    """
    from dataclasses import asdict

    from rebook.forecast.services import held_forecast
    from rebook.leads.selectors import pipeline

    health = pipeline(seller=ctx.seller, now=ctx.now(), forecast=held_forecast(ctx.seller))
    data = asdict(health) | {"sentences": list(health.sentences)}
    return Result(data, "\n".join(health.sentences))


@cli.group("policy")
def policy_group() -> None:
    """Your cancellation policy: strike limit, timings, and the rest."""


@seller_command(policy_group, "show")
def policy_show(ctx: Ctx) -> Result:
    """Every policy key, its value, and what it does."""
    from rebook.strategy.policy import POLICY_HELP, policy_as_text

    values = policy_as_text(ctx.seller.policy)
    rows = [[key, value, POLICY_HELP[key]] for key, value in values.items()]
    return Result(values, table(rows, ["KEY", "VALUE", "WHAT IT DOES"]))


@seller_command(policy_group, "set")
@click.argument("key")
@click.argument("value")
def policy_set_command(ctx: Ctx, key, value) -> Result:
    """Change one key (see the policy table) and re-evaluate every lead."""
    from rebook.sellers.services import seller_policy_set
    from rebook.strategy.policy import policy_as_text

    seller = seller_policy_set(seller=ctx.seller, key=key, value=value)
    values = policy_as_text(seller.policy)
    return Result(values, f"{key} = {values[key]} (every lead re-evaluated)")


@cli.group("reasons")
def reasons_group() -> None:
    """The word lists that judge cancellation reasons; yours to edit."""


@seller_command(reasons_group, "show")
def reasons_show(ctx: Ctx) -> Result:
    """The reason categories, whether each is valid, and their phrases."""
    from rebook.strategy.reasons import CATEGORY_LABELS, CATEGORY_ORDER, VALID_CATEGORIES

    phrases = ctx.seller.classifier.phrases
    data = {
        c: {"label": CATEGORY_LABELS[c], "valid": c in VALID_CATEGORIES, "phrases": list(phrases.get(c, ())),
            "edited": c in ctx.seller.reason_phrases}
        for c in CATEGORY_ORDER
    }
    lines = []
    for c, info in data.items():
        kind = "not a strike: ends pursuit" if c == "not_interested" else ("valid" if info["valid"] else "not valid")
        lines.append(f"{c} ({kind}{', edited' if info['edited'] else ''}): {', '.join(info['phrases'])}")
    lines.append("No reason, no-show and unrecognised reasons are not valid; unrecognised ones are flagged for you.")
    return Result(data, "\n".join(lines))


@seller_command(reasons_group, "add")
@click.argument("category")
@click.argument("phrase")
def reasons_add(ctx: Ctx, category, phrase) -> Result:
    """Add a phrase to a category for this seller. It applies to cancellations recorded from then on."""
    from rebook.sellers.services import seller_reason_phrases_set

    current = list(ctx.seller.classifier.phrases.get(category, ()))
    seller = seller_reason_phrases_set(seller=ctx.seller, category=category, phrases=[*current, phrase])
    return Result({category: list(seller.classifier.phrases[category])}, f"Added {phrase!r} to {category}")


@seller_command(reasons_group, "remove")
@click.argument("category")
@click.argument("phrase")
def reasons_remove(ctx: Ctx, category, phrase) -> Result:
    """Remove a phrase from a category."""
    from rebook.sellers.services import seller_reason_phrases_set

    current = list(ctx.seller.classifier.phrases.get(category, ()))
    if phrase.strip().lower() not in current:
        raise RebookError(f"{phrase!r} is not in the {category} list")
    seller = seller_reason_phrases_set(
        seller=ctx.seller, category=category, phrases=[p for p in current if p != phrase.strip().lower()]
    )
    return Result({category: list(seller.classifier.phrases[category])}, f"Removed {phrase!r} from {category}")


@seller_command(reasons_group, "reset")
@click.argument("category")
def reasons_reset(ctx: Ctx, category) -> Result:
    """Restore the shipped phrase list for a category."""
    from rebook.sellers.services import seller_reason_phrases_set

    seller = seller_reason_phrases_set(seller=ctx.seller, category=category, phrases=None)
    return Result({category: list(seller.classifier.phrases.get(category, ()))}, f"Restored the shipped {category} list")


@seller_command(cli, "demo")
@click.option("--seed", default=7, show_default=True, help="Same seed, same data.")
@click.option(
    "--scale", type=click.IntRange(min=1), default=None,
    help="Instead of the small story: N sellers' worth of generated history in bulk, 5,000 leads and "
    "20,000 appointments each (you get the first; the others are new users seller002, seller003 ...).",
)
@click.option(
    "--leads-per-seller", type=click.IntRange(min=1), default=None,
    help="With --scale: leads per seller (default 5,000; four appointments per lead on average).",
)
def demo_command(ctx: Ctx, seed, scale, leads_per_seller) -> Result:
    """Load the demo data set into an empty Rebook (deterministic for a seed). With `--scale N`, it loads N sellers'
    worth of generated history instead: 5,000 leads and about 20,000 appointments each (`--leads-per-seller` changes
    that; four appointments per lead on average), with a prospect cancellation rate near 25%, about half of them
    without a valid reason, reschedule chains, no-shows, chronic cancellers on the nurture list, and the messages
    sent and planned. You get the first history; the others go to new users `seller002`, `seller003` and so on, who
    have no password until `rebook user password` gives them one. See "Performance" for what it is for.
    """
    if scale is None:
        if leads_per_seller is not None:
            raise RebookError("--leads-per-seller: only with --scale")
        from rebook.demo import load_demo

        summary = load_demo(seller=ctx.seller, now=ctx.now(), seed=seed)
        text = (
            f"Loaded {summary['leads']} leads, {summary['appointments']} appointments and "
            f"{summary['cancellations']} cancellations for {ctx.seller.username}, whom prospects see as "
            f"{ctx.seller.name} <{ctx.seller.email}> (yours: rebook init --name NAME --email ADDRESS).\n"
            "Try: rebook serve (the web app), rebook lead list, rebook lead list --status nurture, rebook outbox, rebook pipeline"
        )
        return Result(summary, text)
    return _demo_at_scale(ctx, seed, scale, leads_per_seller)


def _demo_at_scale(ctx: Ctx, seed: int, scale: int, leads_per_seller: int | None) -> Result:
    import time
    from dataclasses import asdict

    from rebook.scale import LEADS_PER_SELLER, generate

    started = time.perf_counter()

    def progress(done: int, total) -> None:
        if not ctx.as_json and scale > 1:
            click.echo(f"  {done}/{scale} sellers, {total.appointments:,} appointments", err=True)

    summary = generate(
        sellers=scale, now=ctx.now(), seed=seed, leads_per_seller=leads_per_seller or LEADS_PER_SELLER,
        first_seller=ctx.seller, progress=progress,
    )
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # planner statistics for the new rows, before autovacuum gets to them
    data = asdict(summary) | {"seconds": round(time.perf_counter() - started, 1)}
    text = (
        f"Generated {summary.sellers} seller(s), {summary.leads:,} leads, {summary.appointments:,} appointments, "
        f"{summary.cancellations:,} cancellations and {summary.messages:,} messages in {data['seconds']} s.\n"
        f"You have the first history ({ctx.seller.username})."
        + (" The other sellers have no password yet: rebook user password USERNAME." if scale > 1 else "")
    )
    return Result(data, text)
