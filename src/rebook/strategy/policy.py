"""A seller's policy: the knobs of the strategy, with the defaults the method recommends."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import timedelta

from rebook.errors import RebookError
from rebook.strategy.durations import format_duration, parse_duration
from rebook.strategy.hours import DailyWindow, parse_window
from rebook.strategy.limits import POLICY_DURATION_MAX, POLICY_RANGES, check_number


@dataclass(frozen=True)
class Policy:
    strike_limit: int = 3
    no_show_counts: bool = True
    held_meeting_resets: bool = True
    benefit_of_the_doubt: bool = False
    late_notice_hours: int = 24
    weekly_meeting_target: int = 5
    connecting_moment_delay: timedelta = timedelta(hours=2)
    reschedule_offer_delay: timedelta = timedelta(hours=24)
    booking_followup_delay: timedelta = timedelta(hours=24)
    confirmation_lead_time: timedelta = timedelta(hours=24)
    nurture_checkin_days: int = 90
    auto_send: bool = False
    quiet_hours: str = "20:00-08:00"
    working_hours: str = "09:00-17:00"
    self_service: bool = True
    auto_apply_replies: bool = False
    risk_confirm_threshold: float = 0.35

    @property
    def late_notice(self) -> timedelta:
        return timedelta(hours=self.late_notice_hours)

    @property
    def nurture_checkin_interval(self) -> timedelta:
        return timedelta(days=self.nurture_checkin_days)

    @property
    def quiet_window(self) -> DailyWindow | None:
        return parse_window(self.quiet_hours, what="policy quiet_hours", allow_off=True, overnight=True)

    @property
    def working_window(self) -> DailyWindow:
        window = parse_window(self.working_hours, what="policy working_hours", overnight=True)  # as stored before it was refused
        assert window is not None
        return window


POLICY_HELP: dict[str, str] = {
    "strike_limit": "Cancellations without a valid reason before a lead moves to the nurture list.",
    "no_show_counts": "Whether a no-show counts as a cancellation (and so can be a strike).",
    "held_meeting_resets": "Whether a meeting that was held resets the strike count to zero.",
    "benefit_of_the_doubt": "When true, a lead's first cancellation never counts as a strike.",
    "late_notice_hours": "A cancellation with less notice than this is flagged late.",
    "weekly_meeting_target": "Meetings you want to hold each week; the pipeline check measures against it.",
    "connecting_moment_delay": "How long after a prospect cancels the connecting-moment message is due.",
    "reschedule_offer_delay": "How long after a prospect cancels, if not yet rebooked, the offer of new times is due.",
    "booking_followup_delay": "How long after a booking the follow-up note is due (skipped if the meeting is sooner).",
    "confirmation_lead_time": "How long before a rebooked meeting the confirmation is due.",
    "nurture_checkin_days": "Days between gentle check-ins with a lead on the nurture list.",
    "auto_send": "When false, every planned message waits for your review; when true, it is sent when due.",
    "quiet_hours": 'Nothing is sent to a lead during these hours in their time zone, e.g. "20:00-08:00", or "off".',
    "working_hours": 'Hours (Monday to Friday, your time zone) from which reschedule offers suggest new times.',
    "risk_confirm_threshold": "A meeting whose forecast risk of being cancelled or missed is at least this (0 to 1) "
                              "gets its confirmation planned twice as early (first bookings too), and Today offers "
                              "its slot to a waiting lead. 1 turns this off.",
    "auto_apply_replies": "When true, a cancellation read from a prospect's reply whose reason is clearly valid or "
                          "clearly not valid is applied at once (and you are told); when false, it waits as a "
                          "suggestion for your click.",
    "self_service": "When true, messages carry links with which the prospect moves or cancels a meeting, or picks an "
                    "offered time, without writing to you; when false, those links say to contact you instead.",
}

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def policy_keys() -> list[str]:
    return [f.name for f in fields(Policy)]


def policy_set(policy: Policy, key: str, raw: str) -> Policy:
    """Return ``policy`` with ``key`` set from the text ``raw``, or raise a RebookError saying why not."""
    field = {f.name: f for f in fields(Policy)}.get(key)
    if field is None:
        raise RebookError(f"unknown policy key {key!r}; known keys: {', '.join(policy_keys())}")
    default = getattr(Policy(), key)
    text = raw.strip().lower()
    value: object
    if isinstance(default, bool):
        if text not in _TRUE | _FALSE:
            raise RebookError(f"policy {key} takes true or false, not {raw!r}")
        value = text in _TRUE
    elif isinstance(default, str):
        quiet = key == "quiet_hours"
        window = parse_window(raw, what=f"policy {key}", allow_off=quiet, overnight=quiet)
        value = str(window) if window else "off"
    elif isinstance(default, float):
        try:
            number = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
        except ValueError:
            raise RebookError(f"policy {key} takes a number from 0 to 1 (or a percentage), not {raw[:40]!r}") from None
        if not 0 <= number <= 1:
            raise RebookError(f"policy {key} takes a number from 0 to 1 (or a percentage), not {raw[:40]!r}")
        value = round(number, 3)
    elif isinstance(default, int):
        low, high = POLICY_RANGES[key]
        if not re.fullmatch(r"[+-]?\d{1,12}", text):
            raise RebookError(f"policy {key} takes a whole number from {low} to {high}, not {raw[:40]!r}")
        value = check_number(int(text), f"policy {key}", low, high)
    else:
        value = parse_duration(raw, allow_zero=True, what=f"policy {key}", maximum=POLICY_DURATION_MAX[key])
    return replace(policy, **{key: value})


def policy_as_text(policy: Policy) -> dict[str, str]:
    out: dict[str, str] = {}
    for key in policy_keys():
        value = getattr(policy, key)
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, timedelta):
            out[key] = format_duration(value)
        else:
            out[key] = str(value)
    return out
