"""Count strikes and decide when a lead moves to the nurture list.

The rules follow the times of events, never the order they were entered in: the history is
replayed in time order, so a cancellation logged late, or judged valid afterwards, gives the
same answer as if it had been known all along.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rebook.strategy.history import HELD, MISSED, PROSPECT, Cancellation, LeadHistory
from rebook.strategy.policy import Policy
from rebook.strategy.reasons import NOT_INTERESTED

STRIKE_LIMIT = "strike_limit"
NOT_INTERESTED_REASON = "not_interested"


@dataclass(frozen=True)
class StrikeDecision:
    strikes: int
    counting: tuple[int, ...]  # cancellation ids in the current count
    ever_counted: frozenset[int]  # every cancellation that was a strike when it happened
    nurture_since: datetime | None
    nurture_reason: str | None
    nurture_trigger: str | None  # "c<id>" for a cancellation, "lead" for the lead-level decision

    @property
    def in_nurture(self) -> bool:
        return self.nurture_since is not None

    def summary(self, policy: Policy) -> str:
        if self.nurture_reason == NOT_INTERESTED_REASON:
            return "said they are not interested: moved to the nurture list"
        if self.nurture_reason == STRIKE_LIMIT:
            return f"strike {self.strikes} of {policy.strike_limit}: moved to the nurture list"
        return f"{self.strikes} of {policy.strike_limit} strikes"


def counts_as_cancellation(c: Cancellation, policy: Policy) -> bool:
    """A prospect cancellation, reschedule or (if the policy says so) no-show; never the seller's."""
    if c.by != PROSPECT or c.category == NOT_INTERESTED:
        return False
    return c.kind != MISSED or policy.no_show_counts


def decide_strikes(history: LeadHistory, policy: Policy) -> StrikeDecision:
    # (time, rank, id, kind, payload): rank orders events at the same instant deterministically.
    events: list[tuple[datetime, int, int, str, Cancellation | None]] = []
    for a in history.appointments:
        if a.status == HELD:
            events.append((a.start, 0, a.id, "held", None))
    for c in history.cancellations:
        events.append((c.at, 1, c.id, "cancellation", c))
    if history.not_interested_at is not None:
        events.append((history.not_interested_at, 2, 0, "not_interested", None))
    if history.reactivated_at is not None:
        events.append((history.reactivated_at, 3, 0, "reactivated", None))
    events.sort(key=lambda e: (e[0], e[1], e[2]))

    count = 0
    counting: list[int] = []
    ever: set[int] = set()
    nurture_since: datetime | None = None
    reason: str | None = None
    trigger: str | None = None
    first_seen = False

    for at, _rank, _id, kind, c in events:
        if kind == "reactivated":
            count, counting, nurture_since, reason, trigger = 0, [], None, None, None
        elif kind == "held":
            # They met: whatever came before, the lead is engaged again.
            nurture_since, reason, trigger = None, None, None
            if policy.held_meeting_resets:
                count, counting = 0, []
        elif kind == "not_interested" or (c is not None and c.by == PROSPECT and c.category == NOT_INTERESTED):
            if nurture_since is None:
                nurture_since, reason = at, NOT_INTERESTED_REASON
                trigger = "lead" if c is None else f"c{c.id}"
        elif c is not None and counts_as_cancellation(c, policy):
            is_first, first_seen = not first_seen, True
            if c.valid or (policy.benefit_of_the_doubt and is_first):
                continue
            count += 1
            counting.append(c.id)
            ever.add(c.id)
            if count >= policy.strike_limit and nurture_since is None:
                nurture_since, reason, trigger = at, STRIKE_LIMIT, f"c{c.id}"

    return StrikeDecision(count, tuple(counting), frozenset(ever), nurture_since, reason, trigger)


TERMINAL_STATUSES = ("won", "lost", "do_not_contact")


def lead_status(current: str, decision: StrikeDecision, *, has_appointments: bool, qualified: bool) -> str:
    """The status that follows from the history; won, lost and do-not-contact are the seller's to change."""
    if current in TERMINAL_STATUSES:
        return current
    if decision.in_nurture:
        return "nurture"
    if has_appointments:
        return "active"
    return "qualified" if qualified else "new"
