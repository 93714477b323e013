"""The links a prospect gets: one to manage a meeting still ahead, one per offered new time after a
cancellation, and one to see more times.

A token is what it is for (the meeting, or the cancellation and the time), bound to the lead, sealed with
AES-SIV under a key derived from the secret key: nobody can read the ids in it or make one without the key.
AES-SIV is deterministic, so a token is the same however often it is made and the command line prints exactly
the URLs the mails carry. Links mailed before tokens were sealed carry Django's signing of the same list
(readable, with a ":" before the signature) and still work. How long a link acts is decided from the data
when it is used (see ``link_problem``), not from the token.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core import signing
from django.urls import reverse

from rebook.leads.models import Appointment, Cancellation, Lead
from rebook.leads.selectors import offer_times
from rebook.strategy.history import SCHEDULED

SALT = "rebook.prospect-link"
MANAGE, OFFER = "m", "o"
LINK_DAYS = 30  # a link stops acting this long after the latest mail that carried it was sent
# Leads who are no longer pursued: their links only say whom to contact.
CLOSED = {Lead.Status.NURTURE, Lead.Status.DO_NOT_CONTACT, Lead.Status.LOST, Lead.Status.WON}


class Slot(str):
    """An offered time: prints as the time (so ``{{ slot }}`` in a template sellers edited still works) and
    carries ``when``, ``url`` and ``start``."""

    when: str
    url: str
    start: datetime

    def __new__(cls, when: str, url: str, start: datetime):
        slot = super().__new__(cls, when)
        slot.when, slot.url, slot.start = when, url, start
        return slot


@dataclass(frozen=True)
class Target:
    """What a valid token points at."""

    kind: str  # MANAGE or OFFER
    appointment: Appointment | None = None
    cancellation: Cancellation | None = None
    start: datetime | None = None  # the offered time, for a pick link


def _minutes(moment: datetime) -> int:
    return int(moment.timestamp() // 60)


def _cipher() -> AESSIV:
    key = HKDF(algorithm=hashes.SHA256(), length=64, salt=SALT.encode(), info=b"link token").derive(
        settings.SECRET_KEY.encode())
    return AESSIV(key)


def _text(sealed: bytes) -> str:
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()


def token_for(kind: str, object_id: int, lead_id: int, start: datetime | None = None) -> str:
    payload = [kind, object_id, lead_id] + ([_minutes(start)] if start is not None else [])
    return _text(_cipher().encrypt(json.dumps(payload, separators=(",", ":")).encode(), None))


def _payload(token: str) -> object:
    """What a token carries, or None when it is not one of ours."""
    if ":" in token:  # signed, from a mail sent before tokens were sealed
        try:
            return signing.Signer(salt=SALT).unsign_object(token)
        except (signing.BadSignature, ValueError):
            return None
    try:
        sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        return None
    if _text(sealed) != token:  # one spelling per token (no stray characters or padding bits)
        return None
    try:
        return json.loads(_cipher().decrypt(sealed, None))
    except (InvalidTag, ValueError):
        return None


def _url(token: str) -> str:
    return settings.REBOOK_BASE_URL + reverse("prospect_link", args=[token])


def manage_url(appointment: Appointment) -> str:
    return _url(token_for(MANAGE, appointment.pk, appointment.lead_id))


def more_times_url(cancellation: Cancellation) -> str:
    return _url(token_for(OFFER, cancellation.pk, cancellation.lead_id))


def offered_starts(cancellation: Cancellation, now: datetime) -> list[datetime]:
    """The times offered after a cancellation: fixed when it was recorded (older rows: worked out now)."""
    if cancellation.offered:
        return [datetime.fromisoformat(t) for t in cancellation.offered]
    missed = cancellation.appointment
    return offer_times(seller=cancellation.lead.seller, length=missed.end - missed.start, after=now)


def slots(cancellation: Cancellation, now: datetime, *, describe) -> list[Slot]:
    """Each offered time with its own link; ``describe`` writes a time the way the reader reads it."""
    return [Slot(describe(start), _url(token_for(OFFER, cancellation.pk, cancellation.lead_id, start)), start)
            for start in offered_starts(cancellation, now)]


def resolve(token: str) -> Target | None:
    """What a token points at, or None for a token that is tampered with, unknown or for a deleted thing."""
    payload = _payload(token)
    if not (isinstance(payload, list) and 3 <= len(payload) <= 4 and all(type(p) is int for p in payload[1:])):
        return None
    kind, object_id, lead_id, *rest = payload
    if kind == MANAGE and not rest:
        appointment = Appointment.objects.select_related("lead__seller").filter(pk=object_id, lead_id=lead_id).first()
        return Target(MANAGE, appointment=appointment) if appointment else None
    if kind == OFFER:
        cancellation = (Cancellation.objects.select_related("lead__seller", "appointment")
                        .filter(pk=object_id, lead_id=lead_id).first())
        if cancellation is None:
            return None
        start = datetime.fromtimestamp(rest[0] * 60, UTC) if rest else None
        return Target(OFFER, cancellation=cancellation, appointment=cancellation.appointment, start=start)
    return None


def link_problem(target: Target, now: datetime, *, last_sent: datetime | None) -> str | None:
    """Why a link no longer acts, in words for the prospect; None while it does.

    ``last_sent`` is when the latest mail carrying it went out (None if none has yet)."""
    lead = target.appointment.lead if target.appointment else target.cancellation.lead
    seller = lead.seller
    if not seller.self_service:
        return "Changes are not made through this link any more."
    if lead.unsubscribed_at or lead.status in CLOSED:
        return "This link no longer changes anything."
    issued = max(filter(None, [last_sent, target.appointment.booked_at if target.kind == MANAGE else None,
                               target.cancellation.at if target.cancellation else None]))
    if now > issued + timedelta(days=LINK_DAYS):
        return f"This link was sent more than {LINK_DAYS} days ago and has expired."
    if target.kind == MANAGE and target.appointment.start <= now and target.appointment.status == SCHEDULED:
        return "This meeting has already started."
    if target.start is not None and target.start <= now:
        return "That time has already passed."
    return None


def links_for(appointment: Appointment, now: datetime) -> dict:
    """The links for one meeting, exactly as the messages carry them: ``manage`` always; after a cancellation,
    ``slots`` (each offered time, even before the offer is sent) and ``more`` (a page of more times)."""
    out: dict = {"manage": manage_url(appointment), "slots": [], "more": None}
    cancellation = Cancellation.objects.select_related("lead__seller", "appointment").filter(
        appointment=appointment).first()
    if cancellation is not None and cancellation.kind != Cancellation.Kind.RESCHEDULE:
        out["slots"] = [{"start": s.start.isoformat(), "url": s.url}
                        for s in slots(cancellation, now, describe=lambda start: start.isoformat())]
        out["more"] = more_times_url(cancellation)
    return out
