"""Scanning cards and saving them as leads through the lead services."""

from __future__ import annotations

import mimetypes
import time
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from rebook.cards import ocr
from rebook.cards.models import BusinessCard, CardUpload
from rebook.claims import claim_one
from rebook.errors import RebookError
from rebook.leads.models import Lead
from rebook.leads.services import lead_create, lead_update
from rebook.sellers.models import Seller
from rebook.strategy.cards import CardFields, Phone, combine, read_fields


@dataclass
class Scan:
    file: str
    fields: CardFields | None = None
    error: str = ""
    lead_id: int | None = None
    merged: bool = False
    data: bytes = field(default=b"", repr=False)
    content_type: str = ""

    def as_dict(self) -> dict:
        f = self.fields
        out = {"file": self.file, "name": "", "title": "", "company": "", "emails": [], "phones": [], "website": "",
               "address": "", "confidence": {}, "lead_id": self.lead_id}
        if f is not None:
            out |= {"name": f.name, "title": f.title, "company": f.company, "emails": f.emails,
                    "phones": [p.number for p in f.phones], "phone_kinds": {p.number: p.kind for p in f.phones},
                    "website": f.website, "address": f.address, "confidence": f.confidence, "text": f.text}
        if self.error:
            out["error"] = self.error
        if self.merged:
            out["merged"] = True
        return out


def any_card_sql(seller: Seller) -> tuple[str, list]:
    """1 if the seller has any business card, else 0, as a scalar subquery (SQL, params) for a page's
    ``change_stamp``: Today looks for cards to call only then."""
    return (f"SELECT COUNT(*) FROM (SELECT 1 FROM {BusinessCard._meta.db_table} c JOIN {Lead._meta.db_table} l "
            "ON l.id = c.lead_id WHERE l.seller_id = %s LIMIT 1) AS any_card", [seller.pk])


def card_scan(*, data: bytes, name: str, region: str, content_type: str = "", using: str | None = None) -> Scan:
    """Read one card; a card that cannot be read is a Scan with ``error``, never an exception. ``using``: the
    reader (ocr.READERS; by default the best one installed)."""
    content_type = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    try:
        readings = ocr.read_image(data, name, using=using)
    except RebookError as e:
        return Scan(name, error=str(e).removeprefix(f"{name}: "))
    return Scan(name, fields=combine([read_fields(r.words, region=region) for r in readings]), data=data,
                content_type=content_type)


SCAN_SECONDS = 600  # reading one file's cards at once (`rebook card scan`): 100 cards at 6 s each


def card_scan_file(*, data: bytes, name: str, region: str) -> list[Scan]:
    """Read every card in one file (a PDF scan holds one a page); what cannot be read is a Scan with
    ``error``, and the other cards go on. The cards not begun within SCAN_SECONDS each say so."""
    deadline = time.monotonic() + SCAN_SECONDS
    try:
        pictures = ocr.pictures(data, name)
    except RebookError as e:
        return [Scan(name, error=str(e).removeprefix(f"{name}: "))]
    scans = []
    for p in pictures:
        late = not p.error and time.monotonic() > deadline
        error = f"not read: reading the file's cards took more than {SCAN_SECONDS} seconds (split the scan)" if late else p.error
        scans.append(Scan(p.name, error=error) if error else
                     card_scan(data=p.data, name=p.name, region=region, content_type=p.content_type))
    return scans


def _existing(seller: Seller, f: CardFields) -> Lead | None:
    leads = Lead.objects.filter(seller=seller)
    for email in f.emails:
        found = leads.filter(email__iexact=email).first()
        if found:
            return found
    for phone in f.phones:
        found = leads.filter(phone=phone.number).first()
        if found:
            return found
    if f.name and f.company:
        return leads.filter(name__iexact=f.name, company__iexact=f.company).first()
    return None


@transaction.atomic
def card_save(*, seller: Seller, scan: Scan, event: str = "", now: datetime | None = None) -> Scan:
    """Create the lead (source: the event), or fill in what an existing one is missing; keep the image."""
    now = now or timezone.now()
    f = scan.fields
    if f is None or not (f.name or f.emails or f.phones):
        raise RebookError(f"{scan.file}: no name, e-mail or phone was read; correct it before saving")
    lead = _existing(seller, f)
    if lead is None:
        lead = lead_create(seller=seller, name=f.name or (f.emails[0] if f.emails else f.phones[0].number),
                           email=f.emails[0] if f.emails else "", phone=f.phones[0].number if f.phones else "",
                           company=f.company, source=event, notes="\n".join(filter(None, [f.title, f.website, f.address])))
    else:
        missing = {k: v for k, v in {"email": f.emails[0] if f.emails else "", "phone": f.phones[0].number if f.phones else "",
                                     "company": f.company}.items() if v and not getattr(lead, k)}
        if missing:
            lead = lead_update(lead=lead, **missing)
        scan.merged = True
    BusinessCard.objects.create(lead=lead, file=scan.file[:255], content_type=scan.content_type or
                                mimetypes.guess_type(scan.file)[0] or "application/octet-stream", data=scan.data, event=event[:200],
                                fields=scan.as_dict() | {"lead_id": None}, text=f.text, created_at=now)
    scan.lead_id = lead.pk
    return scan


# --- the "Add from cards" page: uploads queued for the worker, read, then reviewed and saved ----------------

MAX_FILES = 20  # photos in one upload


