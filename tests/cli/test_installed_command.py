"""The installed `rebook` executable, run as a user would: child processes, a real database."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import child_env, rebook_executable

# Children share the PostgreSQL test database, so these tests commit for real (and are flushed after).
pytestmark = [pytest.mark.subprocess, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def run(tmp_path):
    exe = rebook_executable()
    env = child_env(tmp_path)

    def rebook(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=120)
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    return rebook


def test_a_new_user_can_run_the_whole_cancellation_story(run):
    init = json.loads(run("init", "--name", "Sam Seller", "--email", "sam@example.com", "--timezone", "Europe/Berlin", "--json").stdout)
    assert init["seller"]["timezone"] == "Europe/Berlin"
    lead = json.loads(run("lead", "add", "Dana Reyes", "--email", "dana@example.com", "--json").stdout)
    statuses = []
    for when in ("in 2 days 10am", "in 3 days 10am", "in 4 days 10am"):
        appt_id = run("appt", "book", str(lead["id"]), "--at", when).stdout.strip()
        out = json.loads(run("appt", "cancel", appt_id, "--by", "prospect", "--reason", "something came up", "--json").stdout)
        statuses.append((out["strikes"], out["lead_status"]))
    assert statuses == [(1, "active"), (2, "active"), (3, "nurture")]
    outbox = json.loads(run("outbox", "--status", "review", "--json").stdout)
    assert {m["kind"] for m in outbox} == {"nurture_move", "nurture_checkin"}


def test_bad_input_exits_non_zero_with_one_line_on_stderr(run):
    lead_id = run("lead", "add", "Dana").stdout.strip()
    done = run("appt", "book", lead_id, "--at", "not a time at all", ok=False)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: --at: cannot read")
    assert json.loads(run("appt", "list", "--json").stdout) == []


def test_help_lists_the_commands(run):
    out = run("--help").stdout
    for command in ("init", "lead", "appt", "cancellation", "checklist", "outbox", "pipeline", "freed", "policy", "demo"):
        assert f"  {command}" in out


def test_a_setting_that_is_not_a_number_is_named_in_one_line(tmp_path):
    env = {**child_env(tmp_path), "REBOOK_DB_PREPARE_AFTER": "five"}
    done = subprocess.run([rebook_executable(), "lead", "list"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip() == "error: REBOOK_DB_PREPARE_AFTER must be a whole number, not 'five'"


def test_a_new_home_is_made_when_the_secret_key_is_given(tmp_path):
    """With REBOOK_SECRET_KEY set no key is generated, and the home (on SQLite) is still made: folders that
    hold a database and a key, readable by their owner only."""
    env = {**child_env(tmp_path), "REBOOK_SECRET_KEY": "a-given-secret-key-" * 3, "REBOOK_HOME": str(tmp_path / "a/b/home")}
    env.pop("DATABASE_URL", None)

    def rebook(*args: str, home: str | None = None) -> str:
        done = subprocess.run([rebook_executable(), *args], env=env | ({"REBOOK_HOME": home} if home else {}),
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    rebook("init", "--name", "Sam Seller", "--email", "sam@example.com", "--timezone", "Europe/Berlin")
    assert json.loads(rebook("lead", "list", "--json")) == []
    assert (tmp_path / "a/b/home").stat().st_mode & 0o777 == 0o700
    rebook("backup", str(tmp_path / "backup.data"))
    restored = json.loads(rebook("restore", str(tmp_path / "backup.data"), "--json", home=str(tmp_path / "c/home")))
    assert restored["sellers"] == 1
    assert (tmp_path / "c/home").stat().st_mode & 0o777 == 0o700
