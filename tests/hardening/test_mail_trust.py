"""Mail that claims to come from a lead, delivered to a real Dovecot: believed only when the seller's provider
proved it, and never allowed to change a meeting that is not the sender's to change."""

from __future__ import annotations

import contextlib
import email.utils
import socket
import threading
from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.utils import timezone

from rebook.errors import RebookError
from rebook.leads.models import Activity, Appointment, Cancellation
from rebook.mailbox.models import InboundMail, Suggestion
from rebook.mailbox.services import mailbox_poll, mailbox_set, mailbox_test
from rebook.sellers.services import seller_policy_set
from tests.mailbox.conftest import PROVIDER
from tests.mailbox.test_poll import ALICE, dana, mail, meeting  # noqa: F401

SICK = "I need to cancel, my daughter is sick."


def poll(box):
    box.refresh_from_db()
    return mailbox_poll(mailbox=box)


@pytest.fixture
def auto_apply(alice):
    seller_policy_set(seller=alice, key="auto_apply_replies", value="true")
    return alice


def test_a_forged_sender_with_no_authentication_makes_only_a_suggestion_marked_unverified(
        dovecot, inbox, dana, meeting, auto_apply, alice_client):  # noqa: F811
    dovecot.append(ALICE, mail(body=SICK, auth=None))
    assert poll(inbox).handled == {"suggestion": 1}
    meeting.refresh_from_db()
    assert meeting.status == Appointment.Status.SCHEDULED  # auto_apply_replies is on, and still nothing happened
    [s] = Suggestion.objects.filter(lead=dana)
    assert (s.kind, s.status, s.sender_verified) == ("cancel", "pending", False)
    assert InboundMail.objects.get(suggestions=s).trust == "unverified"
    assert "sender not verified" in alice_client.get("/").content.decode()
    assert "sender not verified" in alice_client.get(f"/leads/{dana.pk}/").content.decode()


def test_the_same_mail_proven_by_the_provider_is_applied_by_policy(dovecot, inbox, dana, meeting, auto_apply):  # noqa: F811
    dovecot.append(ALICE, mail(body=SICK, auth="pass"))
    poll(inbox)
    meeting.refresh_from_db()
    assert meeting.status == Appointment.Status.CANCELLED
    assert Suggestion.objects.get(lead=dana).sender_verified


def test_a_reading_the_rules_are_unsure_of_waits_even_from_a_proven_sender(dovecot, inbox, dana, meeting,  # noqa: F811
                                                                           auto_apply):
    # Only the subject says "cancelled", the text is a few words: a suggestion marked low, never applied alone.
    dovecot.append(ALICE, mail(subject="Cancelled: our meeting", body="My son is sick.", auth="pass"))
    assert poll(inbox).handled == {"suggestion": 1}
    meeting.refresh_from_db()
    assert meeting.status == Appointment.Status.SCHEDULED
    [s] = Suggestion.objects.filter(lead=dana)
    assert (s.kind, s.confidence, s.status, s.sender_verified) == ("cancel", "low", "pending", True)


@pytest.mark.parametrize("results", [
    f"{PROVIDER}; spf=fail smtp.mailfrom=dana@reyes.example; dmarc=fail (p=REJECT) header.from=reyes.example",
    # The provider's own verdict on top, and the sender's forged "pass" under it.
    f"{PROVIDER}; dmarc=fail header.from=reyes.example\r\nAuthentication-Results: {PROVIDER}; dmarc=pass "
    "header.from=reyes.example",
])
def test_a_mail_that_fails_authentication_makes_nothing_but_a_logged_contact(dovecot, inbox, dana, meeting,  # noqa: F811
                                                                           auto_apply, results):
    raw = b"Authentication-Results: " + results.encode() + b"\r\n" + mail(body=SICK, auth=None)
    dovecot.append(ALICE, raw)
    assert poll(inbox).handled == {"ignored": 1}
    meeting.refresh_from_db()
    assert meeting.status == Appointment.Status.SCHEDULED and not Suggestion.objects.exists()
    [contact] = Activity.objects.filter(lead=dana)
    assert "failed authentication" in contact.notes and "dmarc=fail" in contact.notes
    assert InboundMail.objects.get().trust == "failed"


