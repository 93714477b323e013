"""The cancellation story through the services, on a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rebook.errors import RebookError
from rebook.leads import services as s
from rebook.leads.models import Appointment, Cancellation, ChecklistItem, Lead
from rebook.outbox.models import PlannedMessage
from tests.conftest import NOW

pytestmark = pytest.mark.usefixtures("frozen")
DAY = timedelta(days=1)


def book(lead, days, **kw):
    start = NOW + days * DAY
    return s.appointment_book(lead=lead, start=start, end=start + timedelta(minutes=45), **kw)


def fresh(obj):
    obj.refresh_from_db()
    return obj


def messages(lead, *statuses):
    qs = PlannedMessage.objects.filter(lead=lead)
    if statuses:
        qs = qs.filter(status__in=statuses)
    return {m.key: m for m in qs}


def test_a_booking_makes_the_lead_active_and_plans_the_follow_up_note(charlie):
    appt = book(charlie, 5)
    assert fresh(charlie).status == "active"
    planned = messages(charlie)
    assert planned[f"booking_followup:a{appt.pk}"].due == NOW + DAY
    assert planned[f"booking_followup:a{appt.pk}"].status == "review"


def test_third_cancellation_without_valid_reason_moves_lead_to_nurture(charlie):
    for days in (3, 4):
        c = s.appointment_cancel(appointment=book(charlie, days), by="prospect", reason="something came up")
        assert c.is_strike
    assert fresh(charlie).strikes == 2
    pending_before = messages(charlie, "review")
    assert pending_before  # connecting moment and offer for the latest cancellation
    c3 = s.appointment_cancel(appointment=book(charlie, 5), by="prospect", reason="Something came up")

    lead = fresh(charlie)
    assert (lead.status, lead.strikes, lead.nurture_reason) == ("nurture", 3, "strike_limit")
    pending = messages(charlie, "review", "scheduled")
    assert set(pending) == {f"nurture_move:c{c3.pk}", f"nurture_checkin:c{c3.pk}:1"}
    assert pending[f"nurture_move:c{c3.pk}"].due == NOW
    assert pending[f"nurture_checkin:c{c3.pk}:1"].due == NOW + 90 * DAY
    withdrawn = messages(charlie, "withdrawn")
    assert set(pending_before) <= set(withdrawn)
    assert {m.status_note for m in withdrawn.values()} >= {"the lead moved to the nurture list"}


def test_valid_reasons_give_no_strikes(charlie):
    for days in (3, 4):
        s.appointment_cancel(appointment=book(charlie, days), by="prospect", reason="My daughter is in hospital")
    lead = fresh(charlie)
    assert (lead.status, lead.strikes) == ("active", 0)


def test_a_held_meeting_between_cancellations_resets_the_count(charlie, frozen):
    s.appointment_cancel(appointment=book(charlie, -10), by="prospect", reason="busy", at=NOW - 11 * DAY)
    s.appointment_cancel(appointment=book(charlie, -8), by="prospect", reason="busy", at=NOW - 9 * DAY)
    s.appointment_mark_held(appointment=book(charlie, -5))
    s.appointment_cancel(appointment=book(charlie, 2), by="prospect", reason="busy")
    assert fresh(charlie).strikes == 1
    assert fresh(charlie).status == "active"


def test_seller_cancellations_never_count(charlie):
    for days in (2, 3, 4, 5):
        s.appointment_cancel(appointment=book(charlie, days), by="seller", reason="something came up")
    assert fresh(charlie).strikes == 0
    assert not ChecklistItem.objects.filter(cancellation__lead=charlie).exists()


def test_judging_a_cancellation_valid_afterwards_lowers_the_strikes_and_restores_the_lead(charlie):
    cancellations = [
        s.appointment_cancel(appointment=book(charlie, days), by="prospect", reason="busy") for days in (2, 3, 4)
    ]
    assert fresh(charlie).status == "nurture"
    s.cancellation_judge(cancellation=cancellations[0], valid=True)
    lead = fresh(charlie)
    assert (lead.status, lead.strikes) == ("active", 2)
    assert not fresh(cancellations[0]).is_strike
    # The polite nurture note is withdrawn again; the latest cancellation's follow-ups come back.
    assert messages(charlie)[f"nurture_move:c{cancellations[2].pk}"].status == "withdrawn"
    assert messages(charlie)[f"connecting_moment:c{cancellations[2].pk}"].status == "review"
    s.cancellation_judge(cancellation=cancellations[0], valid=False)
    assert fresh(charlie).status == "nurture"


def test_the_sellers_judgement_wins_over_the_classifier(charlie):
    c = s.appointment_cancel(appointment=book(charlie, 2), by="prospect", reason="my child is sick", valid=False)
    assert (c.suggested_valid, c.valid, fresh(c).is_strike) == (True, False, True)


def test_not_interested_moves_the_lead_at_once_and_calls_off_future_meetings(charlie):
    appt = book(charlie, 3)
    s.lead_not_interested(lead=charlie, reason="Went with another supplier")
    lead = fresh(charlie)
    assert (lead.status, lead.nurture_reason, lead.strikes) == ("nurture", "not_interested", 0)
    assert fresh(appt).status == "cancelled"
    assert fresh(appt).cancellation.category == "not_interested"
    assert {m.kind for m in messages(charlie, "review").values()} == {"nurture_move", "nurture_checkin"}


def test_a_not_interested_reason_on_a_cancellation_ends_pursuit_too(charlie):
    s.appointment_cancel(appointment=book(charlie, 3), by="prospect", reason="Not interested anymore")
    assert (fresh(charlie).status, fresh(charlie).strikes) == ("nurture", 0)


def test_a_nurture_lead_cannot_be_booked_until_reactivated(charlie):
    s.lead_not_interested(lead=charlie)
    with pytest.raises(RebookError, match="nurture list; reactivate it first"):
        book(charlie, 3)
    assert not Appointment.objects.filter(lead=charlie).exists()
    s.lead_reactivate(lead=fresh(charlie))
    assert fresh(charlie).status == "new"  # never booked, never qualified
    book(fresh(charlie), 3)
    assert fresh(charlie).status == "active"


def test_reactivation_clears_the_strikes(charlie):
    for days in (2, 3, 4):
        s.appointment_cancel(appointment=book(charlie, days), by="prospect", reason="busy")
    s.lead_reactivate(lead=fresh(charlie))
    lead = fresh(charlie)
    assert (lead.status, lead.strikes) == ("active", 0)
    # The nurture messages are withdrawn; the latest cancellation is followed up again.
    assert {m.kind for m in messages(charlie, "review").values()} == {"connecting_moment", "reschedule_offer"}


def test_a_prospect_reschedule_counts_and_keeps_the_chain(charlie):
    appt = book(charlie, 3)
    c, moved = s.appointment_reschedule(appointment=appt, to=NOW + 6 * DAY, by="prospect", reason="too busy")
    assert (fresh(appt).status, moved.status, moved.rescheduled_from_id, moved.chain) == (
        "rescheduled", "scheduled", appt.pk, appt.chain
    )
    assert c.kind == "reschedule" and c.is_strike
    planned = messages(charlie, "review")
    assert planned[f"connecting_moment:c{c.pk}"].due == NOW + timedelta(hours=2)
    assert planned[f"confirmation:a{moved.pk}"].due == NOW + 5 * DAY
    assert f"booking_followup:a{appt.pk}" not in planned


def test_the_reschedule_that_reaches_the_limit_does_not_book_the_new_time(charlie):
    for days in (2, 3):
        s.appointment_cancel(appointment=book(charlie, days), by="prospect", reason="busy")
    appt = book(charlie, 4)
    c, moved = s.appointment_reschedule(appointment=appt, to=NOW + 9 * DAY, by="prospect", reason="busy")
    assert moved is None
    assert fresh(appt).status == "cancelled"
    assert fresh(charlie).status == "nurture"


def test_a_no_show_counts_as_a_cancellation(charlie, frozen):
    appt = book(charlie, -1)
    c = s.appointment_mark_no_show(appointment=appt)
    assert (c.kind, c.category, c.is_strike, fresh(appt).status) == ("no_show", "no_show", True, "no_show")


def test_held_and_no_show_only_after_the_start(charlie):
    appt = book(charlie, 1)
    with pytest.raises(RebookError, match="has not started yet"):
        s.appointment_mark_held(appointment=appt)
    with pytest.raises(RebookError, match="has not started yet"):
        s.appointment_mark_no_show(appointment=appt)
    assert fresh(appt).status == "scheduled"


def test_history_logged_after_the_fact_and_out_of_order_gives_the_same_answer(charlie):
    old = [book(charlie, d) for d in (-30, -20, -10)]
    # The latest first, then the earlier ones: nothing depends on the order of entry.
    for appt, days in zip(reversed(old), (-11, -21, -31), strict=True):
        s.appointment_cancel(appointment=appt, by="prospect", reason="forgot", at=NOW + days * DAY)
    lead = fresh(charlie)
    assert (lead.status, lead.strikes) == ("nurture", 3)
    first_three = Cancellation.objects.filter(lead=charlie).order_by("at")
    assert lead.nurture_since == first_three.last().at
    # Only the nurture note (due at once) and the first check-in are waiting.
    pending = messages(charlie, "review")
    assert {m.kind for m in pending.values()} == {"nurture_move", "nurture_checkin"}
    assert pending[f"nurture_move:c{first_three.last().pk}"].due == first_three.last().at


def test_bad_input_changes_nothing(charlie):
    appt = book(charlie, 2)
    before = (Appointment.objects.count(), Cancellation.objects.count(), PlannedMessage.objects.count())
    with pytest.raises(RebookError, match="end after it starts"):
        s.appointment_book(lead=charlie, start=NOW + DAY, end=NOW + DAY - timedelta(minutes=5))
    with pytest.raises(RebookError, match="by: must be seller or prospect"):
        s.appointment_cancel(appointment=appt, by="robot")
    with pytest.raises(RebookError, match="cannot be in the future"):
        s.appointment_cancel(appointment=appt, by="prospect", at=NOW + DAY)
    with pytest.raises(RebookError, match="not a valid e-mail"):
        s.lead_create(seller=charlie.seller, name="X", email="not-an-email")
    assert (Appointment.objects.count(), Cancellation.objects.count(), PlannedMessage.objects.count()) == before
    assert Lead.objects.count() == 1
    s.appointment_cancel(appointment=appt, by="prospect")
    with pytest.raises(RebookError, match="only a scheduled appointment can be cancelled"):
        s.appointment_cancel(appointment=fresh(appt), by="prospect")


def test_the_checklist_is_created_and_ticked_by_the_system(charlie):
    c = s.appointment_cancel(appointment=book(charlie, 3), by="prospect", reason="something came up")
    items = {i.step: i for i in ChecklistItem.objects.filter(cancellation=c)}
    assert set(items) == {"respond", "reason", "offer_times", "send_info", "reuse_time", "confirm", "nurture", "pipeline"}
    assert items["reason"].done_by == "system"
    assert items["offer_times"].done_at is None
    book(fresh(charlie), 6)  # rebooked: new times were agreed
    assert ChecklistItem.objects.get(cancellation=c, step="offer_times").done_by == "system"
    item = s.checklist_tick(cancellation=c, step="respond")
    assert (item.done_by, item.done_at) == ("seller", NOW)
    with pytest.raises(RebookError, match="unknown step 'dance'"):
        s.checklist_tick(cancellation=c, step="dance")


def test_an_unrecognised_reason_waits_for_the_sellers_judgement(charlie):
    c = s.appointment_cancel(appointment=book(charlie, 3), by="prospect", reason="We are moving offices")
    assert c.needs_review and not c.valid
    assert ChecklistItem.objects.get(cancellation=c, step="reason").done_at is None
    s.cancellation_judge(cancellation=c, valid=True)
    assert ChecklistItem.objects.get(cancellation=c, step="reason").done_by == "system"


def test_policy_changes_re_evaluate_every_lead(charlie):
    from rebook.sellers.services import seller_policy_set

    for days in (2, 3):
        s.appointment_cancel(appointment=book(charlie, days), by="prospect", reason="busy")
    seller_policy_set(seller=charlie.seller, key="strike_limit", value="2")
    assert fresh(charlie).status == "nurture"


def test_auto_send_plans_messages_as_scheduled(charlie):
    from rebook.sellers.services import seller_policy_set

    seller_policy_set(seller=charlie.seller, key="auto_send", value="true")
    book(fresh(charlie), 5)
    assert {m.status for m in messages(charlie).values()} == {"scheduled"}


def test_won_leads_have_nothing_planned(charlie):
    book(charlie, 5)
    s.lead_set_status(lead=charlie, status="won")
    assert not messages(charlie, "review", "scheduled")
    assert {m.status_note for m in messages(charlie).values()} == {"the lead was marked won"}


def test_deferred_reevaluation_runs_once_a_lead_and_ends_where_step_by_step_ends(charlie, alice):
    from unittest import mock

    from django.db import transaction

    calls = []
    with transaction.atomic(), mock.patch("rebook.leads.services.lead_histories", wraps=s.lead_histories) as history:
        with s.reevaluations_deferred(now=NOW):
            for days in (3, 4, 5):
                s.appointment_cancel(appointment=book(charlie, days), by="prospect", reason="something came up")
            assert fresh(charlie).status == "new" and history.call_count == 0  # nothing yet
            with transaction.atomic():  # a lead made in a savepoint that rolls back is skipped at the end
                ghost = s.lead_create(seller=alice, name="Ghost")
                book(ghost, 2)
                transaction.set_rollback(True)
        calls.append([[lead.pk for lead in call.args[0]] for call in history.call_args_list])
    assert calls == [[[charlie.pk]]]  # charlie's history read once, for all six changes
    lead = fresh(charlie)
    assert (lead.status, lead.strikes, lead.nurture_reason) == ("nurture", 3, "strike_limit")
    assert not Lead.objects.filter(name="Ghost").exists()
    last = Cancellation.objects.filter(appointment__lead=charlie).order_by("-id").first()
    assert set(messages(charlie, "review", "scheduled")) == {f"nurture_move:c{last.pk}", f"nurture_checkin:c{last.pk}:1"}


def test_nothing_is_reevaluated_when_the_deferred_block_fails(charlie):
    from unittest import mock

    with (mock.patch("rebook.leads.services.lead_histories", wraps=s.lead_histories) as history,
          pytest.raises(RebookError), s.reevaluations_deferred(now=NOW)):
        book(charlie, 3)
        raise RebookError("the import failed")
    assert history.call_count == 0


def test_the_pipeline_counts_are_kept_until_a_lead_or_meeting_changes(alice, charlie, frozen, django_assert_num_queries):
    def counts():
        from rebook.leads import selectors

        return selectors._history_counts(alice, Appointment.objects.filter(seller=alice))

    first = book(charlie, 2)
    assert counts() == (1, 0, 0, 1)
    with django_assert_num_queries(1):  # only the stamp: nothing changed
        assert counts() == (1, 0, 0, 1)
    frozen.shift(timedelta(seconds=1))
    s.appointment_cancel(appointment=first, by="prospect", reason="something came up")
    assert counts() == (1, 1, 1, 1)  # the cancellation moved the stamp: counted again
    frozen.shift(timedelta(seconds=1))
    s.lead_create(seller=alice, name="Dora")
    assert counts() == (2, 1, 1, 1)


def test_a_cancellation_logged_long_after_the_fact_works_out_its_offer_only_when_asked(charlie, frozen):
    """No follow-up goes out for a cancellation older than the follow-up window, so no free times are looked
    for when it is recorded (a calendar import of last year would look for each); asked for, they are."""
    from rebook.prospects.links import offered_starts

    old = book(charlie, -40)
    late = s.appointment_cancel(appointment=old, by="prospect", reason="busy", at=NOW - timedelta(days=41))
    recent = s.appointment_cancel(appointment=book(charlie, 2), by="prospect", reason="busy")
    assert fresh(late).offered == [] and len(fresh(recent).offered) == 3
    assert not PlannedMessage.objects.filter(cancellation=late).exists()  # nothing would carry the offer
    assert len(offered_starts(fresh(late), NOW)) == 3  # worked out now, if a page ever asks
