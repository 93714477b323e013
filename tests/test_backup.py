"""Everything out and back: exports, and a backup restored into an empty database loses nothing."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sqlite3
import subprocess
import sys
import uuid

import pytest
from django.db import connection

from rebook.backup import export_csv
from rebook.leads.services import lead_create
from tests.clirunner import Rebook
from tests.conftest import child_env, rebook_executable


def test_csv_cells_that_look_like_formulas_are_neutralised(alice):
    lead_create(seller=alice, name="=HYPERLINK(\"http://evil\",\"x\")", company="@SUM(A1)", notes="-2+3",
                email="dana@example.com", phone="+1 555 201 0100")
    out = io.StringIO()
    export_csv(alice, "leads", out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[0]["name"] == "'=HYPERLINK(\"http://evil\",\"x\")"
    assert (rows[0]["company"], rows[0]["notes"], rows[0]["phone"]) == ("'@SUM(A1)", "'-2+3", "'+1 555 201 0100")
    assert rows[0]["email"] == "dana@example.com"


def test_export_json_holds_every_table(alice, charlie):
    data = json.loads(Rebook()("export", "json").stdout)
    assert set(data) >= {"leads", "appointments", "cancellations", "contacts", "messages", "exported_at"}
    assert data["leads"][0]["name"] == "Charlie Chen"


def _run(env, *args):
    done = subprocess.run([rebook_executable(), *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _python(env, code: str) -> str:
    setup = "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'rebook.settings'); django.setup()\n"
    done = subprocess.run([sys.executable, "-c", setup + code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextlib.contextmanager
def restore_target(folder):
    """A `rebook` environment with a home of its own and, on PostgreSQL, an empty database of its own, dropped after."""
    target = child_env(folder)
    empty_db = None
    if connection.vendor == "postgresql":
        empty_db = f"rebook_restore_{uuid.uuid4().hex[:8]}"
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {empty_db}")
        target["DATABASE_URL"] = target["DATABASE_URL"].rsplit("/", 1)[0] + f"/{empty_db}"
    try:
        yield target
    finally:
        if empty_db:
            from django.db import connections

            for conn in connections.all():
                conn.close()
            with connection.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {empty_db} WITH (FORCE)")



# Every row of every table, read straight from the database (not through what the backup thinks it holds).
EVERY_TABLE = """
import json
from django.db import connection
skip = {"django_migrations", "django_session", "django_content_type", "auth_permission", "auth_group_permissions",
        "sqlite_sequence"}
out = {}
with connection.cursor() as cursor:
    for table in sorted(connection.introspection.table_names()):
        if table not in skip:
            cursor.execute(f'SELECT * FROM "{table}"')
            out[table] = sorted(repr(row) for row in cursor.fetchall())
