"""Talking to an IMAP server with the standard library's imaplib, read-only: the folder is opened with
EXAMINE, and messages are fetched with BODY.PEEK, so nothing is marked seen, moved, flagged or deleted."""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, unquote, urlsplit

from rebook.errors import RebookError
from rebook.webhooks.targets import TargetRefused, check_url, guarded_connection

TIMEOUT = 30  # seconds for connecting and for each answer
ALLOW_PRIVATE = "REBOOK_IMAP_ALLOW_PRIVATE"
MAX_MESSAGE_BYTES = 25 * 1024 * 1024  # a mail larger than this is recorded as too large and skipped
HEADER_FIELDS = ("FROM", "TO", "SUBJECT", "DATE", "MESSAGE-ID", "IN-REPLY-TO", "REFERENCES", "CONTENT-TYPE",
                 "AUTO-SUBMITTED", "X-AUTOREPLY", "X-AUTORESPOND", "PRECEDENCE", "AUTHENTICATION-RESULTS")


class ConnectionLost(RebookError):
    """The server went away mid-poll: the message in hand is read again next time, not recorded as bad."""


@dataclass(frozen=True)
class Address:
    """Where a mailbox is: from `imaps://USER:PASSWORD@HOST:993/INBOX`, `imap://...:143/INBOX?starttls=1`
    or plain `imap://` (a local server)."""

    security: str  # "ssl", "starttls" or "plain"
    host: str
    port: int
    username: str
    password: str
    folder: str


def parse_url(url: str, *, user: str | None = None, password: str | None = None) -> Address:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("imap", "imaps"):
        given = f"it starts with {parts.scheme}://" if parts.scheme else "it has no imaps:// at the start"
        raise RebookError(f"mailbox URL: {given}; write it as imaps://USER:PASSWORD@HOST:993/INBOX (or "
                          "imap://USER:PASSWORD@HOST:143/INBOX?starttls=1)")
    if not parts.hostname:
        raise RebookError("mailbox URL: the host is missing")
    query = parse_qs(parts.query)
    starttls = (query.get("starttls") or ["0"])[0].lower() in ("1", "true", "yes")
    security = "ssl" if parts.scheme == "imaps" else ("starttls" if starttls else "plain")
    try:
        port = parts.port or (993 if security == "ssl" else 143)
    except ValueError:
        raise RebookError("mailbox URL: the port must be a number from 1 to 65535") from None
    username = user or unquote(parts.username or "")
    secret = password if password is not None else unquote(parts.password or "")
    if not username:
        raise RebookError("mailbox URL: say who to log in as (imaps://USER:PASSWORD@HOST/INBOX, or --user)")
    if not secret:
        raise RebookError("mailbox URL: the password is missing (in the URL, or REBOOK_IMAP_PASSWORD)")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    return Address(security, parts.hostname, port, username, secret, folder)


@dataclass(frozen=True)
class Header:
    uid: int
    size: int
    raw: bytes  # the header fields above
    has_calendar: bool  # the body structure holds a text/calendar part
    is_report: bool  # multipart/report: a delivery status notification


def check_host(host: str, port: int) -> None:
    """Refuse a mailbox inside the network (loopback, private, link-local, a local name) unless the operator
    allows it, as webhook targets are: the Test button must not be a way to knock on the server's neighbours.
    Checked when the mailbox is set, and again on the address connected to (a name may later resolve inward)."""
    check_url(f"imap://{f'[{host}]' if ':' in host else host}:{port}/", allow=ALLOW_PRIVATE, what="mailbox URL")


def without_password(url: str) -> str:
    """The mailbox URL as it may be shown again: with no password in it."""
    parts = urlsplit(url.strip())
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    return parts._replace(netloc=f"{parts.username or ''}@{netloc[-1]}").geturl()


class _Guarded(imaplib.IMAP4):
    """imaplib's connection made only to an address that passes check_host."""

    def _create_socket(self, timeout):
        return guarded_connection((self.host, self.port), timeout, allow=ALLOW_PRIVATE)


class _GuardedSSL(imaplib.IMAP4_SSL):
    def _create_socket(self, timeout):
        sock = guarded_connection((self.host, self.port), timeout, allow=ALLOW_PRIVATE)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


