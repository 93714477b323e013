"""The seller's review from the command line: list, show, approve, edit, discard, and the worker command."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rebook.leads.services import appointment_book, appointment_cancel
from rebook.outbox.models import PlannedMessage
from tests.clirunner import Rebook
from tests.conftest import NOW

pytestmark = pytest.mark.usefixtures("frozen")
Status = PlannedMessage.Status


@pytest.fixture
def planned(alice, charlie):
    start = NOW + timedelta(days=3)
    appointment_book(lead=charlie, start=start, end=start + timedelta(hours=1))
    return PlannedMessage.objects.get(lead=charlie, kind="booking_followup")


def test_outbox_show_prints_the_message_as_it_will_go(planned):
    rebook = Rebook()
    text = rebook("outbox", "show", str(planned.pk)).stdout
    assert "To:      Charlie Chen <charlie@chen.example>" in text
    assert "Subject: Looking forward to our meeting on Thursday 5 March" in text
    assert "Attached: calendar invitation (REQUEST)" in text
    assert "Hello Charlie," in text
    data = rebook.json("outbox", "show", str(planned.pk))
    assert data["calendar"] == "REQUEST" and data["status"] == "review" and data["edited"] is False
    assert "<p>Hello Charlie,</p>" in rebook("outbox", "show", str(planned.pk), "--html").stdout


def test_approve_then_the_worker_sends_it(planned, smtp, frozen):
    rebook = Rebook()
    assert rebook.json("outbox", "--status", "review")[0]["id"] == planned.pk
    out = rebook("outbox", "approve", str(planned.pk)).stdout
    assert out.startswith(f"Approved message {planned.pk}; it goes Tue 2026-03-03 09:00 EST")
    frozen.move_to(planned.due)
    data = rebook.json("worker", "--until-idle")
    assert data["sent"] == 1 and data["log"] == [
        f"message {planned.pk} (booking_followup, lead {planned.lead_id}): sent to charlie@chen.example"
    ]
    assert len(smtp.received) == 1
    assert "is sent; it cannot be approved" in rebook.error("outbox", "approve", str(planned.pk))


def test_edit_with_options_keeps_the_message_waiting_for_review(planned):
    rebook = Rebook()
    rebook("outbox", "edit", str(planned.pk), "--subject", "Quick note", "--body", "See you Thursday.")
    planned.refresh_from_db()
    assert (planned.status, planned.subject, planned.body, planned.frozen) == ("review", "Quick note", "See you Thursday.\n", True)
    assert planned.html_body == "<p>See you Thursday.</p>"


def test_edit_in_the_editor(planned, monkeypatch):
    import click

    monkeypatch.setattr(click, "edit", lambda text, **kw: text.replace("Hello Charlie,", "Dear Charlie,"))
    Rebook()("outbox", "edit", str(planned.pk))
    planned.refresh_from_db()
    assert planned.body.startswith("Dear Charlie,") and planned.subject.startswith("Looking forward")


def test_discard_and_errors_change_nothing(planned, bob):
    rebook = Rebook()
    assert rebook.error("outbox", "show", "999999", "--user", "alice") == "error: no message with id 999999"
    # Another seller's message is not theirs to see.
    assert "no message with id" in rebook.error("outbox", "show", str(planned.pk), "--user", "bob")
    assert "subject: the subject must not be empty" in rebook.error("outbox", "edit", str(planned.pk), "--subject", " ", "--user", "alice")
    planned.refresh_from_db()
    assert planned.status == "review" and not planned.frozen
    rebook("outbox", "discard", str(planned.pk), "--user", "alice")
    planned.refresh_from_db()
    assert (planned.status, planned.status_note) == ("discarded", "discarded by the seller")


def test_a_withdrawn_message_says_why(alice, charlie):
    start = NOW + timedelta(days=3)
    appointment = appointment_book(lead=charlie, start=start, end=start + timedelta(hours=1))
    appointment_cancel(appointment=appointment, by="prospect", reason="not interested anymore")
    rows = {m["kind"]: m for m in Rebook().json("outbox")}
    assert rows["booking_followup"]["status"] == "withdrawn"
    assert rows["booking_followup"]["note"]


def test_without_smtp_settings_the_worker_sends_nothing_but_still_runs_imports(alice, charlie, settings, frozen):
    from datetime import timedelta

    from rebook.imports import import_enqueue
    from rebook.leads.services import appointment_book
    from tests.conftest import NOW

    settings.EMAIL_BACKEND = "rebook.outbox.mail.NotConfiguredBackend"
    alice.auto_send = True
    alice.save()
    appointment_book(lead=charlie, start=NOW + timedelta(days=3), end=NOW + timedelta(days=3, hours=1))
    frozen.move_to(NOW + timedelta(days=1, hours=1))
    run = import_enqueue(seller=alice, data=b"Name,Email\nDana,dana@example.com\n", name="c.csv")
    result = Rebook()("worker", "--until-idle")
    assert "REBOOK_SMTP_URL is not set" in result.stdout and "import" in result.stdout
    run.refresh_from_db()
    assert run.status == "done"
    assert not PlannedMessage.objects.filter(status__in=["sent", "sending", "failed"]).exists()


def test_smtp_urls_become_django_settings():
    from rebook.settings import _smtp

    assert _smtp("smtp://user%40x:p%3Ass@mail.example.com:587?starttls=1") | {} == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mail.example.com", "EMAIL_PORT": 587, "EMAIL_HOST_USER": "user@x",
        "EMAIL_HOST_PASSWORD": "p:ss", "EMAIL_USE_SSL": False, "EMAIL_USE_TLS": True, "EMAIL_TIMEOUT": 30,
    }
    assert _smtp("smtps://mail.example.com")["EMAIL_PORT"] == 465
    assert _smtp("smtp://127.0.0.1:2525")["EMAIL_USE_TLS"] is False
    assert _smtp("console://")["EMAIL_BACKEND"].endswith("console.EmailBackend")
    with pytest.raises(ValueError, match="REBOOK_SMTP_URL"):
        _smtp("http://mail.example.com")
