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


# The authserv-id the tests' "mail provider" stamps on top of each mail it delivers (see test_poll.mail).
PROVIDER = "mx.provider.example"


@pytest.fixture(autouse=True)
def _local_mailboxes(settings):
    settings.REBOOK_IMAP_ALLOW_PRIVATE = True  # the tests' Dovecot is on loopback


@pytest.fixture
def inbox(dovecot, alice):
    """Alice's mailbox, connected in Rebook, emptied before each test; her provider's Authentication-Results
    are trusted."""
    from rebook.mailbox.services import mailbox_set

    imap = dovecot.client("alice@example.com")
    imap.select("INBOX")
    imap.store("1:*", "+FLAGS", "\\Deleted") if imap.select("INBOX")[1][0] != b"0" else None
    imap.expunge()
    imap.logout()
    return mailbox_set(seller=alice, url=dovecot.url("alice@example.com"), trusted=PROVIDER)
