"""Polling a real Dovecot: what each kind of mail becomes, read-only, once."""

from __future__ import annotations

import email.utils
import time
from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.utils import timezone

from rebook.leads.models import Activity, Appointment, Cancellation, Lead
from rebook.mailbox.models import InboundMail, Mailbox, Suggestion
from rebook.mailbox.services import mailbox_poll, suggestion_apply
from rebook.outbox.models import PlannedMessage
from tests.mailbox.conftest import PROVIDER

ALICE = "alice@example.com"


@pytest.fixture
def dana(alice):
    from rebook.leads.services import lead_create

    return lead_create(seller=alice, name="Dana Reyes", email="dana@reyes.example", timezone_name="Europe/London")


@pytest.fixture
def meeting(dana):
    from rebook.leads.services import appointment_book

    start = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    return appointment_book(lead=dana, start=start, end=start + timedelta(minutes=45))


def mail(*, sender="Dana Reyes <dana@reyes.example>", subject="Re: Looking forward to our meeting", body="",
         in_reply_to: str | None = None, headers: dict | None = None, date: float | None = None,
         auth: str | None = "pass") -> bytes:
    """A mail as Alice's provider delivers it: with its Authentication-Results on top (``auth``: the DMARC
    result it found for the sender's domain; None for a provider that wrote none)."""
    m = EmailMessage()
    if auth is not None:
        domain = email.utils.parseaddr(sender)[1].rpartition("@")[2]
        m["Authentication-Results"] = f"{PROVIDER}; dmarc={auth} header.from={domain}"
    m["From"], m["To"], m["Subject"] = sender, f"Alice Adams <{ALICE}>", subject
    m["Date"] = email.utils.formatdate(date if date is not None else time.time(), localtime=False)
    m["Message-ID"] = email.utils.make_msgid(domain="reyes.example")
    if in_reply_to:
        m["In-Reply-To"] = m["References"] = in_reply_to
    for k, v in (headers or {}).items():
        m[k] = v
    m.set_content(body)
    return m.as_bytes()


def poll(box):
    box.refresh_from_db()
    return mailbox_poll(mailbox=box)


def test_a_reply_that_cancels_is_logged_and_suggested_and_nothing_in_the_mailbox_changes(dovecot, inbox, dana, meeting):
    dovecot.append(ALICE, mail(body="So sorry, my daughter is sick, I have to cancel.\n\nDana\n\n"
                                    "On Mon, Alice wrote:\n> If anything comes up, just reply."))
    flags_before = dovecot.flags(ALICE)
    report = poll(inbox)
    assert report.handled == {"suggestion": 1} and not report.error
    contact = Activity.objects.get(lead=dana)
    assert (contact.kind, contact.direction) == ("email", "inbound")
    assert "my daughter is sick" in contact.notes and "If anything comes up" not in contact.notes
    [s] = Suggestion.objects.filter(lead=dana)
    assert (s.kind, s.appointment_id, s.status) == ("cancel", meeting.pk, "pending")
    assert "my daughter is sick" in s.reason
    assert dovecot.flags(ALICE) == flags_before  # not marked \\Seen, nothing moved or deleted
    # Applying it is the same as typing it, at the mail's date.
    suggestion_apply(suggestion=s)
    c = Cancellation.objects.get(appointment=meeting)
    assert (c.by, c.channel, c.valid, c.is_strike) == ("prospect", "email", True, False)
    assert abs(c.at - s.received_at) < timedelta(seconds=1)


def test_a_mail_is_handled_once_however_often_it_is_polled_or_appended(dovecot, inbox, dana, meeting):
    raw = mail(body="Can we do Friday 3pm instead? Something came up.")
    dovecot.append(ALICE, raw)
    assert poll(inbox).handled == {"suggestion": 1}
    assert poll(inbox).read == 0  # nothing new
    dovecot.append(ALICE, raw)  # the same mail again (same Message-ID), e.g. copied back by a client
    report = poll(inbox)
    assert report.duplicates == 1 and Suggestion.objects.count() == 1 and InboundMail.objects.count() == 1
    s = Suggestion.objects.get()
    assert s.kind == "reschedule" and s.proposed_start is not None
    local = s.proposed_start.astimezone(dana.tz)
    assert (local.strftime("%A"), local.hour) == ("Friday", 15)  # read in the lead's zone


