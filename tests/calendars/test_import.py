"""Calendar import: real files from Outlook, Exchange, Google, Apple, Thunderbird and others, and the
rules for who is who, which version wins, and what a cancellation means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rebook.calendars.services import calendar_import
from rebook.errors import RebookError
from rebook.leads.models import Appointment, Cancellation, Lead
from rebook.outbox.models import PlannedMessage
from rebook.sellers.services import seller_create
from tests.clirunner import Rebook
from tests.conftest import NOW

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ics"
REAL_FILES = sorted(p for p in FIXTURES.rglob("*") if p.is_file())
WIDE = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2035, 1, 1, tzinfo=UTC))

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def receiver(db):
    """The seller who received the Thunderbird test invitations."""
    return seller_create(username="receiver", display_name="Receiver", email="receiver@example.com",
                         timezone_name="Europe/Helsinki")


def load(seller, path: Path, **kwargs):
    return calendar_import(seller=seller, data=path.read_bytes(), name=path.name, window=WIDE, **kwargs)


def ics(*events: str, method: str = "REQUEST") -> bytes:
    body = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN", f"METHOD:{method}", *events,
                        "END:VCALENDAR", ""])
    return body.encode()


def vevent(uid="meeting-1", seq=0, stamp="20260302T120000Z", start="20260310T150000Z", end="20260310T160000Z",
           organizer="mailto:dana@reyes.example", attendees=("mailto:alice@example.com",), extra=()) -> str:
    lines = ["BEGIN:VEVENT", f"UID:{uid}", f"SEQUENCE:{seq}", f"DTSTAMP:{stamp}", "SUMMARY:Coffee"]
    if start:
        lines.append(f"DTSTART:{start}" if ":" not in start and ";" not in start else f"DTSTART{start}")
    if end:
        lines.append(f"DTEND:{end}" if ":" not in end and ";" not in end else f"DTEND{end}")
    if organizer:
        lines.append(f"ORGANIZER;CN=Dana Reyes:{organizer}" if not organizer.startswith(";") else f"ORGANIZER{organizer}")
    for a in attendees:
        lines.append(a if a.startswith("ATTENDEE") else f"ATTENDEE;PARTSTAT=NEEDS-ACTION:{a}")
    return "\r\n".join([*lines, *extra, "END:VEVENT"])


def run(seller, data: bytes, name="invite.ics", **kwargs):
    return calendar_import(seller=seller, data=data, name=name, window=WIDE, **kwargs)


@pytest.mark.parametrize("path", REAL_FILES, ids=[str(p.relative_to(FIXTURES)) for p in REAL_FILES])
def test_every_real_file_is_imported_or_refused_with_a_reason(receiver, path):
    try:
        report = load(receiver, path)
    except RebookError as e:
        assert str(e)  # the whole file refused, saying why
        return
    assert report.events or report.rejected or report.warnings
    for line in report.rejected:
        assert ": " in line and len(line) > 20, line
    for event in report.events:
        assert event.outcome in {"booked", "rescheduled", "updated", "cancelled", "recorded_cancelled", "unchanged", "stale"}


def test_a_thunderbird_series_books_moves_and_ignores_a_stale_cancel(receiver):
    eml = FIXTURES / "thunderbird-eml"
    booked = load(receiver, eml / "single-event.eml")
    assert [e.outcome for e in booked.events] == ["booked"]
    lead = Lead.objects.get()
    assert (lead.name, lead.email) == ("Sender", "sender@example.com")
    first = Appointment.objects.get()
    assert first.start == datetime(2022, 3, 16, 11, 0, tzinfo=UTC) and first.booked_by == "prospect"
    assert first.participants == [{"name": "Other", "email": "other@example.com"}]

    moved = load(receiver, eml / "update-major.eml")
    assert [e.outcome for e in moved.events] == ["rescheduled"]
    new = Appointment.objects.get(status="scheduled")
    assert new.start == datetime(2022, 3, 16, 5, 0, tzinfo=UTC) and new.rescheduled_from == first
    assert (new.ical_uid, new.ical_sequence) == ("02e79b96", 2)
    assert Cancellation.objects.get().by == "prospect"  # the organizer, the prospect, moved it

    stale = load(receiver, eml / "cancel-single-event.eml")  # SEQUENCE 1 < 2
    assert [e.outcome for e in stale.events] == ["stale"]
    assert "older version (SEQUENCE 1)" in stale.events[0].detail
    assert Appointment.objects.get(pk=new.pk).status == "scheduled"

    again = load(receiver, eml / "update-major.eml")
    assert [e.outcome for e in again.events] == ["unchanged"]
    assert Appointment.objects.count() == 2


def test_a_cancel_from_the_prospect_carries_its_reason_and_counts_from_its_stamp(alice):
    run(alice, ics(vevent()))
    report = run(alice, ics(vevent(seq=1, stamp="20260302T133000Z",
                                   extra=["STATUS:CANCELLED", "COMMENT:My daughter is sick"]), method="CANCEL"))
    assert [e.outcome for e in report.events] == ["cancelled"]
    c = Cancellation.objects.get()
    assert (c.by, c.reason, c.valid, c.is_strike) == ("prospect", "My daughter is sick", True, False)
    assert c.at == datetime(2026, 3, 2, 13, 30, tzinfo=UTC)  # the notice runs from when it was sent
    assert c.appointment.start - c.at == timedelta(days=8, hours=1, minutes=30)
    assert PlannedMessage.objects.filter(kind="connecting_moment").exists()


def test_when_the_seller_organizes_the_first_other_attendee_is_the_prospect(alice):
    attendees = ("mailto:alice@example.com", "ATTENDEE;CN=Dana Reyes:mailto:dana@reyes.example",
                 "ATTENDEE;CN=Sam Colleague:mailto:sam@example.com")
    run(alice, ics(vevent(organizer="mailto:ALICE@example.com", attendees=attendees)))
    appointment = Appointment.objects.get()
    assert appointment.lead.email == "dana@reyes.example" and appointment.booked_by == "seller"
    assert appointment.participants == [{"name": "Sam Colleague", "email": "sam@example.com"}]
    run(alice, ics(vevent(seq=1, organizer="mailto:alice@example.com", attendees=attendees), method="CANCEL"))
    c = Cancellation.objects.get()
    assert (c.by, c.is_strike) == ("seller", False)


def test_an_email_parameter_wins_over_an_icloud_relay_address(alice):
    organizer = ";CN=Dana;EMAIL=dana@reyes.example:mailto:2_abcdef@imip.me.com"
    run(alice, ics(vevent(organizer=organizer)))
    assert Lead.objects.get().email == "dana@reyes.example"


def test_a_declining_reply_from_the_prospect_cancels_rebooks_own_invitation(alice, charlie):
    from rebook.leads.services import appointment_book

    appointment = appointment_book(lead=charlie, start=NOW + timedelta(days=3), end=NOW + timedelta(days=3, hours=1))
    reply = vevent(uid=f"{appointment.chain}@rebook", organizer="mailto:alice@example.com",
                   attendees=("ATTENDEE;PARTSTAT=DECLINED;CN=Charlie:mailto:charlie@chen.example",),
                   extra=["COMMENT:Something came up, sorry"])
    report = run(alice, ics(reply, method="REPLY"))
    assert [e.outcome for e in report.events] == ["cancelled"]
    c = Cancellation.objects.get()
    assert (c.by, c.reason, c.is_strike) == ("prospect", "Something came up, sorry", True)


def test_a_declined_partstat_inside_a_request_counts_as_a_decline(alice):
    run(alice, ics(vevent()))
    declined = vevent(seq=1, organizer="mailto:alice@example.com",
                      attendees=("ATTENDEE;PARTSTAT=DECLINED:mailto:dana@reyes.example",))
    report = run(alice, ics(declined))
    assert [e.outcome for e in report.events] == ["cancelled"]
    assert Cancellation.objects.get().by == "prospect"


def test_a_cancel_for_a_meeting_never_seen_is_recorded_as_cancelled(alice):
    report = run(alice, ics(vevent(extra=["STATUS:CANCELLED"]), method="CANCEL"))
    assert [e.outcome for e in report.events] == ["recorded_cancelled"]
    assert "Rebook had not seen this meeting" in report.events[0].detail
    assert Appointment.objects.get().status == "cancelled"


def test_nobody_to_attach_it_to_is_refused(alice):
    report = run(alice, ics(vevent(organizer="", attendees=())))
    assert report.events == [] and "nobody to attach it to" in report.rejected[0]
    assert not Appointment.objects.exists()


def test_a_pasted_page_in_a_summary_or_uid_is_quoted_short_in_the_report(alice):
    """A refused event is named by its summary (else its UID): the start of a long one and its length, so
    that one odd event does not flood the report."""
    long_summary = vevent(organizer="", attendees=()).replace("SUMMARY:Coffee", "SUMMARY:" + "Agenda " * 2000)
    long_uid = vevent(uid="u" * 5000, organizer="", attendees=()).replace("SUMMARY:Coffee\r\n", "")
    short_uid = vevent(uid="meeting-2", organizer="", attendees=()).replace("SUMMARY:Coffee\r\n", "")
    first, second, third = run(alice, ics(long_summary, long_uid, short_uid)).rejected
    assert f"event {'Agenda ' * 8 + 'Agen'!r}… (13,999 characters)" in first and len(first) < 200
    assert f"event {'u' * 60!r}… (5,000 characters)" in second and len(second) < 200
    assert "event meeting-2: " in third and "nobody to attach it to" in third
    assert not Appointment.objects.exists()


def test_without_the_sellers_address_the_organizer_is_the_prospect_and_the_import_says_so(alice):
    report = run(alice, ics(vevent(attendees=("mailto:someone@else.example",))))
    assert "the organizer is taken as the prospect" in report.events[0].detail
    assert Lead.objects.get().email == "dana@reyes.example"


def test_a_recurring_series_becomes_occurrences_and_one_cancelled_occurrence_changes_only_that_one(alice):
    series = vevent(uid="weekly", start=";TZID=America/New_York:20260302T100000",
                    end=";TZID=America/New_York:20260302T110000", extra=["RRULE:FREQ=WEEKLY;COUNT=6"])
    cancelled = vevent(uid="weekly", start=";TZID=America/New_York:20260316T100000",
                       end=";TZID=America/New_York:20260316T110000",
                       extra=["RECURRENCE-ID;TZID=America/New_York:20260316T100000", "STATUS:CANCELLED"])
    window = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC))
    report = calendar_import(seller=alice, data=ics(series, cancelled), name="series.ics", window=window)
    assert sorted(e.outcome for e in report.events) == ["booked"] * 4 + ["recorded_cancelled"]  # 5 of 6 in March
    starts = sorted(a.start for a in Appointment.objects.filter(status="scheduled"))
    # 10:00 in New York on both sides of the DST change of 8 March.
    assert starts[0] == datetime(2026, 3, 2, 15, tzinfo=UTC) and starts[1] == datetime(2026, 3, 9, 14, tzinfo=UTC)
    assert Appointment.objects.get(status="cancelled").recurrence_id == datetime(2026, 3, 16, 14, tzinfo=UTC)


def test_an_all_day_event_starts_at_midnight_in_the_sellers_zone(alice):
    run(alice, ics(vevent(start=";VALUE=DATE:20260312", end=";VALUE=DATE:20260313")))
    appointment = Appointment.objects.get()
    assert appointment.all_day and appointment.start == datetime(2026, 3, 12, 4, tzinfo=UTC)  # 00:00 EDT


def test_time_zones_as_clients_write_them(alice):
    windows = vevent(uid="w", start=";TZID=Pacific Standard Time:20260310T090000",
                     end=";TZID=Pacific Standard Time:20260310T100000")
    unknown = vevent(uid="u", start=";TZID=FOO:20260311T090000", end=";TZID=FOO:20260311T100000")
    floating = vevent(uid="f", start="20260312T090000", end="20260312T100000")
    report = run(alice, ics(windows, unknown, floating))
    starts = {a.ical_uid: a.start for a in Appointment.objects.all()}
    assert starts["w"] == datetime(2026, 3, 10, 16, tzinfo=UTC)  # Los Angeles, PDT
    assert starts["u"] == datetime(2026, 3, 11, 13, tzinfo=UTC)  # read in Alice's zone, New York
    assert starts["f"] == datetime(2026, 3, 12, 13, tzinfo=UTC)
    assert any("'FOO' is not defined" in w for w in report.warnings)


def test_odd_encodings_line_endings_and_huge_sequences(alice):
    text = ics(vevent(seq=99999999999999999999999, extra=["LOCATION:Caf\u00e9 Tv\u00e5"])).decode()
    latin1 = text.replace("\r\n", "\n").encode("latin-1")
    run(alice, b"\xef\xbb\xbf" + text.encode("utf-8"), name="bom.ics")  # UTF-8 with a BOM
    appointment = Appointment.objects.get()
    assert appointment.location == "Caf\u00e9 Tv\u00e5" and appointment.ical_sequence == 2**63 - 1
    report = run(alice, latin1, name="latin1.ics")
    assert [e.outcome for e in report.events] == ["unchanged"]


def test_a_dry_run_changes_nothing_and_a_reimport_changes_nothing(alice):
    preview = run(alice, ics(vevent()), dry_run=True)
    assert [e.outcome for e in preview.events] == ["booked"]
    assert not Appointment.objects.exists() and not Lead.objects.exists()
    run(alice, ics(vevent()))
    again = run(alice, ics(vevent()))
    assert [e.outcome for e in again.events] == ["unchanged"] and Appointment.objects.count() == 1


@pytest.mark.parametrize(("data", "message"), [
    (b"", "is empty"),
    (b"\x00\xff\x13random bytes", "neither an iCalendar file"),
    (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:2026", "is it cut short"),
    (b"Subject: hello\r\n\r\njust text", "carries no calendar invitation"),
])
def test_broken_files_are_refused_with_a_reason(alice, data, message):
    with pytest.raises(RebookError, match=message):
        run(alice, data)


def test_the_import_command(alice, tmp_path):
    path = tmp_path / "invite.ics"
    path.write_bytes(ics(vevent()))
    data = Rebook().json("import", str(path))
    assert data["counts"] == {"booked": 1, "rejected": 0} and data["events"][0]["lead_id"]
    assert Rebook()("import", str(path), "--dry-run").stdout.startswith("Would import invite.ics: 1 unchanged")
    assert Rebook().error("import", str(tmp_path / "missing.ics")).startswith("error: ")


def test_a_calendar_import_reports_its_progress(alice):
    from rebook.calendars.services import calendar_import

    events = "".join(
        f"BEGIN:VEVENT\r\nUID:p-{i}@example.com\r\nDTSTAMP:20260301T100000Z\r\nDTSTART:202603{10 + i // 10:02d}T{9 + i % 8:02d}0000Z\r\n"
        f"DTEND:202603{10 + i // 10:02d}T{9 + i % 8:02d}4500Z\r\nSUMMARY:Meeting {i}\r\nORGANIZER:mailto:alice@example.com\r\n"
        f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:p{i}@example.com\r\nEND:VEVENT\r\n" for i in range(120))
    data = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n{events}END:VCALENDAR\r\n".encode()
    seen = []
    report = calendar_import(seller=alice, data=data, name="many.ics", now=NOW, progress=lambda d, t: seen.append((d, t)))
    assert report.counts()["booked"] == 120 and seen == [(50, 120), (100, 120), (120, 120)]
