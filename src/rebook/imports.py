"""One way in for a file, whichever importer it is for, from the command line, the web app, the API or
the worker. Uploads from the web app and the API are queued (ImportRun) and run by the worker, so a
hostile or huge file never holds a web process; the page and `GET /imports/{id}` poll the report."""

from __future__ import annotations

import io
import logging
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from rebook.claims import claim_one
from rebook.errors import RebookError
from rebook.filekind import file_kind
from rebook.sellers.models import Seller
from rebook.stopping import Interrupted
from rebook.strategy.limits import MAX_UPLOAD_BYTES

log = logging.getLogger("rebook.imports")


def import_file(*, seller: Seller, data: bytes, name: str, dry_run: bool = False,
                columns: dict[str, str] | None = None, window: tuple[datetime, datetime] | None = None,
                now: datetime | None = None) -> tuple[str, dict]:
    """("calendar" or "contacts", the report as a dict). Raises RebookError when the file cannot be read at all."""
    _check_size(name, data)
    if file_kind(name, data[:4096]) == "calendar":
        from rebook.calendars.services import calendar_import

        return "calendar", calendar_import(seller=seller, data=data, name=name, window=window, dry_run=dry_run,
                                           now=now).as_dict()
    from rebook.contacts.services import contact_import

    report = contact_import(seller=seller, stream=io.BytesIO(data), name=name, overrides=columns or {},
                            dry_run=dry_run, now=now)
    return "contacts", report.as_dict() | {"report_csv": report.report_csv()}


def _check_size(name: str, data: bytes) -> None:
    if len(data) > MAX_UPLOAD_BYTES:
        raise RebookError(f"{name}: {len(data) // (1024 * 1024)} MB; the limit is {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")


def import_enqueue(*, seller: Seller, data: bytes, name: str, dry_run: bool = False,
                   columns: dict[str, str] | None = None, now: datetime | None = None):
    """Queue an upload for the worker; the returned ImportRun is polled for its report."""
    from rebook.api.models import ImportRun

    if not data.strip():
        raise RebookError(f"{name}: the file is empty")
    _check_size(name, data)
    return ImportRun.objects.create(
        seller=seller, file=name[:255], kind=file_kind(name, data[:4096]), status=ImportRun.Status.QUEUED,
        data=data, options={"dry_run": dry_run, "columns": columns or {}}, created_at=now or timezone.now(),
    )


def import_claim(*, worker: str, now: datetime, lease: timedelta):
    """The oldest queued import (or one whose worker died), claimed for this worker, or None."""
    from rebook.api.models import ImportRun

    Status = ImportRun.Status
    ready = (Q(status=Status.RUNNING, lease_until__lt=now), Q(status=Status.QUEUED))
    pk = claim_one(ImportRun, ready, ("created_at", "id"), status=Status.RUNNING, claimed_by=worker,
                   lease_until=now + lease)
    return None if pk is None else ImportRun.objects.select_related("seller__user").get(pk=pk)


def import_execute(*, run, worker: str, now: datetime | None = None) -> None:
    """Run a claimed import and record its report (or why the file could not be read), dropping the upload.

    Interrupted part-way (the worker is stopping), nothing of the file is kept and the run is queued again,
    for this worker's successor or another worker; then Interrupted is raised again."""
    from rebook.api.models import ImportRun

    options = run.options or {}
    changes: dict = {"data": None, "claimed_by": "", "lease_until": None}
    try:
        kind, report = import_file(seller=run.seller, data=bytes(run.data or b""), name=run.file,
                                   dry_run=bool(options.get("dry_run")), columns=options.get("columns") or {}, now=now)
    except Interrupted:
        ImportRun.objects.filter(pk=run.pk, status=ImportRun.Status.RUNNING, claimed_by=worker).update(
            status=ImportRun.Status.QUEUED, claimed_by="", lease_until=None)
        run.refresh_from_db()
        raise
    except RebookError as e:
        changes |= {"status": ImportRun.Status.FAILED, "error": str(e)}
    except Exception as e:  # a defect must not make the worker retry the same file forever
        log.exception("import %s failed", run.pk)
        changes |= {"status": ImportRun.Status.FAILED, "error": f"Rebook could not import this file ({type(e).__name__})"}
    else:
        changes |= {"status": ImportRun.Status.DONE, "kind": kind, "report": report}
    changes["finished_at"] = timezone.now()
    ImportRun.objects.filter(pk=run.pk, status=ImportRun.Status.RUNNING, claimed_by=worker).update(**changes)
    run.refresh_from_db()
