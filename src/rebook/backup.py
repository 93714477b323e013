"""Everything out and back: exports for spreadsheets and scripts, and whole-database backup and restore.

A backup is a consistent snapshot taken while Rebook runs: SQLite's online backup API on SQLite, and
on PostgreSQL a JSON dump read in one REPEATABLE READ transaction. `restore` brings either kind back
into an empty database (a SQLite backup can also go into PostgreSQL, through a JSON dump).
"""

from __future__ import annotations

import base64
import csv
import json
import os
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from django.conf import settings
from django.core import serializers
from django.core.management.color import no_style
from django.db import connection, connections, transaction
from django.utils.duration import duration_iso_string

from rebook.cards.models import BusinessCard
from rebook.contacts.services import neutralise
from rebook.errors import RebookError
from rebook.leads.models import Activity, Appointment, Cancellation, Lead
from rebook.outbox.models import PlannedMessage
from rebook.sellers.models import Seller

SQLITE_MAGIC = b"SQLite format 3\x00"
# What a backup holds: every table of Rebook's own (a test keeps this list complete), in an order that
# loads without breaking foreign keys.
BACKUP_MODELS = [
    "auth.user", "sellers.seller", "sellers.infopackfile", "sellers.loginfailure", "leads.lead", "leads.activity",
    "leads.appointment", "leads.cancellation", "leads.checklistitem", "outbox.plannedmessage", "outbox.messagetemplate",
    "api.apitoken", "api.ratewindow", "api.idempotencyrecord", "api.importrun", "api.inboundhook",
    "webhooks.endpoint", "webhooks.delivery", "prospects.addresswindow", "mailbox.mailbox",
    "mailbox.inboundmail", "mailbox.suggestion", "mailbox.replymodel", "forecast.riskmodel", "cards.businesscard",
    "cards.cardupload", "calendars.connection", "calendars.busytime", "calendars.calendarcopy",
]
# Not Rebook's data: made again by `migrate`, or sign-ins that a restore should not carry over.
NOT_BACKED_UP = {"auth.permission", "auth.group", "contenttypes.contenttype", "sessions.session"}
# The sign-ins a SQLite copy would otherwise carry over (the JSON dump never holds them).
SESSION_TABLE = "django_session"
# The secret that signed every link already sent (unsubscribe, and the ones to come) travels with the data,
# in a table of the SQLite copy and a key of the JSON dump.
META_TABLE = "rebook_backup_meta"

EXPORT_TABLES: dict[str, tuple[type, list[str]]] = {
    "leads": (Lead, ["id", "name", "company", "email", "phone", "source", "timezone", "status", "strikes",
                     "qualified_at", "nurture_since", "nurture_reason", "not_interested_at", "unsubscribed_at",
                     "notes", "qualifying_notes", "created_at"]),
    "appointments": (Appointment, ["id", "lead_id", "start", "end", "timezone", "location", "title", "status",
                                   "booked_at", "booked_by", "rescheduled_from_id", "chain", "all_day", "ical_uid",
                                   "channel"]),
    "cancellations": (Cancellation, ["id", "lead_id", "appointment_id", "by", "kind", "at", "reason", "category",
                                     "suggested_valid", "valid_override", "is_strike", "channel"]),
    "contacts": (Activity, ["id", "lead_id", "kind", "direction", "at", "notes"]),
    "messages": (PlannedMessage, ["id", "lead_id", "kind", "due", "status", "status_note", "subject", "body",
                                  "sent_at", "to_email", "attempts", "last_error"]),
    # The business card each lead came from; `image` is the photo itself, as a data: URI.
    "cards": (BusinessCard, ["id", "lead_id", "file", "event", "created_at", "text", "image"]),
}


def _value(obj, name: str, tz):
    value = getattr(obj, name)
    if isinstance(value, datetime):
        return value.astimezone(tz).isoformat()
    if value is None:
        return ""
    return str(value) if not isinstance(value, (bool, int)) else value


