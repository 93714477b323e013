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
    intervals: list[tuple] = field(default_factory=list)  # (start, end, all_day, summary, uid, addresses) read

    def as_dict(self) -> dict:
        return {"connection": self.connection, "changed": self.changed, "busy": self.busy,
                "problems": self.problems, "error": self.error or None}


def _secret(password: str) -> bytes:
    from rebook.mailbox.secret import seal

    return seal(password) if password else b""


def _password(connection: Connection) -> str:
    from rebook.mailbox.secret import unseal

    return unseal(connection.secret, f"the password of calendar {shown(connection.name)}",
                  "remove the calendar and add it again") if connection.secret else ""


def connection_add(*, seller: Seller, url: str, login: str = "", password: str | None = None, name: str = "",
                   kind: str = "", writes: bool = False, only: str = "", now: datetime | None = None) -> Connection:
    """Add a calendar and read it once (an address that cannot be read is not added: the error says why).
    ``writes``: Rebook writes its meetings into it (a CalDAV calendar collection; it takes over from any
    other calendar of the seller's that Rebook wrote into)."""
    clean, url_login, url_password = remote.split_login(url)
    login = login or url_login
    password = password if password is not None else url_password
    kind = kind or (Connection.Kind.CALDAV if urlsplit_scheme(url) in ("caldav", "caldav+http") or not
                    _looks_like_ics(clean) else Connection.Kind.ICS)
    if kind not in Connection.Kind.values:
        raise RebookError(f"calendar kind {shown(kind)}: give caldav or ics")
    remote.check(clean)
    name = (name or _default_name(clean)).strip()[:100]
    only = ",".join(n.strip() for n in only.split(",") if n.strip())[:1000]
    if only and kind != Connection.Kind.CALDAV:
        raise RebookError("only: an .ics address is one calendar; choose among the calendars of a CalDAV account")
    connection = Connection(seller=seller, kind=kind, url=clean, name=name, login=login, secret=_secret(password),
                            writes=writes, only=only)
    report = _read(connection, now or timezone.now())  # before saving: a wrong address or password is refused
    if report.error:
        raise RebookError(f"calendar {shown(name)} could not be read: {report.error}")
    if writes and (kind != Connection.Kind.CALDAV or report.fetched.found or len(report.fetched.names) != 1):
        raise RebookError(f"calendar {shown(name)}: Rebook writes its meetings into one CalDAV calendar; give the "
                          "address of that calendar itself (not an .ics address or an account)")
    try:
        with transaction.atomic():
            if writes:
                Connection.objects.filter(seller=seller, writes=True).update(writes=False)
            connection.save()
            _store(connection, report, now or timezone.now())
    except IntegrityError:
        raise RebookError(f"you already have a calendar named {shown(name)}; give another --name") from None
    connection.refresh_from_db()
    if writes:
        _write_back(connection, report, now or timezone.now())
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
    if connection.writes and not report.error:
        _write_back(connection, report, now)
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
                                          start=start, end=end, known=connection.etag if fresh else "",
                                          only=tuple(connection.only.split(",")) if connection.only else ())
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
            people = {p.email for p in fact.attendees} | ({fact.organizer.email} if fact.organizer else set())
            busy.append((fact.start, fact.end, fact.all_day, fact.summary[:200], fact.uid[:500], people))
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
        leads = _leads_among(connection.seller, {a for *_, people in report.intervals for a in people})
        BusyTime.objects.filter(connection=connection).delete()
        BusyTime.objects.bulk_create([
            BusyTime(connection=connection, seller=connection.seller, start=s, end=e, all_day=a, summary=summary, uid=uid,
                     lead_id=next((leads[p] for p in sorted(people) if p in leads), None))
            for s, e, a, summary, uid, people in report.intervals if uid not in mine], batch_size=2000)
        report.busy = BusyTime.objects.filter(connection=connection).count()
    Connection.objects.filter(pk=connection.pk).update(
        etag=fetched.etag[:500], last_modified=fetched.last_modified[:100], last_sync_at=now, last_attempt_at=now,
        last_error="", failures=0, next_sync_at=None, events=report.busy,
        found="\n".join(f"{name}\t{address}" for name, address in fetched.found)[:20000],
        **({"read_at": now, "problems": "\n".join(report.problems)[:20000]} if report.changed else {}))


def _leads_among(seller: Seller, addresses: set[str]) -> dict[str, int]:
    """Which of these addresses are the seller's leads' (not the seller's own): address -> lead id."""
    from rebook.calendars.services import seller_addresses
    from rebook.leads.models import Lead

    wanted = {a.lower() for a in addresses} - seller_addresses(seller)
    if not wanted:
        return {}
    found: dict[str, int] = {}
    for pk, email in Lead.objects.filter(seller=seller, email__in=wanted).values_list("pk", "email").order_by("pk"):
        found.setdefault(email.lower(), pk)
    return found


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


# ---------------------------------------------------------------- two ways: Rebook's meetings in the calendar


