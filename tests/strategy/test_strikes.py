from __future__ import annotations

from dataclasses import replace

from rebook.strategy.history import MISSED, RESCHEDULE
from rebook.strategy.policy import Policy
from rebook.strategy.strikes import decide_strikes, lead_status

from .helpers import Timeline, at

POLICY = Policy()


def test_third_cancellation_without_valid_reason_moves_lead_to_nurture():
    t = Timeline()
    for start in (100, 200, 300):
        t.cancel(t.book(start), "something came up")
    decision = decide_strikes(t.history(), POLICY)
    assert decision.strikes == 3
    assert decision.nurture_reason == "strike_limit"
    assert decision.nurture_since == t.cancellations[2].at
    assert decision.nurture_trigger == "c3"


def test_two_cancellations_are_not_enough():
    t = Timeline()
    for start in (100, 200):
        t.cancel(t.book(start), "")
    decision = decide_strikes(t.history(), POLICY)
    assert (decision.strikes, decision.in_nurture) == (2, False)


def test_valid_reasons_are_never_strikes():
    t = Timeline()
    for start in (100, 200, 300):
        t.cancel(t.book(start), "my daughter is in hospital")
    assert decide_strikes(t.history(), POLICY).strikes == 0


def test_a_held_meeting_between_cancellations_resets_the_count():
    t = Timeline()
    t.cancel(t.book(100), "too busy")
    t.cancel(t.book(200), "too busy")
    t.book(250, status="held")
    t.cancel(t.book(300), "too busy")
    decision = decide_strikes(t.history(), POLICY)
    assert decision.strikes == 1
    assert not decision.in_nurture


def test_held_meetings_do_not_reset_when_the_policy_says_so():
    t = Timeline()
    t.cancel(t.book(100), "too busy")
    t.book(150, status="held")
    t.cancel(t.book(200), "too busy")
    assert decide_strikes(t.history(), replace(POLICY, held_meeting_resets=False)).strikes == 2


def test_seller_cancellations_never_count():
    t = Timeline()
    for start in (100, 200, 300, 400):
        t.cancel(t.book(start), "something came up", by="seller")
    assert decide_strikes(t.history(), POLICY).strikes == 0


def test_prospect_reschedules_and_no_shows_count_as_cancellations():
    t = Timeline()
    t.cancel(t.book(100), "can't make it", kind=RESCHEDULE)
    t.cancel(t.book(200), "", kind=MISSED, at_h=200)
    assert decide_strikes(t.history(), POLICY).strikes == 2
    assert decide_strikes(t.history(), replace(POLICY, no_show_counts=False)).strikes == 1


def test_benefit_of_the_doubt_forgives_only_the_first_cancellation():
    t = Timeline()
    for start in (100, 200, 300):
        t.cancel(t.book(start), "busy")
    decision = decide_strikes(t.history(), replace(POLICY, benefit_of_the_doubt=True))
    assert decision.strikes == 2
    assert decision.counting == (2, 3)


def test_the_order_of_entry_does_not_matter_only_the_times():
    t = Timeline()
    # Entered out of order: the held meeting (at 250) is typed in last, the cancellations backwards.
    t.cancel(t.book(300), "busy")
    t.cancel(t.book(200), "busy")
    t.cancel(t.book(100), "busy")
    t.book(250, status="held")
    decision = decide_strikes(t.history(), POLICY)
    assert decision.strikes == 1
    assert decision.counting == (1,)  # only the cancellation after the held meeting


def test_judging_a_cancellation_valid_afterwards_takes_the_lead_back_out_of_nurture():
    t = Timeline()
    for start in (100, 200, 300):
        t.cancel(t.book(start), "busy")
    t.cancellations[1] = replace(t.cancellations[1], valid=True)
    decision = decide_strikes(t.history(), POLICY)
    assert (decision.strikes, decision.in_nurture) == (2, False)


def test_not_interested_moves_the_lead_at_once_and_is_not_a_strike():
    t = Timeline()
    t.cancel(t.book(100), "not interested, thanks")
    decision = decide_strikes(t.history(), POLICY)
    assert decision.strikes == 0
    assert decision.nurture_reason == "not_interested"
    assert decision.nurture_trigger == "c1"


def test_lead_level_not_interested_without_any_appointment():
    decision = decide_strikes(Timeline().history(not_interested_at=at(5)), POLICY)
    assert decision.nurture_since == at(5)
    assert decision.nurture_trigger == "lead"


def test_reactivation_starts_a_clean_slate():
    t = Timeline()
    for start in (100, 200, 300):
        t.cancel(t.book(start), "busy")
    t.cancel(t.book(500), "busy")
    decision = decide_strikes(t.history(reactivated_at=at(400)), POLICY)
    assert (decision.strikes, decision.in_nurture) == (1, False)


def test_a_lower_strike_limit_moves_leads_sooner():
    t = Timeline()
    t.cancel(t.book(100), "busy")
    t.cancel(t.book(200), "busy")
    assert decide_strikes(t.history(), replace(POLICY, strike_limit=2)).in_nurture


def test_status_follows_the_history_but_won_lost_and_do_not_contact_are_the_sellers():
    t = Timeline()
    for start in (100, 200, 300):
        t.cancel(t.book(start), "busy")
    decision = decide_strikes(t.history(), POLICY)
    assert lead_status("active", decision, has_appointments=True, qualified=False) == "nurture"
    assert lead_status("won", decision, has_appointments=True, qualified=False) == "won"
    calm = decide_strikes(Timeline().history(), POLICY)
    assert lead_status("new", calm, has_appointments=False, qualified=True) == "qualified"
    assert lead_status("nurture", calm, has_appointments=True, qualified=False) == "active"
