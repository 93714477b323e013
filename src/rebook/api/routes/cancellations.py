"""Cancellations: the list, the seller's judgement on a reason, and the checklist."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Router, Schema

from rebook.api.base import Cursor, Id, Problem, Text, owned, page
from rebook.leads import selectors, services
from rebook.leads.models import Cancellation
from rebook.strategy.checklist import STEP_KEYS

Step = Literal[tuple(STEP_KEYS)]
ERRORS = {404: Problem, 409: Problem, 422: Problem}


class CancellationOut(Schema):
    id: int
    appointment_id: Id
    lead_id: Id
    by: str
    kind: str
    at: datetime
    reason: str
    category: str
    suggested_valid: bool
    valid: bool
    needs_review: bool
    is_strike: bool
    channel: Literal["seller", "self_service", "email"]


class CancellationPage(Schema):
    items: list[CancellationOut]
    next_cursor: Cursor | None


class JudgeIn(Schema):
    valid: bool


class StepOut(Schema):
    key: str
    title: str
    done: bool
    done_by: str
    skipped: Text | None


class TickIn(Schema):
    done: bool = True


router = Router(tags=["cancellations"])


@router.get("", response={200: CancellationPage, 400: Problem})
def cancellation_list(request, needs_review: bool = False, cursor: Cursor | None = None, limit: int = 50):
    rows = Cancellation.objects.filter(seller=request.seller)
    if needs_review:
        rows = rows.filter(category="unknown", valid_override__isnull=True)
    return page(rows, cursor, limit)


@router.post("/{cancellation_id}/judge", response={200: CancellationOut, **ERRORS})
def cancellation_judge(request, cancellation_id: Id, data: JudgeIn):
    c = owned(selectors.cancellation_get, seller=request.seller, cancellation_id=cancellation_id)
    services.cancellation_judge(cancellation=c, valid=data.valid)
    c.refresh_from_db()
    return c


def _steps(c) -> list[dict]:
    return [{"key": s.key, "title": s.title, "done": s.done, "done_by": s.done_by, "skipped": s.skipped}
            for s, _ in selectors.cancellation_checklist(c)]


@router.get("/{cancellation_id}/checklist", response={200: list[StepOut], **ERRORS})
def checklist_read(request, cancellation_id: Id):
    return _steps(owned(selectors.cancellation_get, seller=request.seller, cancellation_id=cancellation_id))


@router.post("/{cancellation_id}/checklist/{step}", response={200: list[StepOut], **ERRORS})
def checklist_tick(request, cancellation_id: Id, step: Step, data: TickIn):
    c = owned(selectors.cancellation_get, seller=request.seller, cancellation_id=cancellation_id)
    services.checklist_tick(cancellation=c, step=step, done=data.done)
    return _steps(selectors.cancellation_get(seller=request.seller, cancellation_id=cancellation_id))
