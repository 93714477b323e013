"""The seller's own calendars, connected and synced against real servers (Radicale and Xandikos, started
here on free ports; .ics addresses from a local HTTP server): busy times, recurring and all-day events in
the right zones across a DST change, kept clear by every offered time; errors recorded on the connection,
never stopping another; a 304 when nothing changed."""

from __future__ import annotations

import http.server
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rebook.calendars import busy, connections
from rebook.calendars.models import BusyTime, Connection
from rebook.errors import RebookError
from rebook.leads import selectors
from tests.calendars.one_per_uid import one_per_uid
from tests.calendars.servers import SERVERS

NOW = datetime(2027, 3, 8, 13, 0, tzinfo=UTC)  # Monday 08:00 in New York; clocks go forward on Sunday 14 March
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ics"

TEAM = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Example Corp//Calendar 1.0//EN
BEGIN:VEVENT
UID:team-weekly
DTSTAMP:20270101T000000Z
DTSTART;TZID=America/New_York:20270301T100000
DTEND;TZID=America/New_York:20270301T110000
RRULE:FREQ=WEEKLY;BYDAY=MO
EXDATE;TZID=America/New_York:20270322T100000
SUMMARY:Team meeting
END:VEVENT
BEGIN:VEVENT
UID:team-weekly
DTSTAMP:20270101T000000Z
RECURRENCE-ID;TZID=America/New_York:20270329T100000
DTSTART;TZID=America/New_York:20270329T140000
DTEND;TZID=America/New_York:20270329T150000
SUMMARY:Team meeting (moved)
END:VEVENT
END:VCALENDAR
"""
OTHERS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Example Corp//Calendar 1.0//EN
BEGIN:VEVENT
UID:conference
DTSTAMP:20270101T000000Z
DTSTART;VALUE=DATE:20270310
DTEND;VALUE=DATE:20270311
SUMMARY:Conference
END:VEVENT
BEGIN:VEVENT
UID:free-lunch
DTSTAMP:20270101T000000Z
DTSTART:20270309T170000Z
DTEND:20270309T180000Z
TRANSP:TRANSPARENT
SUMMARY:Lunch (free)
END:VEVENT
BEGIN:VEVENT
UID:called-off
DTSTAMP:20270101T000000Z
DTSTART:20270311T150000Z
DTEND:20270311T160000Z
STATUS:CANCELLED
SUMMARY:Called off
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture(autouse=True)
def private_allowed(settings):
    settings.REBOOK_CALENDAR_ALLOW_PRIVATE = True


@pytest.fixture(scope="module", params=sorted(SERVERS))
def server(request, tmp_path_factory):
    with SERVERS[request.param](tmp_path_factory.mktemp(request.param)) as running:
        yield running


_made = iter(range(10_000))


def calendar_with(server, *texts):
    calendar = server.new_calendar(f"Work {next(_made)}")
    for text in texts:
        for resource in one_per_uid(text):
            calendar.save_event(resource)
    return calendar


def local(busy, tz):
    return sorted((b.start.astimezone(tz).strftime("%a %d %H:%M"), b.end.astimezone(tz).strftime("%H:%M"), b.summary)
                  for b in busy)


def test_busy_times_from_a_caldav_calendar_in_the_sellers_zone_across_dst(alice, server):
    calendar = calendar_with(server, TEAM, OTHERS)
    c = connections.connection_add(seller=alice, url=str(calendar.url), login=server.login, password=server.password,
                                   name="Work", now=NOW)
    assert c.kind == "caldav" and c.last_error == "" and c.events == len(BusyTime.objects.filter(connection=c))
    rows = local(BusyTime.objects.filter(connection=c, start__lt=datetime(2027, 4, 1, tzinfo=UTC)), alice.tz)
    print(f"\n{server.kind}:", rows)
    team = [r for r in rows if r[2].startswith("Team")]
    # Every Monday at 10:00 New York time, before and after the clocks change; 22 March left out; 29 March moved.
    assert team == [("Mon 08 10:00", "11:00", "Team meeting"), ("Mon 15 10:00", "11:00", "Team meeting"),
                    ("Mon 29 14:00", "15:00", "Team meeting (moved)")]
    utc = sorted(b.start for b in BusyTime.objects.filter(connection=c, summary="Team meeting"))[:2]
    assert [t.hour for t in utc] == [15, 14]  # EST then EDT
    conference = BusyTime.objects.get(connection=c, summary="Conference")
    assert conference.all_day and conference.start.astimezone(alice.tz).hour == 0
    assert conference.end - conference.start == timedelta(days=1)
    assert not BusyTime.objects.filter(summary__in=["Lunch (free)", "Called off"]).exists()

    # Every time offered or accepted keeps clear of them.
    hour = timedelta(hours=1)
    offered = selectors.open_times(seller=alice, length=hour, after=NOW)
    offered += selectors.offer_times(seller=alice, length=hour, after=NOW)
    taken = list(BusyTime.objects.filter(seller=alice).values_list("start", "end"))
    assert offered and not [t for t in offered if any(t < e and t + hour > s for s, e in taken)]
    team_time = datetime(2027, 3, 15, 14, 0, tzinfo=UTC)
    assert not selectors.is_free(seller=alice, start=team_time, end=team_time + hour)
    assert busy.clashes(alice, team_time + timedelta(minutes=30), team_time + hour) == ["Team meeting 10:00-11:00"]
    assert selectors.is_free(seller=alice, start=team_time + 2 * hour, end=team_time + 3 * hour)


def test_a_change_on_the_server_flows_in_and_a_deleted_calendar_is_reported(alice, server):
    calendar = calendar_with(server, TEAM)
    c = connections.connection_add(seller=alice, url=str(calendar.url), login=server.login, password=server.password,
                                   now=NOW)
    before = c.events
    event = calendar.event_by_uid("team-weekly")
    event.data = TEAM.replace("T100000\nDTEND;TZID=America/New_York:20270301T110000",
                              "T120000\nDTEND;TZID=America/New_York:20270301T130000")
    event.save()
    report = connections.connection_sync(connection=c, now=NOW + timedelta(minutes=5))
    # Two more: the EXDATE and the moved occurrence name the 10:00 occurrences, which no longer exist.
    assert report.error == "" and report.busy == before + 2
    assert "Mon 15 12:00" in [r[0] for r in local(BusyTime.objects.filter(connection=c), alice.tz)]

    calendar.delete()
    report = connections.connection_sync(connection=c, now=NOW + timedelta(minutes=10))
    assert "not found" in report.error or "error" in report.error, report.error
    c.refresh_from_db()
    assert c.failures == 1 and c.next_sync_at > NOW + timedelta(minutes=10) and c.last_error
    assert BusyTime.objects.filter(connection=c).count() == before + 2  # the last good busy times are kept
    assert busy.stale(alice, NOW + timedelta(minutes=10))[0].startswith(c.name)


def test_a_sync_with_nothing_new_costs_one_request(alice, server, monkeypatch):
    import caldav

    calendar = calendar_with(server, TEAM)
    c = connections.connection_add(seller=alice, url=str(calendar.url), login=server.login, password=server.password,
                                   now=NOW)
    assert c.etag  # the calendar's sync-token (or ctag), digested
    requests = []
    real = caldav.DAVClient.request
    monkeypatch.setattr(caldav.DAVClient, "request", lambda self, *a, **k: requests.append(a[:2]) or real(self, *a, **k))
    report = connections.connection_sync(connection=c, now=NOW + timedelta(minutes=5))
    assert not report.changed and report.busy == c.events and len(requests) == 1, requests
    before = c.events
    calendar.save_event(OTHERS.split("BEGIN:VEVENT")[0] + "BEGIN:VEVENT" + OTHERS.split("BEGIN:VEVENT")[1]
                        + "END:VCALENDAR\n")
    report = connections.connection_sync(connection=c, now=NOW + timedelta(minutes=10))
    assert report.changed and report.busy == before + 1  # the conference
    # Half a day on, every event is read again (the 90 days ahead have moved on), changed or not.
    requests.clear()
    report = connections.connection_sync(connection=c, now=NOW + timedelta(hours=13))
    assert report.changed and len(requests) >= 2


def test_a_principal_address_reads_its_calendars_or_the_ones_chosen(alice, server):
    team = calendar_with(server, TEAM)
    others = calendar_with(server, OTHERS)
    c = connections.connection_add(seller=alice, url=server.base, login=server.login, password=server.password,
                                   name="All", now=NOW)
    found = dict(line.split("\t") for line in c.found.splitlines())
    assert {str(team.url), str(others.url)} <= set(found.values())
    assert BusyTime.objects.filter(connection=c, summary="Conference").exists() and c.events >= 4
    team_name = next(n for n, u in found.items() if u == str(team.url))
    chosen = connections.connection_add(seller=alice, url=server.base, login=server.login, password=server.password,
                                        name="Team only", only=team_name, now=NOW)
    assert not BusyTime.objects.filter(connection=chosen, summary="Conference").exists()
    assert BusyTime.objects.filter(connection=chosen, summary="Team meeting").exists()
    with pytest.raises(RebookError, match="no calendar named nope at that address; it has: "):
        connections.connection_add(seller=alice, url=server.base, login=server.login, password=server.password,
                                   name="Nope", only="Nope", now=NOW)


def test_a_wrong_password_adds_nothing_and_says_so(alice, tmp_path):
    with SERVERS["radicale"](tmp_path) as server:
        calendar = calendar_with(server, TEAM)
        with pytest.raises(RebookError, match="refused the login"):
            connections.connection_add(seller=alice, url=str(calendar.url), login="alice", password="wrong", now=NOW)
    assert not Connection.objects.exists()


def test_the_password_is_stored_encrypted_and_never_shown(alice, server):
    calendar = calendar_with(server, TEAM)
    c = connections.connection_add(seller=alice, url=str(calendar.url).replace("://", f"://{server.login}:"
                                                                              f"{server.password}@") if server.login
                                   else str(calendar.url), now=NOW)
    if server.login:
        assert server.password.encode() not in bytes(c.secret) and "secret" not in c.url and c.login == "alice"


# ---------------------------------------------------------------- iCalendar addresses


class _Ics(http.server.BaseHTTPRequestHandler):
    body: bytes = b""
    etag = '"v1"'
    status = 200
    seen: list = []

    def do_GET(self):  # noqa: N802
        type(self).seen.append(dict(self.headers))
        if self.status != 200:
            self.send_response(self.status)
            self.end_headers()
            return
        if self.headers.get("If-None-Match") == self.etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        self.send_header("ETag", self.etag)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def ics_server():
    handler = type("Handler", (_Ics,), {"seen": [], "body": TEAM.encode(), "status": 200})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{httpd.server_address[1]}/calendar/basic.ics"
    httpd.shutdown()


def test_an_ics_address_is_read_once_and_then_only_when_changed(alice, ics_server):
    handler, url = ics_server
    c = connections.connection_add(seller=alice, url=url.replace("http://", "webcal://").replace("webcal://", "http://"),
                                   name="Google", now=NOW)
    assert c.kind == "ics" and c.etag == '"v1"' and c.events >= 3
    report = connections.connection_sync(connection=c, now=NOW + timedelta(minutes=5))
    assert not report.changed and report.busy == c.events and handler.seen[-1]["If-None-Match"] == '"v1"'
    handler.body, handler.etag = OTHERS.encode(), '"v2"'
    report = connections.connection_sync(connection=c, now=NOW + timedelta(minutes=10))
    assert report.changed and list(BusyTime.objects.filter(connection=c).values_list("summary", flat=True)) == ["Conference"]


@pytest.mark.parametrize("name", sorted(p.relative_to(FIXTURES).as_posix() for p in FIXTURES.rglob("*.ics")))
def test_real_client_files_sync_without_stopping(alice, ics_server, name):
    handler, url = ics_server
    handler.body = (FIXTURES / name).read_bytes()
    c = Connection.objects.create(seller=alice, kind="ics", url=url, name="real")
    report = connections.connection_sync(connection=c, now=datetime(2022, 3, 1, tzinfo=UTC))
    assert report.error == "", report.error  # an event that cannot be read is listed, and the rest are kept
    c.refresh_from_db()
    assert c.last_sync_at is not None and c.events == BusyTime.objects.filter(connection=c).count()


@pytest.mark.parametrize("body,status,expected", [
    (b"<html>Sign in</html>", 200, "did not give a calendar"),
    (b"", 404, "not found"),
    (b"", 401, "refused the login"),
    (b"", 500, "HTTP 500"),
])
def test_a_bad_answer_is_recorded_on_its_connection_and_stops_no_other(alice, ics_server, body, status, expected):
    from rebook.outbox.worker import Worker

    handler, url = ics_server
    good = Connection.objects.create(seller=alice, kind="ics", url=url, name="good")
    bad = Connection.objects.create(seller=alice, kind="ics", url=url.replace("basic.ics", "other.ics"), name="bad")
    original = handler.do_GET

    def answer(self):
        if self.path.endswith("other.ics"):
            self.send_response(status)
            self.end_headers()
            self.wfile.write(body)
            return
        original(self)

    handler.do_GET = answer
    worker = Worker(name="w1", send_mail=False)
    for _ in range(3):
        worker.step()
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.last_error == "" and good.events >= 1  # the worker reads from today: the series starts in March
    assert expected in bad.last_error and bad.failures == 1 and bad.next_sync_at is not None


def test_private_addresses_are_refused_unless_allowed(alice, settings):
    settings.REBOOK_CALENDAR_ALLOW_PRIVATE = False
    with pytest.raises(RebookError, match="private|local"):
        connections.connection_add(seller=alice, url="https://127.0.0.1:8443/cal.ics", now=NOW)
    with pytest.raises(RebookError, match="https://"):
        connections.connection_add(seller=alice, url="ftp://example.com/cal.ics", now=NOW)


def test_a_50000_event_calendar_keeps_what_falls_in_the_weeks_ahead(alice, ics_server):
    handler, url = ics_server
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Example Corp//Big//EN"]
    first = datetime(2026, 1, 1, 14, tzinfo=UTC)
    for i in range(50_000):  # one an hour or so over two years: most are past or beyond the 90 days
        s = first + timedelta(hours=(i * 7) % (24 * 730))
        lines += ["BEGIN:VEVENT", f"UID:e{i}@example.com", "DTSTAMP:20260101T000000Z", f"DTSTART:{s:%Y%m%dT%H%M%SZ}",
                  f"DTEND:{s + timedelta(minutes=30):%Y%m%dT%H%M%SZ}", f"SUMMARY:Event {i}", "END:VEVENT"]
    handler.body = "\r\n".join([*lines, "END:VCALENDAR", ""]).encode()
    c = connections.connection_add(seller=alice, url=url, name="Big", now=NOW)
    inside = sum(1 for i in range(50_000)
                 if NOW - connections.BEHIND <= first + timedelta(hours=(i * 7) % (24 * 730)) < NOW + connections.HORIZON)
    assert c.events == inside > 2000 and c.last_error == ""


def test_a_slow_server_is_given_up_on_and_the_last_busy_times_stay(alice, ics_server, monkeypatch):
    import time

    from rebook.calendars import remote

    handler, url = ics_server
    c = connections.connection_add(seller=alice, url=url, name="Slow", now=NOW)
    held = c.events
    monkeypatch.setattr(remote, "TIMEOUT", 0.5)
    original = handler.do_GET
    handler.do_GET = lambda self: (time.sleep(2), original(self))
    report = connections.connection_sync(connection=c, now=NOW + timedelta(hours=13))
    assert "could not read the calendar address" in report.error
    assert BusyTime.objects.filter(connection=c).count() == held


def test_a_caldav_server_answering_garbage_is_an_error_on_its_connection(alice):
    class Garbage(http.server.BaseHTTPRequestHandler):
        def do_PROPFIND(self):  # noqa: N802
            self.send_response(207)
            self.send_header("Content-Type", "application/xml")
            self.end_headers()
            self.wfile.write(b"<?xml version='1.0'?><not-dav><<<")

        do_REPORT = do_GET = do_PROPFIND

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Garbage)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with pytest.raises(RebookError, match="could not be read"):
            connections.connection_add(seller=alice, url=f"http://127.0.0.1:{httpd.server_address[1]}/cal/", now=NOW)
    finally:
        httpd.shutdown()
    assert not Connection.objects.exists()


def test_a_server_that_trickles_its_answer_is_stopped_within_the_budget(alice, ics_server, monkeypatch):
    import time

    from rebook.calendars import remote

    handler, url = ics_server

    def trickle(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        self.end_headers()
        try:
            for line in ["BEGIN:VCALENDAR\r\n"] + ["X-PAD:x\r\n"] * 100:
                self.wfile.write(line.encode())
                self.wfile.flush()
                time.sleep(0.1)  # each wait far inside the socket's timeout
        except OSError:
            pass

    handler.do_GET = trickle
    monkeypatch.setattr(remote, "READ_SECONDS", 0.5)
    began = time.monotonic()
    with pytest.raises(RebookError, match="took more than 0 s to send the calendar"):
        connections.connection_add(seller=alice, url=url, name="Trickle", now=NOW)
    assert time.monotonic() - began < 5 and not Connection.objects.exists()
