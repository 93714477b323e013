"""The checklist, the interest balance, pipeline health and freed time."""

from __future__ import annotations

from datetime import timedelta

from rebook.strategy.checklist import ChecklistFacts, checklist
from rebook.strategy.freed import Candidate, freed_time
from rebook.strategy.history import Contact
from rebook.strategy.interest import interest_balance
from rebook.strategy.pipeline import PipelineFacts, pipeline_health
from rebook.strategy.policy import Policy

from .helpers import Timeline, at

FACTS = ChecklistFacts(
    reason_judged=True, rebooked=False, offer_sent=False, info_sent=False, confirmation_sent=False,
    slot_freed=True, reached_limit=False, in_nurture=False,
)


def steps(facts):
    return {s.key: s for s in checklist(facts)}


def test_the_checklist_ticks_what_rebook_did_and_leaves_the_rest_to_the_seller():
    from dataclasses import replace

    s = steps(replace(FACTS, rebooked=True, info_sent=True))
    assert s["reason"].done and s["offer_times"].done and s["send_info"].done
    assert not s["respond"].done and s["respond"].done_by == "seller"
    assert not s["confirm"].done and s["confirm"].skipped is None
    assert s["nurture"].skipped == "the lead is below the strike limit"


def test_the_checklist_keeps_the_sellers_ticks_and_says_why_steps_do_not_apply():
    from dataclasses import replace

    s = steps(replace(FACTS, reached_limit=True, in_nurture=True, slot_freed=False, ticked=frozenset({"respond"})))
    assert s["respond"].done
    assert s["nurture"].done
    assert s["offer_times"].skipped == "the lead is on the nurture list"
    assert s["reuse_time"].skipped == "the meeting time had already passed"


def test_an_unrecognised_reason_leaves_the_reason_step_open():
    from dataclasses import replace

    assert not steps(replace(FACTS, reason_judged=False))["reason"].done


def test_the_nurture_step_says_when_another_cancellation_moved_the_lead():
    from dataclasses import replace

    assert steps(replace(FACTS, in_nurture=True))["nurture"].skipped == "another cancellation moved the lead to nurture"


def test_interest_balance_says_when_your_interest_exceeds_theirs():
    t = Timeline()
    t.cancel(t.book(100), "something came up")
    t.cancel(t.book(200), "busy", at_h=199)
    result = interest_balance(t.history(contacts=(Contact(at(1), "outbound"), Contact(at(2), "outbound"))), Policy())
    assert result.verdict == "yours"
    assert result.balance < 0
    assert result.sentence.startswith("They have cancelled twice without a valid reason (once at short notice)")
    assert result.sentence.endswith("not proposed a time: your interest exceeds theirs.")


def test_interest_balance_credits_a_prospect_who_books_and_shows_up():
    t = Timeline()
    t.book(100, by="prospect", status="held")
    t.book(200, by="prospect", status="held")
    result = interest_balance(t.history(contacts=(Contact(at(1), "inbound"),)), Policy())
    assert result.verdict == "theirs"
    assert "their interest exceeds yours" in result.sentence


def test_interest_balance_with_no_history_says_so():
    assert interest_balance(Timeline().history(), Policy()).verdict == "unknown"


def test_a_brand_new_lead_you_booked_once_is_not_told_your_interest_exceeds_theirs():
    t = Timeline()
    t.book(100)
    result = interest_balance(t.history(contacts=(Contact(at(1), "outbound"),)), Policy())
    assert result.verdict == "unknown" and "Too early to tell" in result.sentence
    # Three steps of yours with no answer at all, though, is a pattern.
    t.book(200)
    many = interest_balance(t.history(contacts=(Contact(at(1), "outbound"), Contact(at(2), "outbound"))), Policy())
    assert many.verdict == "yours"


def test_a_thin_pipeline_says_how_many_meetings_to_book_and_leads_to_find():
    now = at(0)
    facts = PipelineFacts(
        upcoming=(now + timedelta(days=1), now + timedelta(days=3), now + timedelta(days=10)),
        past_meetings=36, past_prospect_cancellations=9, leads=18, leads_with_appointment=9,
    )
    health = pipeline_health(facts, Policy(), now)
    assert (health.next_7_days, health.next_14_days) == (2, 3)
    assert health.cancellation_rate == 0.25  # (9 + 1) / (36 + 4)
    assert health.expected_meetings_7_days == 1.5
    assert health.appointments_to_book == 5  # 3.5 short / 0.75
    assert health.leads_to_find == 10  # at a 50% lead-to-appointment rate
    assert health.thin
    assert any("thin" in s for s in health.sentences)


def test_a_full_week_is_on_target():
    now = at(0)
    facts = PipelineFacts(tuple(now + timedelta(hours=h) for h in range(10, 130, 15)), 100, 5, 10, 10)
    health = pipeline_health(facts, Policy(), now)
    assert health.appointments_to_book == 0
    assert not health.thin
    assert health.one_cancellation_share < 0.2


def test_freed_time_ranks_overdue_follow_ups_then_check_ins_then_leads_to_book():
    now = at(1000)
    candidates = [
        Candidate(1, "New Nell", "new", last_touch=at(10)),
        Candidate(2, "Qualified Quinn", "qualified", last_touch=at(5)),
        Candidate(3, "Cancelled Cal", "active", last_touch=at(900), open_cancellation_at=at(900)),
        Candidate(4, "Nurture Nina", "nurture", last_touch=at(0), next_checkin=now + timedelta(days=3)),
        Candidate(5, "Booked Bo", "active", last_touch=at(990), next_appointment=now + timedelta(days=1)),
        Candidate(6, "Far Nurture", "nurture", last_touch=at(0), next_checkin=now + timedelta(days=60)),
        Candidate(7, "Fresh Cancel", "active", last_touch=at(999), open_cancellation_at=at(999)),
    ]
    ranked = freed_time(candidates, slot_end=now + timedelta(hours=30), now=now)
    assert [(s.lead_id, s.action) for s in ranked] == [
        (3, "follow_up"), (4, "nurture_checkin"), (2, "book"), (1, "book"),
    ]
    assert "not rebooked" in ranked[0].reason