def test_mail_from_strangers_is_skipped_and_never_stored(dovecot, inbox, dana):
    dovecot.append(ALICE, mail(sender="Newsletter <news@shop.example>", subject="50% off", body="Buy now"))
    report = poll(inbox)
    assert (report.read, report.skipped, report.handled) == (1, 1, {})
    assert not InboundMail.objects.exists() and not Activity.objects.exists()


def test_an_answer_to_a_mail_rebook_sent_is_matched_by_its_message_id(dovecot, inbox, dana, meeting):
    sent = PlannedMessage.objects.filter(lead=dana).first()
    PlannedMessage.objects.filter(pk=sent.pk).update(status="sent", sent_at=timezone.now(),
                                                     message_id="<rebook.1.abc@example.com>")
    dovecot.append(ALICE, mail(sender="Dana at home <dana.private@home.example>",
                               body="Please stop emailing me.", in_reply_to="<rebook.1.abc@example.com>"))
    assert poll(inbox).handled == {"suggestion": 1}
    assert Suggestion.objects.get().kind == "unsubscribe" and Suggestion.objects.get().lead_id == dana.pk


def test_an_out_of_office_is_logged_without_a_suggestion(dovecot, inbox, dana, meeting):
    dovecot.append(ALICE, mail(subject="Automatic reply: Looking forward to our meeting",
                               body="I am out of the office until Monday and cannot make any meetings.",
                               headers={"Auto-Submitted": "auto-replied"}))
    assert poll(inbox).handled == {"auto_reply": 1}
    assert not Suggestion.objects.exists() and "Automatic reply" in Activity.objects.get().notes


def test_a_bounce_fails_the_message_and_flags_the_address(dovecot, inbox, dana, meeting):
    sent = PlannedMessage.objects.filter(lead=dana).first()
    PlannedMessage.objects.filter(pk=sent.pk).update(status="sent", sent_at=timezone.now(),
                                                     message_id="<rebook.7.xyz@example.com>")
    report_mail = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\nTo: alice@example.com\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nDate: " + email.utils.formatdate().encode() + b"\r\n"
        b"Message-ID: <bounce.1@mx.example.com>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not be delivered.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        b"Final-Recipient: rfc822; dana@reyes.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 <dana@reyes.example>: Recipient address rejected: User unknown\r\n"
        b"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: alice@example.com\r\nTo: dana@reyes.example\r\n"
        b"Subject: Looking forward to our meeting\r\nMessage-ID: <rebook.7.xyz@example.com>\r\n--B--\r\n")
    dovecot.append(ALICE, report_mail)
    assert poll(inbox).handled == {"bounce": 1}
    sent.refresh_from_db()
    dana.refresh_from_db()
    assert sent.status == "failed" and "User unknown" in sent.status_note
    assert dana.email_bounced_at is not None and "User unknown" in dana.email_bounce_reason


