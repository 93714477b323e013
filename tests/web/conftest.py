from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import NOW

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def story(alice, charlie):
    """Alice's lead Charlie with one cancelled meeting, one ahead, a planned message and a checklist."""
    from rebook.leads.services import appointment_book, appointment_cancel

    first = appointment_book(lead=charlie, start=NOW + timedelta(days=2), end=NOW + timedelta(days=2, hours=1))
    cancellation = appointment_cancel(appointment=first, by="prospect", reason="something came up")
    ahead = appointment_book(lead=charlie, start=NOW + timedelta(days=5), end=NOW + timedelta(days=5, hours=1))
    message = charlie.messages.filter(status="review").order_by("id").first()
    return {"lead": charlie, "cancelled": first, "cancellation": cancellation, "ahead": ahead, "message": message}
