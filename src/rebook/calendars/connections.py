"""The seller's connected calendars: adding, testing, removing and syncing them, and the busy times they
give. A sync reads the calendar (never during a page's request), expands its events and series over the
next weeks in the seller's zone, and replaces that connection's busy times in one transaction: a sync
killed half-way leaves the last good ones, and running it again doubles nothing. One calendar's failure
is recorded on its connection (with a growing wait before the next try) and stops no other."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from rebook.calendars import remote
from rebook.calendars.events import Budget, extract
from rebook.calendars.models import BusyTime, Connection
from rebook.calendars.reading import read_calendar_text
from rebook.claims import claim_one
from rebook.errors import RebookError, shown
from rebook.sellers.models import Seller

HORIZON = timedelta(days=90)  # busy times are read this far ahead (offers look 28 days ahead)
BEHIND = timedelta(days=1)
MAX_BUSY = 20_000  # busy times kept from one connection
MAX_BACKOFF = timedelta(hours=6)
REREAD = timedelta(hours=12)  # every event is read again at least this often, as the 90 days move on


@dataclass
class SyncReport:
    connection: str
    changed: bool = False  # False: the server said nothing changed (or the sync failed)
    busy: int = 0
    problems: list[str] = field(default_factory=list)
    error: str = ""
    fetched: remote.Fetched | None = None
    intervals: list[tuple] = field(default_factory=list)  # (start, end, all_day, summary, uid) read

    def as_dict(self) -> dict:
        return {"connection": self.connection, "changed": self.changed, "busy": self.busy,
                "problems": self.problems, "error": self.error or None}


def _secret(password: str) -> bytes:
    from rebook.mailbox.secret import seal

    return seal(password) if password else b""


def _password(connection: Connection) -> str:
    from rebook.mailbox.secret import unseal

    return unseal(connection.secret) if connection.secret else ""


def connection_add(*, seller: Seller, url: str, login: str = "", password: str | None = None, name: str = "",
                   kind: str = "", now: datetime | None = None) -> Connection:
    """Add a calendar and read it once (an address that cannot be read is not added: the error says why)."""
    clean, url_login, url_password = remote.split_login(url)
    login = login or url_login
    password = password if password is not None else url_password
    kind = kind or (Connection.Kind.CALDAV if urlsplit_scheme(url) in ("caldav", "caldav+http") or not
                    _looks_like_ics(clean) else Connection.Kind.ICS)
    if kind not in Connection.Kind.values:
        raise RebookError(f"calendar kind {shown(kind)}: give caldav or ics")
    remote.check(clean)
    name = (name or _default_name(clean)).strip()[:100]
    connection = Connection(seller=seller, kind=kind, url=clean, name=name, login=login, secret=_secret(password))
    report = _read(connection, now or timezone.now())  # before saving: a wrong address or password is refused
    if report.error:
        raise RebookError(f"calendar {shown(name)} could not be read: {report.error}")
    try:
        with transaction.atomic():
            connection.save()
            _store(connection, report, now or timezone.now())
    except IntegrityError:
        raise RebookError(f"you already have a calendar named {shown(name)}; give another --name") from None
    connection.refresh_from_db()
    return connection


def urlsplit_scheme(url: str) -> str:
    return url.strip().split(":", 1)[0].lower()


def _looks_like_ics(url: str) -> bool:
    path = url.lower().split("?", 1)[0]
    return path.endswith((".ics", ".ical", "/basic.ics")) or "ical" in path.rsplit("/", 1)[-1]


def _default_name(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or "calendar"


def connection_get(seller: Seller, ref: str) -> Connection:
    """A connection of the seller's, by its id or its name."""
    rows = Connection.objects.filter(seller=seller)
    found = rows.filter(pk=int(ref)).first() if str(ref).isdigit() else None
    found = found or rows.filter(name=ref).first()
    if found is None:
        raise RebookError(f"no calendar {shown(ref)}; see rebook calendar list")
    return found


def connection_remove(*, connection: Connection) -> None:
    connection.delete()  # its busy times go with it


def connection_test(*, connection: Connection, now: datetime | None = None) -> SyncReport:
    """Read the calendar without keeping anything."""
    return _read(connection, now or timezone.now())


def connection_sync(*, connection: Connection, now: datetime | None = None) -> SyncReport:
    """Read the calendar and replace its busy times; on failure keep the last ones and wait longer."""
    now = now or timezone.now()
    report = _read(connection, now)
    with transaction.atomic():
        if report.error:
            failures = connection.failures + 1
            wait = min(timedelta(minutes=2 ** min(failures, 10)), MAX_BACKOFF)
            Connection.objects.filter(pk=connection.pk).update(
                last_error=report.error[:500], failures=failures, last_attempt_at=now, next_sync_at=now + wait)
        else:
            _store(connection, report, now)
    connection.refresh_from_db()
    return report