def export_rows(seller: Seller, table: str) -> Iterator[dict]:
    if table not in EXPORT_TABLES:
        raise RebookError(f"unknown table {table!r}; tables: {', '.join(EXPORT_TABLES)}")
    model, columns = EXPORT_TABLES[table]
    rows = model.objects.filter(seller=seller) if model is Lead else model.objects.filter(lead__seller=seller)
    tz = seller.tz
    for obj in rows.order_by("id").iterator(chunk_size=2000):
        yield {c: _value(obj, c, tz) for c in columns}


def export_csv(seller: Seller, table: str, out: TextIO) -> int:
    """One table as CSV; cells a spreadsheet would run as a formula are made plain text."""
    if table not in EXPORT_TABLES:
        raise RebookError(f"unknown table {table!r}; tables: {', '.join(EXPORT_TABLES)}")
    columns = EXPORT_TABLES[table][1]
    writer = csv.writer(out)
    writer.writerow(columns)
    n = 0
    for row in export_rows(seller, table):
        writer.writerow([neutralise(v) if isinstance(v, str) else v for v in row.values()])
        n += 1
    return n


def export_json(seller: Seller, out: TextIO, *, now: datetime) -> None:
    document = {"seller": seller.username, "timezone": seller.timezone, "exported_at": now.isoformat()}
    document |= {table: list(export_rows(seller, table)) for table in EXPORT_TABLES}
    json.dump(document, out, indent=1, ensure_ascii=False)


# --- backup and restore --------------------------------------------------------------------------


def backup(path: Path) -> str:
    """Write a consistent snapshot to ``path``; returns "sqlite" or "json"."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(path)
        try:
            connection.connection.backup(target)  # the online backup API: consistent while others write
            with target:
                target.execute(f"DELETE FROM {SESSION_TABLE}")
                target.execute(f"CREATE TABLE {META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                target.execute(f"INSERT INTO {META_TABLE} VALUES ('secret_key', ?)", (settings.SECRET_KEY,))
        finally:
            target.close()
        return "sqlite"
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        with open(path, "w", encoding="utf-8") as out:
            _dump(out, using="default")
    return "json"


def _dump(out: TextIO, *, using: str) -> None:
    """Every object as Django's "python" serialization, written one by one (full microseconds, bounded memory)."""
    from django.apps import apps

    out.write(f'{{"rebook_backup": 1, "secret_key": {json.dumps(settings.SECRET_KEY)}, "objects": [\n')
    first = True
    for label in BACKUP_MODELS:
        model = apps.get_model(label)
        for obj in model.objects.using(using).order_by("pk").iterator(chunk_size=2000):
            record = serializers.serialize("python", [obj])[0]
            out.write(("" if first else ",\n") + json.dumps(record, default=_plain, ensure_ascii=False))
            first = False
    out.write("\n]}\n")