print(json.dumps(out))
"""


def test_the_backup_holds_every_table_of_rebooks_own(db):
    from django.apps import apps

    from rebook.backup import BACKUP_MODELS, NOT_BACKED_UP

    assert set(BACKUP_MODELS) | NOT_BACKED_UP == {m._meta.label_lower for m in apps.get_models()}


@pytest.mark.subprocess
@pytest.mark.django_db(transaction=True)
def test_a_backup_restored_into_an_empty_database_loses_nothing(tmp_path):
    source = child_env(tmp_path / "a")
    _run(source, "demo")
    # What the demo does not make: an API token, a webhook (its secret), the inbound hook (its URL and secret).
    _run(source, "token", "create", "--name", "Booking page")
    _run(source, "webhook", "add", "https://hooks.example.com/rebook")
    inbound = json.loads(_run(source, "webhook", "inbound", "--json"))
    link = _python(source, "from rebook.outbox.mail import unsubscribe_url; print(unsubscribe_url(1))").strip()
    backup = tmp_path / "backup.data"
    kind = json.loads(_run(source, "backup", str(backup), "--json"))["kind"]
    assert kind == ("json" if connection.vendor == "postgresql" else "sqlite")

    with restore_target(tmp_path / "b") as target:
        restored = json.loads(_run(target, "restore", str(backup), "--json"))
        assert restored["leads"] == 24 and restored["sellers"] == 1
        assert restored["secret_key"].startswith("restored into")
        assert json.loads(_python(target, EVERY_TABLE)) == json.loads(_python(source, EVERY_TABLE))
        assert json.loads(_run(target, "webhook", "inbound", "--json")) == inbound  # same URL, same secret
        # An unsubscribe link sent before the backup still works after the restore into a new home.
        token = link.rstrip("/").rsplit("/", 1)[1]
        assert _python(target, f"from rebook.outbox.mail import unsubscribe_lead_id; print(unsubscribe_lead_id({token!r}))"
                       ).strip() == "1"
        before = json.loads(_run(source, "export", "json"))
        after = json.loads(_run(target, "export", "json"))
        for doc in (before, after):
            doc.pop("exported_at")
        for table in ("leads", "appointments", "cancellations", "contacts", "messages"):
            diffs = [(k, b[k], a[k]) for b, a in zip(before[table], after[table], strict=True) for k in b if a[k] != b[k]]
            assert not diffs, (table, diffs[:3])
        assert after == before
        # A second restore is refused: the database is no longer empty.
        again = subprocess.run([rebook_executable(), "restore", str(backup)], env=target, capture_output=True, text=True)
        assert again.returncode == 1 and "this database is not empty" in again.stderr


def test_restore_refuses_what_is_not_a_backup(db, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    assert "is not a Rebook backup" in Rebook().error("restore", str(path))


@pytest.mark.subprocess
@pytest.mark.django_db(transaction=True)
def test_a_sqlite_backup_moves_into_postgresql(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("moves a SQLite backup into PostgreSQL")
    sqlite_home = child_env(tmp_path / "a")
    sqlite_home.pop("DATABASE_URL")
    _run(sqlite_home, "demo")
    backup = tmp_path / "backup.sqlite3"
    assert json.loads(_run(sqlite_home, "backup", str(backup), "--json"))["kind"] == "sqlite"
    target = child_env(tmp_path / "b")
    empty_db = f"rebook_restore_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {empty_db}")
    target["DATABASE_URL"] = target["DATABASE_URL"].rsplit("/", 1)[0] + f"/{empty_db}"
    try:
        _run(target, "restore", str(backup))
        before, after = json.loads(_run(sqlite_home, "export", "json")), json.loads(_run(target, "export", "json"))
        for doc in (before, after):
            doc.pop("exported_at")
        assert after == before
        # New rows get fresh ids after the restored ones.
        _run(target, "lead", "add", "After Restore")
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {empty_db} WITH (FORCE)")


@pytest.mark.django_db(transaction=True)
def test_a_backup_from_before_rows_carried_their_seller_restores_with_it(tmp_path):
    """Appointments, cancellations and messages carry their lead's seller since the benchmarks (issue 6);
    a JSON backup written before that has no such field, and restore fills it in from the lead."""
    from datetime import timedelta

    from rebook.backup import _dump, restore
    from rebook.leads.models import Appointment, Cancellation, Lead
    from rebook.leads.services import appointment_book, appointment_cancel, lead_create
    from rebook.outbox.models import PlannedMessage
    from rebook.sellers.models import Seller
    from rebook.sellers.services import seller_create
    from tests.conftest import NOW

    seller = seller_create(username="old", email="old@example.com", timezone_name="Europe/London")
    lead = lead_create(seller=seller, name="Dana", email="dana@example.com", now=NOW)
    appt = appointment_book(lead=lead, start=NOW + timedelta(days=3), end=NOW + timedelta(days=3, hours=1), now=NOW)
    appointment_cancel(appointment=appt, by="prospect", reason="Something came up", now=NOW)
    path = tmp_path / "old.json"
    with open(path, "w", encoding="utf-8") as out:
        _dump(out, using="default")
    document = json.loads(path.read_text())
    stripped = 0
    for record in document["objects"]:
        if record["model"] in ("leads.appointment", "leads.cancellation", "outbox.plannedmessage"):
            del record["fields"]["seller"]
            stripped += 1
    assert stripped >= 3
    path.write_text(json.dumps(document))
    counts = (Appointment.objects.count(), Cancellation.objects.count(), PlannedMessage.objects.count())
    for model in (PlannedMessage, Cancellation, Appointment, Lead, Seller):
        model.objects.all().delete()
    from django.contrib.auth import get_user_model

    get_user_model().objects.all().delete()

    restore(path)
    seller = Seller.objects.get()
    assert (Appointment.objects.filter(seller=seller).count(), Cancellation.objects.filter(seller=seller).count(),
            PlannedMessage.objects.filter(seller=seller).count()) == counts


@pytest.mark.subprocess
@pytest.mark.django_db(transaction=True)
def test_nobody_stays_signed_in_through_a_backup_and_restore(tmp_path):
    source = child_env(tmp_path / "a")
    _run(source, "init", "--name", "Sam Seller")
    signed_in = "from django.contrib.sessions.backends.db import SessionStore\n"
    key = _python(source, signed_in + "s = SessionStore(); s['_auth_user_id'] = '1'; s.create(); print(s.session_key)").strip()
    backups = [tmp_path / "backup.data"]
    _run(source, "backup", str(backups[0]))
    if connection.vendor == "sqlite":
        copy = sqlite3.connect(backups[0])
        assert copy.execute("SELECT count(*) FROM django_session").fetchone() == (0,)  # the file holds none
        copy.close()
        # A copy made before backups left sign-ins out still holds them.
        backups.append(tmp_path / "older.data")
        live, older = sqlite3.connect(tmp_path / "a/home/rebook.sqlite3"), sqlite3.connect(backups[1])
        live.backup(older)
        live.close(), older.close()

    for n, backup in enumerate(backups):
        with restore_target(tmp_path / f"b{n}") as target:
            _run(target, "restore", str(backup))
            still = f"print(SessionStore().exists({key!r}), SessionStore.get_model_class().objects.count())"
            assert _python(target, signed_in + still).split() == ["False", "0"], backup.name