def _write_back(connection: Connection, report: SyncReport, now: datetime) -> None:
    """First what was done in the calendar to Rebook's meetings flows in (only after a full read: a moved
    event is a reschedule by the seller, a deleted one a cancellation by the seller, the prospect's DECLINED
    a cancellation by the prospect, all with channel "calendar"); then what Rebook changed is written out.
    Each meeting is its own transaction: one that fails is reported and the others go on."""
    from rebook.calendars.models import CalendarCopy

    copies = {c.chain: c for c in CalendarCopy.objects.filter(connection=connection)}
    on_server: dict[str, tuple[str, str, str]] = {}
    if report.changed and report.fetched is not None and report.fetched.objects:
        for href, etag, text in report.fetched.objects:
            uid = _uid_of(text)
            if uid.endswith("@rebook"):
                on_server[uid] = (href, etag, text)
        for chain, copy in copies.items():
            _flow_in(connection, copy, on_server.get(f"{chain}@rebook"), report, now)
        _adopt(connection, copies, on_server)
    elif report.changed and report.fetched is not None:
        for copy in copies.values():  # an empty calendar: every event Rebook wrote was deleted there
            _flow_in(connection, copy, None, report, now)
    _write_out(connection, report, now, on_server)


def _adopt(connection: Connection, copies: dict, on_server: dict) -> None:
    """A meeting of Rebook's already in the calendar with no record of writing it (a sync stopped between the
    write and its record): taken as written, at its version unknown, so the next read compares it and
    nothing is written twice."""
    import uuid

    from rebook.calendars.models import CalendarCopy

    for uid, (href, _, _) in on_server.items():
        try:
            chain = uuid.UUID(uid.removesuffix("@rebook"))
        except ValueError:
            continue
        meeting = None if chain in copies else _current(chain)
        if meeting is not None and meeting.seller_id == connection.seller_id:
            CalendarCopy.objects.get_or_create(connection=connection, chain=chain, defaults={
                "href": href, "etag": "", "start": meeting.start, "end": meeting.end})


def _uid_of(text: str) -> str:
    for line in text.splitlines():
        if line.upper().startswith("UID:"):
            return line[4:].strip()
    return ""


def _current(chain):
    from rebook.leads.models import Appointment

    return Appointment.objects.filter(chain=chain, status=Appointment.Status.SCHEDULED).select_related(
        "lead", "lead__seller").order_by("-id").first()


def _flow_in(connection: Connection, copy, found: tuple | None, report: SyncReport, now: datetime) -> None:
    from rebook.leads.models import Channel
    from rebook.leads.services import appointment_cancel, appointment_reschedule

    if found is not None and found[1] and found[1] == copy.etag:
        return  # as Rebook wrote it
    if found is None and not (now - BEHIND <= copy.start < now + HORIZON):
        return  # outside what was read: unknown, not deleted
    meeting = _current(copy.chain)
    try:
        with transaction.atomic():
            if meeting is None:  # over in Rebook too; what is left there is the seller's own
                if found is None:
                    copy.delete()
                return
            if found is None:
                appointment_cancel(appointment=meeting, by="seller", reason="deleted in your calendar",
                                   channel=Channel.CALENDAR, now=now)
                copy.delete()
                return
            fact = _main_fact(found[2], connection, now)
            lead_email = (meeting.lead.email or "").lower()
            declined = fact is not None and any(p.email == lead_email and p.partstat == "DECLINED"
                                                for p in fact.attendees)
            if fact is None or fact.cancelled:
                appointment_cancel(appointment=meeting, by="seller", reason="cancelled in your calendar",
                                   channel=Channel.CALENDAR, now=now)
                copy.delete()
            elif declined:
                appointment_cancel(appointment=meeting, by="prospect", reason="declined in the calendar invitation",
                                   channel=Channel.CALENDAR, now=now)
                copy.delete()
            elif fact.start != meeting.start:
                _, moved = appointment_reschedule(appointment=meeting, to=fact.start, by="seller",
                                                  reason="moved in your calendar", channel=Channel.CALENDAR, now=now)
                copy.href, copy.etag, copy.written_at = found[0], found[1], now
                if moved is not None:
                    copy.start, copy.end = moved.start, moved.end
                copy.save()
            else:  # changed there, not in its time (a note, a reminder): keep the new version
                copy.href, copy.etag = found[0], found[1]
                copy.save(update_fields=["href", "etag"])
    except RebookError as e:
        report.problems.append(f"the meeting with {meeting.lead.name if meeting else copy.chain}: {e}")


def _main_fact(text: str, connection: Connection, now: datetime):
    try:
        found = extract(read_calendar_text(text), where=connection.name, tz=connection.seller.tz,
                        window=(now - timedelta(days=366), now + timedelta(days=2 * 366)))
    except Exception:
        return None
    plain = [f for f in found.facts if f.recurrence_id is None]
    return plain[0] if plain else None