class Connection:
    """One session on one folder, opened read-only. What goes wrong is said in Rebook's words, never the other
    side's (a server that is not an IMAP server must not have its banner shown), and every way of failing to
    connect reads the same."""

    def __init__(self, address: Address, *, timeout: float = TIMEOUT):
        self.address = address
        self.timeout = timeout
        self.imap: imaplib.IMAP4 | None = None
        self.uidvalidity: int | None = None

    def __enter__(self) -> Connection:
        a = self.address
        where = f"{a.host}:{a.port}"
        step = "connect"
        try:
            if a.security == "ssl":
                self.imap = _GuardedSSL(a.host, a.port, ssl_context=ssl.create_default_context(), timeout=self.timeout)
            else:
                self.imap = _Guarded(a.host, a.port, timeout=self.timeout)
                if a.security == "starttls":
                    step = "starttls"
                    self.imap.starttls(ssl_context=ssl.create_default_context())
            step = "login"
            self.imap.login(a.username, a.password)
            step = "select"
            status, _ = self.imap.select(_quote(a.folder), readonly=True)  # EXAMINE
            if status != "OK":
                raise imaplib.IMAP4.error("select")
            value = self.imap.response("UIDVALIDITY")[1]
            self.uidvalidity = int(value[0]) if value and value[0] else None
        except TargetRefused as e:
            self.close()
            raise RebookError(str(e)) from None
        except ssl.SSLError:
            self.close()
            raise RebookError(f"{where}: the secure connection failed (is it an IMAP server with TLS on this port?)") from None
        except imaplib.IMAP4.error:
            self.close()
            raise RebookError(f"{where}: " + {
                "connect": "not an IMAP server (it did not answer as one)",
                "starttls": "the server does not offer STARTTLS",
                "login": "the server refused the login name or password",
                "select": f"the folder {a.folder!r} cannot be opened",
            }[step]) from None
        except (TimeoutError, OSError, ValueError):
            self.close()
            # Refused, reset and timed out all read the same: which ports answer is nobody's business.
            raise RebookError(f"{where}: could not connect" if step == "connect" else
                              f"{where}: the connection was lost") from None
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.imap is not None:
            with contextlib.suppress(Exception):  # a broken connection cannot be closed politely
                self.imap.logout()
            self.imap = None

    def _uid(self, *args) -> list:
        assert self.imap is not None
        try:
            status, data = self.imap.uid(*args)
        except (imaplib.IMAP4.abort, OSError) as e:
            raise ConnectionLost(f"{self.address.host}: the connection was lost ({type(e).__name__})") from None
        except imaplib.IMAP4.error:
            raise RebookError(f"{self.address.host}: the server answered {args[0]} with an error") from None
        if status != "OK":
            raise RebookError(f"{self.address.host}: {args[0]} answered {status}")
        return data

    def count(self) -> int:
        return len(self.uids_after(0))

    def uids_after(self, last: int, since: datetime | None = None) -> list[int]:
        criteria = [f"UID {last + 1}:*"] + ([f"SINCE {since:%d-%b-%Y}"] if since else [])
        data = self._uid("SEARCH", None, *criteria)
        uids = sorted(int(u) for u in (data[0] or b"").split())
        return [u for u in uids if u > last]  # "n:*" always includes the highest UID, even when it is lower

    def header(self, uid: int) -> Header | None:
        data = self._uid("FETCH", str(uid), f"(UID RFC822.SIZE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS ({' '.join(HEADER_FIELDS)})])")
        meta, raw = b"", b""
        for item in data:
            if isinstance(item, tuple):
                meta, raw = item[0], item[1]
            elif isinstance(item, bytes):
                meta += item
        if not meta:
            return None
        size = re.search(rb"RFC822\.SIZE (\d+)", meta)
        structure = meta.upper()
        return Header(uid, int(size.group(1)) if size else 0, raw,
                      b'"TEXT" "CALENDAR"' in structure or b'"APPLICATION" "ICS"' in structure,
                      b'"REPORT"' in structure)

    def body(self, uid: int) -> bytes:
        data = self._uid("FETCH", str(uid), "(UID BODY.PEEK[])")
        for item in data:
            if isinstance(item, tuple):
                return item[1]
        raise RebookError(f"message {uid} has no body")


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
