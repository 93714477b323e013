"""The cancellation checklist: what to do after a prospect cancels, and what is already done.

Steps Rebook does itself are ticked from the facts; the seller ticks the rest. A step the seller
ticked stays ticked, and a step that no longer applies (the lead moved to nurture, or the slot
had already passed) says why.
"""

from __future__ import annotations

from dataclasses import dataclass

SYSTEM = "system"
SELLER = "seller"

STEPS: tuple[tuple[str, str, str], ...] = (
    ("respond", "Respond graciously", SELLER),
    ("reason", "Record the reason and judge whether it is valid", SYSTEM),
    ("offer_times", "Offer two or three new times", SYSTEM),
    ("send_info", "Send the additional information", SYSTEM),
    ("reuse_time", "Re-use the freed time", SELLER),
    ("confirm", "Confirm the day before the new meeting", SYSTEM),
    ("nurture", "At the strike limit, move the lead to nurture kindly", SYSTEM),
    ("pipeline", "Check the pipeline", SELLER),
)
STEP_KEYS = tuple(key for key, _, _ in STEPS)


@dataclass(frozen=True)
class ChecklistFacts:
    reason_judged: bool  # a recognised category, or the seller's own judgement
    rebooked: bool
    offer_sent: bool
    info_sent: bool
    confirmation_sent: bool
    slot_freed: bool  # cancelled before the start, so the time can be re-used
    reached_limit: bool  # this cancellation moved the lead to nurture
    in_nurture: bool
    ticked: frozenset[str] = frozenset()  # steps the seller ticked


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    done_by: str  # who does it: "system" or "seller"
    done: bool
    skipped: str | None = None  # why the step does not apply


def checklist(facts: ChecklistFacts) -> list[Step]:
    auto = {
        "reason": facts.reason_judged,
        "offer_times": facts.rebooked or facts.offer_sent,
        "send_info": facts.info_sent,
        "confirm": facts.confirmation_sent,
        "nurture": facts.reached_limit and facts.in_nurture,
    }
    skipped: dict[str, str] = {}
    if not facts.slot_freed:
        skipped["reuse_time"] = "the meeting time had already passed"
    if not facts.reached_limit:
        skipped["nurture"] = (
            "another cancellation moved the lead to nurture" if facts.in_nurture else "the lead is below the strike limit"
        )
    if facts.in_nurture:
        for key in ("offer_times", "send_info", "confirm"):
            skipped[key] = "the lead is on the nurture list"
    steps = []
    for key, title, who in STEPS:
        done = key in facts.ticked or auto.get(key, False)
        steps.append(Step(key, title, who, done, None if done else skipped.get(key)))
    return steps
