"""The `rebook` command's contract: names, flags, --json fields, one-line errors that change nothing."""

from __future__ import annotations

import pytest

from rebook.leads.models import Appointment, Cancellation, Lead
from rebook.outbox.models import PlannedMessage
from tests.clirunner import Rebook

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def rebook(alice):
    return Rebook()


def test_it_adds_a_lead_and_prints_its_id(rebook):
    result = rebook("lead", "add", "Dana Reyes", "--email", "dana@reyes.example", "--company", "Reyes Landscaping",
                    "--source", "Chamber mixer")
    lead = Lead.objects.get()
    assert result.stdout.strip() == str(lead.pk)
    data = rebook.json("lead", "add", "Eve", "--phone", "+1 555 0100")
    assert {"id", "name", "email", "status", "strikes"} <= set(data)
    assert (data["name"], data["status"], data["strikes"]) == ("Eve", "new", 0)


def test_the_three_strikes_story_from_the_command_line(rebook):
    lead_id = rebook.json("lead", "add", "Dana")["id"]
    outcomes = []
    for day in ("tomorrow 10am", "2026-03-05 10:00", "2026-03-06 14:30"):
        appt = rebook.json("appt", "book", str(lead_id), "--at", day, "--duration", "30m")
        assert {"id", "lead_id", "start", "status"} <= set(appt)
        outcomes.append(rebook.json("appt", "cancel", str(appt["id"]), "--by", "prospect", "--reason", "something came up"))
    assert [o["strikes"] for o in outcomes] == [1, 2, 3]
    assert [o["lead_status"] for o in outcomes] == ["active", "active", "nurture"]
    assert {"cancellation_id", "valid", "strikes", "lead_status"} <= set(outcomes[0])
    assert outcomes[2]["valid"] is False
    assert {m["kind"] for m in outcomes[2]["planned_messages"]} == {"nurture_move", "nurture_checkin"}
    outbox = rebook.json("outbox")
    assert {"id", "lead_id", "kind", "due", "status"} <= set(outbox[0])
    assert {m["status"] for m in outbox if m["kind"] == "connecting_moment"} == {"withdrawn"}
    assert rebook.json("lead", "list", "--status", "nurture")[0]["id"] == lead_id


def test_booking_times_are_read_and_shown_in_the_sellers_time_zone(rebook):
    lead_id = rebook.json("lead", "add", "Dana")["id"]
    # Alice is in New York; DST starts on 8 March 2026, so the offset changes between these two.
    before = rebook.json("appt", "book", str(lead_id), "--at", "2026-03-07 10:00")
    after = rebook.json("appt", "book", str(lead_id), "--at", "2026-03-09 10:00")
    assert before["start"] == "2026-03-07T10:00:00-05:00"
    assert after["start"] == "2026-03-09T10:00:00-04:00"
    assert before["end"] == "2026-03-07T10:45:00-05:00"
    stored = Appointment.objects.get(pk=after["id"]).start
    assert stored.utcoffset().total_seconds() == 0 and stored.hour == 14


def test_reschedule_prints_the_appointment_at_the_new_time(rebook):
    lead_id = rebook.json("lead", "add", "Dana")["id"]
    appt = rebook.json("appt", "book", str(lead_id), "--at", "2026-03-04 10:00")
    out = rebook.json("appt", "reschedule", str(appt["id"]), "--to", "2026-03-06 11:00", "--by", "prospect",
                      "--reason", "my son has the flu")
    assert out["appointment_id"] != appt["id"]
    assert out["previous_appointment_id"] == appt["id"]
    assert (out["valid"], out["strikes"], out["lead_status"]) == (True, 0, "active")
    assert rebook.json("appt", "list", "--lead", str(lead_id), "--status", "scheduled")[0]["start"] == (
        "2026-03-06T11:00:00-05:00"
    )


