"""The pipeline's health and the seller's policy."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from django.utils import timezone
from ninja import Router, Schema
from pydantic import Field, create_model

from rebook.api.base import Problem, Text, checked, problem
from rebook.forecast.services import held_forecast
from rebook.leads import selectors
from rebook.sellers.services import PolicyErrors, seller_policy_update
from rebook.strategy.limits import POLICY_DURATION_MAX, POLICY_RANGES
from rebook.strategy.policy import POLICY_HELP, Policy, policy_as_text

router = Router(tags=["pipeline and policy"])


@router.get("/pipeline", response=dict[str, Any])
def pipeline(request):
    health = selectors.pipeline(seller=request.seller, now=timezone.now(), forecast=held_forecast(request.seller))
    return asdict(health) | {"sentences": list(health.sentences)}


@router.get("/policy", response=dict[str, str])
def policy_read(request):
    return policy_as_text(request.seller.policy)


def _policy_field(f) -> tuple[Any, Any]:
    default, key, help_text = getattr(Policy(), f.name), f.name, POLICY_HELP[f.name]
    if isinstance(default, bool):
        return bool | None, Field(None, description=help_text)
    if isinstance(default, float):
        return float | None, Field(None, ge=0, le=1, description=help_text)
    if isinstance(default, int):
        low, high = POLICY_RANGES[key]
        return int | None, Field(None, ge=low, le=high, description=help_text)
    if isinstance(default, str):
        return Text | None, checked(None, help_text + " Hours as HH:MM-HH:MM.", max_length=40)
    return Text | None, checked(None, help_text + f" A duration such as 2h, 1d or 90m, up to {POLICY_DURATION_MAX[key].days} days.",
                                max_length=40)


PolicyPatch = create_model("PolicyPatch", __base__=Schema, __config__=None,
                           **{f.name: _policy_field(f) for f in fields(Policy)})
PolicyPatch.model_config["extra"] = "forbid"
PolicyPatch.model_rebuild(force=True)


def _policy_text(value: Any) -> str:
    """A value as the text `rebook policy set` takes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@router.patch("/policy", response={200: dict[str, str], 422: Problem})
def policy_update(request, data: PolicyPatch):
    """Change any of the keys at once (all or none). Keys not sent keep their values; unknown keys are refused."""
    values = {k: _policy_text(v) for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    try:
        seller = seller_policy_update(seller=request.seller, values=values)
    except PolicyErrors as e:
        return problem(request, 422, "validation", "Invalid request", "Some policy values are not valid.",
                       errors=[{"field": str(err).split(" ")[1].rstrip(":"), "message": str(err)} for err in e.errors])
    return policy_as_text(seller.policy)