def cards_enqueue(*, seller: Seller, files: list[tuple[str, bytes]], event: str = "",
                  now: datetime | None = None) -> list[CardUpload]:
    """Queue each uploaded photo (or PDF scan) for the worker to read. A file over the size limit becomes a
    row that says so at once; the other files go on."""
    if not files:
        raise RebookError("choose one or more photos of cards")
    if len(files) > MAX_FILES:
        raise RebookError(f"{len(files)} files; the limit is {MAX_FILES} at a time")
    now = now or timezone.now()
    rows = []
    for name, data in files:
        row = CardUpload(seller=seller, file=name[:255], event=event.strip()[:200], created_at=now,
                         content_type=mimetypes.guess_type(name)[0] or "")
        if len(data) > ocr.MAX_BYTES:
            row.status, row.error = CardUpload.Status.FAILED, (
                f"{len(data) // (1024 * 1024)} MB; the limit is {ocr.MAX_BYTES // (1024 * 1024)} MB")
        elif not data:
            row.status, row.error = CardUpload.Status.FAILED, "the file is empty"
        else:
            row.data = data
        rows.append(row)
    return CardUpload.objects.bulk_create(rows)


def card_claim(*, worker: str, now: datetime, lease) -> CardUpload | None:
    """The oldest queued card (or one whose worker died), claimed for this worker, or None."""
    Status = CardUpload.Status
    ready = (Q(status=Status.QUEUED, lease_until__lt=now), Q(status=Status.QUEUED, lease_until__isnull=True))
    pk = claim_one(CardUpload, ready, ("created_at", "id"), claimed_by=worker, lease_until=now + lease)
    return None if pk is None else CardUpload.objects.get(pk=pk)


def card_failed(*, upload: CardUpload, worker: str, error: str) -> None:
    """A card whose reading failed in a way Rebook did not foresee: it says so on its row (and keeps no image),
    instead of being claimed again and again."""
    CardUpload.objects.filter(pk=upload.pk, claimed_by=worker, status=CardUpload.Status.QUEUED).update(
        status=CardUpload.Status.FAILED, error=error[:300], data=None, claimed_by="", lease_until=None)


def card_read(*, upload: CardUpload, region: str) -> list[CardUpload]:
    """Read a claimed upload: its fields (or why it cannot be read) for the seller's review. A PDF scan
    becomes one row a page: the first read now, the others queued, so that one worker step reads one card
    whatever the size of the scan (well inside the claim's lease)."""
    data = bytes(upload.data or b"")
    try:
        first, *rest = ocr.pictures(data, upload.file) or [None]
    except RebookError as e:
        first, rest, error = None, [], str(e).removeprefix(f"{upload.file}: ")
    else:
        error = "" if first is not None else "the PDF has no pages"
    with transaction.atomic():
        queued = CardUpload.objects.bulk_create(
            CardUpload(seller_id=upload.seller_id, event=upload.event, created_at=upload.created_at,
                       file=p.name[:255], data=p.data or None, content_type=p.content_type, error=p.error,
                       status=CardUpload.Status.FAILED if p.error else CardUpload.Status.QUEUED) for p in rest)
        if first is None:
            scan = Scan(upload.file, error=error)
        else:
            upload.file = first.name[:255]
            scan = Scan(first.name, error=first.error) if first.error else card_scan(
                data=first.data, name=first.name, region=region, content_type=first.content_type)
        if scan.data:
            upload.data, upload.content_type = scan.data, scan.content_type
        elif scan.error:
            upload.data = None  # the Cards page shows only why (no photo): a refused 25 MB PDF is not kept
        upload.status = CardUpload.Status.FAILED if scan.error else CardUpload.Status.READ
        upload.error = scan.error
        upload.fields = {} if scan.error else scan.as_dict()
        upload.claimed_by, upload.lease_until = "", None
        upload.save()
    return [upload, *queued]


def card_review_save(*, seller: Seller, upload: CardUpload, name: str, title: str = "", company: str = "",
                     email: str = "", phone: str = "", website: str = "", address: str = "",
                     now: datetime | None = None) -> Lead:
    """Save a reviewed card, as the seller corrected it: a new lead, or what an existing one is missing."""
    if upload.seller_id != seller.pk or upload.status != CardUpload.Status.READ:
        raise RebookError("this card is not waiting for review")
    read = upload.fields or {}
    fields = CardFields(name=name.strip(), title=title.strip(), company=company.strip(),
                        emails=[email.strip()] if email.strip() else [],
                        phones=[Phone(_e164(phone.strip()))] if phone.strip() else [],
                        website=website.strip(), address=address.strip(), confidence=read.get("confidence", {}),
                        text=read.get("text", ""))
    scan = Scan(upload.file, fields=fields, data=bytes(upload.data or b""), content_type=upload.content_type)
    with transaction.atomic():
        card_save(seller=seller, scan=scan, event=upload.event, now=now)
        CardUpload.objects.filter(pk=upload.pk).update(status=CardUpload.Status.SAVED, data=None, lead_id=scan.lead_id)
    return Lead.objects.get(pk=scan.lead_id)


def _e164(raw: str) -> str:
    """A number as typed in the review, in E.164 when it parses in the seller's region (as a card's are)."""
    import phonenumbers
    from django.conf import settings

    try:
        number = phonenumbers.parse(raw, settings.REBOOK_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return raw
    if not phonenumbers.is_possible_number(number):
        return raw
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def card_dismiss(*, seller: Seller, upload: CardUpload) -> None:
    """Drop a card from the review list (a blurry photo taken twice, a card of no one to call)."""
    CardUpload.objects.filter(pk=upload.pk, seller=seller).delete()