def test_judging_afterwards_lowers_the_strikes(rebook):
    lead_id = rebook.json("lead", "add", "Dana")["id"]
    appt = rebook.json("appt", "book", str(lead_id), "--at", "tomorrow 9am")
    c = rebook.json("appt", "cancel", str(appt["id"]), "--by", "prospect", "--reason", "we are moving offices")
    assert (c["category"], c["needs_review"], c["strikes"]) == ("unknown", True, 1)
    judged = rebook.json("cancellation", "judge", str(c["cancellation_id"]), "--valid")
    assert (judged["valid"], judged["strikes"], judged["needs_review"]) == (True, 0, False)


def test_held_no_show_and_checklist(rebook):
    lead_id = rebook.json("lead", "add", "Dana")["id"]
    past = rebook.json("appt", "book", str(lead_id), "--at", "yesterday 10am")
    no_show = rebook.json("appt", "no-show", str(past["id"]))
    assert (no_show["kind"], no_show["strikes"]) == ("no_show", 1)
    checklist = rebook.json("checklist", str(past["id"]), "--tick", "respond")
    steps = {s["step"]: s for s in checklist["steps"]}
    assert steps["respond"]["done"] and steps["respond"]["done_by"] == "seller"
    assert steps["reuse_time"]["skipped"] == "the meeting time had already passed"
    held = rebook.json("appt", "book", str(lead_id), "--at", "2 hours ago")
    assert rebook.json("appt", "held", str(held["id"]))["status"] == "held"
    assert "Checklist for appointment" in rebook("checklist", str(past["id"])).stdout


def test_lead_show_gives_history_strikes_interest_and_next_steps(rebook):
    lead_id = rebook.json("lead", "add", "Dana")["id"]
    for when in ("tomorrow 10am", "2026-03-05 10:00"):
        appt = rebook.json("appt", "book", str(lead_id), "--at", when)
        rebook("appt", "cancel", str(appt["id"]), "--by", "prospect", "--reason", "too busy")
    rebook("lead", "log", str(lead_id), "--kind", "call", "--direction", "outbound")
    shown = rebook.json("lead", "show", str(lead_id))
    assert shown["strikes"] == 2
    assert shown["interest"]["verdict"] == "yours"
    assert "your interest exceeds theirs" in shown["interest"]["sentence"]
    assert any("One more cancellation" in s for s in shown["next_steps"])
    assert len(shown["cancellations"]) == 2 and len(shown["contacts"]) == 1
    text = rebook("lead", "show", str(lead_id)).stdout
    assert "Dana (#" in text and "Next steps:" in text


def test_pipeline_freed_and_policy(rebook):
    lead_id = rebook.json("lead", "add", "Dana")["id"]
    other = rebook.json("lead", "add", "Quinn")["id"]
    rebook("lead", "qualify", str(other), "--notes", "budget approved")
    appt = rebook.json("appt", "book", str(lead_id), "--at", "2026-03-04 10:00")
    health = rebook.json("pipeline")
    assert health["next_7_days"] == 1 and health["thin"] is True
    rebook("appt", "cancel", str(appt["id"]), "--by", "seller")
    freed = rebook.json("freed", str(appt["id"]))
    assert freed["suggestions"][0]["lead"] == "Quinn"
    assert rebook.json("policy", "set", "strike_limit", "2")["strike_limit"] == "2"
    assert rebook.json("policy", "show")["connecting_moment_delay"] == "2h"
    assert "strike_limit" in rebook("policy", "show").stdout


