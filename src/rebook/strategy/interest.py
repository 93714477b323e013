"""Interest balance: who has been doing the work, the seller or the prospect?

Each side earns effort for what it initiates; the prospect loses it for cancelling without a
valid reason (more when late) and for not showing up. The balance runs from -1 (all the
interest is yours) to +1 (all of it is theirs).
"""

from __future__ import annotations

from dataclasses import dataclass

from rebook.strategy.history import HELD, MISSED, PROSPECT, RESCHEDULE, SELLER, LeadHistory
from rebook.strategy.policy import Policy
from rebook.strategy.reasons import NOT_INTERESTED

UNEVEN = 0.25
EARLY = 3  # steps of the seller's alone (bookings, mails) before their side's silence says anything


@dataclass(frozen=True)
class InterestBalance:
    balance: float
    seller_effort: float
    prospect_effort: float
    verdict: str  # "yours", "theirs", "even" or "unknown"
    sentence: str


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def interest_balance(history: LeadHistory, policy: Policy) -> InterestBalance:
    outbound = sum(1 for c in history.contacts if c.direction == "outbound")
    inbound = sum(1 for c in history.contacts if c.direction == "inbound")
    prospect_bookings = sum(1 for a in history.appointments if a.booked_by == PROSPECT and a.rescheduled_from is None)
    seller_bookings = sum(1 for a in history.appointments if a.booked_by == SELLER and a.rescheduled_from is None)
    held = sum(1 for a in history.appointments if a.status == HELD)
    prospect_moves = sum(1 for c in history.cancellations if c.by == PROSPECT and c.kind == RESCHEDULE)
    seller_moves = sum(1 for c in history.cancellations if c.by == SELLER)
    invalid = [
        c for c in history.cancellations
        if c.by == PROSPECT and c.kind != MISSED and not c.valid and c.category != NOT_INTERESTED
    ]
    late = sum(1 for c in invalid if c.notice < policy.late_notice)
    no_shows = sum(1 for c in history.cancellations if c.kind == MISSED)

    seller_effort = outbound + seller_bookings + 0.5 * seller_moves
    gained = inbound + 2 * prospect_bookings + prospect_moves + held
    prospect_effort = max(0.0, gained - 2 * len(invalid) - late - 3 * no_shows)
    total = seller_effort + prospect_effort
    if total == 0:
        return InterestBalance(0.0, 0, 0, "unknown", "Not enough history yet to tell whose interest is greater.")
    if not gained and not invalid and not no_shows and seller_effort < EARLY:
        # A lead you booked or wrote to once or twice has had no chance to answer yet: no verdict on them.
        return InterestBalance(0.0, seller_effort, 0, "unknown",
                               "Too early to tell whose interest is greater: they have not had a chance to answer yet.")
    balance = round((prospect_effort - seller_effort) / total, 2)

    facts = []
    if invalid:
        fact = f"cancelled {_times(len(invalid))} without a valid reason"
        if late:
            fact += f" ({'at short notice' if late == len(invalid) else f'{_times(late)} at short notice'})"
        facts.append(fact)
    if no_shows:
        facts.append(f"missed {_times(no_shows)} without a word")
    if prospect_bookings or prospect_moves or inbound:
        facts.append(f"reached out or proposed a time {_times(prospect_bookings + prospect_moves + inbound)}")
    else:
        facts.append("not proposed a time")
    if held:
        facts.append(f"met you {_times(held)}")
    said = "They have " + (", ".join(facts[:-1]) + " and " + facts[-1] if len(facts) > 1 else facts[0])

    if balance <= -UNEVEN:
        verdict, tail = "yours", "your interest exceeds theirs"
    elif balance >= UNEVEN:
        verdict, tail = "theirs", "their interest exceeds yours"
    else:
        verdict, tail = "even", "your interest and theirs are about even"
    return InterestBalance(balance, seller_effort, prospect_effort, verdict, f"{said}: {tail}.")
