"""Import and export: upload a calendar or contacts file, download exports, the private feed URL."""

from __future__ import annotations

import io

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from rebook.backup import EXPORT_TABLES, export_csv, export_json
from rebook.calendars.feed import feed, feed_token_rotate, feed_url
from rebook.errors import RebookError
from rebook.filekind import file_kind
from rebook.web.views.base import done, now, seller_view

MAX_UPLOAD = 50 * 1024 * 1024


class ImportForm(forms.Form):
    file = forms.FileField(help_text="A calendar file (.ics), an e-mail with an invitation (.eml, .mbox), or contacts (.csv, .vcf).")
    columns = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Column mapping (CSV, optional)",
                              help_text='One per line, e.g. "E-mail Address=email". Fields: name, first_name, last_name, email, phone, company, source, notes, ignore.')
    dry_run = forms.BooleanField(required=False, label="Only show what would happen")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(f"The file is {upload.size // (1024 * 1024)} MB; the limit is 50 MB.")
        return upload

    def clean_columns(self):
        mapping = {}
        for number, line in enumerate(self.cleaned_data["columns"].splitlines(), start=1):
            if not line.strip():
                continue
            column, sep, target = line.rpartition("=")
            if not sep or not column.strip():
                raise forms.ValidationError(f'Line {number}: write COLUMN=FIELD, e.g. "E-mail Address=email".')
            mapping[column.strip()] = target.strip().lower()
        return mapping


@seller_view
def data(request):
    seller = request.seller
    form = ImportForm(request.POST or None, request.FILES or None)
    calendar_report = contact_report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        raw = upload.read()
        try:
            if file_kind(upload.name, raw[:4096]) == "calendar":
                from rebook.calendars.services import calendar_import

                calendar_report = calendar_import(seller=seller, data=raw, name=upload.name,
                                                  dry_run=form.cleaned_data["dry_run"])
            else:
                from rebook.contacts.services import contact_import

                contact_report = contact_import(seller=seller, stream=io.BytesIO(raw), name=upload.name,
                                                overrides=form.cleaned_data["columns"], dry_run=form.cleaned_data["dry_run"])
                request.session["import_report"] = contact_report.report_csv()
        except RebookError as e:
            form.add_error("columns" if str(e).startswith("--map") else "file", str(e).removeprefix("--map: "))
    return render(request, "web/data.html", {
        "form": form, "calendar_report": calendar_report, "contact_report": contact_report,
        "tables": list(EXPORT_TABLES), "feed_url": feed_url(seller),
    }, status=400 if form.errors else 200)


@seller_view
@require_GET
def import_report(request):
    text = request.session.get("import_report") or "line,outcome,reason\n"
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
