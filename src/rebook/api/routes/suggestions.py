"""Suggestions read from prospects' replies in the seller's mailbox: list, apply, dismiss."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Router, Schema

from rebook.api.base import TIME_RULE, Cursor, Id, Problem, aware, checked, owned, page
from rebook.mailbox.models import Suggestion
from rebook.mailbox.services import suggestion_apply, suggestion_dismiss, suggestion_get

SuggestionStatus = Literal[tuple(Suggestion.Status.values)]
ERRORS = {404: Problem, 409: Problem, 422: Problem}


class SuggestionOut(Schema):
    id: int
    lead_id: Id
    appointment_id: int | None
    kind: Literal[tuple(Suggestion.Kind.values)]
    reason: str
    proposed_start: datetime | None
    received_at: datetime
    status: SuggestionStatus
    note: str
    sender_verified: bool = Field(description="The mail's sender proved to be who it says (SPF/DKIM/DMARC as the "
                                              "seller's mail provider found them, or a reply to a mail Rebook sent); "
                                              "an unverified one is never applied automatically.")


class SuggestionPage(Schema):
    items: list[SuggestionOut]
    next_cursor: Cursor | None


class ApplyIn(Schema):
    to: datetime | None = checked(None, "For a move: the new time (default: the one the reply proposed). " + TIME_RULE)


router = Router(tags=["suggestions"])


@router.get("", response={200: SuggestionPage, 422: Problem})
def suggestion_list(request, status: SuggestionStatus | None = "pending", cursor: Cursor | None = None, limit: int = 50):
    """What replies in the seller's mailbox suggest; pending ones by default."""
    rows = Suggestion.objects.filter(seller=request.seller)
    if status:
        rows = rows.filter(status=status)
    return page(rows, cursor, limit)


@router.post("/{suggestion_id}/apply", response={200: SuggestionOut, **ERRORS})
def suggestion_apply_view(request, suggestion_id: Id, data: ApplyIn):
    """Do what the reply asked, through the same services as typing it, at the mail's date."""
    s = owned(suggestion_get, seller=request.seller, suggestion_id=suggestion_id)
    return suggestion_apply(suggestion=s, to=aware(data.to, request.seller, "to"))


@router.post("/{suggestion_id}/dismiss", response={200: SuggestionOut, **ERRORS})
def suggestion_dismiss_view(request, suggestion_id: Id):
    return suggestion_dismiss(suggestion=owned(suggestion_get, seller=request.seller, suggestion_id=suggestion_id))
