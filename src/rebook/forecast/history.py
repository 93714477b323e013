"""Past appointments from another tool, as a CSV: one row per appointment. They become leads, meetings and
cancellations like any other history (strikes and the interest balance read them), and teach the forecast.

Columns: `lead` (a stable key: an e-mail or an id), `booked_at`, `start`, `outcome` (held, cancelled,
no_show, and common spellings; or a yes/no "no-show" column), and optionally `end`, `cancelled_at`,
`cancelled_by`, `reason`, `source`, `name`. Every other column is kept on the lead as an attribute. Rows
stream in batches; a bad row is reported with its line and the rest go in; importing the same file again
changes nothing (each row's meeting is keyed by its lead and start).
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import BinaryIO

from django.db import transaction
from django.utils import timezone

from rebook.contacts.reading import detect_encoding
from rebook.errors import RebookError
from rebook.leads.models import Appointment, Cancellation, Lead, Party
from rebook.leads.services import lead_reevaluate
from rebook.sellers.models import Seller
from rebook.strategy.limits import MAX_ROWS_PER_IMPORT, check_instant
from rebook.timeparse import parse_time

BATCH = 2000
KNOWN = {"lead", "booked_at", "start", "end", "outcome", "no_show", "cancelled_at", "cancelled_by", "reason", "source",
         "name"}
ALIASES = {
    "lead": ("lead", "lead_id", "client", "client_id", "customer", "customer_id", "patient_id", "patientid", "email",
             "e-mail", "contact"),
    "booked_at": ("booked_at", "booked", "scheduled_day", "scheduledday", "created", "created_at", "booking_date"),
    "start": ("start", "appointment", "appointment_day", "appointmentday", "appointment_date", "starts_at", "date"),
    "end": ("end", "ends_at", "end_time"),
    "outcome": ("outcome", "status", "result", "show"),
    "no_show": ("no_show", "no-show", "noshow", "missed"),
    "cancelled_at": ("cancelled_at", "canceled_at", "cancellation_date"),
    "cancelled_by": ("cancelled_by", "canceled_by"),
    "reason": ("reason", "cancellation_reason", "note"),
    "source": ("source", "channel", "lead_source"),
    "name": ("name", "full_name", "lead_name"),
}
OUTCOMES = {
    "held": ("held", "attended", "completed", "done", "show", "showed", "showed up", "fulfilled", "arrived", "yes"),
    "cancelled": ("cancelled", "canceled", "cancel", "cancellation", "rescheduled"),
    "no_show": ("no_show", "no-show", "noshow", "no show", "missed", "absent", "did not attend", "dna"),
}
TRUE = {"yes", "y", "true", "1"}
FALSE = {"no", "n", "false", "0"}


@dataclass
class HistoryImport:
    file: str
    rows: int = 0
    meetings: int = 0
    unchanged: int = 0
    leads_created: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    attributes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"file": self.file, "rows": self.rows, "meetings": self.meetings, "unchanged": self.unchanged,
                "leads_created": self.leads_created, "refused": [{"line": n, "reason": r} for n, r in self.refused],
                "columns": self.columns, "attributes": self.attributes}


def _norm(name: str) -> str:
    return re.sub(r"[\s_]+", "_", name.strip().lower())


def _layout(header: list[str], overrides: dict[str, str]) -> tuple[dict[str, int], dict[str, int]]:
    index = {_norm(h): i for i, h in enumerate(header)}
    mapping: dict[str, int] = {}
    for column, target in overrides.items():
        if _norm(column) not in index:
            raise RebookError(f"--map: the file has no column {column!r}; it has: {', '.join(header)}")
        if target not in KNOWN:
            raise RebookError(f"--map: {target!r} is not a history field; fields: {', '.join(sorted(KNOWN))}")
        mapping[target] = index[_norm(column)]
    for target, names in ALIASES.items():
        if target not in mapping:
            found = next((index[n] for n in names if n in index and index[n] not in mapping.values()), None)
            if found is not None:
                mapping[target] = found
    missing = [t for t in ("lead", "start") if t not in mapping]
    if "outcome" not in mapping and "no_show" not in mapping:
        missing.append("outcome (or no_show)")
    if missing:
        columns = ", ".join(header)
        raise RebookError(f"the file has no column for {', '.join(missing)}; map one with --map COLUMN=FIELD "
                          f"(columns: {columns[:200]}{'...' if len(columns) > 200 else ''})")
    used = set(mapping.values())
    return mapping, {header[i].strip(): i for i in range(len(header)) if i not in used and header[i].strip()}


def _outcome(raw: str, no_show: str | None) -> str:
    text = raw.strip().lower()
    if no_show is not None and no_show.strip().lower() in TRUE | FALSE and not text:
        return "no_show" if no_show.strip().lower() in TRUE else "held"
    if no_show is not None and no_show.strip().lower() in TRUE:
        return "no_show"
    for outcome, words in OUTCOMES.items():
        if text in words:
            return outcome
    if no_show is not None and no_show.strip().lower() in FALSE and not text:
        return "held"
    raise RebookError(f"outcome: {raw!r} is not held, cancelled or no_show")


def _attribute(value: str):
    text = value.strip()
    try:
        return float(text) if re.fullmatch(r"[+-]?\d+(\.\d+)?", text) else text[:100]
    except ValueError:
        return text[:100]


def history_import(*, seller: Seller, stream: BinaryIO, name: str, overrides: dict[str, str] | None = None,
                   dry_run: bool = False, progress: Callable[[int], None] | None = None,
                   now: datetime | None = None) -> HistoryImport:
    now = now or timezone.now()
    head = stream.read(64 * 1024)
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding=detect_encoding(head), errors="replace", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        raise RebookError(f"{name} is empty") from None
    except csv.Error as e:
        raise RebookError(f"{name}, line 1: not a CSV file Rebook can read ({e})") from None
    mapping, extra = _layout(header, overrides or {})
    report = HistoryImport(file=name, columns={t: header[i] for t, i in mapping.items()}, attributes=list(extra))
    tz = seller.tz
    touched: set[int] = set()
    with transaction.atomic():
        batch: list[tuple[int, list[str]]] = []
        for line_number, row in _rows(reader, name):
            if not any(cell.strip() for cell in row):
                continue
            report.rows += 1
            if report.rows > MAX_ROWS_PER_IMPORT:
                raise RebookError(f"{name}: more than {MAX_ROWS_PER_IMPORT:,} rows; split it into smaller files")
            batch.append((line_number, row))
            if len(batch) >= BATCH:
                _batch(seller, batch, mapping, extra, tz, now, report, touched)
                batch = []
                if progress:
                    progress(report.rows)
        _batch(seller, batch, mapping, extra, tz, now, report, touched)
        for lead in Lead.objects.filter(pk__in=touched).select_related("seller"):
            lead_reevaluate(lead=lead, now=now)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _rows(reader, name: str):
    """The rows with their line numbers; a row the CSV reader cannot read (a cell over 128 KB, an unclosed
    quote running to the end) refuses the whole file, which is then left unchanged."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise RebookError(f"{name}, line {reader.line_num}: {e}; nothing was imported") from None
        yield reader.line_num, row


