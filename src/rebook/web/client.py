"""Who is asking: the client's address, read from X-Forwarded-For only when the immediate peer is a proxy
the operator trusts (REBOOK_TRUSTED_PROXIES), so nobody can choose their own address by sending the header.

An IPv6 client is its /64 network: one subscriber is usually given a whole /64 and can take any address in
it, so counting single addresses would let one person try again from a fresh address at will."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(s, strict=False) for s in spec)


def _parse(text: str) -> Address | None:
    """The address, with an IPv4 one written as IPv6 (::ffff:192.0.2.1, from a dual-stack socket) read as IPv4."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _trusted(ip: Address) -> bool:
    return any(ip in net for net in _networks(tuple(settings.REBOOK_TRUSTED_PROXIES)))


def _named(ip: Address) -> str:
    if isinstance(ip, ipaddress.IPv4Address):
        return str(ip)
    return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))


def client_address(request: HttpRequest) -> str | None:
    """What requests are counted by: an IPv4 address ("192.0.2.5") or an IPv6 /64 ("2001:db8:1:2::/64");
    None when the peer has no address."""
    peer = _parse(request.META.get("REMOTE_ADDR") or "")
    if peer is None:
        return None
    if not _trusted(peer):
        return _named(peer)
    # The right-most address that is not one of our proxies is the client; anything left of it is hearsay.
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        ip = _parse(hop)
        if ip is None:
            return _named(peer)  # a forged or broken header: fall back to the proxy itself
        if not _trusted(ip):
            return _named(ip)
    return _named(peer)
