"""Import and export: upload a calendar or contacts file, download exports, the private feed URL."""

from __future__ import annotations

import io

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from rebook.api.models import ImportRun
from rebook.backup import EXPORT_TABLES, export_csv, export_json
from rebook.calendars.feed import feed, feed_token_rotate, feed_url
from rebook.contacts.reading import FIELDS
from rebook.errors import RebookError
from rebook.imports import import_enqueue
from rebook.strategy.limits import MAX_UPLOAD_BYTES
from rebook.web.views.base import done, now, seller_view

MAX_UPLOAD = MAX_UPLOAD_BYTES


class ImportForm(forms.Form):
    file = forms.FileField(help_text="A calendar file (.ics), an e-mail with an invitation (.eml, .mbox), or contacts (.csv, .vcf).")
    columns = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Column mapping (CSV, optional)",
                              help_text='One per line, e.g. "E-mail Address=email". Fields: name, first_name, last_name, email, phone, company, source, notes, ignore.')
    dry_run = forms.BooleanField(required=False, label="Only show what would happen")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(f"The file is {upload.size // (1024 * 1024)} MB; "
                                        f"the limit is {MAX_UPLOAD // (1024 * 1024)} MB.")
        return upload

    def clean_columns(self):
        mapping = {}
        for number, line in enumerate(self.cleaned_data["columns"].splitlines(), start=1):
            if not line.strip():
                continue
            column, sep, target = line.rpartition("=")
            if not sep or not column.strip():
                raise forms.ValidationError(f'Line {number}: write COLUMN=FIELD, e.g. "E-mail Address=email".')
            if target.strip().lower() not in FIELDS:
                raise forms.ValidationError(f"Line {number}: {target.strip()!r} is not a field; fields: {', '.join(FIELDS)}.")
            mapping[column.strip()] = target.strip().lower()
        return mapping


@seller_view
def data(request):
    seller = request.seller
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            run = import_enqueue(seller=seller, data=upload.read(), name=upload.name[:255],
                                 dry_run=form.cleaned_data["dry_run"], columns=form.cleaned_data["columns"])
        except RebookError as e:
            form.add_error("file", str(e))
        else:
            return redirect("import_run", import_id=run.pk)
    return render(request, "web/data.html", {
        "form": form, "tables": list(EXPORT_TABLES), "feed_url": feed_url(seller),
    }, status=400 if form.errors else 200)


def _import_run(request, import_id: int) -> ImportRun:
    run = ImportRun.objects.filter(seller=request.seller, pk=import_id).first()
    if run is None:
        raise Http404("no such import")
    return run


@seller_view
@require_GET
def import_run(request, import_id: int):
    """An upload's progress: the page refreshes itself (no script needed) until the worker is done."""
    run = _import_run(request, import_id)
    report = run.report or {}
    return render(request, "web/import.html", {
        "run": run, "pending": run.status in {ImportRun.Status.QUEUED, ImportRun.Status.RUNNING},
        "calendar_report": report if run.kind == "calendar" and run.status == ImportRun.Status.DONE else None,
        "contact_report": report if run.kind == "contacts" and run.status == ImportRun.Status.DONE else None,
    })


@seller_view
@require_GET
def import_report(request, import_id: int):
    text = (_import_run(request, import_id).report or {}).get("report_csv") or "line,outcome,reason\n"
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="rebook-import-report.csv"'
    return response


@seller_view
@require_GET
def export(request, fmt: str):
    seller = request.seller
    stamp = f"{now():%Y%m%d}"
    if fmt == "ics":
        response = HttpResponse(feed(seller, now=now()), content_type="text/calendar; charset=utf-8")
        name = f"rebook-{stamp}.ics"
    elif fmt == "json":
        out = io.StringIO()
        export_json(seller, out, now=now())
        response = HttpResponse(out.getvalue(), content_type="application/json; charset=utf-8")
        name = f"rebook-{stamp}.json"
    else:
        table = request.GET.get("table", "leads")
        out = io.StringIO()
        try:
            export_csv(seller, table, out)
        except RebookError as e:
            return HttpResponse(str(e), status=400, content_type="text/plain; charset=utf-8")
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        name = f"rebook-{table}-{stamp}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@seller_view
@require_POST
def feed_rotate(request):
    feed_token_rotate(seller=request.seller)
    return done(request, "Your feed has a new address; calendars subscribed to the old one stop updating.", "data")
