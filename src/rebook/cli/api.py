"""rebook token ..., rebook webhook ...: access for other programs."""

from __future__ import annotations

import click

from rebook.cli import cli
from rebook.cli.base import Ctx, Result, parse_id, seller_command, table
from rebook.cli.present import iso


@cli.group("token")
def token_group() -> None:
    """Personal API tokens: each acts as you in the REST API."""


def _token_json(row, tz) -> dict:
    return {"id": row.pk, "name": row.name, "prefix": row.prefix, "created_at": iso(row.created_at, tz),
            "last_used_at": iso(row.last_used_at, tz), "revoked_at": iso(row.revoked_at, tz)}


@seller_command(token_group, "create")
@click.option("--name", default="API token", show_default=True, help="What the token is for.")
def token_create_command(ctx: Ctx, name) -> Result:
    """Create an API token and print it (shown once)."""
    from rebook.api.services import token_create

    row, token = token_create(seller=ctx.seller, name=name)
    return Result(_token_json(row, ctx.tz) | {"token": token},
                  f"{token}\n(token {row.pk}, \"{row.name}\": copy it now, it is not shown again)")


@seller_command(token_group, "list")
def token_list_command(ctx: Ctx) -> Result:
    """Your tokens: id, name, first characters, last use, active or revoked."""
    from rebook.api.models import ApiToken

    rows = list(ApiToken.objects.filter(seller=ctx.seller))
    lines = [[str(r.pk), r.name, r.prefix + "...", iso(r.last_used_at, ctx.tz) or "never",
              "revoked" if r.revoked_at else "active"] for r in rows]
    return Result([_token_json(r, ctx.tz) for r in rows], table(lines, ["ID", "NAME", "TOKEN", "LAST USED", "STATE"]))


@seller_command(token_group, "revoke")
@click.argument("token_id", metavar="ID")
def token_revoke_command(ctx: Ctx, token_id) -> Result:
    """Revoke a token; requests with it get `401` from then on."""
    from rebook.api.services import token_revoke

    row = token_revoke(seller=ctx.seller, token_id=parse_id(token_id, "ID"))
    return Result(_token_json(row, ctx.tz), f"Revoked token {row.pk} ({row.name})")


@cli.group("webhook")
def webhook_group() -> None:
    """Webhooks: Rebook posts events to your URLs, and takes cancellations from your booking tool."""


@seller_command(webhook_group, "add")
@click.argument("url")
@click.option("--event", "events", multiple=True, help="An event to send (repeat); none means every event.")
def webhook_add(ctx: Ctx, url, events) -> Result:
    """Register a URL for events (all when no `--event`) and print its signing secret (shown once)."""
    from rebook.webhooks.services import endpoint_create

    endpoint = endpoint_create(seller=ctx.seller, url=url, events=list(events))
    data = {"id": endpoint.pk, "url": endpoint.url, "events": endpoint.events, "secret": endpoint.secret}
    return Result(data, f"Webhook {endpoint.pk}: {url}\nSigning secret (shown once): {endpoint.secret}")


@seller_command(webhook_group, "list")
def webhook_list(ctx: Ctx) -> Result:
    """Your webhooks, with the status and last response of the latest delivery to each."""
    from rebook.webhooks.models import Endpoint

    rows, data = [], []
    for e in Endpoint.objects.filter(seller=ctx.seller):
        last = e.deliveries.order_by("-id").first()
        state = f"{last.event} {last.status} ({last.last_status_code or last.last_response[:40] or '-'})" if last else "-"
        rows.append([str(e.pk), e.url, ",".join(e.events) or "all events", state])
        data.append({"id": e.pk, "url": e.url, "events": e.events, "last_delivery": last and {
            "id": last.pk, "event": last.event, "status": last.status, "status_code": last.last_status_code,
            "response": last.last_response}})
    return Result(data, table(rows, ["ID", "URL", "EVENTS", "LAST DELIVERY"]))


@seller_command(webhook_group, "remove")
@click.argument("webhook_id", metavar="ID")
def webhook_remove(ctx: Ctx, webhook_id) -> Result:
    """Stop sending to a webhook."""
    from rebook.errors import RebookError
    from rebook.webhooks.models import Endpoint
    from rebook.webhooks.services import endpoint_delete

    endpoint = Endpoint.objects.filter(seller=ctx.seller, pk=parse_id(webhook_id, "ID")).first()
    if endpoint is None:
        raise RebookError(f"no webhook with id {webhook_id}")
    endpoint_delete(endpoint=endpoint)
    return Result({"id": int(webhook_id), "removed": True}, f"Removed webhook {webhook_id}")


@seller_command(webhook_group, "inbound")
@click.option("--rotate", is_flag=True, help="Replace the URL and secret; the old ones stop working.")
def webhook_inbound(ctx: Ctx, rotate) -> Result:
    """Print the URL and secret where a booking tool can post cancellations and reschedules; `--rotate` replaces both."""
    from django.conf import settings

    from rebook.api.services import inbound_hook_for

    hook = inbound_hook_for(ctx.seller, rotate=rotate)
    url = f"{settings.REBOOK_BASE_URL}/api/v1/inbound/{hook.token}"
    return Result({"url": url, "secret": hook.secret}, f"URL:    {url}\nSecret: {hook.secret}")
