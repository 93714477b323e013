from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from rebook.strategy.followups import plan_messages
from rebook.strategy.history import RESCHEDULE
from rebook.strategy.policy import Policy
from rebook.strategy.strikes import decide_strikes

from .helpers import Timeline, at

POLICY = Policy()


def plan(t: Timeline, now_h: float, policy: Policy = POLICY, **extra):
    history = t.history(**extra)
    return {m.key: m for m in plan_messages(history, policy, decide_strikes(history, policy), at(now_h))}


def test_a_booking_gets_a_follow_up_a_day_later():
    t = Timeline()
    t.book(200, booked_h=0)
    assert plan(t, 1)["booking_followup:a1"].due == at(24)


def test_no_booking_follow_up_when_the_meeting_is_sooner_than_a_day():
    t = Timeline()
    t.book(20, booked_h=0)
    assert plan(t, 1) == {}


def test_a_prospect_cancellation_plans_a_connecting_moment_two_hours_later_and_an_offer_of_new_times():
    t = Timeline()
    t.cancel(t.book(100), "busy", at_h=50)
    planned = plan(t, 51)
    assert planned["connecting_moment:c1"].due == at(52)
    assert planned["reschedule_offer:c1"].due == at(50 + 24)


def test_the_connecting_moment_always_goes_before_the_rescheduled_meeting():
    t = Timeline()
    aid = t.book(100)
    t.cancel(aid, "busy", at_h=50, kind=RESCHEDULE)
    t.book(51.5, booked_h=50, rescheduled_from=aid)
    planned = plan(t, 50)
    assert planned["connecting_moment:c1"].due == at(50.5)  # one hour before the new start, not 52
    assert "reschedule_offer:c1" not in planned  # already rebooked


def test_a_rebooked_meeting_gets_a_confirmation_a_day_before_or_at_once_if_sooner():
    t = Timeline()
    aid = t.book(100)
    t.cancel(aid, "busy", at_h=50, kind=RESCHEDULE)
    t.book(200, booked_h=50, rescheduled_from=aid)
    assert plan(t, 51)["confirmation:a2"].due == at(176)
    soon = Timeline()
    aid = soon.book(100)
    soon.cancel(aid, "busy", at_h=50, kind=RESCHEDULE)
    soon.book(60, booked_h=50, rescheduled_from=aid)
    assert plan(soon, 51)["confirmation:a2"].due == at(50)


def test_a_meeting_booked_after_a_cancellation_is_a_rebooking_too():
    t = Timeline()
    t.cancel(t.book(100), "busy", at_h=50)
    t.book(300, booked_h=60)
    planned = plan(t, 61)
    assert "confirmation:a2" in planned
    assert "booking_followup:a2" not in planned
    assert "reschedule_offer:c1" not in planned


def test_a_seller_cancellation_offers_new_times_at_once_and_no_connecting_moment():
    t = Timeline()
    t.cancel(t.book(100), "I'm ill", by="seller", at_h=50)
    assert set(plan(t, 50)) == {"reschedule_offer:c1"}
    assert plan(t, 50)["reschedule_offer:c1"].due == at(50)


def test_follow_ups_for_a_cancellation_logged_long_after_the_fact_are_not_planned():
    t = Timeline()
    t.cancel(t.book(100), "busy", at_h=50)
    assert plan(t, 50 + 15 * 24) == {}


def test_only_the_latest_cancellation_is_followed_up():
    t = Timeline()
    t.cancel(t.book(100), "busy", at_h=50)
    t.cancel(t.book(120, booked_h=60), "busy", at_h=70)
    assert {k.split(":")[1] for k in plan(t, 71)} == {"c2"}


def test_in_nurture_only_the_polite_note_and_the_next_check_in_are_planned():
    t = Timeline()
    for start in (100, 200, 300):
        t.cancel(t.book(start), "busy", at_h=start - 30)
    t.book(400, booked_h=275)
    planned = plan(t, 271)
    assert set(planned) == {"nurture_move:c3", "nurture_checkin:c3:1"}
    assert planned["nurture_move:c3"].due == at(270)
    assert planned["nurture_checkin:c3:1"].due == at(270) + timedelta(days=90)


def test_the_next_check_in_follows_the_last_one_sent():
    t = Timeline()
    for start in (100, 200, 300):
        t.cancel(t.book(start), "busy", at_h=start - 30)
    sent = at(270) + timedelta(days=91)
    planned = plan(t, 3000, checkins_sent=(sent,))
    assert planned["nurture_checkin:c3:2"].due == sent + timedelta(days=90)


def test_nothing_is_planned_for_a_lead_not_pursued():
    t = Timeline()
    t.book(200, booked_h=0)
    history = t.history()
    assert plan_messages(history, POLICY, decide_strikes(history, POLICY), at(1), pursuing=False) == []


def test_delays_come_from_the_policy():
    t = Timeline()
    t.cancel(t.book(100), "busy", at_h=50)
    assert plan(t, 50, replace(POLICY, connecting_moment_delay=timedelta(0)))["connecting_moment:c1"].due == at(50)
