"""The REST API's frame (django-ninja): authentication, problem details (RFC 9457), the types every
resource shares, and keyset pagination. The resources live in `rebook.api.routes`, one module each."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import wraps
from http import HTTPStatus
from typing import Annotated, Any

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from pydantic import AfterValidator, Field

from rebook.api.models import ApiToken
from rebook.api.services import RateLimited, rate_limit_check, token_lookup
from rebook.errors import Conflict, RebookError
from rebook.strategy.limits import EARLIEST, LATEST, check_instant
from rebook.timeparse import localize

PROBLEMS = "/api/v1/problems/"


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        row = token_lookup(token)
        if row is None:
            return None
        if not getattr(request, "rebook_rate_counted", False):  # the idempotency middleware counted it already
            rate_limit_check(token=row, now=timezone.now())
        request.seller = row.seller
        return row


class RebookAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """Errors are RFC 9457 problem details: document them as application/problem+json."""
        document = super().get_openapi_schema(*args, **kwargs)
        for path in document.get("paths", {}).values():
            for operation in path.values():
                _declare_problems(operation)
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if str(status).startswith(("4", "5")) and "application/json" in content:
                        content["application/problem+json"] = content.pop("application/json")
        return document


def _declare_problems(operation: dict) -> None:
    """The problems every operation can really answer with, beside those it declares itself."""
    statuses = []
    if operation.get("security"):
        statuses += [401, 429]  # no or a revoked token; the token's rate limit
    if operation.get("parameters") or operation.get("requestBody"):
        statuses += [400, 422]  # unreadable input; input that is not valid
    if operation.get("requestBody"):
        statuses += [413, 415]  # too large; not JSON (or not multipart for an upload)
    responses = operation.setdefault("responses", {})
    declared = {str(key) for key in responses}  # django-ninja's keys are ints: never add "422" beside 422
    for status in statuses:
        if str(status) in declared:
            continue
        responses[status] = {
            "description": HTTPStatus(status).phrase,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }


api = RebookAPI(
    title="Rebook API",
    version="1",
    description="Leads, appointments, cancellations and follow-ups. Authenticate with `Authorization: Bearer rbk_...` "
    "(create a token with `rebook token create` or on the web app's Tokens page).",
    auth=TokenAuth(),
    urls_namespace="api-v1",
    docs_url="/docs",
)


def _refuse_unknown_query_parameters(run):
    """A query parameter the operation does not take is refused (422 naming it), not ignored: a misspelt
    filter must not quietly answer with everything."""
    operation = run.__self__
    allowed = {field.alias or name for model in operation.signature.models
               if getattr(model, "__ninja_param_source__", None) == "query"
               for name, field in model.model_fields.items()}

    @wraps(run)
    def checked(request, *args, **kwargs):
        unknown = sorted(set(request.GET) - allowed)
        if unknown:
            takes = ", ".join(sorted(allowed)) or "none"
            return problem(request, 422, "validation", "Invalid request", "Unknown query parameters.",
                           errors=[{"field": name[:60], "message": f"not a parameter of this operation (it takes: {takes})"}
                                   for name in unknown[:10]])
        return run(request, *args, **kwargs)

    return checked


api.add_decorator(_refuse_unknown_query_parameters, mode="view")


# --- problem details -----------------------------------------------------------------------------


def problem(request, status: int, kind: str, title: str, detail: str, **extra):
    body = {"type": PROBLEMS + kind, "title": title, "status": status, "detail": detail, **extra}
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = "application/problem+json"
    return response


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    errors: dict[str, str] = {}
    for e in exc.errors:
        # Pydantic's union and validator tags ("int", "function-after[...]") are not fields.
        loc = [str(p) for p in e.get("loc", []) if str(p) not in _TYPE_TAGS and "[" not in str(p)]
        # ("body", "data", "name") is the field "name"; ("query", "limit") is "limit".
        field = ".".join(loc[2:] if loc[:1] == ["body"] and len(loc) > 2 else loc[1:]) or ".".join(loc)
        errors.setdefault(field, e.get("msg", ""))  # a union's members each complain: the first says enough
    return problem(request, 422, "validation", "Invalid request", "Some fields are not valid.",
                   errors=[{"field": f, "message": m} for f, m in errors.items()])


_TYPE_TAGS = {"str", "int", "float", "bool", "list", "dict", "none", "datetime", "date"}


@api.exception_handler(RebookError)
def _refused(request, exc: RebookError):
    """A refusal that names a field ("email: 'nope' is not a valid e-mail address") lists it as that field's error."""
    detail = str(exc)
    field, sep, message = detail.partition(": ")
    if sep and re.fullmatch(r"[a-z_]+", field):
        return problem(request, 422, "refused", "Request refused", detail, errors=[{"field": field, "message": message}])
    return problem(request, 422, "refused", "Request refused", detail)