def test_a_forged_pass_below_a_provider_that_found_nothing_is_not_believed(dovecot, inbox, dana, meeting, auto_apply):  # noqa: F811
    raw = (f"Authentication-Results: {PROVIDER}; spf=none smtp.mailfrom=reyes.example\r\n"
           f"Authentication-Results: {PROVIDER}; dmarc=pass header.from=reyes.example\r\n").encode() + \
        mail(body=SICK, auth=None)
    dovecot.append(ALICE, raw)
    poll(inbox)
    assert not Suggestion.objects.get(lead=dana).sender_verified
    meeting.refresh_from_db()
    assert meeting.status == Appointment.Status.SCHEDULED


def test_an_answer_to_a_mail_rebook_sent_counts_as_evidence(dovecot, inbox, dana, meeting):  # noqa: F811
    from rebook.outbox.models import PlannedMessage

    sent = PlannedMessage.objects.filter(lead=dana).first()
    PlannedMessage.objects.filter(pk=sent.pk).update(status="sent", sent_at=timezone.now(),
                                                     message_id="<rebook.7.trust@example.com>")
    dovecot.append(ALICE, mail(body=SICK, auth=None, in_reply_to="<rebook.7.trust@example.com>"))
    poll(inbox)
    assert Suggestion.objects.get(lead=dana).sender_verified


def _calendar_mail(sender: str, method: str, uid: str, start: str, *, attendee: str, partstat: str = "",
                   organizer: str = ALICE, auth: str | None = "pass") -> bytes:
    ics = (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nMETHOD:{method}\r\nBEGIN:VEVENT\r\n"
           f"DTSTART:{start}\r\nDTSTAMP:{timezone.now():%Y%m%dT%H%M%SZ}\r\nORGANIZER:mailto:{organizer}\r\n"
           f"UID:{uid}\r\nATTENDEE{';PARTSTAT=' + partstat if partstat else ''}:mailto:{attendee}\r\nSEQUENCE:1\r\n"
           f"STATUS:{'CANCELLED' if method == 'CANCEL' else 'CONFIRMED'}\r\nSUMMARY:Meeting\r\nEND:VEVENT\r\n"
           "END:VCALENDAR\r\n")
    m = EmailMessage()
    if auth:
        m["Authentication-Results"] = f"{PROVIDER}; dmarc={auth} header.from={sender.partition('@')[2]}"
    m["From"], m["To"], m["Subject"] = sender, ALICE, f"{method.title()}: Meeting"
    m["Date"], m["Message-ID"] = email.utils.formatdate(), email.utils.make_msgid()
    m.set_content("See the invitation.")
    m.add_alternative(ics, subtype="calendar", params={"method": method})
    return m.as_bytes()


@pytest.mark.parametrize(("method", "partstat"), [("CANCEL", ""), ("REPLY", "DECLINED")])
def test_a_stranger_cannot_cancel_or_decline_a_leads_meeting_by_calendar_mail(dovecot, inbox, dana, meeting,  # noqa: F811
                                                                            method, partstat):
    stranger = "mallory@stranger.example"  # authenticated, but not Dana, and holding the meeting's UID
    start = f"{meeting.start:%Y%m%dT%H%M%SZ}"
    organizer = stranger if method == "CANCEL" else ALICE
    dovecot.append(ALICE, _calendar_mail(stranger, method, f"{meeting.chain}@rebook", start, attendee=stranger,
                                         partstat=partstat, organizer=organizer))
    assert poll(inbox).handled == {"ignored": 1}
    meeting.refresh_from_db()
    assert meeting.status == Appointment.Status.SCHEDULED and not Cancellation.objects.exists()
    assert "may not change" in InboundMail.objects.get().detail


