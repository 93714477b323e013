"""Forms: they read and check what people type; the services decide. Errors land next to their field."""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.safestring import mark_safe

from rebook.addresses import phone_as_written
from rebook.errors import RebookError
from rebook.leads.models import Activity, Lead
from rebook.strategy.durations import parse_duration
from rebook.strategy.followups import MESSAGE_KINDS
from rebook.strategy.limits import MAX_MEETING
from rebook.timeparse import parse_time

LEAD_STATUSES = [("", "Any status"), *Lead.Status.choices]
TIMEZONE_HELP = 'An IANA name such as "Europe/Paris"; leave empty for your own.'


TIME_HINT = 'Type it as you would say it: "tomorrow 10am", "Fri 3pm" or "2027-03-06 14:00", in your time zone.'


class SellerTimeField(forms.CharField):
    """A moment typed in the seller's zone: "tomorrow 10am", "Fri 3pm" or ISO 8601. A text box, not the
    browser's date-time picker, which takes no phrase (the docs promise phrases)."""

    widget = forms.TextInput(attrs={"autocomplete": "off", "placeholder": "tomorrow 10am"})

    def __init__(self, *, tz=None, **kwargs):
        self.tz = tz
        help_text = kwargs.pop("help_text", "")
        super().__init__(help_text=f"{help_text} {TIME_HINT}".strip(), **kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return None
        try:
            return parse_time(text, tz=self.tz, now=timezone.now(), what="time")
        except RebookError as e:
            raise forms.ValidationError(str(e).removeprefix("time: ")) from None


class SellerForm(forms.Form):
    """A form that knows the seller, for time zones and the seller's own rules."""

    def __init__(self, *args, seller, **kwargs):
        self.seller = seller
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, SellerTimeField):
                field.tz = seller.tz


@functools.cache  # the zone database is read from disk: once a process
def _zones() -> list[tuple[str, str]]:
    import zoneinfo

    names = sorted(name for name in zoneinfo.available_timezones() if "/" in name and not name.startswith("Etc/"))
    return [("UTC", "UTC")] + [(name, name.replace("_", " ")) for name in names]


class TimezoneForm(forms.Form):
    timezone = forms.ChoiceField(
        label="Your time zone", choices=_zones,
        help_text="Every time Rebook shows you, and every time you type, is in this zone. Prospects see theirs.")


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That user name and password do not match. Both are case-sensitive.",
    }


class LeadForm(forms.Form):
    name = forms.CharField(max_length=200)
    email = forms.CharField(max_length=254, required=False, widget=forms.EmailInput)
    phone = forms.CharField(max_length=50, required=False)
    company = forms.CharField(max_length=200, required=False)
    source = forms.CharField(max_length=200, required=False, help_text="Where you met, e.g. a networking event.")
    timezone = forms.CharField(max_length=64, required=False, help_text=TIMEZONE_HELP)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class LeadFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", widget=forms.SearchInput(attrs={"placeholder": "Name, company, e-mail"}))
    status = forms.ChoiceField(required=False, choices=LEAD_STATUSES)
    source = forms.ChoiceField(required=False)

    def __init__(self, *args, sources: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", "Any source"), *((s, s) for s in sources)]


class ActivityForm(SellerForm):
    kind = forms.ChoiceField(choices=Activity.Kind.choices, initial=Activity.Kind.CALL)
    direction = forms.ChoiceField(choices=[("outbound", "I reached out"), ("inbound", "They reached out")])
    at = SellerTimeField(required=False, label="When", help_text="Empty means now.")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(forms.Form):
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class BookForm(SellerForm):
    start = SellerTimeField(label="Starts")
    duration = forms.CharField(initial="45m", help_text='For example "45m" or "1h30m".')
    location = forms.CharField(max_length=300, required=False, label="Where")
    booked_by = forms.ChoiceField(choices=[("seller", "I proposed it"), ("prospect", "They proposed it")], label="Booked by")

    def clean_duration(self) -> timedelta:
        try:
            return parse_duration(self.cleaned_data["duration"], what="duration", maximum=MAX_MEETING)
        except RebookError as e:
            raise forms.ValidationError(str(e).removeprefix("duration: ")) from None


VALIDITY = [("suggested", "Use the suggestion"), ("valid", "Valid"), ("not_valid", "Not valid")]


def validity_value(choice: str) -> bool | None:
    return {"valid": True, "not_valid": False}.get(choice)


class CancelForm(SellerForm):
    by = forms.ChoiceField(choices=[("prospect", "The prospect"), ("seller", "I did")], label="Who cancelled",
                           widget=forms.RadioSelect, initial="prospect")
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    validity = forms.ChoiceField(choices=VALIDITY, initial="suggested", widget=forms.RadioSelect,
                                 label="Was the reason valid?")
    at = SellerTimeField(required=False, label="When they called it off", help_text="Empty means now.")


class RescheduleForm(CancelForm):
    suggested = forms.ChoiceField(required=False, widget=forms.RadioSelect, label="A suggested free time")
    to = SellerTimeField(required=False, label="Or another time")

    def __init__(self, *args, slots: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["suggested"].choices = slots

    def clean(self):
        data = super().clean()
        chosen = data.get("to") or (datetime.fromisoformat(data["suggested"]) if data.get("suggested") else None)
        if chosen is None and "to" not in self.errors:
            self.add_error("to", "Choose a suggested time or type another.")
        data["new_start"] = chosen
        return data


class JudgeForm(forms.Form):
    valid = forms.TypedChoiceField(choices=[("true", "Valid"), ("false", "Not valid")], coerce=lambda v: v == "true")


class MessageEditForm(forms.Form):
    subject = forms.CharField(max_length=300)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 14}), label="Text")
    html = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}), label="HTML (optional)",
                           help_text="Leave as it is to rebuild it from the text.")


class TemplateForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k, k) for k in MESSAGE_KINDS], widget=forms.HiddenInput)
    subject = forms.CharField(max_length=300)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "true"}), label="Text body")
    html = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 10}), label="HTML body",
                           help_text="Leave empty for text-only mail.")


class InfoPackForm(forms.Form):
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    links = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="One web address per line.")
    file = forms.FileField(required=False, label="Add a file", help_text="At most 10 MB.")


class _Photos(forms.ClearableFileInput):
    allow_multiple_selected = True


class CardPhotosField(forms.FileField):
    """Several files from one input (on a phone, the camera)."""

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files:
            raise forms.ValidationError("Choose one or more photos of cards.")
        return [super(CardPhotosField, self).clean(f, initial) for f in files]


class CardUploadForm(forms.Form):
    photos = CardPhotosField(
        label="Photos of cards",
        widget=_Photos(attrs={"accept": "image/*,application/pdf", "capture": "environment"}),
        help_text="Several at once; a PDF scan may hold one card a page. JPEG, PNG, HEIC, up to 25 MB each.")
    event = forms.CharField(max_length=200, required=False, label="Where you met them",
                            widget=forms.TextInput(attrs={"placeholder": "Chamber mixer, 12 Mar"}),
                            help_text="Kept as each lead's source.")


class CardReviewForm(forms.Form):
    """One card as read, for the seller to correct before it becomes a lead."""

    name = forms.CharField(max_length=200, required=False)
    title = forms.CharField(max_length=200, required=False, label="Job title")
    company = forms.CharField(max_length=200, required=False)
    email = forms.CharField(max_length=254, required=False, label="E-mail", widget=forms.EmailInput)
    phone = forms.CharField(max_length=50, required=False, widget=forms.TextInput(attrs={"type": "tel"}))
    website = forms.CharField(max_length=200, required=False)
    address = forms.CharField(max_length=300, required=False)

    LOW = 0.5  # fields read with less confidence than this are marked for checking

    @classmethod
    def for_upload(cls, upload, data=None):
        read = upload.fields or {}
        initial = {"name": read.get("name", ""), "title": read.get("title", ""), "company": read.get("company", ""),
                   "email": (read.get("emails") or [""])[0],
                   "phone": phone_as_written((read.get("phones") or [""])[0], settings.REBOOK_PHONE_REGION),
                   "website": read.get("website", ""), "address": read.get("address", "")}
        form = cls(data, initial=initial, prefix=f"card{upload.pk}")
        confidence = read.get("confidence", {})
        keys = {"email": "emails", "phone": "phones"}
        for name, field in form.fields.items():
            sure = confidence.get(keys.get(name, name), 0.0)
            if not initial[name]:
                continue
            field.widget.attrs["aria-describedby"] = f"card{upload.pk}-{name}-help"
            if sure < cls.LOW:
                field.widget.attrs["class"] = "check"
                field.help_text = f"Read with low confidence ({sure:.0%}): please check."
            else:
                field.help_text = f"Read with {sure:.0%} confidence."
        return form

    def clean(self):
        data = super().clean()
        if not (data.get("name") or data.get("email") or data.get("phone")):
            raise forms.ValidationError("Give at least a name, an e-mail or a phone.")
        return data


_RENDERED: OrderedDict[tuple, str] = OrderedDict()
RENDERED_MAX = 512


def rendered(factory: Callable[[], forms.Form], key: tuple) -> str:
    """An unbound form's HTML, rendered once per process for each key (the form class and everything its
    HTML depends on: the seller's zone, the lead's details as of its last change). Django renders a form
    through a template per field, a quarter of the lead page's time; a form nobody has filled in yet is
    the same HTML every time."""
    html = _RENDERED.get(key)
    if html is None:
        html = mark_safe(factory().as_div())  # noqa: S308 - Django's own rendering, escaped as it renders
        _RENDERED[key] = html
        while len(_RENDERED) > RENDERED_MAX:
            _RENDERED.popitem(last=False)
    else:
        _RENDERED.move_to_end(key)
    return html