@api.exception_handler(Conflict)
def _conflict(request, exc: Conflict):
    """Well-formed, but what it asks is not possible in the thing's present state (already cancelled, sent...)."""
    return problem(request, 409, "conflict", "Conflict with the present state", str(exc))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return problem(request, 404, "not-found", "Not found", str(exc) or "not found")


@api.exception_handler(AuthenticationError)
def _unauthorized(request, exc):
    response = problem(request, 401, "unauthorized", "Unauthorized", "a valid API token is needed (Authorization: Bearer rbk_...)")
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(RateLimited)
def _limited(request, exc: RateLimited):
    response = problem(request, 429, "rate-limited", "Too many requests",
                       f"this token made too many requests this minute; retry after {exc.retry_after} seconds")
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return problem(request, exc.status_code, "error", "Error", str(exc))


def owned(getter, **kwargs):
    try:
        return getter(**kwargs)
    except RebookError as e:
        raise Http404(str(e)) from None


def aware(moment: datetime | None, seller, what: str) -> datetime | None:
    """A time without an offset is read in the seller's zone (a DST gap is refused); a refusal names ``what``."""
    if moment is None:
        return None
    if not (EARLIEST.year <= moment.year < LATEST.year):
        check_instant(moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment, what)  # raises, naming the window
    try:
        local = moment if moment.tzinfo is not None else localize(moment, seller.tz)
    except RebookError as e:
        raise RebookError(f"{what}: {e}") from None
    return check_instant(local, what)


def _clean_text(value: str) -> str:
    """Text a database can hold: no NUL character and no lone surrogate (broken UTF-16)."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("is not valid Unicode text") from None
    return value


# The pattern says in the document what _clean_text enforces (no NUL); a lone surrogate cannot be sent as UTF-8.
Text = Annotated[str, Field(pattern=r"^[^\x00]*$"), AfterValidator(_clean_text)]
NonBlank = Annotated[str, Field(pattern=r"^[^\x00]*[^\x00\s][^\x00]*$"), AfterValidator(_clean_text)]
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]  # what the database can hold; beyond it nothing exists


CHECKED = "x-rebook-checked"


def checked(default: Any, rule: str, **field: Any) -> Any:
    """A field whose rules go beyond what a schema can say (a time zone that exists, a dialable number, a
    time inside Rebook's window): the schema allows a value that may still be refused with a 422 naming
    this field. The document says so in the field's description and marks it `x-rebook-checked`."""
    return Field(default, description=rule, json_schema_extra={CHECKED: True}, **field)


TIME_RULE = "Between 1970 and 2099. Without an offset it is read in your time zone, where it must exist (not in a DST gap)."


class Problem(Schema):
    type: str
    title: str
    status: int
    detail: str


# --- pagination ----------------------------------------------------------------------------------

MAX_LIMIT = 200


Cursor = Annotated[str, Field(pattern=r"^[0-9]{1,18}$", description="The `next_cursor` of the page before.")]


def page(queryset, cursor: str | None, limit: int) -> dict:
    """Keyset pagination by id: stable while rows are added, cheap at any depth. The cursor is the last id
    given out; a page starts after it."""
    limit = max(1, min(limit, MAX_LIMIT))
    if cursor:
        queryset = queryset.filter(pk__gt=int(cursor))
    rows = list(queryset.order_by("pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": str(rows[-1].pk) if more else None}


