"""The mail adapter: a composed message becomes an e-mail, and what the server answered becomes a verdict.

Called by the worker only. Everything here is about MIME and SMTP; what a message says is decided in
``rebook.outbox.compose``.
"""

from __future__ import annotations

import functools
import smtplib
from dataclasses import dataclass, field
from email.mime.base import MIMEBase
from email.mime.text import MIMEText
from email.utils import formataddr

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

UNSUBSCRIBE_SALT = "rebook.unsubscribe"


class NotConfiguredBackend(BaseEmailBackend):
    """Used when REBOOK_SMTP_URL is unset: sending is refused with a message that says what to set."""

    def send_messages(self, email_messages):
        raise NotConfigured("REBOOK_SMTP_URL is not set; see Sending messages in the docs (docs/messages.md)")


class NotConfigured(Exception):
    pass


@dataclass(frozen=True)
class Attachment:
    name: str
    content: bytes
    mimetype: str


@dataclass(frozen=True)
class Calendar:
    method: str  # REQUEST or CANCEL
    content: bytes


@dataclass(frozen=True)
class Envelope:
    """Everything needed to build the e-mail, already rendered."""

    to_name: str
    to_email: str
    from_name: str
    reply_to: str
    subject: str
    text: str
    html: str
    message_id: str
    attachments: tuple[Attachment, ...] = ()
    calendar: Calendar | None = None
    unsubscribe_url: str = ""
    headers: dict[str, str] = field(default_factory=dict)


def one_line(text: str) -> str:
    """Header-safe text: every run of whitespace, line breaks included, becomes one space."""
    return " ".join(text.split())


def from_address(seller_email: str) -> str:
    return settings.REBOOK_FROM_EMAIL or seller_email or "rebook@localhost"


def message_id_for(pk: int, token: str, from_email: str) -> str:
    domain = from_email.rpartition("@")[2] or "localhost"
    return f"<rebook.{pk}.{token}@{domain}>"


def unsubscribe_token(lead_id: int) -> str:
    # No expiry: an unsubscribe link in a months-old mail must still work.
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(str(lead_id))


def unsubscribe_lead_id(token: str) -> int | None:
    try:
        return int(signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None


def unsubscribe_url(lead_id: int) -> str:
    return settings.REBOOK_BASE_URL + _unsubscribe_path().replace("TOKEN", unsubscribe_token(lead_id))


@functools.cache
def _unsubscribe_path() -> str:
    """The unsubscribe URL's path with a placeholder for the token: reversed once, not for every mail."""
    return reverse("unsubscribe", args=["TOKEN"])


def build_email(envelope: Envelope, *, connection=None) -> EmailMultiAlternatives:
    from_email = from_address(envelope.reply_to)
    headers = {"Message-ID": envelope.message_id, **envelope.headers}
    if envelope.unsubscribe_url:
        # RFC 8058: one-click unsubscribe by a POST to this URL, no login, no confirmation page.
        headers["List-Unsubscribe"] = f"<{envelope.unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email = EmailMultiAlternatives(
        subject=one_line(envelope.subject),
        body=envelope.text,
        from_email=formataddr((one_line(envelope.from_name), from_email)),
        to=[formataddr((one_line(envelope.to_name), envelope.to_email))],
        reply_to=[envelope.reply_to] if envelope.reply_to and envelope.reply_to != from_email else None,
        headers=headers,
        connection=connection,
    )
    if envelope.html:
        email.attach_alternative(envelope.html, "text/html")
    for attachment in envelope.attachments:
        email.attach(attachment.name, attachment.content, attachment.mimetype)
    if envelope.calendar:
        email.attach(_calendar_part(envelope.calendar))
    return email


def _calendar_part(calendar: Calendar) -> MIMEBase:
    # text/calendar with a method parameter is what Outlook, Gmail and Apple Mail look for.
    part = MIMEText(calendar.content.decode(), "calendar", "utf-8")
    part.set_param("method", calendar.method)
    name = "cancel.ics" if calendar.method == "CANCEL" else "invite.ics"
    part.add_header("Content-Disposition", "attachment", filename=name)
    return part


@dataclass(frozen=True)
class Failure:
    permanent: bool
    reason: str


def classify(error: BaseException) -> Failure:
    """Permanent (5xx: retrying will not help) or temporary (4xx, network trouble: try again later)."""
    if isinstance(error, NotConfigured):
        return Failure(False, str(error))
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        detail = "; ".join(f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in error.recipients.items())
        return Failure(all(code >= 500 for code in codes), f"recipient refused: {detail}")
    if isinstance(error, smtplib.SMTPAuthenticationError):
        # The server's login, not this message, is the problem: keep retrying so nothing is lost.
        return Failure(False, f"SMTP login failed: {error.smtp_code} {_text(error.smtp_error)}")
    if isinstance(error, smtplib.SMTPResponseException):
        return Failure(error.smtp_code >= 500, f"SMTP server answered {error.smtp_code} {_text(error.smtp_error)}")
    if isinstance(error, (smtplib.SMTPException, OSError)):
        return Failure(False, f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)
    return Failure(False, f"{type(error).__name__}: {error}")


def _text(raw: bytes | str) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
