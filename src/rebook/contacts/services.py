"""Importing contacts as leads: checked, normalised, merged with what is there, never doubled.

A row is usable when it gives a name, a valid e-mail address or a valid phone number. Addresses are
checked for syntax only (no network look-ups); phone numbers become E.164 with a default region. A
contact is the same lead as another when the e-mail matches, else the phone, else name and company;
a match fills in what the lead is missing and changes nothing else, so re-importing a file changes
nothing. Rows are streamed and written in batches, so large files stay in bounded memory.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from email_validator import EmailNotValidError

from rebook import stopping
from rebook.addresses import possible_phone, valid_email
from rebook.contacts.reading import Contact, detect_encoding, read_csv, read_vcards
from rebook.errors import RebookError, shown
from rebook.leads.models import Lead
from rebook.sellers.models import Seller
from rebook.strategy import limits
from rebook.writes import insert_new, new_like, update_rows

BATCH = 2000
FILL = ("email", "phone", "company", "source", "notes")


@dataclass
class ContactImport:
    file: str
    kind: str  # "csv" or "vcard"
    dry_run: bool = False
    created: int = 0
    merged: int = 0
    unchanged: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    notes: list[tuple[int, str]] = field(default_factory=list)  # (line, what was dropped)
    columns: dict[str, str] = field(default_factory=dict)  # header -> field
    encoding: str = ""

    @property
    def rows(self) -> int:
        return self.created + self.merged + self.unchanged + len(self.refused)

    def as_dict(self) -> dict:
        return {
            "file": self.file, "kind": self.kind, "dry_run": self.dry_run, "rows": self.rows,
            "created": self.created, "merged": self.merged, "unchanged": self.unchanged,
            "refused": [{"line": line, "reason": reason} for line, reason in self.refused],
            "notes": [{"line": line, "note": note} for line, note in self.notes],
            "columns": self.columns, "encoding": self.encoding,
        }

    def report_csv(self) -> str:
        """The rows that were not (fully) imported, for a spreadsheet."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["line", "outcome", "reason"])
        for line, reason in sorted(self.refused + [(line, f"note: {n}") for line, n in self.notes]):
            outcome = "imported with a change" if reason.startswith("note: ") else "not imported"
            writer.writerow([line, outcome, neutralise(reason.removeprefix("note: "))])
        return out.getvalue()


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would run as a formula (=, +, -, @) is made plain text."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def detect_kind(head: bytes) -> str:
    text = head.decode(detect_encoding(head), errors="ignore").lstrip("\ufeff").lstrip().upper()
    return "vcard" if text.startswith("BEGIN:VCARD") else "csv"


class _Index:
    """The seller's leads by e-mail, phone and name+company, including the ones this import creates.

    The same e-mail address is the same person. Without one, a lead with the same phone or the same name
    and company is the same person only if nothing says otherwise: different e-mail addresses mean
    different people, and a shared office number or company is no evidence on its own (three
    colleagues share "Company Main Phone"), so the names must agree too.
    """

    def __init__(self, seller: Seller, now: datetime | None = None):
        # A new lead is a copy of this one with the row's values: Model.__init__ sets 27 defaults a row.
        self.blank = Lead(seller=seller, created_at=now or timezone.now())
        self.by_email: dict[str, Lead] = {}
        self.by_phone: dict[str, list[Lead]] = {}
        self.by_name: dict[tuple[str, str], list[Lead]] = {}
        for lead in Lead.objects.filter(seller=seller).only("id", "email", "phone", "name", "company", "source", "notes"):
            self.add(lead)

    def new_lead(self, **values) -> Lead:
        return new_like(self.blank, **values)

    def add(self, lead: Lead) -> None:
        if lead.email:
            self.by_email.setdefault(lead.email.lower(), lead)
        if lead.phone:
            self._put(self.by_phone.setdefault(lead.phone, []), lead)
        self._put(self.by_name.setdefault((lead.name.casefold(), lead.company.casefold()), []), lead)

    @staticmethod
    def _put(bucket: list[Lead], lead: Lead) -> None:
        if all(other is not lead for other in bucket):
            bucket.append(lead)

    def find(self, email: str, phone: str, name: str, company: str) -> Lead | None:
        if email and email.lower() in self.by_email:
            return self.by_email[email.lower()]
        candidates = [*(self.by_phone.get(phone, []) if phone else []),
                      *(self.by_name.get((name.casefold(), company.casefold()), []) if name else [])]
        for lead in candidates:
            emails_agree = not (email and lead.email) or email.lower() == lead.email.lower()
            if emails_agree and (not name or names_agree(name, lead.name)):
                return lead
        return None


