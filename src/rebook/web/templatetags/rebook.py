from __future__ import annotations

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def pct5(value) -> str:
    """A share (0-100) as the CSS width class w0, w5, ... w100 (inline styles are not allowed by the CSP)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "w0"
    if number <= 0:
        return "w0"
    return f"w{int(min(max(round(number / 5) * 5, 5), 100))}"  # a non-zero share stays visible


@register.filter
def when(value) -> str:
    """A moment in the seller's zone: "Tue 3 Mar, 09:00 EST"."""
    if not value:
        return ""
    local = timezone.localtime(value)
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M %Z}"


@register.filter
def day(value) -> str:
    if not value:
        return ""
    return f"{value:%a} {value.day} {value:%b}"


@register.filter
def short_day(value) -> str:
    if not value:
        return ""
    return f"{value.day} {value:%b}"
