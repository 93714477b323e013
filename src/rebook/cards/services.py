"""Scanning cards and saving them as leads through the lead services."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from rebook.cards import ocr
from rebook.cards.models import BusinessCard
from rebook.errors import RebookError
from rebook.leads.models import Lead
from rebook.leads.services import lead_create, lead_update
from rebook.sellers.models import Seller
from rebook.strategy.cards import CardFields, read_fields


@dataclass
class Scan:
    file: str
    fields: CardFields | None = None
    error: str = ""
    lead_id: int | None = None
    merged: bool = False
    data: bytes = field(default=b"", repr=False)

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


def card_scan(*, data: bytes, name: str, region: str) -> Scan:
    """Read one card; a card that cannot be read is a Scan with ``error``, never an exception."""
    try:
        reading = ocr.read_image(data, name)
    except RebookError as e:
        return Scan(name, error=str(e).removeprefix(f"{name}: "))
    return Scan(name, fields=read_fields(reading.words, region=region), data=data)


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
    BusinessCard.objects.create(lead=lead, file=scan.file[:255], content_type=mimetypes.guess_type(scan.file)[0] or
                                "application/octet-stream", data=scan.data, event=event[:200],
                                fields=scan.as_dict() | {"lead_id": None}, text=f.text, created_at=now)
    scan.lead_id = lead.pk
    return scan