def test_a_calendar_decline_goes_through_the_calendar_importer(dovecot, inbox, dana, meeting):
    start = meeting.start.strftime("%Y%m%dT%H%M%SZ")
    ics = (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nMETHOD:REPLY\r\n"
           f"BEGIN:VEVENT\r\nDTSTART:{start}\r\nDTSTAMP:{timezone.now():%Y%m%dT%H%M%SZ}\r\n"
           f"ORGANIZER;CN=Alice Adams:mailto:{ALICE}\r\nUID:{meeting.chain}@rebook\r\n"
           f"ATTENDEE;PARTSTAT=DECLINED;CN=Dana Reyes:mailto:dana@reyes.example\r\nSEQUENCE:0\r\n"
           f"SUMMARY:Alice Adams and Dana Reyes\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "Dana Reyes <dana@reyes.example>", ALICE, "Declined: Alice Adams and Dana Reyes"
    m["Date"], m["Message-ID"] = email.utils.formatdate(), email.utils.make_msgid()
    m["Authentication-Results"] = f"{PROVIDER}; dkim=pass header.d=reyes.example; spf=pass smtp.mailfrom=reyes.example"
    m.set_content("Dana Reyes has declined this invitation.")
    m.add_alternative(ics, subtype="calendar", params={"method": "REPLY"})
    dovecot.append(ALICE, m.as_bytes())
    assert poll(inbox).handled == {"calendar": 1}
    meeting.refresh_from_db()
    assert meeting.status == "cancelled" and Cancellation.objects.get(appointment=meeting).by == "prospect"


def test_a_propose_new_time_becomes_a_suggested_move(dovecot, inbox, dana, meeting):
    new = meeting.start + timedelta(days=1, hours=2)
    ics = (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r\n"
           f"METHOD:COUNTER\r\nBEGIN:VEVENT\r\nDTSTART:{new:%Y%m%dT%H%M%SZ}\r\n"
           f"DTEND:{new + timedelta(minutes=45):%Y%m%dT%H%M%SZ}\r\nDTSTAMP:{timezone.now():%Y%m%dT%H%M%SZ}\r\n"
           f"ORGANIZER:mailto:{ALICE}\r\nUID:{meeting.chain}@rebook\r\n"
           f"ATTENDEE;PARTSTAT=TENTATIVE:mailto:dana@reyes.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "Dana Reyes <dana@reyes.example>", ALICE, "New Time Proposed: our meeting"
    m["Date"], m["Message-ID"] = email.utils.formatdate(), email.utils.make_msgid()
    m.set_content("Dana proposed a new time.")
    m.add_alternative(ics, subtype="calendar", params={"method": "COUNTER"})
    dovecot.append(ALICE, m.as_bytes())
    assert poll(inbox).handled == {"suggestion": 1}
    s = Suggestion.objects.get()
    assert (s.kind, s.appointment_id, s.proposed_start) == ("reschedule", meeting.pk, new)
    assert Appointment.objects.get(pk=meeting.pk).status == "scheduled"  # only suggested
    suggestion_apply(suggestion=s)
    assert Appointment.objects.get(rescheduled_from=meeting).start == new


def test_on_first_connect_only_the_last_14_days_are_read(dovecot, inbox, dana):
    old = time.time() - 30 * 86400
    dovecot.append(ALICE, mail(body="I have to cancel.", date=old), when=old)
    dovecot.append(ALICE, mail(body="Thanks, see you then!"))
    report = poll(inbox)
    assert report.read == 1 and report.handled == {"reply": 1}


def test_bad_mail_is_recorded_and_the_poll_goes_on(dovecot, inbox, dana):
    broken = (b"From: dana@reyes.example\r\nTo: alice@example.com\r\nSubject: broken\r\nMessage-ID: <b@x>\r\n"
              b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=Z\r\n\r\n--Z\r\n"
              b"Content-Type: text/plain; charset=no-such-charset\r\n\r\nCan we reschedule?\r\n--Z\r\n"
              b"Content-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\nthis is not a calendar\r\n--Z--\r\n")
    dovecot.append(ALICE, broken)
    dovecot.append(ALICE, mail(body="See you Thursday."))
    report = poll(inbox)
    assert report.read == 2 and not report.error
    assert report.handled == {"suggestion": 1, "reply": 1}  # the broken one is read as far as it can be
    broken_record = InboundMail.objects.get(subject="broken")
    assert Suggestion.objects.get(mail=broken_record).kind == "reschedule"


def test_a_mailbox_that_refuses_the_login_records_the_error_and_backs_off(dovecot, alice, dana):
    from rebook.mailbox.services import mailbox_set

    box = mailbox_set(seller=alice, url=dovecot.url("alice@example.com").replace("alice-secret", "wrong"))
    report = mailbox_poll(mailbox=box)
    box.refresh_from_db()
    assert report.error == box.last_error and "refused the login name or password" in box.last_error
    assert box.failures == 1 and box.next_poll_at > timezone.now()
    assert "wrong" not in box.last_error  # the password is never shown


def test_the_password_is_stored_encrypted(dovecot, inbox):
    raw = bytes(Mailbox.objects.get(pk=inbox.pk).secret)
    assert b"alice-secret" not in raw and raw.startswith(b"gAAAA")


def test_a_replacement_that_fails_keeps_the_mailbox_there_was(dovecot, inbox, alice, monkeypatch):
    from rebook.mailbox import services

    def broken(secret: str) -> bytes:
        raise RuntimeError("the key is unreadable")

    monkeypatch.setattr(services, "seal", broken)
    with pytest.raises(RuntimeError):
        services.mailbox_set(seller=alice, url="imaps://other:pw@imap.other.example:993/INBOX")
    assert list(Mailbox.objects.filter(seller=alice).values_list("pk", "host")) == [(inbox.pk, inbox.host)]


def test_lead_is_never_created_from_mail(dovecot, inbox):
    dovecot.append(ALICE, mail(sender="someone@new.example", body="I have to cancel."))
    poll(inbox)
    assert not Lead.objects.exists() and not InboundMail.objects.exists()


def test_invitations_and_cancellations_as_real_clients_wrote_them_are_each_handled_once(dovecot, inbox, alice):
    """Thunderbird's, Google Meet's, Outlook's and Teams' own mails (tests/fixtures/ics/thunderbird-eml)."""
    from pathlib import Path

    from rebook.leads.services import lead_create

    folder = Path(__file__).parent.parent / "fixtures" / "ics" / "thunderbird-eml"
    files = sorted(folder.glob("*.eml"))
    senders = set()
    for path in files:
        raw = path.read_bytes()
        sender = email.utils.parseaddr(email.message_from_bytes(raw)["From"])[1].lower()
        # As Alice's provider delivers it, with what it checked on top.
        raw = f"Authentication-Results: {PROVIDER}; dmarc=pass header.from={sender.partition('@')[2]}\r\n".encode() + raw
        if sender not in senders:
            lead_create(seller=alice, name=sender.split("@")[0].title(), email=sender)
            senders.add(sender)
        dovecot.append(ALICE, raw)
    report = poll(inbox)
    assert report.read == len(files) and not report.error
    stored = InboundMail.objects.filter(seller=alice)
    assert stored.count() == len(files) - report.duplicates  # some fixtures share a Message-ID
    assert set(stored.values_list("outcome", flat=True)) <= {"calendar", "bad", "reply", "suggestion"}
    assert stored.filter(outcome="calendar").count() >= 5
    assert poll(inbox).read == 0


def test_a_mail_that_fails_half_way_is_recorded_once_and_the_poll_goes_on(dovecot, inbox, dana, meeting,
                                                                         monkeypatch):
    from rebook.leads import services as lead_services

    dovecot.append(ALICE, mail(body="I have to cancel, sorry.", date=time.time()))
    dovecot.append(ALICE, mail(body="See you Thursday.", date=-2208988800.0))  # Date: 1900, before Rebook's dates
    real = lead_services.activity_log
    calls = []

    def broken_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a defect")
        return real(**kwargs)

    monkeypatch.setattr("rebook.mailbox.services.lead_services.activity_log", broken_once)
    report = poll(inbox)
    assert report.read == 2 and not report.error
    bad = InboundMail.objects.get(outcome="bad")
    assert "RuntimeError" in bad.detail
    assert not Suggestion.objects.exists()  # nothing of the broken message was kept
    second = Activity.objects.get(lead=dana)
    assert second.at.year >= 2026  # a date from 1900 is read as now
    assert poll(inbox).read == 0  # not retried forever
