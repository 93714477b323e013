from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.mailbox.dovecot import DOVECOT, Dovecot


@pytest.fixture(scope="module")
def dovecot():
    if not Path(DOVECOT).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{DOVECOT} is missing; .ci/run installs Debian's dovecot-imapd")
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    server = Dovecot({"alice@example.com": "alice-secret", "bob@example.com": "bob-secret"}).start()
    yield server
    server.stop()


@pytest.fixture
def inbox(dovecot, alice):
    """Alice's mailbox, connected in Rebook, emptied before each test."""
    from rebook.mailbox.services import mailbox_set

    imap = dovecot.client("alice@example.com")
    imap.select("INBOX")
    imap.store("1:*", "+FLAGS", "\\Deleted") if imap.select("INBOX")[1][0] != b"0" else None
    imap.expunge()
    imap.logout()
    return mailbox_set(seller=alice, url=dovecot.url("alice@example.com"))
