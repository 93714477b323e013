"""The probes use the same real servers as the tests of each part: Dovecot for mail in, aiosmtpd for mail out."""

from tests.mailbox.conftest import _local_mailboxes, dovecot, inbox  # noqa: F401
from tests.outbox.conftest import smtp  # noqa: F401
