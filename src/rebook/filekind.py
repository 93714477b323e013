"""Which importer a file is for: calendars (.ics, e-mails) or contacts (.csv, .vcf)."""

from __future__ import annotations

from pathlib import Path

CONTACT_SUFFIXES = {".csv", ".tsv", ".txt", ".vcf", ".vcard"}
CALENDAR_SUFFIXES = {".ics", ".ical", ".ifb", ".eml", ".mbox", ".mbx"}


def file_kind(name: str, head: bytes) -> str:
    """"calendar" or "contacts", by the file's name, else by what it starts with."""
    suffix = Path(name).suffix.lower()
    if suffix in CONTACT_SUFFIXES:
        return "contacts"
    if suffix in CALENDAR_SUFFIXES:
        return "calendar"
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff").lstrip()
    upper = text.upper()
    if upper.startswith("BEGIN:VCARD"):
        return "contacts"
    if "BEGIN:VCALENDAR" in upper or text.startswith("From ") or "MIME-VERSION:" in upper:
        return "calendar"
    return "contacts"
