"""Reading a seller's calendar from where it lives: an iCalendar address (Google's and Outlook's "secret
address in iCal format", any .ics URL), fetched with a conditional GET; or a CalDAV collection or principal,
read with the ``caldav`` client. Both are outside input: addresses are checked like webhook targets,
answers are bounded in size and time, and nothing here writes to the database."""

from __future__ import annotations

import base64
import hashlib
import http.client
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit, urlunsplit

from rebook import __version__
from rebook.errors import RebookError
from rebook.mailbox.imap import without_password
from rebook.webhooks.targets import TargetRefused, check_url, guarded_connection

ALLOW_PRIVATE = "REBOOK_CALENDAR_ALLOW_PRIVATE"
TIMEOUT = 20.0  # seconds for each request
MAX_BYTES = 20 * 1024 * 1024  # an .ics address's answer, or all of a CalDAV calendar's events in the window
MAX_REDIRECTS = 3
READ_SECONDS = 60.0  # for the whole of an answer


@dataclass(frozen=True)
class Fetched:
    """What an address gave: the calendars' texts (None: not changed since the last read) and the validators."""

    texts: list[str] | None
    etag: str = ""
    last_modified: str = ""
    names: tuple[str, ...] = ()  # CalDAV: the calendars read
    objects: tuple[tuple[str, str, str], ...] = ()  # CalDAV: (address, ETag, text) of each event resource read
    found: tuple[tuple[str, str], ...] = ()  # CalDAV: (name, address) of every event calendar at the address


def split_login(url: str) -> tuple[str, str, str]:
    """(url without the user and password, user, password) of an address that may carry them."""
    parts = urlsplit(url.strip())
    if parts.scheme in ("webcal", "webcals") or parts.scheme == "caldav":
        parts = parts._replace(scheme="https")
    elif parts.scheme == "caldav+http":
        parts = parts._replace(scheme="http")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RebookError(f"calendar address {without_password(url)}: give an https:// (or webcal://, caldav://) address with "
                          "a host")
    user, password = parts.username or "", parts.password or ""
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc)), user, password


def _read_body(response) -> bytes:
    """At most MAX_BYTES + 1 of the answer, within READ_SECONDS in all: the socket's timeout bounds each
    wait, not a server that sends a byte every few seconds."""
    deadline, chunks, size = time.monotonic() + READ_SECONDS, [], 0
    while size <= MAX_BYTES:
        chunk = response.read1(min(64 * 1024, MAX_BYTES + 1 - size))  # what has come, not a full 64 KB
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if time.monotonic() > deadline:
            raise RebookError(f"the calendar server took more than {READ_SECONDS:.0f} s to send the calendar; "
                              "Rebook stopped reading")
    return b"".join(chunks)


def check(url: str) -> None:
    try:
        check_url(url, allow=ALLOW_PRIVATE, what="calendar address")
    except TargetRefused as e:
        raise RebookError(str(e)) from None


def fetch_ics(url: str, *, login: str = "", password: str = "", etag: str = "", last_modified: str = "") -> Fetched:
    """GET the address, sending the last ETag and Last-Modified: a 304 gives ``texts=None``."""
    check(url)
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        connection = cls(parts.hostname, parts.port, timeout=TIMEOUT)
        connection._create_connection = lambda address, timeout=TIMEOUT, source_address=None: guarded_connection(
            address, timeout, source_address, allow=ALLOW_PRIVATE)
        headers = {"User-Agent": f"Rebook/{__version__}", "Accept": "text/calendar, */*;q=0.5"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if login or password:
            headers["Authorization"] = "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()
        try:
            connection.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), headers=headers)
            response = connection.getresponse()
            if response.status in (301, 302, 303, 307, 308) and response.getheader("Location"):
                url = urljoin(url, response.getheader("Location"))
                check(url)
                continue
            if response.status == 304:
                return Fetched(None, etag, last_modified)
            if response.status in (401, 403):
                raise RebookError(f"the calendar server refused the login (HTTP {response.status}); check the "
                                  "login and password")
            if response.status == 404:
                raise RebookError("the calendar address was not found (HTTP 404): was the calendar deleted, or its "
                                  "secret address reset?")
            if response.status != 200:
                raise RebookError(f"the calendar server answered HTTP {response.status}")
            data = _read_body(response)
            if len(data) > MAX_BYTES:
                raise RebookError(f"the calendar is larger than {MAX_BYTES // (1024 * 1024)} MB; Rebook reads no more")
            from rebook.calendars.reading import decode

            text = decode(data)
            if "BEGIN:VCALENDAR" not in text[:4096].upper():
                raise RebookError("the address did not give a calendar (no BEGIN:VCALENDAR): is it the iCal address?")
            return Fetched([text], response.getheader("ETag") or "", response.getheader("Last-Modified") or "")
        except TargetRefused as e:
            raise RebookError(str(e)) from None
        except (OSError, http.client.HTTPException) as e:
            raise RebookError(f"could not read the calendar address: {getattr(e, 'strerror', None) or type(e).__name__}"
                              ) from None
        finally:
            connection.close()
    raise RebookError(f"the calendar address redirected more than {MAX_REDIRECTS} times")


