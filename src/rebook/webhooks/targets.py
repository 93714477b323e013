"""Which webhook targets may be reached: public addresses only, unless the operator allows private ones.

Checked twice: when a URL is registered (so a typo'd or hostile target is refused with a clear message),
and on the address actually connected to at delivery time (so a name that later resolves inward, or
rebinds between the check and the connect, is still refused).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from rebook.errors import RebookError


class TargetRefused(RebookError):
    pass


def address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    # is_global is False for loopback, private, link-local (cloud metadata), shared, reserved and documentation ranges.
    return ip.is_global and not ip.is_multicast


WEBHOOKS = "REBOOK_WEBHOOK_ALLOW_PRIVATE"  # the setting that lets webhook targets be private (mailboxes have theirs)


def private_allowed(allow: str = WEBHOOKS) -> bool:
    return bool(getattr(settings, allow, False))


def resolve_public(host: str, port: int, *, allow: str = WEBHOOKS) -> list[tuple]:
    """getaddrinfo results for host, refused if any of them is not a public address."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise TargetRefused(f"{host}: the name does not resolve ({e})") from None
    if not private_allowed(allow):
        for *_, sockaddr in infos:
            if not address_is_public(sockaddr[0]):
                raise TargetRefused(
                    f"{host}: resolves to {sockaddr[0]}, a private, loopback or link-local address "
                    f"(set {allow}=true to allow such targets)"
                )
    return infos


def check_url(url: str, *, allow: str = WEBHOOKS, what: str = "url") -> None:
    """Refuse a URL whose host is, or resolves to, an address inside the network. A name that does not
    resolve yet is accepted here (delivery checks again), but a literal private address never is."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if private_allowed(allow):
        return
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if not address_is_public(str(literal)):
            raise TargetRefused(f"{what}: {host} is a private, loopback or link-local address "
                                f"(set {allow}=true to allow such targets)")
        return
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise TargetRefused(f"{what}: {host} is a local name (set {allow}=true to allow it)")
    try:
        resolve_public(host, parts.port or 443, allow=allow)
    except TargetRefused as e:
        if "does not resolve" in str(e):
            return
        raise TargetRefused(f"{what}: {e}") from None


def guarded_connection(address: tuple[str, int], timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None, *,
                       allow: str = WEBHOOKS):
    """socket.create_connection, but only to addresses that pass the check, and to the checked address itself."""
    host, port = address
    last_error: OSError | None = None
    for family, type_, proto, _, sockaddr in resolve_public(host, port, allow=allow):
        sock = socket.socket(family, type_, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as e:
            sock.close()
            last_error = e
    raise last_error or OSError(f"{host}: no address to connect to")
