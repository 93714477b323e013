"""API tokens: created (shown once), listed, revoked; and the per-token rate limit."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rebook.api.models import ApiToken, InboundHook, RateWindow
from rebook.errors import RebookError
from rebook.sellers.models import Seller
from rebook.windows import count_this_minute

PREFIX = "rbk_"


def digest(token: str) -> str:
    # Tokens are 256 random bits, so a plain SHA-256 is enough: there is nothing to guess.
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def token_create(*, seller: Seller, name: str, now: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token; the second value is the token itself, which is never stored and never shown again."""
    name = " ".join(name.split())[:100] or "API token"
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(seller=seller, name=name, prefix=token[:12], digest=digest(token),
                                  created_at=now or timezone.now())
    return row, token


@transaction.atomic
def token_revoke(*, seller: Seller, token_id: int, now: datetime | None = None) -> ApiToken:
    row = ApiToken.objects.filter(seller=seller, pk=token_id).first()
    if row is None:
        raise RebookError(f"no API token with id {token_id}")
    if row.revoked_at is None:
        row.revoked_at = now or timezone.now()
        row.save(update_fields=["revoked_at"])
    return row


def token_lookup(token: str) -> ApiToken | None:
    if not token.startswith(PREFIX):
        return None
    return ApiToken.objects.select_related("seller__user").filter(digest=digest(token), revoked_at=None).first()


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after


def rate_limit_check(*, token: ApiToken, now: datetime) -> None:
    """Count this request in the token's current minute; raise RateLimited past REBOOK_API_RATE_LIMIT."""
    if count_this_minute(RateWindow, now, token=token) > settings.REBOOK_API_RATE_LIMIT:
        raise RateLimited(retry_after=max(1, 60 - now.second))
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)


@transaction.atomic
def inbound_hook_for(seller: Seller, *, rotate: bool = False) -> InboundHook:
    """The seller's inbound URL token and secret, made on first use; ``rotate`` replaces both."""
    hook = InboundHook.objects.filter(seller=seller).first()
    if hook is None or rotate:
        hook = hook or InboundHook(seller=seller)
        hook.token, hook.secret, hook.created_at = secrets.token_urlsafe(24), secrets.token_hex(32), timezone.now()
        hook.save()
    return hook
