"""Large calendar files: applied in batches (read ahead, new meetings inserted together), committed a batch
at a time from the command line, and read in parts. Whatever the batch and part sizes, the result is
the one the event-by-event import gives."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from rebook.calendars import reading
from rebook.calendars import services as calendar_services
from rebook.calendars.services import calendar_import
from rebook.leads.models import Appointment, Cancellation, Lead
from rebook.outbox.models import PlannedMessage
from rebook.sellers.services import seller_create
from rebook.webhooks.models import Delivery
from rebook.webhooks.services import endpoint_create
from tests.calendars.test_import import WIDE, ics, vevent
from tests.clirunner import Rebook
from tests.conftest import NOW

pytestmark = pytest.mark.usefixtures("frozen")


def stamp(days: float) -> str:
    return (NOW + timedelta(days=days)).strftime("%Y%m%dT%H%M%SZ")


def busy_file(*, bad: bool = True) -> bytes:
    """Everything that makes one event depend on another: a meeting moved and then cancelled later in the
    file, a cancellation of a meeting the file booked, a declined reply, a series with a moved occurrence,
    an older version after a newer one, a prospect with several meetings, a bad event."""
    events = []
    for i in range(24):
        prospect = f"mailto:p{i % 7}@prospects.example"
        start = NOW + timedelta(days=3 + i, hours=i % 5)
        events.append(vevent(uid=f"m{i}", start=f"{start:%Y%m%dT%H%M%SZ}", end=f"{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}",
                             organizer="mailto:alice@example.com", attendees=(prospect,)))
    moved = NOW + timedelta(days=40)
    events += [
        vevent(uid="m3", seq=1, stamp=stamp(-0.5), start=f"{moved:%Y%m%dT%H%M%SZ}",
               end=f"{moved + timedelta(hours=1):%Y%m%dT%H%M%SZ}", organizer="mailto:alice@example.com",
               attendees=("mailto:p3@prospects.example",)),
        vevent(uid="m3", seq=0, stamp=stamp(-3), organizer="mailto:alice@example.com",
               attendees=("mailto:p3@prospects.example",)),  # an older version: stale
        vevent(uid="m5", seq=2, stamp=stamp(-0.2), organizer="mailto:alice@example.com",
               attendees=("mailto:p5@prospects.example",), extra=("STATUS:CANCELLED",),
               start=f"{NOW + timedelta(days=8, hours=0):%Y%m%dT%H%M%SZ}",
               end=f"{NOW + timedelta(days=8, hours=1):%Y%m%dT%H%M%SZ}"),
        vevent(uid="m9", seq=1, stamp=stamp(-0.1), organizer="mailto:alice@example.com",
               attendees=("ATTENDEE;PARTSTAT=DECLINED:mailto:p2@prospects.example",),
               start=f"{NOW + timedelta(days=12, hours=4):%Y%m%dT%H%M%SZ}",
               end=f"{NOW + timedelta(days=12, hours=5):%Y%m%dT%H%M%SZ}"),
        vevent(uid="weekly", start="20260309T150000Z", end="20260309T160000Z", organizer="mailto:alice@example.com",
               attendees=("mailto:series@prospects.example",), extra=("RRULE:FREQ=WEEKLY;COUNT=6",)),
        vevent(uid="weekly", seq=1, start="20260324T170000Z", end="20260324T180000Z",
               organizer="mailto:alice@example.com", attendees=("mailto:series@prospects.example",),
               extra=("RECURRENCE-ID:20260323T150000Z",)),
    ]
    if bad:
        events.append(vevent(uid="no-start", start="", end="", organizer="mailto:alice@example.com",
                             attendees=("mailto:p1@prospects.example",)))
    return ics(*events, method="PUBLISH")


def state(seller) -> dict:
    """What an import leaves behind, without ids."""
    appointments = sorted(
        (a.lead.email, a.start.isoformat(), a.status, a.ical_uid, a.ical_sequence, str(a.recurrence_id), a.title,
         json.dumps(a.participants), a.booked_by)
        for a in Appointment.objects.filter(seller=seller).select_related("lead"))
    messages = sorted((m.lead.email, m.kind, m.due.isoformat(), m.status)
                      for m in PlannedMessage.objects.filter(seller=seller).select_related("lead"))
    leads = sorted((lead.email, lead.name, lead.status, lead.strikes, str(lead.scheduled_until))
                   for lead in Lead.objects.filter(seller=seller))
    return {"appointments": appointments, "messages": messages, "leads": leads}


@pytest.fixture
def twin(db):
    """A second seller with alice's address, to import the same file into."""
    return seller_create(username="twin", display_name="Twin", email="alice@example.com", timezone_name="America/New_York")


def outcomes(report) -> list[tuple[str, str]]:
    return sorted((e.where, e.outcome) for e in report.events)