def test_reason_word_lists_are_editable(rebook):
    rebook("reasons", "add", "work_emergency", "accountant")
    lead_id = rebook.json("lead", "add", "Dana")["id"]
    appt = rebook.json("appt", "book", str(lead_id), "--at", "tomorrow 10am")
    out = rebook.json("appt", "cancel", str(appt["id"]), "--by", "prospect", "--reason", "My accountant needs me")
    assert (out["category"], out["valid"]) == ("work_emergency", True)
    assert "accountant" in rebook.json("reasons", "show")["work_emergency"]["phrases"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lead", "show", "999"], "error: no lead with id 999"),
        (["appt", "cancel", "999", "--by", "prospect"], "error: no appointment with id 999"),
        (["appt", "book", "{lead}", "--at", "whenever"], "error: --at: cannot read 'whenever'"),
        (["appt", "book", "{lead}", "--at", "tomorrow 10am", "--end", "tomorrow 9am"], "error: the appointment must end after it starts"),
        (["appt", "book", "{lead}", "--at", "2026-03-08 02:30"], "error: 2026-03-08 02:30 does not exist in America/New_York"),
        (["lead", "add", "X", "--email", "nope"], "error: email: 'nope' is not a valid e-mail address"),
        (["lead", "list", "--status", "sleepy"], "error: status: unknown lead status 'sleepy'"),
        (["policy", "set", "strike_limit", "many"], "error: policy strike_limit takes a whole number"),
        (["appt", "held", "abc"], "error: APPT_ID: 'abc' is not an id"),
    ],
)
def test_bad_input_gets_a_one_line_error_and_changes_nothing(rebook, args, message):
    lead_id = rebook.json("lead", "add", "Dana")["id"]
    before = (Lead.objects.count(), Appointment.objects.count(), Cancellation.objects.count(), PlannedMessage.objects.count())
    assert rebook.error(*(a.format(lead=lead_id) for a in args)).startswith(message)
    after = (Lead.objects.count(), Appointment.objects.count(), Cancellation.objects.count(), PlannedMessage.objects.count())
    assert before == after


def test_booking_a_nurture_lead_is_refused(rebook):
    lead_id = rebook.json("lead", "add", "Dana")["id"]
    rebook("lead", "not-interested", str(lead_id))
    assert "nurture list; reactivate it first" in rebook.error("appt", "book", str(lead_id), "--at", "tomorrow 10am")
    rebook("lead", "reactivate", str(lead_id))
    rebook("appt", "book", str(lead_id), "--at", "tomorrow 10am")


def test_with_several_sellers_commands_act_for_the_chosen_one(rebook, bob):
    assert "several sellers (alice, bob)" in rebook.error("lead", "list")
    lead_id = rebook.json("lead", "add", "Dana", "--user", "alice")["id"]
    assert rebook.json("lead", "list", "--user", "bob") == []
    assert "no lead with id" in rebook.error("lead", "show", str(lead_id), "--user", "bob")
    assert "no seller named 'zed'" in rebook.error("lead", "list", "--user", "zed")


def test_init_updates_the_seller(rebook):
    out = rebook.json("init", "--name", "Alice A.", "--email", "alice@work.example", "--timezone", "Europe/London")
    assert out["seller"]["emails"] == ["alice@work.example", "alice@example.com"]
    assert out["seller"]["timezone"] == "Europe/London"
    assert "unknown time zone" in rebook.error("init", "--timezone", "Mars/Olympus")


def test_the_demo_loads_every_feature(rebook):
    summary = rebook.json("demo")
    assert summary["leads"] >= 20 and summary["nurture"] >= 3
    statuses = {lead["status"] for lead in rebook.json("lead", "list")}
    assert {"new", "qualified", "active", "nurture", "won"} <= statuses
    assert rebook.json("cancellation", "list", "--needs-review")
    assert "already has leads" in rebook.error("demo")


def test_the_demo_gives_a_seller_without_a_name_one_prospects_can_see_and_write_to(db):
    from rebook.demo import DEMO_EMAIL, DEMO_NAME
    from rebook.sellers.services import seller_create

    root = seller_create(username="root", timezone_name="Europe/London")  # as `rebook demo` on a new machine
    assert root.name == "root" and root.email == ""
    said = Rebook()("demo", "--user", "root").stdout
    root.refresh_from_db()
    assert (root.name, root.email) == (DEMO_NAME, DEMO_EMAIL)
    assert f"whom prospects see as {DEMO_NAME} <{DEMO_EMAIL}>" in said


def test_the_demo_keeps_the_name_and_address_a_seller_has(rebook, alice):
    rebook("demo")
    alice.refresh_from_db()
    assert (alice.name, alice.email) == ("Alice Adams", "alice@example.com")