def _write_out(connection: Connection, report: SyncReport, now: datetime, on_server: dict) -> None:
    """``on_server``: the calendar's own versions of Rebook's meetings, when just read: a meeting changed in
    Rebook is written over that version with only its times and SEQUENCE changed, so that whatever else was
    edited there (a note, an alarm, the title) is kept."""
    from rebook.calendars.models import CalendarCopy
    from rebook.leads.models import Appointment

    password = _password(connection)
    wrote = False
    copies = {c.chain: c for c in CalendarCopy.objects.filter(connection=connection)}
    ahead = {a.chain: a for a in Appointment.objects.filter(
        seller=connection.seller, status=Appointment.Status.SCHEDULED, start__gte=now, start__lt=now + HORIZON
    ).select_related("lead", "lead__seller").order_by("id")}
    base = connection.url if connection.url.endswith("/") else connection.url + "/"
    for chain, meeting in ahead.items():
        copy = copies.get(chain)
        if copy is not None and (copy.start, copy.end) == (meeting.start, meeting.end):
            continue
        href = copy.href if copy else f"{base}{chain}.ics"
        theirs = on_server.get(f"{chain}@rebook")
        text = _patched(theirs[2], meeting, now) if copy and theirs and theirs[1] == copy.etag else _event_text(meeting, now)
        try:
            etag = remote.write_event(href, text, login=connection.login, password=password,
                                      etag=copy.etag if copy else "")
        except RebookError as e:  # a 412 too: the next full read brings the calendar's version in
            report.problems.append(f"writing the meeting with {meeting.lead.name}: {e}")
            continue
        wrote = True
        CalendarCopy.objects.update_or_create(connection=connection, chain=chain, defaults={
            "href": href, "etag": etag, "start": meeting.start, "end": meeting.end, "written_at": now})
    gone = {chain: copy for chain, copy in copies.items() if chain not in ahead and copy.start >= now}
    still_on = set(Appointment.objects.filter(chain__in=list(gone), status=Appointment.Status.SCHEDULED)
                   .values_list("chain", flat=True)) if gone else set()  # on, beyond the weeks written
    for chain, copy in gone.items():
        if chain in still_on:
            continue
        try:  # called off in Rebook: taken out of the calendar, unless it was changed there meanwhile
            remote.write_event(copy.href, None, login=connection.login, password=password, etag=copy.etag)
        except RebookError as e:
            report.problems.append(f"removing a cancelled meeting from the calendar: {e}")
            continue
        wrote = True
        copy.delete()
    if wrote:  # the calendar's tag moved with Rebook's own writes (and may come back to an old value): read in full
        Connection.objects.filter(pk=connection.pk).update(etag="")
    if report.problems:
        Connection.objects.filter(pk=connection.pk).update(problems="\n".join(report.problems)[:20000])


def _event_text(meeting, now: datetime) -> str:
    """The meeting as its invitation describes it (same UID and SEQUENCE), stored as CalDAV wants it: no
    METHOD, and SCHEDULE-AGENT=CLIENT so that the calendar server sends no invitation of its own."""
    import icalendar

    from rebook.calendars.invitations import REQUEST, invitation
    from rebook.outbox.compose import meeting_of

    calendar = icalendar.Calendar.from_ical(invitation(meeting_of(meeting), method=REQUEST, stamp=now))
    calendar.pop("METHOD", None)
    for event in calendar.walk("VEVENT"):
        for key in ("ORGANIZER", "ATTENDEE"):
            value = event.get(key)
            for person in value if isinstance(value, list) else [value]:
                if person is not None:
                    person.params["SCHEDULE-AGENT"] = "CLIENT"
    return calendar.to_ical().decode()


def _patched(text: str, meeting, now: datetime) -> str:
    """The calendar's version of a meeting with Rebook's times, SEQUENCE and stamp put in, the rest kept."""
    import icalendar

    fresh = icalendar.Calendar.from_ical(_event_text(meeting, now))
    calendar = icalendar.Calendar.from_ical(text)
    ours = fresh.walk("VEVENT")[0]
    for event in calendar.walk("VEVENT"):
        if event.get("RECURRENCE-ID") is None:
            for key in ("DTSTART", "DTEND", "DURATION", "SEQUENCE", "DTSTAMP", "STATUS"):
                event.pop(key, None)
                if key in ours:
                    event[key] = ours[key]
    known = {str(z.get("TZID")) for z in calendar.walk("VTIMEZONE")}
    for zone in fresh.walk("VTIMEZONE"):
        if str(zone.get("TZID")) not in known:
            calendar.subcomponents.insert(0, zone)
    return calendar.to_ical().decode()


def book_from_calendar(*, seller: Seller, busy_id: int, now: datetime | None = None):
    """Book, in Rebook, a meeting with a lead found in the seller's calendar (``busy.to_book``): the same
    UID, so that the calendar's event and Rebook's meeting stay one."""
    from rebook.leads.models import Channel, Lead
    from rebook.leads.services import appointment_book

    row = BusyTime.objects.filter(seller=seller, pk=busy_id, lead__isnull=False).first()
    if row is None:
        raise RebookError(f"no meeting {busy_id} with a lead in your calendars; see rebook calendar show")
    lead = Lead.objects.get(pk=row.lead_id)
    meeting = appointment_book(lead=lead, start=row.start, end=row.end, channel=Channel.CALENDAR, now=now,
                               details={"ical_uid": row.uid[:500], "title": row.summary[:300]})
    row.delete()  # no longer someone else's time: it is the meeting itself
    return meeting