def test_batches_of_any_size_end_where_one_event_at_a_time_ends(alice, twin, monkeypatch):
    one_by_one = calendar_import(seller=alice, data=busy_file(), name="busy.ics", window=WIDE, commit_every=1)
    batched = calendar_import(seller=twin, data=busy_file(), name="busy.ics", window=WIDE)  # one batch
    assert outcomes(one_by_one) == outcomes(batched)
    assert sorted(one_by_one.rejected) == sorted(batched.rejected) and len(batched.rejected) == 1
    counts = batched.counts()
    assert (counts["booked"], counts["rescheduled"], counts["cancelled"], counts["stale"]) == (30, 1, 2, 1), counts
    assert state(alice) == state(twin)
    assert state(alice)["messages"], "the leads were re-evaluated: their messages are planned"
    # Batches of 4, committed one by one: the same again.
    third = seller_create(username="third", display_name="Third", email="alice@example.com",
                          timezone_name="America/New_York")
    calendar_import(seller=third, data=busy_file(), name="busy.ics", window=WIDE, commit_every=4)
    assert state(third) == state(alice)


def test_importing_the_same_file_again_writes_nothing(alice, django_assert_num_queries):
    calendar_import(seller=alice, data=busy_file(), name="busy.ics", window=WIDE)
    before = state(alice)
    stamps = set(Appointment.objects.values_list("updated_at", flat=True))
    again = calendar_import(seller=alice, data=busy_file(), name="busy.ics", window=WIDE)
    assert set(again.counts()) >= {"unchanged", "stale"} and "booked" not in again.counts()
    assert state(alice) == before
    assert set(Appointment.objects.values_list("updated_at", flat=True)) == stamps  # nothing saved


def test_new_meetings_cost_a_few_queries_a_batch_not_a_few_an_event(alice, django_assert_max_num_queries):
    for i in range(20):
        Lead.objects.create(seller=alice, name=f"P{i}", email=f"P{i}@Prospects.example", created_at=NOW)
    events = [vevent(uid=f"q{i}", start=f"{NOW + timedelta(days=2 + i % 30, hours=i % 6):%Y%m%dT%H%M%SZ}",
                     end=f"{NOW + timedelta(days=2 + i % 30, hours=i % 6 + 1):%Y%m%dT%H%M%SZ}",
                     organizer="mailto:alice@example.com", attendees=(f"mailto:p{i % 20}@prospects.example",))
              for i in range(200)]
    # Two reads ahead and one insert, in one savepoint (none an event, since none is refused); then the 20
    # leads re-evaluated (their histories in a few queries, a save and their messages each).
    with django_assert_max_num_queries(20 * 4 + 30):
        report = calendar_import(seller=alice, data=ics(*events, method="PUBLISH"), name="many.ics", window=WIDE)
    assert report.counts()["booked"] == 200
    assert Lead.objects.filter(seller=alice).count() == 20, "the leads were found whatever the case of their address"
    assert PlannedMessage.objects.filter(seller=alice).exists()


