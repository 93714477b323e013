"""The benchmark tools themselves, on a tiny generated database: they run and report what bench/run.py
tabulates (the figures are for bench/run.py, never for tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
pytestmark = pytest.mark.subprocess


def _run(env, *args) -> str:
    result = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture
def tiny(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("REBOOK_") and k != "DATABASE_URL"}
    env.update(REBOOK_HOME=str(tmp_path / "home"), DATABASE_URL=f"sqlite:///{tmp_path / 'bench.sqlite3'}",
               REBOOK_ALLOWED_HOSTS="testserver", REBOOK_API_RATE_LIMIT="100000")
    summary = json.loads(_run(env, str(BENCH / "generate.py"), "--sellers", "2", "--leads-per-seller", "40"))
    assert summary["sellers"] == 2 and summary["leads"] == 80 and summary["appointments"] > 100
    return env


def test_pages_services_and_feed_are_measured(tiny):
    pages = json.loads(_run(tiny, str(BENCH / "measure.py"), "pages", "--reps", "2", "--budget", "0.1"))
    assert {"Today", "Leads", "Outbox", "Team", "API: leads"} <= set(pages)
    assert all(p["queries"] > 0 and p["median_ms"] > 0 and p["n"] >= 2 for p in pages.values())
    services = json.loads(_run(tiny, str(BENCH / "measure.py"), "services", "--reps", "8"))
    assert {"book", "cancel", "reschedule"} == set(services["operations"])
    assert services["size"]["leads"] == 80
    feed = json.loads(_run(tiny, str(BENCH / "measure.py"), "feed", "--reps", "1"))
    assert feed["feed"]["events"] > 0 and feed["feed"]["bytes"] > 0
    assert feed["not_modified"]["n"] > 0 and feed["baseline_icalendar"]["median_ms"] > 0
    cancel = services["operations"]["cancel"]
    assert cancel["queries"] > 0 and cancel["without_commit"]["median_ms"] <= cancel["median_ms"] * 1.5


def test_the_import_baseline_writes_every_column_the_schema_requires(tiny, tmp_path):
    """The raw executemany the import is compared with must still load into today's schema."""
    import sqlite3

    rows = tmp_path / "contacts.csv"
    rows.write_text("First Name,Last Name,E-mail Address,Mobile Phone,Company,Job Title\n"
                    "Dana,Reyes,dana@example.com,+1 415 555 0134,Reyes Co,Owner\n")
    database = tiny["DATABASE_URL"].removeprefix("sqlite:///")
    before = sqlite3.connect(database).execute("SELECT COUNT(*) FROM leads_lead").fetchone()[0]
    _run(tiny, str(BENCH / "baseline_import.py"), str(rows), tiny["DATABASE_URL"], "seller001")
    assert sqlite3.connect(database).execute("SELECT COUNT(*) FROM leads_lead").fetchone()[0] == before + 1


def test_the_calendar_file_is_imported_whole_and_the_baseline_reads_every_event(tmp_path, monkeypatch):
    """The generated Outlook export imports without a rejected event, and its baseline counts them all."""
    sys.path.insert(0, str(BENCH))
    try:
        import run
    finally:
        sys.path.remove(str(BENCH))
    monkeypatch.setattr(run, "DATA", tmp_path)
    path = run.calendar_ics(120)
    assert run.calendar_ics(120) == path and path.read_bytes().count(b"BEGIN:VEVENT") == 120
    env = {k: v for k, v in os.environ.items() if not k.startswith("REBOOK_") and k != "DATABASE_URL"}
    env.update(REBOOK_HOME=str(tmp_path / "home"), DATABASE_URL=f"sqlite:///{tmp_path / 'cal.sqlite3'}")
    rebook = str(Path(sys.executable).with_name("rebook"))
    subprocess.run([rebook, "user", "add", "bench", "--email", "bench@rebook.example", "--json"], env=env, check=True,
                   capture_output=True)
    report = json.loads(subprocess.run([rebook, "import", str(path), "--json", "--user", "bench"], env=env,
                                       capture_output=True, text=True, check=True).stdout)
    assert sum(v for k, v in report["counts"].items() if k != "rejected") == 120
    assert report["rejected"] == [] and report["counts"]["booked"] > 100
    assert _run(env, str(BENCH / "baseline_calendar.py"), str(path)).strip() == "120"


def test_the_worker_queue_is_prepared_the_same_each_round(tiny, tmp_path):
    ids = tmp_path / "ids.json"
    first = json.loads(_run(tiny, str(BENCH / "measure.py"), "worker-prepare", "--ids", str(ids)))["queued"]
    again = json.loads(_run(tiny, str(BENCH / "measure.py"), "worker-prepare", "--ids", str(ids)))["queued"]
    assert first > 0 and again == first and len(json.loads(ids.read_text())) == first


def test_the_report_states_the_machine_and_every_part():
    sys.path.insert(0, str(BENCH))
    try:
        import run
    finally:
        sys.path.remove(str(BENCH))
    results = json.loads((BENCH / "results" / "results.json").read_text())
    table = run.markdown(results)
    assert "CPUs" in table and "Python" in table and "PostgreSQL" in table
    for heading in ("**Services**", "**Pages and API lists**", "**Calendar feed**", "**Contact import**", "**Calendar import**",
                    "**Outbox worker**"):
        assert heading in table
    page = (BENCH.parent / "docs" / "performance.md").read_text()
    assert table.split("\n", 1)[1] in page  # the docs show the committed results


def test_rebooks_side_of_the_peer_comparison_answers_each_page(tiny):
    """bench/peer.py's Rebook side, on the tiny database: each of the four requests answers as it should
    (200, or 302 for the booking), with its queries counted."""
    done = subprocess.run([sys.executable, str(BENCH / "peer_timer.py"), "rebook"], env=tiny, capture_output=True,
                          text=True, timeout=300, input="lead_list 2\nlead_page 2\ndaily 2\nwrite 3\n")
    assert done.returncode == 0, done.stderr[-2000:]
    answers = {a["page"]: a for a in map(json.loads, done.stdout.splitlines())}
    assert set(answers) == {"lead_list", "lead_page", "daily", "write"}
    assert all(a["queries"] > 3 and len(a["times_ms"]) == (3 if p == "write" else 2) for p, a in answers.items())


@pytest.mark.parametrize("name", ["peer", "load"])
def test_the_peer_and_load_reports_are_in_the_docs(name):
    sys.path.insert(0, str(BENCH))
    try:
        module = __import__(name)
    finally:
        sys.path.remove(str(BENCH))
    table = module.markdown(json.loads((BENCH / "results" / f"{name}.json").read_text()))
    assert table == (BENCH / "results" / f"{name}.md").read_text()
    assert "CPUs" in table
    assert table.split("\n", 1)[1].strip() in (BENCH.parent / "docs" / "performance.md").read_text()