def _cell(row: list[str], mapping: dict[str, int], key: str) -> str | None:
    i = mapping.get(key)
    return row[i] if i is not None and i < len(row) else None


def _batch(seller, batch, mapping, extra, tz, now, report, touched) -> None:
    if not batch:
        return
    parsed = []
    for line, row in batch:
        try:
            parsed.append((line, _parse(row, mapping, extra, tz, now)))
        except RebookError as e:
            report.refused.append((line, str(e)))
    keys = {p["lead"] for _, p in parsed}
    existing = {}
    for lead in Lead.objects.filter(seller=seller, history_key__in=keys):
        existing[lead.history_key] = lead
    emails = {k for k in keys if "@" in k and k not in existing}
    for lead in Lead.objects.filter(seller=seller, email__in=emails):
        existing.setdefault(lead.email, lead)
    new = []
    for _, p in parsed:
        if p["lead"] not in existing:
            lead = Lead(seller=seller, name=p["name"] or p["lead"][:200], email=p["lead"] if "@" in p["lead"] else "",
                        history_key=p["lead"][:200], source=p["source"][:200], status=Lead.Status.ACTIVE,
                        attributes=p["attributes"], created_at=now)
            existing[p["lead"]] = lead
            new.append(lead)
    Lead.objects.bulk_create(new)
    report.leads_created += len(new)
    keyed = {f"history:{existing[p['lead']].pk}:{p['start'].isoformat()}" for _, p in parsed}
    seen = set(Appointment.objects.filter(seller=seller, ical_uid__in=keyed).values_list("ical_uid", flat=True))
    appointments, cancellations = [], []
    for _, p in parsed:
        lead = existing[p["lead"]]
        uid = f"history:{lead.pk}:{p['start'].isoformat()}"
        if uid in seen:
            report.unchanged += 1
            continue
        seen.add(uid)
        if p["attributes"] and lead.attributes != {**lead.attributes, **p["attributes"]}:
            lead.attributes = {**lead.attributes, **p["attributes"]}
            Lead.objects.filter(pk=lead.pk).update(attributes=lead.attributes)
        a = Appointment(lead=lead, seller=seller, start=p["start"], end=p["end"], timezone=seller.timezone,
                        status={"held": "held", "cancelled": "cancelled", "no_show": "no_show"}[p["outcome"]],
                        booked_at=p["booked_at"], booked_by=Party.SELLER, ical_uid=uid, chain=uuid.uuid4(),
                        created_at=now)
        appointments.append(a)
        if p["outcome"] in ("cancelled", "no_show"):
            cancellations.append((a, p))
        touched.add(lead.pk)
    Appointment.objects.bulk_create(appointments)
    verdicts = seller.classifier
    rows = []
    for a, p in cancellations:
        if p["outcome"] == "no_show":
            rows.append(Cancellation(appointment=a, lead_id=a.lead_id, seller=seller, by=Party.PROSPECT, kind="no_show",
                                     at=a.start, reason="", category="no_show", suggested_valid=False, created_at=now))
        else:
            v = verdicts.classify(p["reason"])
            rows.append(Cancellation(appointment=a, lead_id=a.lead_id, seller=seller, by=p["by"], kind="cancel",
                                     at=p["cancelled_at"] or a.start, reason=p["reason"][:2000], category=v.category,
                                     matched=(v.matched or "")[:100], suggested_valid=v.valid, created_at=now))
    Cancellation.objects.bulk_create(rows)
    report.meetings += len(appointments)


