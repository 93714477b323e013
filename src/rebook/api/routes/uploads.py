"""Imports: a file uploaded here is imported by the worker; its report is polled."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import Http404
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile

from rebook.api.base import Id, Problem, Text, api, problem
from rebook.api.models import ImportRun
from rebook.imports import import_enqueue
from rebook.strategy.limits import MAX_UPLOAD_BYTES


class ImportOut(Schema):
    id: int
    file: str
    kind: str
    status: Literal["queued", "running", "done", "failed"]
    error: str
    created_at: datetime
    finished_at: datetime | None
    report: dict[str, Any]


router = Router(tags=["imports"])


FORM = {"dry_run", "columns"}
# The file must have content, and nothing but these three parts is taken.
STRICT_FORM = {"requestBody": {"content": {"multipart/form-data": {"schema": {
    "additionalProperties": False, "properties": {"file": {"minLength": 1}}}}}}}


@router.post("", response={202: ImportOut, 413: Problem, 422: Problem}, openapi_extra=STRICT_FORM)
def import_upload(request, file: UploadedFile = File(...), dry_run: bool = Form(False), columns: Text = Form("")):
    """Upload a calendar file or e-mail (.ics, .eml, .mbox) or contacts (.csv, .vcf). The worker imports it:
    poll `GET /imports/{id}` until `status` is `done` (the report) or `failed` (`error` says why)."""
    unknown = sorted((set(request.POST) - FORM) | (set(request.FILES) - {"file"}))
    if unknown:
        return problem(request, 422, "validation", "Invalid request", "Unknown parts in the form.",
                       errors=[{"field": name[:60], "message": "not a part this upload takes (file, dry_run, columns)"}
                               for name in unknown[:10]])
    if not file.size:
        return problem(request, 422, "validation", "Invalid request", "The file is empty.",
                       errors=[{"field": "file", "message": "the file is empty"}])
    if file.size is not None and file.size > MAX_UPLOAD_BYTES:
        return problem(request, 413, "too-large", "Upload too large",
                       f"file: {file.size // (1024 * 1024)} MB; the limit is {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    name = _clean_name(file.name or "") or "upload"
    mapping = {}
    for line in columns.splitlines():
        column, sep, target = line.rpartition("=")
        if sep and column.strip():
            mapping[column.strip()] = target.strip().lower()
    run = import_enqueue(seller=request.seller, data=file.read(), name=name, dry_run=dry_run, columns=mapping)
    response = api.create_response(request, ImportOut.from_orm(run).dict(), status=202)
    response["Location"] = f"/api/v1/imports/{run.pk}"
    return response


def _clean_name(name: str) -> str:
    return name.replace("\x00", "").encode("utf-8", errors="ignore").decode()[:255]


@router.get("/{import_id}", response={200: ImportOut, 404: Problem})
def import_read(request, import_id: Id):
    run = ImportRun.objects.filter(seller=request.seller, pk=import_id).first()
    if run is None:
        raise Http404(f"no import with id {import_id}")
    return run
