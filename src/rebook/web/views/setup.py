"""The seller's own setup: message templates (with a live preview), the info pack, and the policy."""

from __future__ import annotations

from django import forms
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_POST

from rebook.errors import RebookError
from rebook.outbox.compose import TemplateSource, render_source, sample_context, template_source
from rebook.outbox.models import MESSAGE_TITLES
from rebook.outbox.services import template_reset, template_save
from rebook.outbox.templating import TemplateError
from rebook.sellers.services import (
    PolicyErrors,
    seller_info_file_add,
    seller_info_file_remove,
    seller_info_pack_set,
    seller_policy_update,
)
from rebook.strategy.followups import MESSAGE_KINDS
from rebook.strategy.policy import POLICY_HELP, policy_as_text
from rebook.web.forms import InfoPackForm, TemplateForm
from rebook.web.views.base import done, now, refused, seller_view

KIND_TITLES = MESSAGE_TITLES
_PART_FIELDS = {"subject": "subject", "text body": "text", "HTML body": "html"}


@seller_view
def templates(request):
    kinds = [(k, KIND_TITLES[k], template_source(request.seller, k)) for k in MESSAGE_KINDS]
    return render(request, "web/templates.html", {"kinds": kinds})


def _kind(kind: str) -> str:
    if kind not in MESSAGE_KINDS:
        raise Http404("no such kind of message")
    return kind


def _add_template_error(form, error: RebookError) -> None:
    if isinstance(error, TemplateError):
        form.add_error(_PART_FIELDS.get(error.part), f"Line {error.line}: {error.problem}")
    else:
        text = str(error)
        part = next((p for p in _PART_FIELDS if text.startswith(f"{p}, line")), None)
        form.add_error(_PART_FIELDS.get(part), text)


@seller_view
def template_edit(request, kind: str):
    kind = _kind(kind)
    source = template_source(request.seller, kind)
    form = TemplateForm(request.POST or None, initial={"kind": kind, "subject": source.subject, "text": source.text,
                                                        "html": source.html})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            template_save(seller=request.seller, kind=kind, subject=data["subject"], text=data["text"], html=data["html"])
        except RebookError as e:
            _add_template_error(form, e)
        else:
            return done(request, f"Saved your {KIND_TITLES[kind].lower()} template.", "template", kind)
    return render(request, "web/template.html", {
        "kind": kind, "title": KIND_TITLES[kind], "form": form, "custom": source.custom,
        "preview": _preview(request.seller, form.data if form.is_bound else form.initial),
    }, status=400 if form.errors else 200)


def _preview(seller, data) -> dict:
    source = TemplateSource(data.get("subject", ""), data.get("text", ""), data.get("html", ""))
    try:
        subject, text, html = render_source(source, sample_context(seller, now()))
    except RebookError as e:
        return {"error": str(e)}
    return {"subject": subject, "text": text, "html": html}


@seller_view
@require_POST
def template_preview(request, kind: str):
    """The template as typed so far, rendered for Sam Sample (an htmx fragment)."""
    _kind(kind)
    return render(request, "web/_template_preview.html", {"preview": _preview(request.seller, request.POST)})


@seller_view
@require_POST
def template_reset_view(request, kind: str):
    kind = _kind(kind)
    template_reset(seller=request.seller, kind=kind)
    return done(request, f"{KIND_TITLES[kind]} uses the shipped default again.", "template", kind)


@seller_view
def infopack(request):
    seller = request.seller
    form = InfoPackForm(request.POST or None, request.FILES or None,
                        initial={"text": seller.info_text, "links": "\n".join(seller.info_links)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            seller_info_pack_set(seller=seller, text=data["text"], links=data["links"].splitlines())
            if data["file"]:
                upload = data["file"]
                seller_info_file_add(seller=seller, name=upload.name, data=upload.read(),
                                     content_type=upload.content_type or "")
        except RebookError as e:
            form.add_error("file" if "file" in str(e) else "links", str(e))
        else:
            return done(request, "Saved your info pack.", "infopack")
    return render(request, "web/infopack.html", {"form": form, "files": seller.info_files.all()},
                  status=400 if form.errors else 200)


@seller_view
@require_POST
def infopack_remove(request):
    try:
        seller_info_file_remove(seller=request.seller, name=request.POST.get("name", ""))
    except RebookError as e:
        return refused(request, e, "infopack")
    return done(request, "Removed the file.", "infopack")


class PolicyForm(forms.Form):
    def __init__(self, *args, values: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        for key, value in values.items():
            if value in ("true", "false"):
                self.fields[key] = forms.BooleanField(required=False, initial=value == "true", help_text=POLICY_HELP[key])
            else:
                self.fields[key] = forms.CharField(initial=value, help_text=POLICY_HELP[key], max_length=40)
            self.fields[key].label = key.replace("_", " ").capitalize()

    def as_values(self) -> dict[str, str]:
        return {k: ("true" if v else "false") if isinstance(v, bool) else v for k, v in self.cleaned_data.items()}


@seller_view
def policy(request):
    values = policy_as_text(request.seller.policy)
    form = PolicyForm(request.POST or None, values=values)
    if request.method == "POST" and form.is_valid():
        try:
            seller_policy_update(seller=request.seller, values=form.as_values())
        except PolicyErrors as e:
            for error in e.errors:
                key = next((k for k in values if str(error).startswith(f"policy {k}")), None)
                form.add_error(key, str(error).removeprefix(f"policy {key}: ").removeprefix(f"policy {key} "))
        else:
            return done(request, "Saved your policy; every lead was re-evaluated.", "policy")
    return render(request, "web/policy.html", {"form": form}, status=400 if form.errors else 200)