def _time(value: str | None, field: str, tz, now) -> datetime:
    if not value or not value.strip():
        raise RebookError(f"{field}: empty")
    return check_instant(parse_time(value.strip(), tz=tz, now=now, what=field), field)


def _parse(row, mapping, extra, tz, now) -> dict:
    lead = (_cell(row, mapping, "lead") or "").strip().lower()
    if not lead:
        raise RebookError("lead: empty")
    start = _time(_cell(row, mapping, "start"), "start", tz, now)
    booked_raw = _cell(row, mapping, "booked_at")
    booked = _time(booked_raw, "booked_at", tz, now) if booked_raw and booked_raw.strip() else start
    booked = min(booked, start)
    end_raw = _cell(row, mapping, "end")
    end = _time(end_raw, "end", tz, now) if end_raw and end_raw.strip() else start + timedelta(minutes=45)
    if end <= start:
        end = start + timedelta(minutes=45)
    outcome = _outcome(_cell(row, mapping, "outcome") or "", _cell(row, mapping, "no_show"))
    if outcome != "held" and start > now:
        raise RebookError("start: a meeting still ahead cannot have an outcome")
    by = (_cell(row, mapping, "cancelled_by") or "prospect").strip().lower()
    cancelled_raw = _cell(row, mapping, "cancelled_at")
    return {
        "lead": lead[:254], "start": start, "end": end, "booked_at": booked, "outcome": outcome,
        "by": Party.SELLER if by.startswith(("seller", "us", "me", "staff")) else Party.PROSPECT,
        "cancelled_at": _time(cancelled_raw, "cancelled_at", tz, now) if cancelled_raw and cancelled_raw.strip() else None,
        "reason": (_cell(row, mapping, "reason") or "").strip(), "source": (_cell(row, mapping, "source") or "").strip(),
        "name": (_cell(row, mapping, "name") or "").strip()[:200],
        "attributes": {column: _attribute(row[i]) for column, i in extra.items() if i < len(row) and row[i].strip()},
    }
