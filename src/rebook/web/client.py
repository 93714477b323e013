"""Who is asking: the client's address, read from X-Forwarded-For only when the immediate peer is a proxy
the operator trusts (REBOOK_TRUSTED_PROXIES), so nobody can choose their own address by sending the header."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(s, strict=False) for s in spec)


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(settings.REBOOK_TRUSTED_PROXIES)))


def client_ip(request: HttpRequest) -> str | None:
    peer = request.META.get("REMOTE_ADDR") or None
    if peer is None or not _trusted(peer):
        return peer
    # The right-most address that is not one of our proxies is the client; anything left of it is hearsay.
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a forged or broken header: fall back to the proxy itself
        if not _trusted(hop):
            return hop
    return peer