def test_cancelled_and_moved_meetings_cost_a_few_statements_each(alice, twin, monkeypatch, django_assert_max_num_queries):
    """In a batch with nothing refused, the leads are held (see leads_held): a cancellation reads nothing
    again and makes no savepoint; a move and an unseen meeting go in with the batch's new meetings. Each
    ends as it does through the services, with each lead and meeting read again."""
    from rebook.leads import services as lead_services

    def event(i: int, seq: int = 0, *, days: int = 3, extra=()) -> str:
        start = NOW + timedelta(days=days + i, hours=i % 5)
        return vevent(uid=f"c{i}", seq=seq, stamp=stamp(-1 + seq * 0.5), start=f"{start:%Y%m%dT%H%M%SZ}",
                      end=f"{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}", organizer="mailto:alice@example.com",
                      attendees=(f"mailto:p{i % 5}@prospects.example",), extra=extra)

    first = ics(*[event(i) for i in range(20)], method="PUBLISH")
    later = [event(i, 1, extra=("STATUS:CANCELLED",)) for i in range(10)]  # cancelled
    later += [event(i, 1, days=30) for i in range(10, 20)]  # moved
    later += [event(i, 0, extra=("STATUS:CANCELLED",)) for i in range(20, 30)]  # never seen: recorded cancelled
    calendar_import(seller=alice, data=first, name="a.ics", window=WIDE)
    # Read ahead: 2; each cancellation 4 (the free times its offer proposes, the cancellation, the meeting's
    # status, its event's version); each move and each unseen one none of its own (inserted with the batch's
    # new meetings, their cancellations after them, on the driver's cursor, which this does not count), but,
    # moved or cancelled a day ago, the offer's free times, after the batch's earlier moves are written (their
    # meetings' status, 1); then the 5 leads re-evaluated (a few queries, a save and their messages each).
    # Through the services, each read again with a savepoint each: 7, 8 and 10 (299).
    with django_assert_max_num_queries(2 + 10 * 4 + 10 * 2 + 10 + 5 * 6):
        report = calendar_import(seller=alice, data=ics(*later, method="PUBLISH"), name="b.ics", window=WIDE)
    counts = report.counts()
    assert (counts["cancelled"], counts["rescheduled"], counts["recorded_cancelled"]) == (10, 10, 10), counts

    keep = lead_services.leads_held
    monkeypatch.setattr(lead_services, "leads_held", lambda leads: keep({}))  # each lead and meeting read again
    monkeypatch.setattr(calendar_services._Importer, "_movable", lambda self, meeting: False)  # moved by the service
    calendar_import(seller=twin, data=first, name="a.ics", window=WIDE)
    calendar_import(seller=twin, data=ics(*later, method="PUBLISH"), name="b.ics", window=WIDE)
    assert state(alice) == state(twin)
    recorded = Appointment.objects.get(seller=alice, ical_uid="c25")
    assert (recorded.status, recorded.ical_sequence, recorded.title) == ("cancelled", 0, "Coffee")

    def cancellations(seller):
        return sorted((c.appointment.ical_uid, c.kind, c.by, c.is_strike, c.category, c.reason)
                      for c in Cancellation.objects.filter(seller=seller).select_related("appointment"))

    assert cancellations(alice) == cancellations(twin) and len(cancellations(alice)) == 30

    def moved(seller):
        return sorted((a.ical_uid, a.start, a.end, a.booked_at, a.booked_by, a.location, a.timezone, a.channel,
                       a.rescheduled_from.start, a.rescheduled_from.status, a.chain == a.rescheduled_from.chain)
                      for a in Appointment.objects.filter(seller=seller).exclude(rescheduled_from=None)
                      .select_related("rescheduled_from"))

    assert moved(alice) == moved(twin) and len(moved(alice)) == 10
    assert all(row[-1] and row[-2] == "rescheduled" for row in moved(alice))


def test_a_meeting_recorded_as_cancelled_is_what_booking_and_cancelling_it_leaves(alice, twin):
    """A meeting Rebook first learns of as cancelled is inserted with its batch, cancelled already: the same
    rows, strikes and messages as booking it and cancelling it through the services, for twin."""
    from rebook.leads import services as lead_services
    from rebook.outbox.models import PlannedMessage

    def at(days: float) -> datetime:
        return (NOW + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)

    cases = [  # (uid, start, organizer, prospect, comment): past or ahead, called off by either side
        ("past", at(-10), "mailto:alice@example.com", "p1@prospects.example", ""),
        ("ahead", at(5), "mailto:p2@prospects.example", "p2@prospects.example", "my child is sick"),
        ("later", at(9), "mailto:p2@prospects.example", "p2@prospects.example", "something came up"),
        ("vague", at(12), "mailto:p3@prospects.example", "p3@prospects.example", ""),
    ]
    events = [vevent(uid=uid, start=f"{start:%Y%m%dT%H%M%SZ}", end=f"{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}",
                     organizer=organizer, attendees=("mailto:alice@example.com" if organizer != "mailto:alice@example.com"
                                                     else f"mailto:{prospect}",),
                     extra=("STATUS:CANCELLED", *((f"COMMENT:{comment}",) if comment else ())))
              for uid, start, organizer, prospect, comment in cases]
    report = calendar_import(seller=alice, data=ics(*events, method="CANCEL"), name="c.ics", window=WIDE)
    assert report.counts()["recorded_cancelled"] == 4, report.as_dict()
    stamp_at = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # the events' DTSTAMP
    leads = {}
    for _, start, organizer, prospect, comment in cases:
        lead = leads.get(prospect) or lead_services.lead_create(seller=twin, name=prospect.split("@")[0], email=prospect,
                                                                source="calendar import")
        leads[prospect] = lead
        by = "seller" if organizer == "mailto:alice@example.com" else "prospect"
        booked = lead_services.appointment_book(lead=lead, start=start, end=start + timedelta(hours=1), booked_by=by,
                                                booked_at=min(stamp_at, start), now=NOW)
        lead_services.appointment_cancel(appointment=booked, by=by, reason=comment, at=stamp_at, now=NOW)

    def rows(seller):
        meetings = sorted((a.lead.email, a.start, a.end, a.status, a.booked_by, a.booked_at, a.timezone, a.channel)
                          for a in Appointment.objects.filter(seller=seller).select_related("lead"))
        cancellations = sorted((c.lead.email, c.appointment.start, c.by, c.kind, c.at, c.reason, c.category, c.matched,
                                c.suggested_valid, c.valid_override, tuple(c.offered), c.is_strike, c.channel)
                               for c in Cancellation.objects.filter(seller=seller).select_related("lead", "appointment"))
        leads = sorted((lead.email, lead.status, lead.strikes, lead.open_cancellation_at)
                       for lead in Lead.objects.filter(seller=seller))
        # By hand, each change re-evaluates the lead at once: the booking plans messages its cancellation then
        # withdraws; the import re-evaluates each lead once, at its end.
        messages = sorted((m.lead.email, m.kind, m.due, m.status) for m in PlannedMessage.objects.filter(
            seller=seller).exclude(status=PlannedMessage.Status.WITHDRAWN).select_related("lead"))
        return meetings, cancellations, leads, messages

    assert rows(alice) == rows(twin)
    assert any(c[10] for c in rows(alice)[1]), "a meeting ahead: the times its reschedule offer proposes"
    assert any(m for m in rows(alice)[3]), "and the messages that follow"


