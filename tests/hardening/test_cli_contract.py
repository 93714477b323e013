"""The command line's contract: every mistake is one `error:` line on stderr and exit status 1, and
changes nothing; negative numbers are values, not options; a flag pair is given once."""

from __future__ import annotations

import pytest

from rebook.leads.models import Appointment, Cancellation
from tests.clirunner import Rebook

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.mark.parametrize("args, words", [
    (("appt", "book"), "missing argument"),
    (("appt", "cancel", "1", "--by", "nobody"), "'--by'"),
    (("import", "{tmp}"), "is a directory"),
    (("lead", "frob"), "no such command"),
    (("lead", "add"), "missing argument"),
    (("lead", "add", "Dana", "--emial", "x@y.example"), "no such option"),
    (("appt", "book", "-1", "--at", "tomorrow 10am"), "not an id"),
    (("policy", "set", "strike_limit", "-1"), "between 1 and 100"),
    (("appt", "cancel", "{appt}", "--by", "prospect", "--valid", "--not-valid"), "contradict"),
    (("policy", "set", "working_hours", "17:00-09:00"), "past midnight"),
])
def test_every_mistake_is_one_error_line_and_exit_status_1(charlie, tmp_path, args, words):
    from datetime import timedelta

    from rebook.leads.services import appointment_book
    from tests.conftest import NOW

    appointment = appointment_book(lead=charlie, start=NOW + timedelta(days=1), end=NOW + timedelta(days=1, hours=1))
    result = Rebook()(*[a.format(tmp=tmp_path, appt=appointment.pk) for a in args], ok=False)
    assert result.exit_code == 1, (result.exit_code, result.stderr)
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and words in line, line
    assert not Cancellation.objects.exists() and Appointment.objects.count() == 1


def test_a_negative_number_after_options_is_still_a_value(alice):
    result = Rebook()("policy", "set", "--json", "late_notice_hours", "-3", ok=False)
    assert result.exit_code == 1 and "between 0 and 720" in result.stderr


def test_help_and_version_still_exit_zero(alice):
    assert Rebook()("--help").exit_code == 0
    assert Rebook()("appt", "book", "--help").exit_code == 0
    assert "version" in Rebook()("--version").stdout