def _read(connection: Connection, now: datetime) -> SyncReport:
    report = SyncReport(connection.name)
    start, end = now - BEHIND, now + HORIZON
    # Asked "has it changed?" only while the busy times held still reach far enough ahead.
    fresh = connection.read_at is not None and now - connection.read_at < REREAD
    try:
        if connection.kind == Connection.Kind.ICS:
            fetched = remote.fetch_ics(connection.url, login=connection.login, password=_password(connection),
                                       etag=connection.etag if fresh else "",
                                       last_modified=connection.last_modified if fresh else "")
        else:
            fetched = remote.fetch_caldav(connection.url, login=connection.login, password=_password(connection),
                                          start=start, end=end, known=connection.etag if fresh else "")
    except RebookError as e:
        report.error = str(e)
        return report
    if fetched.texts is None:
        report.busy = connection.events
        report.fetched = fetched
        return report
    busy, budget = [], Budget(events=MAX_BUSY)
    for i, text in enumerate(fetched.texts, start=1):
        where = connection.name if len(fetched.texts) == 1 else f"{connection.name}, event {i}"
        try:
            calendar = read_calendar_text(text)
        except RebookError as e:
            report.problems.append(f"{where}: {e}")
            continue
        except Exception as e:  # garbage from a server must not stop the rest
            report.problems.append(f"{where}: could not be read ({type(e).__name__})")
            continue
        found = extract(calendar, where=where, tz=connection.seller.tz, window=(start, end), budget=budget, within=True)
        report.problems.extend(found.rejected)
        for fact in found.facts:
            if fact.cancelled or fact.free or fact.start is None or fact.end is None:
                continue
            if fact.end <= start or fact.start >= end:
                continue
            busy.append((fact.start, fact.end, fact.all_day, fact.summary[:200], fact.uid[:500]))
        if budget.spent():
            report.problems.append(f"{connection.name}: more than {MAX_BUSY:,} busy times in the next "
                                   f"{HORIZON.days} days; the rest were not read")
            break
    report.changed, report.busy = True, len(busy)
    report.fetched = fetched
    report.intervals = busy
    return report


def _store(connection: Connection, report: SyncReport, now: datetime) -> None:
    """Replace the connection's busy times with what was read (nothing to replace after a 304)."""
    fetched = report.fetched
    if report.changed:
        mine = _rebook_uids(connection.seller)
        BusyTime.objects.filter(connection=connection).delete()
        BusyTime.objects.bulk_create([
            BusyTime(connection=connection, seller=connection.seller, start=s, end=e, all_day=a, summary=summary, uid=uid)
            for s, e, a, summary, uid in report.intervals if uid not in mine], batch_size=2000)
        report.busy = BusyTime.objects.filter(connection=connection).count()
    Connection.objects.filter(pk=connection.pk).update(
        etag=fetched.etag[:500], last_modified=fetched.last_modified[:100], last_sync_at=now, last_attempt_at=now,
        last_error="", failures=0, next_sync_at=None, events=report.busy,
        **({"read_at": now, "problems": "\n".join(report.problems)[:20000]} if report.changed else {}))


def _rebook_uids(seller: Seller) -> set[str]:
    """The UIDs Rebook gives its own meetings in invitations and the feed: a meeting the seller accepted into
    their calendar is already known, and must not make its own time look taken."""
    from rebook.leads.models import Appointment

    chains = Appointment.objects.filter(seller=seller, status=Appointment.Status.SCHEDULED).values_list("chain", flat=True)
    uids = set()
    for chain in chains:
        uids |= {str(chain), f"{chain}@rebook", f"{chain.hex}@rebook"}
    uids |= set(Appointment.objects.filter(seller=seller).exclude(ical_uid="").values_list("ical_uid", flat=True))
    return uids


# ---------------------------------------------------------------- for the worker


def connection_claim(*, worker: str, now: datetime, lease: timedelta) -> Connection | None:
    """A connection due for its sync (not read for REBOOK_CALENDAR_POLL seconds, not waiting after an error)."""
    every = timedelta(seconds=max(60, settings.REBOOK_CALENDAR_POLL))
    due = (Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lte=now - every)) & (
        Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now))
    ready = (Q(lease_until__lt=now) & due, Q(lease_until__isnull=True) & due)
    pk = claim_one(Connection, ready, ("last_attempt_at", "id"), claimed_by=worker, lease_until=now + lease)
    return None if pk is None else Connection.objects.select_related("seller").get(pk=pk)


def connection_release(*, connection: Connection, worker: str) -> None:
    Connection.objects.filter(pk=connection.pk, claimed_by=worker).update(claimed_by="", lease_until=None)