def test_every_new_meeting_is_announced_to_webhooks(alice):
    endpoint_create(seller=alice, url="https://hooks.example/rebook", events=["appointment.booked"])
    events = [vevent(uid=f"w{i}", start=f"{NOW + timedelta(days=3 + i):%Y%m%dT150000Z}",
                     end=f"{NOW + timedelta(days=3 + i):%Y%m%dT160000Z}", organizer="mailto:alice@example.com",
                     attendees=(f"mailto:w{i}@prospects.example",)) for i in range(5)]
    report = calendar_import(seller=alice, data=ics(*events), name="w.ics", window=WIDE)
    ids = {e.appointment_id for e in report.events}
    sent = [d.payload["data"]["appointment"]["id"] for d in Delivery.objects.filter(event="appointment.booked")]
    assert None not in ids and sorted(sent) == sorted(ids)


def test_a_batch_announces_what_an_endpoint_wants_and_builds_nothing_for_the_rest(alice, twin, monkeypatch):
    from rebook.leads import services as lead_services

    built = []
    keep = lead_services.event_data
    monkeypatch.setattr(lead_services, "event_data", lambda *a, **kw: built.append(a) or keep(*a, **kw))

    def meeting(uid: str, seq: int = 0, days: int = 3, extra=()) -> str:
        return vevent(uid=uid, seq=seq, stamp=stamp(-60 + seq), start=f"{NOW + timedelta(days=days):%Y%m%dT150000Z}",
                      end=f"{NOW + timedelta(days=days):%Y%m%dT160000Z}", organizer="mailto:alice@example.com",
                      attendees=(f"mailto:{uid}@prospects.example",), extra=extra)

    data = ics(meeting("a"), meeting("b"), meeting("c"), meeting("m"), meeting("m", 1, days=5),
               meeting("x", extra=("STATUS:CANCELLED",)), method="PUBLISH")
    calendar_import(seller=alice, data=data, name="w.ics", window=WIDE)
    assert built == [] and not Delivery.objects.exists(), "no endpoint: nothing made to announce"
    third = seller_create(username="third", display_name="Third", email="alice@example.com",
                          timezone_name="America/New_York")
    endpoint_create(seller=twin, url="https://hooks.example/twin", events=["appointment.rescheduled",
                                                                          "appointment.cancelled"])
    endpoint_create(seller=third, url="https://hooks.example/third", events=[])  # every event
    for seller in (twin, third):
        report = calendar_import(seller=seller, data=data, name="w.ics", window=WIDE)
        assert [e.outcome for e in report.events] == ["booked"] * 4 + ["rescheduled", "recorded_cancelled"]

    def announced(seller) -> list[tuple[str, str]]:
        uids = dict(Appointment.objects.values_list("id", "ical_uid"))
        return sorted((d.event, uids[d.payload["data"]["appointment"]["id"]] if "appointment" in d.payload["data"]
                       else d.payload["data"]["lead"]["email"][0]) for d in Delivery.objects.filter(endpoint__seller=seller))

    assert announced(twin) == [("appointment.cancelled", "x"), ("appointment.rescheduled", "m")]
    assert announced(third) == [*(("appointment.booked", uid) for uid in "abcmx"), ("appointment.cancelled", "x"),
                                ("appointment.rescheduled", "m"), *(("lead.created", uid) for uid in "abcmx")]
    assert len(built) == 2 + 12, "the data of each wanted event, and of no other"


def test_a_large_file_is_read_in_parts_with_each_series_whole(alice, twin, monkeypatch):
    whole = calendar_import(seller=alice, data=busy_file(), name="busy.ics", window=WIDE)
    monkeypatch.setattr(reading, "PART_EVENTS", 4)
    parts = reading.read_file(busy_file(), "busy.ics").sources
    assert len(parts) > 5 and all(p.part for p in parts)
    by_uid = [{e.get("UID") for e in p.calendar.walk("VEVENT")} for p in parts]
    assert sum("weekly" in uids for uids in by_uid) == 1, "a series and its moved occurrence stay together"
    in_parts = calendar_import(seller=twin, data=busy_file(), name="busy.ics", window=WIDE)
    assert outcomes(in_parts) == outcomes(whole) and state(twin) == state(alice)


