"""rebook import history: past appointments from another tool become history (and teach the forecast)."""

from __future__ import annotations

import pytest

from rebook.leads.models import Appointment, Cancellation, Lead
from tests.clirunner import Rebook

pytestmark = pytest.mark.usefixtures("frozen")

CSV = """Client,Booked,Appointment,Status,Cancelled At,Reason,Age,Plan
dana@reyes.example,2026-01-05 09:00,2026-01-12 10:00,Attended,,,41,gold
dana@reyes.example,2026-01-20 09:00,2026-01-27 10:00,Cancelled,2026-01-26 18:00,something came up,41,gold
c-1002,2026-01-06 09:00,2026-01-09 15:00,no-show,,,29,basic
c-1002,2026-01-10 09:00,2026-02-01 15:00,maybe,,,29,basic
c-1003,2026-01-06 09:00,,held,,,33,basic
"""


@pytest.fixture
def rebook():
    return Rebook()


def test_history_rows_become_meetings_cancellations_and_lead_attributes(alice, rebook, tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(CSV)
    report = rebook.json("import", "history", str(path))
    assert (report["rows"], report["meetings"], report["leads_created"]) == (5, 3, 2)
    assert [r["line"] for r in report["refused"]] == [5, 6]
    assert "outcome" in report["refused"][0]["reason"] and "start" in report["refused"][1]["reason"]
    assert report["columns"] == {"lead": "Client", "booked_at": "Booked", "start": "Appointment", "outcome": "Status",
                                 "cancelled_at": "Cancelled At", "reason": "Reason"}
    dana = Lead.objects.get(email="dana@reyes.example")
    assert dana.attributes == {"Age": 41.0, "Plan": "gold"}
    c = Cancellation.objects.get(lead=dana)
    assert (c.by, c.kind, c.reason, c.is_strike) == ("prospect", "cancel", "something came up", True)
    dana.refresh_from_db()
    assert dana.strikes == 1  # imported history feeds strikes like any other
    other = Lead.objects.get(history_key="c-1002")
    assert Appointment.objects.get(lead=other).status == "no_show"
    # Importing the same file again changes nothing.
    again = rebook.json("import", "history", str(path))
    assert (again["meetings"], again["unchanged"], again["leads_created"]) == (0, 3, 0)
    assert Appointment.objects.count() == 3


def test_a_dry_run_changes_nothing_and_columns_can_be_mapped(alice, rebook, tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("who,when,made,missed\nx@y.example,2026-02-02 10:00,2026-01-30 10:00,yes\n"
                    "x@y.example,2026-02-09 10:00,2026-02-01 10:00,no\n")
    maps = ["--map", "who=lead", "--map", "when=start", "--map", "made=booked_at"]
    assert rebook.json("import", "history", str(path), *maps, "--dry-run")["meetings"] == 2
    assert not Appointment.objects.exists()
    report = rebook.json("import", "history", str(path), *maps)
    assert report["meetings"] == 2 and report["columns"]["no_show"] == "missed"
    assert sorted(Appointment.objects.values_list("status", flat=True)) == ["held", "no_show"]


def test_a_file_without_the_needed_columns_is_refused_whole(alice, rebook, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n")
    assert "no column for lead" in rebook.error("import", "history", str(path))
    assert "rebook import history FILE.csv" in rebook.error("import", "one.csv", str(path))


def test_a_file_the_csv_reader_cannot_read_is_refused_whole_with_its_line(alice, rebook, tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"lead,start,outcome\nx@y.example,2026-01-05 10:00,held\nx@y.example,2026-01-06 10:00,"
                     + b"a" * 200_000 + b"\n")
    assert "line 3" in rebook.error("import", "history", str(path))
    assert not Appointment.objects.exists()  # nothing half-written