def test_the_leads_own_decline_cancels_and_is_recorded_as_by_mail(dovecot, inbox, dana, meeting):  # noqa: F811
    start = f"{meeting.start:%Y%m%dT%H%M%SZ}"
    dovecot.append(ALICE, _calendar_mail("dana@reyes.example", "REPLY", f"{meeting.chain}@rebook", start,
                                         attendee="dana@reyes.example", partstat="DECLINED"))
    assert poll(inbox).handled == {"calendar": 1}
    c = Cancellation.objects.get(appointment=meeting)
    assert (c.by, c.channel) == ("prospect", "email")


def test_an_unverified_decline_from_the_lead_waits_as_a_suggestion(dovecot, inbox, dana, meeting):  # noqa: F811
    start = f"{meeting.start:%Y%m%dT%H%M%SZ}"
    dovecot.append(ALICE, _calendar_mail("dana@reyes.example", "REPLY", f"{meeting.chain}@rebook", start,
                                         attendee="dana@reyes.example", partstat="DECLINED", auth=None))
    assert poll(inbox).handled == {"suggestion": 1}
    meeting.refresh_from_db()
    assert meeting.status == Appointment.Status.SCHEDULED
    s = Suggestion.objects.get(lead=dana)
    assert (s.kind, s.sender_verified, s.appointment_id) == ("cancel", False, meeting.pk)


def test_a_forged_invitation_books_nothing(dovecot, inbox, dana):  # noqa: F811
    start = f"{timezone.now() + timedelta(days=5):%Y%m%dT%H%M%SZ}"
    dovecot.append(ALICE, _calendar_mail("dana@reyes.example", "REQUEST", "forged-1@reyes.example", start,
                                         attendee=ALICE, organizer="dana@reyes.example", auth=None))
    assert poll(inbox).handled == {"ignored": 1}
    assert not Appointment.objects.exists()
    assert "not verified" in InboundMail.objects.get().detail


def test_a_verified_invitation_is_booked_as_by_mail(dovecot, inbox, dana):  # noqa: F811
    start = f"{timezone.now() + timedelta(days=5):%Y%m%dT%H%M%SZ}"
    dovecot.append(ALICE, _calendar_mail("dana@reyes.example", "REQUEST", "real-1@reyes.example", start,
                                         attendee=ALICE, organizer="dana@reyes.example"))
    assert poll(inbox).handled == {"calendar": 1}
    assert Appointment.objects.get(lead=dana).channel == "email"


def test_an_invitation_sent_by_one_person_in_anothers_name_is_refused(dovecot, inbox, dana):  # noqa: F811
    start = f"{timezone.now() + timedelta(days=5):%Y%m%dT%H%M%SZ}"
    # Mallory's own domain passes, but the event says Dana organizes it.
    dovecot.append(ALICE, _calendar_mail("mallory@stranger.example", "REQUEST", "x-1@reyes.example", start,
                                         attendee=ALICE, organizer="dana@reyes.example"))
    poll(inbox)
    assert not Appointment.objects.exists()


# --------------------------------------------------------------------------- the mailbox address and its Test


@pytest.mark.parametrize("host", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "localhost", "[::1]", "box.internal"])
def test_a_mailbox_inside_the_network_is_refused_unless_the_operator_allows_it(alice, settings, host):
    settings.REBOOK_IMAP_ALLOW_PRIVATE = False
    with pytest.raises(RebookError, match="REBOOK_IMAP_ALLOW_PRIVATE"):
        mailbox_set(seller=alice, url=f"imap://u:p@{host}:4222/INBOX")


class _Banner:
    """A server on loopback that is not an IMAP server: it says who it is and what it keeps."""

    def __init__(self, banner: bytes | None):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.banner = banner
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.banner is None:
                conn.close()  # a reset
                continue
            conn.sendall(self.banner)
            threading.Timer(2, conn.close).start()

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() waiting in the thread
        self.sock.close()


@pytest.mark.parametrize("banner", [b'INFO {"server_id":"NB3X","version":"2.10.4"}\r\n',
                                    b"key=sk_live_0123456789abcdef\r\n", None])