def names_agree(a: str, b: str) -> bool:
    """The same name as people shorten it: "Ben Carter" and "Benjamin Carter", "Dana R." and "Dana Reyes"."""
    first = re.findall(r"\w+", a.casefold())
    second = re.findall(r"\w+", b.casefold())
    if not first or not second:
        return False
    if len(first) == 1 or len(second) == 1:
        return first == second

    def close(x: str, y: str) -> bool:
        return x.startswith(y) or y.startswith(x)

    return close(first[0], second[0]) and close(first[-1], second[-1])


def _email(contact: Contact, notes: list[str]) -> str:
    ordered = [a for a, primary in contact.emails if primary] + [a for a, primary in contact.emails if not primary]
    for address in ordered:
        try:
            return valid_email(address)
        except EmailNotValidError as e:
            notes.append(f"e-mail address {shown(address)} is not valid ({e}); left out")
    return ""


def _phone(contact: Contact, region: str, notes: list[str]) -> str:
    ordered = [p for p, primary in contact.phones if primary] + [p for p, primary in contact.phones if not primary]
    for raw in ordered:
        number = possible_phone(raw, region)
        if number is not None:
            return number
        notes.append(f"phone number {shown(raw)} is not a possible number (region {region}); left out")
    return ""


def contact_import(
    *,
    seller: Seller,
    stream: BinaryIO,
    name: str,
    overrides: dict[str, str] | None = None,
    region: str | None = None,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> ContactImport:
    """Import a CSV or vCard file of contacts as leads. Raises RebookError when the file cannot be read at all."""
    now = now or timezone.now()
    region = (region or settings.REBOOK_PHONE_REGION).upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise RebookError(f"--region: {region!r} is not a region code such as US, GB or DE")
    head = stream.read(4096)
    stream.seek(0)
    kind = detect_kind(head)
    report = ContactImport(file=name, kind=kind, dry_run=dry_run)
    if kind == "vcard":
        if overrides:
            raise RebookError("--map is for CSV files; a vCard names its fields itself")
        data = stream.read()
        report.encoding = "vcard"
        contacts: Iterable[Contact] = read_vcards(data)
    else:
        layout, contacts = read_csv(stream, overrides=overrides)
        report.encoding = layout.encoding
        report.columns = {layout.header[i]: target for i, target in layout.mapping.items()}
    source = f"import: {name}"
    with transaction.atomic():
        index = _Index(seller, now)
        pending: list[Lead] = []
        touched: dict[int, Lead] = {}
        for count, contact in enumerate(contacts, start=1):
            if count % 256 == 0:
                stopping.check()  # a stopping worker gives the file back; nothing of it is kept
            if count > limits.MAX_ROWS_PER_IMPORT:  # raised inside the transaction: nothing is kept
                raise RebookError(f"{name}: more than {limits.MAX_ROWS_PER_IMPORT:,} rows; split it into smaller files")
            _one(contact, seller, region, source, now, index, pending, touched, report)
            if len(pending) >= BATCH:
                _flush(pending, touched, dry_run)
            if progress and count % 500 == 0:
                progress(stream.tell() if not stream.closed else 0)
        _flush(pending, touched, dry_run)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _one(contact, seller, region, source, now, index, pending, touched, report) -> None:
    if contact.notes.startswith("\x00"):
        report.refused.append((contact.line, contact.notes[1:]))
        return
    notes: list[str] = []
    email = _email(contact, notes)
    phone = _phone(contact, region, notes)
    name = contact.full_name()[:200]
    if not (name or email or phone):
        reason = "no name, e-mail address or phone number"
        report.refused.append((contact.line, "; ".join([reason, *notes]) if notes else reason))
        return
    report.notes += [(contact.line, n) for n in notes]
    name = name or email or phone
    company = contact.company[:200]
    values = {"email": email, "phone": phone, "company": company, "source": contact.source[:200] or source,
              "notes": contact.notes}
    lead = index.find(email, phone, name, company)
    if lead is None:
        lead = index.new_lead(name=name, **values)
        pending.append(lead)
        index.add(lead)
        report.created += 1
        return
    changed = False
    for key in FILL:
        if values[key] and not getattr(lead, key):
            setattr(lead, key, values[key])
            changed = True
    if changed:
        index.add(lead)
        if lead.pk is not None:
            touched[lead.pk] = lead
        report.merged += 1
    else:
        report.unchanged += 1


def _flush(pending: list[Lead], touched: dict[int, Lead], dry_run: bool) -> None:
    if pending:
        insert_new(Lead, pending, per_statement=BATCH)
        pending.clear()
    if touched:
        update_rows(Lead, list(touched.values()), FILL)
        touched.clear()
