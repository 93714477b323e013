"""Pipeline health: is the calendar full enough that one cancellation can be shrugged off?"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from rebook.strategy.policy import Policy

HORIZON = timedelta(days=14)
WEEK = timedelta(days=7)
# With little history, rates lean on a prior worth a few meetings (or leads) at a typical rate.
PRIOR_MEETINGS, PRIOR_CANCEL_RATE = 4, 0.25
PRIOR_LEADS, PRIOR_BOOKING_RATE = 2, 0.5


@dataclass(frozen=True)
class PipelineFacts:
    upcoming: tuple[datetime, ...]  # starts of scheduled appointments from now on
    past_meetings: int  # appointments whose fate is known: held, no-show, cancelled or moved
    past_prospect_cancellations: int
    leads: int
    leads_with_appointment: int
    # With a forecast: for each upcoming start, the chance the meeting is held (1 - its risk).
    held_chances: tuple[float, ...] | None = None


@dataclass(frozen=True)
class PipelineHealth:
    next_14_days: int
    next_7_days: int
    cancellation_rate: float
    expected_meetings_7_days: float
    expected_meetings_14_days: float
    weekly_target: int
    meetings_short: float
    appointments_to_book: int
    lead_to_appointment_rate: float
    leads_to_find: int
    one_cancellation_share: float  # share of this week's expected meetings one cancellation removes
    thin: bool
    sentences: tuple[str, ...]


def pipeline_health(facts: PipelineFacts, policy: Policy, now: datetime) -> PipelineHealth:
    in_14 = sum(1 for s in facts.upcoming if now <= s < now + HORIZON)
    in_7 = sum(1 for s in facts.upcoming if now <= s < now + WEEK)
    rate = (facts.past_prospect_cancellations + PRIOR_CANCEL_RATE * PRIOR_MEETINGS) / (
        facts.past_meetings + PRIOR_MEETINGS
    )
    rate = min(rate, 0.95)
    book_rate = (facts.leads_with_appointment + PRIOR_BOOKING_RATE * PRIOR_LEADS) / (facts.leads + PRIOR_LEADS)
    if facts.held_chances is not None:
        pairs = list(zip(facts.upcoming, facts.held_chances, strict=True))
        expected_7 = sum(c for s, c in pairs if now <= s < now + WEEK)
        expected_14 = sum(c for s, c in pairs if now <= s < now + HORIZON)
    else:
        expected_7 = in_7 * (1 - rate)
        expected_14 = in_14 * (1 - rate)
    target = policy.weekly_meeting_target
    short = max(0.0, target - expected_7)
    to_book = math.ceil(round(short / (1 - rate), 6)) if short else 0
    to_find = math.ceil(round(to_book / book_rate, 6)) if to_book else 0
    share = 1.0 if expected_7 <= 1 else round(1 / expected_7, 2)
    thin = to_book > 0 or in_7 <= 2

    sentences = [
        f"{in_7} meeting{'s' if in_7 != 1 else ''} in the next 7 days, {in_14} in the next 14.",
        (f"Prospects have cancelled {round(rate * 100)}% of your meetings; by the forecast for each meeting, "
         f"expect to hold about {expected_7:.1f} this week against a target of {target}."
         if facts.held_chances is not None else
         f"Prospects have cancelled {round(rate * 100)}% of your meetings, so expect to hold about "
         f"{expected_7:.1f} this week against a target of {target}."),
    ]
    if to_book:
        sentences.append(
            f"Book {to_book} more meeting{'s' if to_book != 1 else ''} this week; at your rate that means "
            f"finding about {to_find} new lead{'s' if to_find != 1 else ''}."
        )
    else:
        sentences.append("You are on target for the week.")
    if thin:
        sentences.append(
            f"Your pipeline is thin: a single cancellation would take away {round(share * 100)}% of this "
            "week's meetings, so treat every one as worth a connecting moment."
        )
    return PipelineHealth(
        in_14, in_7, round(rate, 3), round(expected_7, 2), round(expected_14, 2), target, round(short, 2),
        to_book, round(book_rate, 3), to_find, share, thin, tuple(sentences),
    )