def fetch_caldav(url: str, *, login: str, password: str, start: datetime, end: datetime, known: str = "",
                 only: tuple[str, ...] = ()) -> Fetched:
    """The events of the calendar at ``url`` (or of every event calendar of the principal at ``url``) that
    overlap [start, end), as iCalendar texts, via the server's own time-range query. ``known`` is the digest
    of the calendars' ctags and sync-tokens at the last read: when the server gives the same, nothing has
    changed and nothing more is asked (one request for a calendar collection). ``only``: of a principal's
    calendars, those with these names (or addresses)."""
    import caldav
    from caldav.lib import error as dav_error

    check(url)
    try:
        with caldav.DAVClient(url=url, username=login or None, password=password or None, timeout=TIMEOUT) as client:
            calendars, found = _calendars(client, url, only)
            tags = [tag for _, tag in calendars]
            digest = hashlib.sha256("\n".join(f"{c.url} {t}" for c, t in calendars).encode()).hexdigest() if all(tags) else ""
            if digest and digest == known:
                return Fetched(None, digest, found=found)
            texts, size, names, objects = [], 0, [], []
            for calendar, _ in calendars:
                names.append(str(calendar.get_display_name() or calendar.url))
                for event in calendar.search(start=start, end=end, event=True, expand=False):
                    text = event.data if isinstance(event.data, str) else event.data.decode("utf-8", "replace")
                    size += len(text)
                    if size > MAX_BYTES:
                        raise RebookError(f"the calendar's events in the next weeks are larger than "
                                          f"{MAX_BYTES // (1024 * 1024)} MB; Rebook reads no more")
                    texts.append(text)
                    objects.append((str(event.url), str((getattr(event, "props", None) or {}).get("{DAV:}getetag", "")),
                                    text))
            return Fetched(texts, digest, names=tuple(names), objects=tuple(objects), found=found)
    except RebookError:
        raise
    except dav_error.AuthorizationError:
        raise RebookError("the calendar server refused the login (HTTP 401); check the login and password") from None
    except dav_error.NotFoundError:
        raise RebookError("the calendar was not found on the server (HTTP 404): was it deleted?") from None
    except dav_error.DAVError as e:
        raise RebookError(f"the calendar server answered with an error: {str(e)[:200]}") from None
    except Exception as e:  # a server that answers garbage, or not at all
        raise RebookError(f"could not read the calendar: {type(e).__name__}: {str(e)[:200]}") from None


CALDAV_CALENDAR = "{urn:ietf:params:xml:ns:caldav}calendar"


def _calendars(client, url: str, only: tuple[str, ...] = ()) -> tuple[list[tuple], tuple[tuple[str, str], ...]]:
    """(calendar, its change tag) for the collection at ``url`` when it is a calendar, else for the event
    calendars of the principal there (found through the server's current-user-principal; with ``only``,
    those named), and (name, address) of every event calendar found. The tag is the collection's sync-token
    or ctag ("" when the server gives neither): it changes whenever an event does."""
    import caldav
    from caldav.elements import dav

    props = caldav.DAVObject(client=client, url=url).get_properties([dav.ResourceType(), dav.SyncToken(), _Ctag()])
    if CALDAV_CALENDAR in (props.get("{DAV:}resourcetype") or []):
        return [(caldav.Calendar(client=client, url=url), _tag(props))], ()
    every = [c for c in client.principal().calendars() if "VEVENT" in (_components(c) or ["VEVENT"])]
    if not every:
        raise RebookError("no calendar with events was found at that address")
    named = [(str(c.get_display_name() or c.url), str(c.url)) for c in every]
    wanted = {w.strip().lower() for w in only if w.strip()}
    chosen = [c for c, (name, address) in zip(every, named, strict=True)
              if not wanted or name.lower() in wanted or address.lower() in wanted]
    missing = wanted - {n.lower() for n, _ in named} - {a.lower() for _, a in named}
    if missing:
        raise RebookError(f"no calendar named {', '.join(sorted(missing))} at that address; it has: "
                          + ", ".join(n for n, _ in named))
    return [(c, _tag(c.get_properties([dav.SyncToken(), _Ctag()]))) for c in chosen], tuple(named)


def _Ctag():  # noqa: N802  (made like caldav's own elements)
    from caldav.elements.base import BaseElement

    class GetCtag(BaseElement):
        tag = "{http://calendarserver.org/ns/}getctag"

    return GetCtag()


def _tag(props: dict) -> str:
    return str(props.get("{DAV:}sync-token") or props.get("{http://calendarserver.org/ns/}getctag") or "")


def _components(calendar) -> list[str]:
    try:
        return calendar.get_supported_components()
    except Exception:
        return []


class Changed(RebookError):
    """The event was changed in the calendar since Rebook last read it (HTTP 412): nothing was overwritten."""


def write_event(href: str, body: str | None, *, login: str, password: str, etag: str = "") -> str:
    """PUT (``body``) or DELETE (``body=None``) one event resource, with ``If-Match: etag`` when Rebook knows
    the version it replaces, else ``If-None-Match: *`` (a PUT never overwrites an event it has not seen).
    Returns the new ETag ("" when the server gives none)."""
    import caldav

    check(href)
    headers = {"If-Match": etag} if etag else ({"If-None-Match": "*"} if body is not None else {})
    if body is not None:
        headers["Content-Type"] = "text/calendar; charset=utf-8"
    try:
        with caldav.DAVClient(url=href, username=login or None, password=password or None, timeout=TIMEOUT) as client:
            response = client.request(href, "PUT" if body is not None else "DELETE",
                                      body.encode() if body is not None else "", headers)
    except Exception as e:
        raise RebookError(f"could not write to the calendar: {type(e).__name__}: {str(e)[:200]}") from None
    if response.status == 412:
        raise Changed("the event was changed in the calendar meanwhile; it was not overwritten")
    if body is None and response.status == 404:
        return ""
    if response.status in (401, 403):
        raise RebookError(f"the calendar server refused to let Rebook write (HTTP {response.status})")
    if response.status >= 300:
        raise RebookError(f"the calendar server answered HTTP {response.status} to a write")
    return str(response.headers.get("ETag") or response.headers.get("etag") or "")