def test_an_unreadable_part_is_reported_and_the_others_imported(alice, monkeypatch):
    monkeypatch.setattr(reading, "PART_EVENTS", 3)
    events = [vevent(uid=f"r{i}", start=f"{NOW + timedelta(days=3 + i):%Y%m%dT150000Z}",
                     end=f"{NOW + timedelta(days=3 + i):%Y%m%dT160000Z}", organizer="mailto:alice@example.com",
                     attendees=(f"mailto:r{i}@prospects.example",)) for i in range(9)]
    events[4] = events[4].replace("SUMMARY:Coffee", "SUMMARY:" + "x" * 1_100_000)  # a line over the 1 MB limit
    report = calendar_import(seller=alice, data=ics(*events), name="r.ics", window=WIDE, commit_every=2)
    assert report.counts()["booked"] == 6
    assert len(report.rejected) == 1 and re.match(r"r\.ics, part 2 \(3 events\): line \d+: longer than 1024 KB", report.rejected[0])


def test_a_stopped_import_keeps_its_committed_batches_with_their_leads_brought_up_to_date(alice, monkeypatch):
    events = [vevent(uid=f"s{i}", start=f"{NOW + timedelta(days=3 + i):%Y%m%dT150000Z}",
                     end=f"{NOW + timedelta(days=3 + i):%Y%m%dT160000Z}", organizer="mailto:alice@example.com",
                     attendees=(f"mailto:s{i}@prospects.example",)) for i in range(10)]
    applied = calendar_services._Importer.apply
    seen = []

    def apply(self, fact):
        seen.append(fact.uid)
        if len(seen) == 7:
            raise KeyboardInterrupt
        return applied(self, fact)

    monkeypatch.setattr(calendar_services._Importer, "apply", apply)
    with pytest.raises(KeyboardInterrupt):
        calendar_import(seller=alice, data=ics(*events), name="s.ics", window=WIDE, commit_every=3)
    kept = Appointment.objects.filter(seller=alice)
    assert sorted(kept.values_list("ical_uid", flat=True)) == [f"s{i}" for i in range(6)]  # two batches of three
    assert all(lead.status == "active" for lead in Lead.objects.filter(seller=alice))  # re-evaluated
    assert PlannedMessage.objects.filter(lead__in=[a.lead_id for a in kept]).count() >= 6


def test_in_one_transaction_a_failure_keeps_nothing(alice, monkeypatch):
    events = [vevent(uid=f"t{i}", organizer="mailto:alice@example.com", attendees=(f"mailto:t{i}@x.example",),
                     start=f"{NOW + timedelta(days=3 + i):%Y%m%dT150000Z}", end=f"{NOW + timedelta(days=3 + i):%Y%m%dT160000Z}")
              for i in range(5)]
    monkeypatch.setattr(calendar_services, "BATCH", 2)
    monkeypatch.setattr(calendar_services._Importer, "flush", lambda self: (_ for _ in ()).throw(RuntimeError("disk")))
    with pytest.raises(RuntimeError):
        calendar_import(seller=alice, data=ics(*events), name="t.ics", window=WIDE)
    assert not Lead.objects.filter(seller=alice).exists() and not Appointment.objects.exists()


def test_the_command_line_imports_more_events_than_an_upload_may_hold(alice, monkeypatch, tmp_path):
    from rebook.calendars import events as calendar_events
    from rebook.imports import import_file

    monkeypatch.setattr(calendar_events, "MAX_EVENTS_PER_FILE", 4)  # in the message
    defaults = calendar_events.Budget.__init__.__defaults__
    monkeypatch.setattr(calendar_events.Budget.__init__, "__defaults__", (4, *defaults[1:]))  # an upload's budget
    start = datetime(2026, 3, 9, 15, tzinfo=UTC)
    events = [vevent(uid=f"c{i}", start=f"{start + timedelta(days=i):%Y%m%dT%H%M%SZ}",
                     end=f"{start + timedelta(days=i, hours=1):%Y%m%dT%H%M%SZ}", organizer="mailto:alice@example.com",
                     attendees=(f"mailto:c{i}@prospects.example",)) for i in range(9)]
    path = tmp_path / "big.ics"
    path.write_bytes(ics(*events))
    upload = import_file(seller=alice, data=path.read_bytes(), name="big.ics", now=NOW, dry_run=True)[1]
    assert upload["counts"]["booked"] == 4 and "at most 4 events" in " ".join(upload["rejected"])
    out = Rebook().json("import", str(path), "--user", "alice")
    assert out["counts"]["booked"] == 9 and out["rejected"] == []


