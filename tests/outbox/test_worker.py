"""The worker against a real SMTP server: what arrives, retries, failures, quiet hours, invitations."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest
from django.utils import timezone

from rebook.leads.models import Lead
from rebook.leads.services import appointment_book, appointment_cancel, appointment_reschedule, lead_create
from rebook.outbox.models import PlannedMessage
from rebook.outbox.services import message_approve
from rebook.outbox.worker import Worker
from rebook.sellers.services import seller_info_file_add, seller_info_pack_set, seller_policy_set
from tests.clirunner import Rebook
from tests.conftest import NOW

pytestmark = pytest.mark.usefixtures("frozen")
Status = PlannedMessage.Status


def run_worker(**kwargs):
    return Worker(name="test-worker", **kwargs).run(until_idle=True)


def book(lead, days=3, hours=0, minutes=45):
    start = NOW + timedelta(days=days, hours=hours)
    return appointment_book(lead=lead, start=start, end=start + timedelta(minutes=minutes), location="Chen Bakery")


@pytest.fixture
def auto(alice):
    seller_policy_set(seller=alice, key="auto_send", value="true")
    return alice


def due_message(lead, kind) -> PlannedMessage:
    return PlannedMessage.objects.get(lead=lead, kind=kind)


def text_of(mail) -> str:
    return mail.get_body(("plain",)).get_content().replace("\r\n", "\n")


def ics_of(mail):
    parts = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [p.get_content_type() for p in mail.walk()]
    return parts[0], icalendar.Calendar.from_ical(parts[0].get_payload(decode=True))


def test_a_due_booking_followup_arrives_with_both_bodies_and_an_invitation(auto, charlie, smtp, frozen):
    appointment = book(charlie)
    frozen.move_to(NOW + timedelta(days=1, minutes=1))  # due a day after booking: 09:01 in New York

    tally = run_worker()

    assert tally.sent == 1
    [received] = smtp.received
    mail = received.message
    assert received.envelope_to == ["charlie@chen.example"]
    assert mail["To"] == "Charlie Chen <charlie@chen.example>"
    assert mail["From"] == "Alice Adams <alice@example.com>"
    assert mail["Subject"] == "Looking forward to our meeting on Thursday 5 March"
    assert mail["Message-ID"].startswith("<rebook.") and mail["Message-ID"].endswith("@example.com>")
    text = text_of(mail)
    html = mail.get_body(("html",)).get_content()
    assert "Hello Charlie," in text and "Thursday 5 March 2026 at 9:00 AM EST" in text
    assert "<p>Hello Charlie,</p>" in html
    part, cal = ics_of(mail)
    assert part.get_param("method") == "REQUEST"
    event = cal.walk("VEVENT")[0]
    assert str(cal["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == f"{appointment.chain}@rebook" and event["SEQUENCE"] == 0
    assert event["DTSTART"].dt == appointment.start and event["DTSTART"].params["TZID"] == "America/New_York"
    assert cal.walk("VTIMEZONE")[0]["TZID"] == "America/New_York"
    assert str(event["ORGANIZER"]) == "mailto:alice@example.com"
    assert str(event["ATTENDEE"]) == "mailto:charlie@chen.example"
    assert "DTSTAMP" in event

    message = due_message(charlie, "booking_followup")
    assert message.status == Status.SENT and message.sent_at == NOW + timedelta(days=1, minutes=1)
    assert (message.subject, message.to_email, message.message_id) == (mail["Subject"], "charlie@chen.example", mail["Message-ID"])


def test_nothing_is_sent_before_it_is_due_or_while_it_waits_for_review(alice, charlie, smtp, frozen):
    book(charlie)
    frozen.move_to(NOW + timedelta(days=2))
    assert due_message(charlie, "booking_followup").status == Status.REVIEW
    assert run_worker().sent == 0 and smtp.received == []

    message_approve(message=due_message(charlie, "booking_followup"))
    assert run_worker().sent == 1 and len(smtp.received) == 1


def test_a_server_that_answers_451_gets_the_mail_later(auto, charlie, smtp, frozen):
    book(charlie)
    smtp.handler.script = ["451 4.7.1 Greylisted, please try again later"]
    frozen.move_to(NOW + timedelta(days=1, minutes=1))

    assert run_worker().retried == 1
    message = due_message(charlie, "booking_followup")
    assert message.status == Status.SCHEDULED and message.attempts == 1
    assert "451" in message.last_error and "Greylisted" in message.last_error
    assert message.due == NOW + timedelta(days=1, minutes=2)  # one minute later
    assert run_worker().sent == 0  # not yet

    frozen.move_to(message.due)
    assert run_worker().sent == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (Status.SENT, 2, "")
    assert len(smtp.received) == 1


def test_backoff_doubles_and_the_worker_gives_up_visibly(auto, charlie, smtp, frozen, monkeypatch):
    from rebook.outbox import services

    monkeypatch.setattr(services, "MAX_ATTEMPTS", 3)
    book(charlie)
    smtp.handler.script = ["421 4.3.2 Busy"] * 3
    frozen.move_to(NOW + timedelta(days=1, minutes=1))
    waits, tallies = [], []
    for _ in range(3):
        ran = timezone.now()
        tallies.append(run_worker())
        message = due_message(charlie, "booking_followup")
        waits.append(message.due - ran)
        frozen.move_to(message.due)
    assert waits[:2] == [timedelta(minutes=1), timedelta(minutes=2)]
    assert message.status == Status.FAILED
    assert message.status_note.startswith("gave up after 3 attempts: SMTP server answered 421")
    # The last attempt's log line says what happened: failed, not "will retry".
    assert (tallies[-1].failed, tallies[-1].retried) == (1, 0) and "failed: gave up" in tallies[-1].lines[-1]


def test_a_message_waiting_for_its_next_attempt_can_be_retried_at_once(auto, charlie, smtp, frozen):
    book(charlie)
    smtp.handler.script = ["451 4.7.1 Greylisted"]
    frozen.move_to(NOW + timedelta(days=1, minutes=1))
    run_worker()
    message = due_message(charlie, "booking_followup")
    assert message.status == Status.SCHEDULED and message.due > timezone.now()
    Rebook()("outbox", "retry", str(message.pk))
    message.refresh_from_db()
    assert message.due == timezone.now()
    assert run_worker().sent == 1
    assert "sent" in Rebook().error("outbox", "retry", str(message.pk))  # nothing left to retry


def test_a_slow_server_does_not_let_a_second_worker_resend_the_rest_of_a_batch(auto, charlie, smtp, frozen):
    """Each message of a batch gets a whole lease: the lease is renewed before each one."""
    from rebook.leads.services import lead_create
    from rebook.outbox import services

    for i in range(3):
        book(lead_create(seller=charlie.seller, name=f"Lead {i}", email=f"lead{i}@example.com"))
    frozen.move_to(NOW + timedelta(days=1, minutes=1))
    lease = timedelta(minutes=5)
    batch = services.messages_claim(worker="slow", now=timezone.now(), lease=lease, limit=10)
    assert len(batch) == 3
    frozen.move_to(timezone.now() + timedelta(minutes=4))  # the first send took four minutes
    services.message_mark_sent(message=batch[0], worker="slow", now=timezone.now(), subject="s", body="b", html="",
                               to_email="x@example.com")
    assert services.messages_renew(messages=batch[1:], worker="slow", now=timezone.now(),
                                   until=timezone.now() + lease) == {m.pk for m in batch[1:]}
    frozen.move_to(timezone.now() + timedelta(minutes=2))  # past the first lease, inside the renewed one
    assert services.messages_claim(worker="other", now=timezone.now(), lease=lease, limit=10) == []


def test_a_connection_refused_is_retried(auto, charlie, smtp, frozen, settings):
    from tests.smtpserver import free_port

    book(charlie)
    settings.EMAIL_PORT = free_port()  # nobody listens there
    frozen.move_to(NOW + timedelta(days=1, minutes=1))
    assert run_worker().retried == 1
    message = due_message(charlie, "booking_followup")
    assert message.status == Status.SCHEDULED and "ConnectionRefusedError" in message.last_error


def test_a_permanent_refusal_fails_the_message_with_the_reason(auto, charlie, smtp, frozen):
    book(charlie)
    smtp.handler.script = ["550 5.1.1 No such user here"]
    frozen.move_to(NOW + timedelta(days=1, minutes=1))
    assert run_worker().failed == 1
    message = due_message(charlie, "booking_followup")
    assert message.status == Status.FAILED
    assert message.status_note == "SMTP server answered 550 5.1.1 No such user here"
    assert (message.subject, message.body, message.to_email) == ("", "", "")  # only what was sent is kept


def test_a_lead_with_no_email_address_fails_visibly_and_can_be_retried(auto, smtp, frozen):
    lead = lead_create(seller=auto, name="Dana Reyes")
    book(lead)
    frozen.move_to(NOW + timedelta(days=1, minutes=1))
    assert run_worker().failed == 1
    message = due_message(lead, "booking_followup")
    assert message.status == Status.FAILED and "has no e-mail address" in message.status_note

    Lead.objects.filter(pk=lead.pk).update(email="dana@reyes.example")
    message_approve(message=message)
    assert run_worker().sent == 1
    assert smtp.received[0].envelope_to == ["dana@reyes.example"]


def test_a_name_with_a_line_break_cannot_inject_headers(auto, smtp, frozen):
    lead = lead_create(seller=auto, name="Eve\r\nBcc: victim@evil.example", email="eve@example.com")
    book(lead)
    frozen.move_to(NOW + timedelta(days=1, minutes=1))
    assert run_worker().sent == 1
    [received] = smtp.received
    assert received.envelope_to == ["eve@example.com"]
    assert received.message["Bcc"] is None
    assert "victim@evil.example" not in received.envelope_to
    assert received.message["To"].addresses[0].addr_spec == "eve@example.com"


def test_nothing_goes_to_a_lead_in_quiet_hours_in_the_leads_time_zone(auto, smtp, frozen):
    # Alice is in New York; her lead is in Tokyo, where 09:01 New York time is 23:01.
    lead = lead_create(seller=auto, name="Kenji Sato", email="kenji@example.jp", timezone_name="Asia/Tokyo")
    book(lead)
    message = due_message(lead, "booking_followup")
    # The planned time already respects the quiet hours: 08:00 the next morning in Tokyo.
    assert message.due.astimezone(lead.tz).strftime("%H:%M") == "08:00"

    # Approved late at night (after its due time) it still waits for the morning.
    message.due = NOW + timedelta(days=1)
    message.save()
    frozen.move_to(NOW + timedelta(days=1, minutes=1))
    tally = run_worker()
    assert (tally.sent, tally.held) == (0, 1)
    message.refresh_from_db()
    assert message.status == Status.SCHEDULED and message.attempts == 0
    assert message.due.astimezone(lead.tz).strftime("%H:%M") == "08:00"
    assert "quiet hours" in message.status_note

    frozen.move_to(message.due)
    assert run_worker().sent == 1


def test_quiet_hours_can_be_turned_off(auto, smtp, frozen):
    seller_policy_set(seller=auto, key="quiet_hours", value="off")
    lead = lead_create(seller=auto, name="Kenji Sato", email="kenji@example.jp", timezone_name="Asia/Tokyo")
    book(lead)
    frozen.move_to(NOW + timedelta(days=1, minutes=1))
    assert run_worker().sent == 1


def test_a_reschedule_sends_the_same_event_with_a_higher_sequence(auto, charlie, smtp, frozen):
    first = book(charlie, days=5)
    _, moved = appointment_reschedule(appointment=first, to=first.start + timedelta(days=2), by="seller",
                                      reason="double-booked")
    frozen.move_to(moved.start - timedelta(hours=23))  # the confirmation is due a day before
    assert run_worker().sent == 1
    mail = smtp.messages[-1]
    assert mail["Subject"].startswith("Confirming our meeting")
    _, cal = ics_of(mail)
    event = cal.walk("VEVENT")[0]
    assert str(event["UID"]) == f"{first.chain}@rebook"
    assert event["SEQUENCE"] == 2  # two per meeting in the chain: a cancel of the first would be 1
    assert event["DTSTART"].dt == moved.start


def test_when_the_seller_cancels_the_apology_carries_a_calendar_cancel(auto, charlie, smtp, frozen):
    appointment = book(charlie)
    appointment_cancel(appointment=appointment, by="seller", reason="I am ill")
    assert run_worker().sent == 1  # the offer of new times goes at once
    mail = smtp.messages[0]
    assert mail["Subject"] == "My apologies: could we find a new time?"
    text = text_of(mail)
    assert "sorry that I had to cancel our meeting on Thursday 5 March 2026 at 9:00 AM EST" in text
    assert text.count("\n- ") == 3  # three concrete times
    part, cal = ics_of(mail)
    assert part.get_param("method") == "CANCEL"
    event = cal.walk("VEVENT")[0]
    assert (str(cal["METHOD"]), str(event["STATUS"])) == ("CANCEL", "CANCELLED")
    assert str(event["UID"]) == f"{appointment.chain}@rebook" and event["SEQUENCE"] == 1


def test_the_connecting_moment_shares_the_info_pack(auto, charlie, smtp, frozen):
    seller_info_pack_set(seller=auto, text="Here is how other bakeries cut waste by a third.",
                         links=["https://example.com/case-study"])
    seller_info_file_add(seller=auto, name="pricing.pdf", data=b"%PDF-1.4 pretend")
    appointment = book(charlie)
    appointment_cancel(appointment=appointment, by="prospect", reason="my child is sick")
    frozen.move_to(NOW + timedelta(hours=2, minutes=1))
    assert run_worker().sent == 1
    mail = smtp.messages[0]
    text = text_of(mail)
    assert "Since we weren't able to meet last time and I know how valuable your time is" in text
    assert "cut waste by a third" in text and "https://example.com/case-study" in text
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "pricing.pdf" and attachment.get_content() == b"%PDF-1.4 pretend"
    assert attachment.get_content_type() == "application/pdf"


def test_the_connecting_moment_goes_without_an_info_pack_too(auto, charlie, smtp, frozen):
    appointment = book(charlie)
    appointment_cancel(appointment=appointment, by="prospect", reason="something came up")
    frozen.move_to(NOW + timedelta(hours=2, minutes=1))
    assert run_worker().sent == 1
    text = text_of(smtp.messages[0])
    assert "Since we weren't able to meet last time" in text and "attached" not in text
    assert list(smtp.messages[0].iter_attachments()) == []


def test_an_edited_message_goes_out_as_edited(alice, charlie, smtp, frozen):
    from rebook.outbox.services import message_edit

    book(charlie)
    message = message_edit(message=due_message(charlie, "booking_followup"), subject="See you Thursday!",
                           body="Hi Charlie <3,\n\nBring the numbers.")
    message_approve(message=message)
    frozen.move_to(message.due)
    run_worker()
    mail = smtp.messages[0]
    assert mail["Subject"] == "See you Thursday!"
    assert text_of(mail).strip() == "Hi Charlie <3,\n\nBring the numbers."
    assert "Hi Charlie &lt;3," in mail.get_body(("html",)).get_content()


def test_a_sent_checkin_plans_the_next_one(auto, charlie, smtp, frozen):
    for day in (1, 2, 3):
        appointment_cancel(appointment=book(charlie, days=day + 3), by="prospect", reason="something came up")
    charlie.refresh_from_db()
    assert charlie.status == "nurture"
    frozen.move_to(NOW + timedelta(days=91))
    assert run_worker().sent == 2  # the nurture note, then the first check-in
    # Sending changed only charlie's messages: the lead's row (and the caches that follow it) stays put.
    assert Lead.objects.get(pk=charlie.pk).updated_at == charlie.updated_at
    kinds = [m["Subject"] for m in smtp.messages]
    assert kinds == ["No pressure at all", "Thinking of you"]
    for mail in smtp.messages:
        assert mail["List-Unsubscribe"].strip().startswith("<http://127.0.0.1:8000/unsubscribe/")
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    upcoming = PlannedMessage.objects.filter(lead=charlie, kind="nurture_checkin", status=Status.SCHEDULED).get()
    assert upcoming.key.endswith(":2")


def test_a_message_whose_worker_died_is_sent_by_another_after_the_lease(auto, charlie, smtp, frozen):
    from rebook.outbox.services import message_claim, message_mark_sent

    book(charlie)
    frozen.move_to(NOW + timedelta(days=1, minutes=1))
    lost = message_claim(worker="dead-worker", now=timezone.now(), lease=timedelta(minutes=5))
    assert lost.status == Status.SENDING and lost.message_id
    assert run_worker().sent == 0  # the lease still holds

    frozen.move_to(NOW + timedelta(days=1, minutes=7))
    assert run_worker().sent == 1
    assert smtp.messages[0]["Message-ID"] == lost.message_id  # the same mail, recognisably
    message = due_message(charlie, "booking_followup")
    assert (message.status, message.attempts) == (Status.SENT, 2)
    # The dead worker, should it wake up, cannot overwrite what the other recorded.
    assert not message_mark_sent(message=lost, worker="dead-worker", now=timezone.now(), subject="x", body="x",
                                 html="", to_email="x@example.com")


def test_a_message_is_written_in_the_same_transaction_as_the_change(alice, charlie, monkeypatch):
    from rebook.errors import RebookError

    appointment = book(charlie)
    before = set(PlannedMessage.objects.values_list("pk", "status"))

    def broken(*args, **kwargs):
        raise RebookError("disk full")

    monkeypatch.setattr("rebook.writes.insert_new", broken)  # how the new messages are written
    with pytest.raises(RebookError):
        appointment_cancel(appointment=appointment, by="prospect", reason="something came up")
    # Neither the cancellation nor any message change survived the failure.
    appointment.refresh_from_db()
    assert appointment.status == "scheduled" and not charlie.cancellations.exists()
    assert set(PlannedMessage.objects.values_list("pk", "status")) == before


def test_a_change_to_the_lead_does_not_cut_a_retry_backoff_short(auto, charlie, smtp, frozen):
    from rebook.leads.services import activity_log

    book(charlie)
    smtp.handler.script = ["451 4.7.1 Try later"]
    frozen.move_to(NOW + timedelta(days=1, minutes=1))
    run_worker()
    retry_at = due_message(charlie, "booking_followup").due
    activity_log(lead=charlie, kind="call", direction="outbound")  # re-evaluates the lead
    assert due_message(charlie, "booking_followup").due == retry_at
    assert run_worker().sent == 0


def test_names_outside_ascii_arrive_intact(auto, smtp, frozen):
    lead = lead_create(seller=auto, name="Zoë Ångström", email="zoe@example.se")
    book(lead)
    frozen.move_to(NOW + timedelta(days=1, minutes=1))
    assert run_worker().sent == 1
    mail = smtp.messages[0]
    assert mail["To"].addresses[0].display_name == "Zoë Ångström"
    assert "Hello Zoë," in text_of(mail)


def test_a_batch_is_claimed_at_once_and_what_a_stopping_worker_did_not_try_goes_back(auto, alice, smtp, frozen):
    from rebook.outbox.services import messages_claim

    leads = [lead_create(seller=alice, name=f"Lead {i}", email=f"lead{i}@example.com") for i in range(5)]
    for lead in leads:
        book(lead)
    frozen.move_to(NOW + timedelta(days=1, minutes=1))
    claimed = messages_claim(worker="w1", now=timezone.now(), lease=timedelta(minutes=5), limit=3)
    assert len(claimed) == 3 and all(m.status == Status.SENDING and m.message_id for m in claimed)
    assert [m.due for m in claimed] == sorted(m.due for m in claimed)
    # Another worker gets the other two, never the same ones.
    other = messages_claim(worker="w2", now=timezone.now(), lease=timedelta(minutes=5), limit=10)
    assert {m.pk for m in other}.isdisjoint({m.pk for m in claimed}) and len(other) == 2
    PlannedMessage.objects.filter(pk__in=[m.pk for m in claimed + other]).update(
        status=Status.SCHEDULED, claimed_by="", lease_until=None)

    worker = Worker(batch=5)
    sent_before_stop = []

    def stop_after_first(line: str) -> None:
        sent_before_stop.append(line)
        worker.stop()

    worker.report = stop_after_first
    worker.run(until_idle=True)
    assert len(smtp.messages) == 1  # the message in hand, then it stopped
    statuses = sorted(PlannedMessage.objects.filter(kind="booking_followup").values_list("status", "attempts"))
    assert statuses == [(Status.SCHEDULED, 1)] * 4 + [(Status.SENT, 2)]  # given back as they were
    assert run_worker().sent == 4


def test_sending_what_the_rules_do_not_read_needs_no_reevaluation(alice):
    """The worker re-evaluates a lead only after sending a kind in SENDING_MATTERS: for the other kinds,
    a re-evaluation after the send would change nothing (and for the listed kinds it does)."""
    from rebook.leads.models import ChecklistItem
    from rebook.leads.services import lead_reevaluate
    from rebook.scale import generate
    from rebook.strategy.followups import SENDING_MATTERS

    generate(sellers=1, leads_per_seller=150, now=NOW, seed=4)

    def state():
        return (sorted(Lead.objects.values_list("id", "status", "strikes", "last_touch_at")),
                sorted(PlannedMessage.objects.values_list("id", "key", "status", "due")),
                sorted(ChecklistItem.objects.values_list("id", "done_by")))

    def send_all(kinds) -> int:
        return PlannedMessage.objects.filter(kind__in=kinds, status__in=PlannedMessage.PENDING).update(
            status=Status.SENT, sent_at=NOW, frozen=True)

    def reevaluate_all():
        for lead in Lead.objects.select_related("seller__user"):
            lead_reevaluate(lead=lead, now=NOW)

    assert send_all(["booking_followup", "nurture_move"]) > 0
    before = state()
    reevaluate_all()
    assert state() == before
    assert send_all(SENDING_MATTERS) > 0
    before = state()
    reevaluate_all()
    assert state() != before


def test_every_sent_message_is_announced_to_webhooks_whatever_its_kind(auto, charlie, smtp, frozen, settings):
    """The lead is re-evaluated only for some kinds (SENDING_MATTERS); the message.sent event is for all."""
    from rebook.webhooks.models import Delivery
    from rebook.webhooks.services import endpoint_create

    settings.REBOOK_WEBHOOK_ALLOW_PRIVATE = True
    endpoint_create(seller=charlie.seller, url="http://127.0.0.1:9/hooks", events=["message.sent"])
    book(charlie)
    frozen.move_to(NOW + timedelta(days=1, minutes=1))
    Worker(name="test-worker", batch=1).step()  # the booking follow-up: sent, and its event queued
    assert due_message(charlie, "booking_followup").status == Status.SENT
    [delivery] = Delivery.objects.filter(event="message.sent")
    assert delivery.payload["data"]["message"]["kind"] == "booking_followup"


def test_the_api_retries_a_message_waiting_for_its_next_attempt(auto, charlie, smtp, frozen):
    from django.test import Client

    from rebook.api.services import token_create

    book(charlie)
    smtp.handler.script = ["451 4.7.1 Greylisted"]
    frozen.move_to(NOW + timedelta(days=1, minutes=1))
    run_worker()
    message = due_message(charlie, "booking_followup")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(seller=charlie.seller, name='t')[1]}")
    answer = api.post(f"/api/v1/messages/{message.pk}/retry")
    assert answer.status_code == 200 and answer.json()["status"] == "scheduled"
    message.refresh_from_db()
    assert message.due == timezone.now()
    assert api.post(f"/api/v1/messages/{message.pk}/retry").status_code == 200  # still waiting: harmless
