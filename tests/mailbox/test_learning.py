"""Learning from the seller, end to end through a real Dovecot: Alice's Apply and Dismiss change what her next
reply suggests; Bob, reading the same reply with no such history, still gets the suggestion. `rebook inbox
evaluate` reports on her own decisions, in time order, and refuses while there are too few."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from rebook.mailbox.models import InboundMail, ReplyModel, Suggestion
from rebook.mailbox.services import mailbox_poll, mailbox_set, suggestion_apply, suggestion_dismiss
from tests.clirunner import Rebook
from tests.mailbox.conftest import PROVIDER
from tests.mailbox.test_poll import ALICE, mail

BOB = "bob@example.com"
SOCIAL = ["How about coffee on Friday at 10?", "What about lunch on Tuesday at 12:30, my treat?",
          "How about drinks Thursday at 6 with the team?", "Could we do a round of golf on Saturday at 9?",
          "How about a walk on Sunday at 11?", "What about brunch Saturday at 10:30?"]
SICK = ["I'm so sorry, I have to cancel, I'm down with the flu.", "I need to cancel today, my son is sick.",
        "Sorry, I must cancel, I'm in hospital.", "I have to cancel our meeting, I have a fever."]


def _lead_with_meeting(seller, n: int, domain: str):
    from rebook.leads.services import appointment_book, lead_create

    lead = lead_create(seller=seller, name=f"Pat {n}", email=f"pat{n}@{domain}", timezone_name="Europe/London")
    start = (timezone.now() + timedelta(days=3 + n % 20)).replace(minute=0, second=0, microsecond=0)
    appointment_book(lead=lead, start=start, end=start + timedelta(minutes=30))
    return lead


def _empty(dovecot, user):
    imap = dovecot.client(user)
    if imap.select("INBOX")[1][0] != b"0":
        imap.store("1:*", "+FLAGS", "\\Deleted")
        imap.expunge()
    imap.logout()


def _deliver(dovecot, user, lead, body, to_name):
    raw = mail(sender=f"{lead.name} <{lead.email}>", body=body)
    dovecot.append(user, raw.replace(f"Alice Adams <{ALICE}>".encode(), to_name.encode()))


@pytest.fixture
def history(dovecot, inbox, alice):
    """Alice has dismissed 24 readings of invitations to coffee and the like as moves, and applied 18
    cancellations, the two mixed: 42 decisions, made in the order the replies came."""
    leads = [_lead_with_meeting(alice, n, "alice-leads.example") for n in range(18)]
    social = sick = 0
    for n in range(42):
        if n % 7 < 4:
            _deliver(dovecot, ALICE, leads[social % 18], SOCIAL[social % len(SOCIAL)], f"Alice Adams <{ALICE}>")
            social += 1
        else:
            _deliver(dovecot, ALICE, leads[sick], SICK[sick % len(SICK)], f"Alice Adams <{ALICE}>")
            sick += 1
    inbox.refresh_from_db()
    report = mailbox_poll(mailbox=inbox)
    assert report.handled == {"suggestion": 42}, report
    for s in Suggestion.objects.filter(seller=alice).order_by("received_at", "id"):
        if s.kind == "reschedule":
            suggestion_dismiss(suggestion=s)
        else:
            suggestion_apply(suggestion=s)
    return leads


def test_the_sellers_own_decisions_change_the_next_suggestion_and_another_sellers_do_not(dovecot, inbox, alice,
                                                                                      bob, history):
    bobs_box = mailbox_set(seller=bob, url=dovecot.url(BOB), trusted=PROVIDER)
    _empty(dovecot, BOB)
    bobs_lead = _lead_with_meeting(bob, 1, "bob-leads.example")
    new = "How about breakfast on Wednesday at 8?"
    _deliver(dovecot, ALICE, history[0], new, f"Alice Adams <{ALICE}>")
    _deliver(dovecot, BOB, bobs_lead, new, f"Bob Brown <{BOB}>")

    inbox.refresh_from_db()
    assert mailbox_poll(mailbox=inbox).handled == {"reply": 1}
    record = InboundMail.objects.filter(seller=alice).latest("id")
    assert record.outcome == "reply" and not record.suggestions.exists()
    assert "you dismissed" in record.detail and "replies like this" in record.detail
    assert ReplyModel.objects.get(seller=alice).decisions == 42

    assert mailbox_poll(mailbox=bobs_box).handled == {"suggestion": 1}
    [s] = Suggestion.objects.filter(seller=bob)
    assert (s.kind, s.confidence, s.learned) == ("reschedule", "low", "")
    assert not ReplyModel.objects.filter(seller=bob).exists()

    # A reply the rules are sure of is still suggested to Alice, with what her decisions say about it.
    _deliver(dovecot, ALICE, history[1], "I'm sorry, I have to cancel, I've got the flu.", f"Alice Adams <{ALICE}>")
    assert mailbox_poll(mailbox=inbox).handled == {"suggestion": 1}
    latest = Suggestion.objects.filter(seller=alice).latest("id")
    assert (latest.kind, latest.confidence) == ("cancel", "high")
    assert latest.learned.startswith("you applied")


def test_inbox_evaluate_reports_in_time_order_and_refuses_with_too_little(dovecot, inbox, alice, history, monkeypatch):
    monkeypatch.setenv("REBOOK_USER", "alice")
    rebook = Rebook()
    result = rebook.json("inbox", "evaluate")
    assert (result["decisions"], result["warmup"], result["evaluated"]) == (42, 30, 12)
    kinds = {k["kind"]: k for k in result["kinds"]}
    assert kinds["cancel"]["precision_rules"] == 1.0 and kinds["cancel"]["recall_learned"] == 1.0
    moves = kinds["reschedule"]
    assert moves["suggested"] > 0 and moves["applied"] == 0 and moves["kept"] < moves["suggested"]
    assert "WITH LEARNING" in rebook("inbox", "evaluate").stdout

    Suggestion.objects.filter(seller=alice).update(status="pending")
    assert "cannot evaluate yet: 0 decided suggestions" in rebook.error("inbox", "evaluate")