OUTLOOK_EASTERN = "\r\n".join([
    "BEGIN:VTIMEZONE", "TZID:Eastern Standard Time", "BEGIN:STANDARD", "DTSTART:16011104T020000",
    "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11", "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500", "END:STANDARD",
    "BEGIN:DAYLIGHT", "DTSTART:16010311T020000", "RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3", "TZOFFSETFROM:-0500",
    "TZOFFSETTO:-0400", "END:DAYLIGHT", "END:VTIMEZONE"])


def test_times_in_a_zone_the_file_defines_are_exact_on_the_days_the_clocks_change():
    """Outlook's own VTIMEZONE: the offset is looked up once a day, except on the days it changes, where
    every time (the skipped hour, the repeated hour) is read as dateutil reads it."""
    from zoneinfo import ZoneInfo

    import icalendar

    from rebook.calendars.events import extract
    from rebook.calendars.reading import parse_calendar_text

    local = ["20260307T233000", "20260308T013000", "20260308T023000", "20260308T033000", "20260308T235900",
             "20261031T120000", "20261101T003000", "20261101T013000", "20261101T023000", "20261101T233000",
             "20261102T013000", "20260715T090000"]
    events = [f"BEGIN:VEVENT\r\nUID:dst-{i}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Eastern Standard Time:{t}\r\n"
              f"DURATION:PT30M\r\nORGANIZER:mailto:alice@example.com\r\nATTENDEE:mailto:p@x.example\r\nEND:VEVENT"
              for i, t in enumerate(local)]
    text = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//t//EN", OUTLOOK_EASTERN, *events,
                        "END:VCALENDAR", ""])
    facts = extract(parse_calendar_text(text), where="dst.ics", tz=ZoneInfo("UTC"), window=WIDE).facts
    plain = {e.get("UID"): e.get("DTSTART").dt.astimezone(UTC) for e in icalendar.Calendar.from_ical(text).walk("VEVENT")}
    assert len(facts) == len(local)
    for fact in facts:
        assert fact.start == plain[fact.uid], fact.uid
    by_uid = {f.uid: f.start for f in facts}
    assert by_uid["dst-0"] == datetime(2026, 3, 8, 4, 30, tzinfo=UTC)  # EST, the evening before
    assert by_uid["dst-3"] == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # EDT, after the change
    assert by_uid["dst-11"] == datetime(2026, 7, 15, 13, 0, tzinfo=UTC)


def _many(n: int, prefix: str = "b") -> list[str]:
    return [vevent(uid=f"{prefix}{i}", start=f"{NOW + timedelta(days=3 + i):%Y%m%dT150000Z}",
                   end=f"{NOW + timedelta(days=3 + i):%Y%m%dT160000Z}", organizer="mailto:alice@example.com",
                   attendees=(f"mailto:{prefix}{i}@prospects.example",)) for i in range(n)]


@pytest.mark.parametrize(("data", "message"), [
    (ics(*_many(9)).replace(b"END:VCALENDAR\r\n", b""), r"line \d+: BEGIN:VCALENDAR is never closed \(is the file cut short\?\)"),
    (ics(*_many(9)).replace(b"END:VEVENT", b"END:VALARM", 1), r"line 14: END:VALARM where VEVENT is open"),
    (ics(*_many(9)).replace(b"END:VEVENT\r\nBEGIN:VEVENT", b"END:VEVENT\r\nEND:VEVENT\r\nBEGIN:VEVENT", 1),
     r"line \d+: END:VEVENT where VCALENDAR is open"),
])
def test_a_large_file_cut_short_or_broken_is_refused_with_where_and_nothing_written(alice, monkeypatch, data, message):
    from rebook.errors import RebookError

    monkeypatch.setattr(reading, "PART_EVENTS", 3)
    with pytest.raises(RebookError, match=message):
        calendar_import(seller=alice, data=data, name="big.ics", window=WIDE, commit_every=2)
    assert not Appointment.objects.exists() and not Lead.objects.filter(seller=alice).exists()


def test_an_upload_past_its_limit_reads_no_more_of_the_file(alice, monkeypatch):
    """Past the upload's event limit, the rest of a large file is not even parsed: a 50 MB upload of tiny
    events stops in seconds with one line saying where, not after parsing every part."""
    from rebook.calendars import events as calendar_events

    monkeypatch.setattr(reading, "PART_EVENTS", 3)
    monkeypatch.setattr(calendar_events, "MAX_EVENTS_PER_FILE", 4)
    defaults = calendar_events.Budget.__init__.__defaults__
    monkeypatch.setattr(calendar_events.Budget.__init__, "__defaults__", (4, *defaults[1:]))
    parsed = []
    parse = reading.read_calendar_text
    monkeypatch.setattr(reading, "read_calendar_text", lambda text: parsed.append(1) or parse(text))
    report = calendar_import(seller=alice, data=ics(*_many(30)), name="big.ics", window=WIDE)
    assert report.counts()["booked"] == 4 and len(parsed) == 2  # two parts of three events, then it stops
    assert report.rejected[-1] == ("big.ics: stopped at part 3: a file may hold at most 4 events and take 60 "
                                   "seconds; the rest (24 events) was not read")