def test_the_test_button_never_shows_what_the_other_side_said(alice, banner):
    server = _Banner(banner)
    try:
        box = mailbox_set(seller=alice, url=f"imap://u:p@127.0.0.1:{server.port}/INBOX")
        with pytest.raises(RebookError) as raised:
            mailbox_test(mailbox=box)
    finally:
        server.close()
    said = str(raised.value)
    assert "server_id" not in said and "sk_live" not in said and "INFO" not in said
    assert said.endswith(("not an IMAP server (it did not answer as one)", "could not connect",
                          "the connection was lost"))


def test_a_closed_port_and_a_reset_read_the_same(alice):
    from tests.smtpserver import free_port

    box = mailbox_set(seller=alice, url=f"imap://u:p@127.0.0.1:{free_port()}/INBOX")
    with pytest.raises(RebookError, match="could not connect$"):
        mailbox_test(mailbox=box)


def test_one_test_at_a_time_for_a_mailbox(dovecot, inbox):
    from rebook.mailbox.models import Mailbox

    Mailbox.objects.filter(pk=inbox.pk).update(claimed_by="now:someone", lease_until=timezone.now() + timedelta(minutes=1))
    with pytest.raises(RebookError, match="being read or tested right now"):
        mailbox_test(mailbox=inbox)
    Mailbox.objects.filter(pk=inbox.pk).update(claimed_by="", lease_until=None)
    assert mailbox_test(mailbox=inbox)["folder"] == "INBOX"
    inbox.refresh_from_db()
    assert inbox.claimed_by == "" and inbox.lease_until is None  # given back


def test_settings_never_shows_the_password_again_after_a_bad_mailbox_url(alice_client, settings):
    settings.REBOOK_IMAP_ALLOW_PRIVATE = False
    answer = alice_client.post("/settings/", {"url": "imap://alice:hunter2secret@10.0.0.5:143/INBOX"})
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "hunter2secret" not in page and "REBOOK_IMAP_ALLOW_PRIVATE" in page
    assert "imap://alice@10.0.0.5:143/INBOX" in page  # the rest stays, for correcting


@pytest.mark.parametrize("provider", ["gmail", "microsoft", "fastmail"])
def test_mail_as_each_big_provider_stamps_it_is_verified_or_failed_through_the_poll(dovecot, inbox, dana, meeting,  # noqa: F811
                                                                                 provider):
    from tests.strategy.test_trust import FASTMAIL, GMAIL, GMAIL_FAIL, MICROSOFT, MICROSOFT_FAIL

    passed, failed, trusted = {"gmail": (GMAIL, GMAIL_FAIL, "mx.google.com"),
                               "microsoft": (MICROSOFT, MICROSOFT_FAIL, "none"),
                               "fastmail": (FASTMAIL, GMAIL_FAIL.replace("mx.google.com", "mx2.messagingengine.com"),
                                            "messagingengine.com")}[provider]
    inbox.trusted_authserv = trusted
    inbox.save(update_fields=["trusted_authserv"])
    stamp = b"Authentication-Results: " + passed.replace("\r\n", "\r\n ").encode() + b"\r\n"
    dovecot.append(ALICE, stamp + mail(body=SICK, auth=None))
    dovecot.append(ALICE, b"Authentication-Results: " + failed.replace("\r\n", "\r\n ").encode() + b"\r\n"
                   + mail(body="Please also stop writing to me.", auth=None))
    assert poll(inbox).handled == {"suggestion": 1, "ignored": 1}
    assert Suggestion.objects.get(lead=dana).sender_verified
    assert list(InboundMail.objects.order_by("uid").values_list("trust", flat=True)) == ["verified", "failed"]


def test_settings_speaks_plainly_about_a_bad_address_and_a_mailbox_not_read_yet(alice_client, dovecot, inbox):
    answer = alice_client.post("/settings/", {"url": "mail.example.com"})
    page = answer.content.decode()
    assert "it has no imaps:// at the start; write it as imaps://USER:PASSWORD@HOST:993/INBOX" in page
    assert "not no scheme" not in page
    page = alice_client.get("/settings/").content.decode()
    assert "Not read yet" in page and "Last read: never" not in page