def _plain(value):
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()  # json's DjangoJSONEncoder would cut microseconds to milliseconds
    if isinstance(value, (bytes, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, (uuid.UUID, Decimal, timedelta)):
        return str(value) if not isinstance(value, timedelta) else duration_iso_string(value)
    raise TypeError(f"cannot back up a {type(value).__name__}")


def database_is_empty() -> bool:
    return not (Seller.objects.exists() or Lead.objects.exists())


def restore(path: Path) -> dict[str, int]:
    """Bring a backup back into this (empty) database; returns how many of each were restored."""
    if not path.exists():
        raise RebookError(f"{path}: no such file")
    if not database_is_empty():
        raise RebookError(
            f"this database is not empty ({Seller.objects.count()} seller(s), {Lead.objects.count()} lead(s)); "
            "restore into a new REBOOK_HOME or an empty DATABASE_URL"
        )
    with open(path, "rb") as f:
        head = f.read(16)
    if head == SQLITE_MAGIC:
        secret = _restore_sqlite(path)
    elif head.lstrip().startswith(b"{"):
        secret = _restore_json(path)
    else:
        raise RebookError(f"{path} is not a Rebook backup (neither a SQLite database nor a JSON dump)")
    return {"sellers": Seller.objects.count(), "leads": Lead.objects.count(),
            "appointments": Appointment.objects.count(), "messages": PlannedMessage.objects.count(),
            "secret_key": _adopt_secret(secret)}


def _adopt_secret(secret: str | None) -> str:
    """Make the backup's secret key this installation's, so links already sent keep working. Says what it did."""
    if not secret:
        return "not in the backup (made before backups carried it): links sent before it no longer work"
    if secret == settings.SECRET_KEY:
        return "already the same"
    if os.environ.get("REBOOK_SECRET_KEY"):
        return "REBOOK_SECRET_KEY is set and differs from the backup's: links sent before will not work until it is the backup's"
    path = settings.REBOOK_HOME / "secret_key"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(secret)
    path.chmod(0o600)
    return f"restored into {path}"


def _restore_json(path: Path) -> str | None:
    with open(path, encoding="utf-8") as f:
        try:
            document = json.load(f)
        except json.JSONDecodeError as e:
            raise RebookError(f"{path}: not a readable backup (line {e.lineno}: {e.msg})") from None
    if not isinstance(document, dict) or not isinstance(document.get("objects"), list):
        raise RebookError(f"{path}: not a Rebook backup (no \"objects\" in it)")
    models = set()
    with transaction.atomic():
        try:
            seller_of: dict[int, int] = {}  # lead -> seller, for backups made before rows carried the seller
            for item in serializers.deserialize("python", document["objects"]):
                obj = item.object
                if isinstance(obj, Lead):
                    seller_of[obj.pk] = obj.seller_id
                elif isinstance(obj, Appointment | Cancellation | PlannedMessage) and obj.seller_id is None:
                    obj.seller_id = seller_of.get(obj.lead_id)
                item.save()
                models.add(type(obj))
        except serializers.base.DeserializationError as e:
            raise RebookError(f"{path}: a damaged backup ({e})") from None
        # New rows must get ids after the restored ones (PostgreSQL keeps a sequence per table).
        statements = connection.ops.sequence_reset_sql(no_style(), list(models))
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
    secret = document.get("secret_key")
    return secret if isinstance(secret, str) else None


def _restore_sqlite(path: Path) -> str | None:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        source = sqlite3.connect(path)
        try:
            _check_sqlite_backup(source, path)
            secret = _sqlite_secret(source)
            source.backup(connection.connection)
        finally:
            source.close()
        connection.connection.execute(f"DROP TABLE IF EXISTS {META_TABLE}")
        connection.connection.execute(f"DELETE FROM {SESSION_TABLE}")  # a backup made before backups left them out
        return secret
    # Into PostgreSQL: read the SQLite file through a second connection and load what it dumps.
    alias = "rebook_restore_source"
    connections.settings[alias] = {**connections.settings["default"], "ENGINE": "django.db.backends.sqlite3",
                                   "NAME": str(path), "OPTIONS": {}, "TEST": {}}
    try:
        source = sqlite3.connect(path)
        try:
            _check_sqlite_backup(source, path)
            secret = _sqlite_secret(source)
        finally:
            source.close()
        with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8", delete=False) as tmp:
            _dump(tmp, using=alias)
        _restore_json(Path(tmp.name))
        Path(tmp.name).unlink(missing_ok=True)
    finally:
        connections[alias].close()
        del connections.settings[alias]
    return secret


def _sqlite_secret(source: sqlite3.Connection) -> str | None:
    try:
        row = source.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'secret_key'").fetchone()
    except sqlite3.OperationalError:  # a backup made before backups carried the secret
        return None
    return row[0] if row else None


def _check_sqlite_backup(source: sqlite3.Connection, path: Path) -> None:
    tables = {row[0] for row in source.execute("select name from sqlite_master where type='table'")}
    if "leads_lead" not in tables:
        raise RebookError(f"{path} is a SQLite database, but not a Rebook backup")