def test_a_refused_event_takes_nothing_of_the_earlier_ones_with_it(alice):
    """The second version of a meeting the file itself booked has no start: refused, while the booking
    stays (it was inserted before the refused event's savepoint, not inside it)."""
    first = vevent(uid="same", organizer="mailto:alice@example.com", attendees=("mailto:new@prospects.example",),
                   start=f"{NOW + timedelta(days=3):%Y%m%dT150000Z}", end=f"{NOW + timedelta(days=3):%Y%m%dT160000Z}")
    broken = vevent(uid="same", seq=1, stamp=stamp(-0.1), start="", end="", organizer="mailto:alice@example.com",
                    attendees=("mailto:new@prospects.example",))
    report = calendar_import(seller=alice, data=ics(first, broken), name="r.ics", window=WIDE)
    assert report.counts()["booked"] == 1 and len(report.rejected) == 1, report.as_dict()
    booked = report.events[0]
    assert Appointment.objects.filter(pk=booked.appointment_id, lead_id=booked.lead_id, ical_uid="same").exists()
    assert Lead.objects.filter(seller=alice, email="new@prospects.example").count() == 1


@pytest.mark.parametrize("too_long", ["LOCATION:" + "x" * 301, "UID:" + "u" * 501])
def test_a_value_longer_than_its_column_refuses_that_event_on_every_database(alice, too_long):
    """Inserted with the batch's other new meetings, an event is checked as saving it alone would check it:
    PostgreSQL would refuse the whole batch, and SQLite would keep more than the column holds."""
    events = [vevent(uid=f"l{i}", organizer="mailto:alice@example.com", attendees=(f"mailto:l{i}@x.example",),
                     start=f"{NOW + timedelta(days=3 + i):%Y%m%dT150000Z}",
                     end=f"{NOW + timedelta(days=3 + i):%Y%m%dT160000Z}", extra=("LOCATION:Office",)) for i in range(3)]
    field = too_long.split(":")[0]
    events[1] = events[1].replace(f"{field}:l1" if field == "UID" else "LOCATION:Office", too_long)
    report = calendar_import(seller=alice, data=ics(*events), name="l.ics", window=WIDE)
    assert report.counts()["booked"] == 2
    [line] = report.rejected
    assert f"{field.lower() if field == 'LOCATION' else 'ical_uid'}: at most" in line, line
    assert Appointment.objects.filter(seller=alice).count() == 2


def test_the_leads_a_batch_locked_are_changed_without_reading_them_again_and_end_alike(alice, twin, monkeypatch):
    """A batch with nothing refused changes the leads it locked as they are (leads_held): the same end as
    reading each lead again before each change, with fewer queries."""
    from rebook.leads import services as lead_services

    calendar_import(seller=alice, data=busy_file(bad=False), name="busy.ics", window=WIDE)
    held = []
    keep = lead_services.leads_held
    monkeypatch.setattr(lead_services, "leads_held", lambda leads: held.append(leads) or keep({}))
    calendar_import(seller=twin, data=busy_file(bad=False), name="busy.ics", window=WIDE)
    assert len(held) == 1 and len(held[0]) == 8, "the batch held the leads it made"
    assert state(alice) == state(twin)


def test_a_meeting_booked_and_moved_in_one_file_ends_as_the_services_leave_it(alice, twin, monkeypatch):
    """A meeting the file books and then moves (once or twice, for a lead Rebook knows or one it makes) goes
    in with its batch, the moves after it; a move recent enough to offer new times, or a cancellation of a
    meeting the batch made, first puts in what the batch made (the free times are read from the database).
    Each ends as booking, moving and cancelling it through the services leaves it."""
    from rebook.leads import services as lead_services

    def event(uid: str, prospect: str, seq: int, days: float, stamped: float, extra=()) -> str:
        start = (NOW + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
        return vevent(uid=uid, seq=seq, stamp=stamp(stamped), start=f"{start:%Y%m%dT%H%M%SZ}",
                      end=f"{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}", organizer="mailto:alice@example.com",
                      attendees=(f"mailto:{prospect}@prospects.example",), extra=extra)

    long_ago = [  # stamped long ago: no offer, so nothing is inserted before the batch's end
        event("k1", "known", 0, 20, -90), event("k1", "known", 1, 22, -80), event("k1", "known", 2, 25, -70),
        event("n1", "new", 0, 30, -90), event("n1", "new", 1, 31.1, -60),
    ]
    recent = [  # moved or cancelled yesterday: the offer of new times is worked out now
        event("k2", "known", 0, 5, -30), event("k2", "known", 1, 6.2, -1),
        event("n2", "other", 0, 7, -30), event("n2", "other", 1, 8.3, -1),
        event("n3", "third", 0, 9, -30), event("n3", "third", 1, 9, -0.5, extra=("STATUS:CANCELLED",)),
    ]
    for seller in (alice, twin):
        lead_services.lead_create(seller=seller, name="Known", email="known@prospects.example", source="test")

    inserts = []
    keep_insert = calendar_services.insert_new
    monkeypatch.setattr(calendar_services, "insert_new",
                        lambda model, rows, **kw: inserts.append((model, len(rows))) or keep_insert(model, rows, **kw))
    first = calendar_import(seller=alice, data=ics(*long_ago, method="PUBLISH"), name="a.ics", window=WIDE)
    assert [n for model, n in inserts if model is Appointment] == [2, 2, 1], "one batch: the moves after what they move"
    second = calendar_import(seller=alice, data=ics(*recent, method="PUBLISH"), name="b.ics", window=WIDE)

    keep = lead_services.leads_held
    monkeypatch.setattr(lead_services, "leads_held", lambda leads: keep({}))  # each lead and meeting read again
    monkeypatch.setattr(calendar_services._Importer, "_movable", lambda self, meeting: False)  # moved by the service
    assert outcomes(calendar_import(seller=twin, data=ics(*long_ago, method="PUBLISH"), name="a.ics",
                                    window=WIDE)) == outcomes(first)
    assert outcomes(calendar_import(seller=twin, data=ics(*recent, method="PUBLISH"), name="b.ics",
                                    window=WIDE)) == outcomes(second)
    assert [e.outcome for e in first.events] == ["booked", "rescheduled", "rescheduled", "booked", "rescheduled"]
    assert all(e.appointment_id and e.lead_id for e in [*first.events, *second.events])
    assert state(alice) == state(twin)

    def cancellations(seller):
        return sorted((c.appointment.ical_uid, c.appointment.start, c.kind, c.by, c.at, c.is_strike, tuple(c.offered))
                      for c in Cancellation.objects.filter(seller=seller).select_related("appointment"))

    def chains(seller):
        return sorted((a.ical_uid, a.start, a.end, a.status, a.booked_at, a.ical_sequence,
                       a.rescheduled_from.start if a.rescheduled_from else None,
                       a.rescheduled_from.status if a.rescheduled_from else None,
                       a.chain == (a.rescheduled_from or a).chain)
                      for a in Appointment.objects.filter(seller=seller).select_related("rescheduled_from"))

    assert cancellations(alice) == cancellations(twin) and len(cancellations(alice)) == 6
    assert [(c[0], bool(c[-1])) for c in cancellations(alice)] == [
        ("k1", False), ("k1", False), ("k2", True), ("n1", False), ("n2", True), ("n3", True)], "offers: the recent ones"
    assert chains(alice) == chains(twin) and all(row[-1] for row in chains(alice))
    assert [row[:4] for row in chains(alice) if row[0] == "k1"][-1][3] == "scheduled"


def test_a_meeting_first_seen_cancelled_keeps_its_own_time_out_of_its_offer(alice, twin):
    """Booked and then cancelled, a meeting is busy when its cancellation's offer is worked out: recorded
    cancelled by an import, its time is not offered either."""
    from rebook.leads import services as lead_services
    from rebook.leads.selectors import offer_times

    free = offer_times(seller=alice, length=timedelta(hours=1), after=NOW + alice.policy.reschedule_offer_delay)
    start = free[0].astimezone(UTC)  # the first time the offer would propose
    data = ics(vevent(uid="own", stamp=stamp(0), start=f"{start:%Y%m%dT%H%M%SZ}",
                      end=f"{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}", organizer="mailto:p1@prospects.example",
                      attendees=("mailto:alice@example.com",), extra=("STATUS:CANCELLED",)), method="CANCEL")
    assert calendar_import(seller=alice, data=data, name="c.ics", window=WIDE).counts()["recorded_cancelled"] == 1
    lead = lead_services.lead_create(seller=twin, name="p1", email="p1@prospects.example", source="calendar import")
    booked = lead_services.appointment_book(lead=lead, start=start, end=start + timedelta(hours=1), booked_by="prospect",
                                            booked_at=NOW, now=NOW)
    lead_services.appointment_cancel(appointment=booked, by="prospect", reason="", at=NOW, now=NOW)
    offered = Cancellation.objects.get(seller=alice).offered
    assert offered == Cancellation.objects.get(seller=twin).offered and len(offered) >= 2
    assert start.isoformat() not in offered
