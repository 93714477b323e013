"""The REST API, version 1 (django-ninja): the same services as the web app and the CLI, scoped to the
token's seller. Errors are RFC 9457 problem details; another seller's ids answer 404."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Annotated, Any, Literal

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Body, File, Form, NinjaAPI, Router, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.files import UploadedFile
from ninja.security import HttpBearer
from pydantic import AfterValidator, Field

from rebook.api.models import ApiToken, ImportRun, InboundHook
from rebook.api.services import RateLimited, rate_limit_check, token_lookup
from rebook.errors import RebookError
from rebook.leads import selectors, services
from rebook.leads.models import Appointment, Cancellation, Lead
from rebook.outbox import services as outbox_services
from rebook.outbox.models import PlannedMessage
from rebook.strategy.limits import EARLIEST, LATEST, check_instant
from rebook.timeparse import localize
from rebook.webhooks import services as webhook_services
from rebook.webhooks.models import EVENTS, Delivery, Endpoint

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


def aware(moment: datetime | None, seller) -> datetime | None:
    """A time without an offset is read in the seller's zone (a DST gap is refused)."""
    if moment is None:
        return None
    if not (EARLIEST.year <= moment.year < LATEST.year):
        check_instant(moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment)  # raises, naming the window
    return check_instant(moment if moment.tzinfo is not None else localize(moment, seller.tz))


# --- schemas -------------------------------------------------------------------------------------


def _clean_text(value: str) -> str:
    """Text a database can hold: no NUL character and no lone surrogate (broken UTF-16)."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("is not valid Unicode text") from None
    return value


Text = Annotated[str, AfterValidator(_clean_text)]
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]  # what the database can hold; beyond it nothing exists


class Problem(Schema):
    type: str
    title: str
    status: int
    detail: str


class LeadIn(Schema):
    name: Text = Field(min_length=1, max_length=200)
    email: Text = Field("", max_length=254)
    phone: Text = Field("", max_length=50)
    company: Text = Field("", max_length=200)
    source: Text = Field("", max_length=200)
    notes: Text = ""
    timezone: Text = Field("", max_length=64)


class LeadPatch(Schema):
    name: Text | None = Field(None, min_length=1, max_length=200)
    email: Text | None = Field(None, max_length=254)
    phone: Text | None = Field(None, max_length=50)
    company: Text | None = Field(None, max_length=200)
    source: Text | None = Field(None, max_length=200)
    notes: Text | None = None
    timezone: Text | None = Field(None, max_length=64)


class LeadOut(Schema):
    id: int
    name: str
    company: str
    email: str
    phone: str
    source: str
    notes: str
    timezone: str
    status: str
    strikes: int
    nurture_since: datetime | None
    nurture_reason: str
    created_at: datetime


class LeadPage(Schema):
    items: list[LeadOut]
    next_cursor: Text | None


class ReasonIn(Schema):
    reason: Text = ""


class AppointmentIn(Schema):
    lead_id: Id
    start: datetime
    end: datetime | None = None
    duration_minutes: int = Field(45, ge=1, le=24 * 60)
    location: Text = Field("", max_length=300)
    booked_by: Literal["seller", "prospect"] = "seller"


class AppointmentOut(Schema):
    id: int
    lead_id: Id
    start: datetime
    end: datetime
    timezone: str
    location: str
    status: str
    booked_at: datetime
    booked_by: str
    rescheduled_from_id: int | None
    chain: str

    @staticmethod
    def resolve_chain(obj) -> str:
        return str(obj.chain)


class AppointmentPage(Schema):
    items: list[AppointmentOut]
    next_cursor: Text | None


class CancelIn(Schema):
    by: Literal["prospect", "seller"]
    reason: Text = ""
    valid: bool | None = None
    at: datetime | None = None


class RescheduleIn(CancelIn):
    to: datetime


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


class CancellationPage(Schema):
    items: list[CancellationOut]
    next_cursor: Text | None


class Outcome(Schema):
    cancellation: CancellationOut
    lead: LeadOut
    appointment: AppointmentOut | None = None


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


class MessageOut(Schema):
    id: int
    lead_id: Id
    kind: str
    due: datetime
    status: str
    note: str
    subject: str
    attempts: int
    last_error: str
    sent_at: datetime | None


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: Text | None


class WebhookIn(Schema):
    url: Text = Field(max_length=500)
    events: list[Text] = []


class WebhookOut(Schema):
    id: int
    url: str
    events: list[Text]
    active: bool
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str


class DeliveryOut(Schema):
    id: int
    event: str
    status: str
    attempts: int
    due: datetime
    last_status_code: int | None
    last_response: str
    delivered_at: datetime | None
    created_at: datetime


class ImportOut(Schema):
    id: int
    file: str
    kind: str
    status: Literal["queued", "running", "done", "failed"]
    error: str
    created_at: datetime
    finished_at: datetime | None
    report: dict[str, Any]


class InboundIn(Schema):
    event: Literal["cancelled", "rescheduled"]
    appointment_id: Id | None = None
    uid: Text | None = Field(None, max_length=500)
    email: Text | None = Field(None, max_length=254)
    start: datetime | None = None
    new_start: datetime | None = None
    by: Literal["prospect", "seller"] = "prospect"
    reason: Text = ""


# --- pagination ----------------------------------------------------------------------------------

MAX_LIMIT = 200


def page(queryset, cursor: str | None, limit: int) -> dict:
    """Keyset pagination by id: stable while rows are added, cheap at any depth."""
    limit = max(1, min(limit, MAX_LIMIT))
    if cursor:
        try:
            after = int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
        except (ValueError, UnicodeDecodeError):
            raise HttpError(400, "cursor: not a cursor this API gave out") from None
        queryset = queryset.filter(pk__gt=after)
    rows = list(queryset.order_by("pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = base64.urlsafe_b64encode(str(rows[-1].pk).encode()).decode().rstrip("=") if more else None
    return {"items": rows, "next_cursor": next_cursor}


# --- leads ---------------------------------------------------------------------------------------

leads = Router(tags=["leads"])
ERRORS = {404: Problem, 422: Problem}


@leads.post("", response={201: LeadOut, 422: Problem})
def lead_create(request, data: LeadIn):
    lead = services.lead_create(seller=request.seller, name=data.name, email=data.email, phone=data.phone,
                                company=data.company, source=data.source, notes=data.notes,
                                timezone_name=data.timezone)
    return Status(201, lead)


@leads.get("", response={200: LeadPage, 400: Problem, 422: Problem})
def lead_list(request, status: Text | None = None, source: Text | None = None, q: Text | None = None,
              cursor: Text | None = None, limit: int = 50):
    from django.db.models import Q

    rows = selectors.lead_list(seller=request.seller, status=status)
    if source:
        rows = rows.filter(source=source)
    if q:
        rows = rows.filter(Q(name__icontains=q) | Q(company__icontains=q) | Q(email__icontains=q))
    return page(rows, cursor, limit)


@leads.get("/{lead_id}", response={200: LeadOut, 404: Problem})
def lead_read(request, lead_id: Id):
    return owned(selectors.lead_get, seller=request.seller, lead_id=lead_id)


@leads.patch("/{lead_id}", response={200: LeadOut, **ERRORS})
def lead_update(request, lead_id: Id, data: LeadPatch):
    lead = owned(selectors.lead_get, seller=request.seller, lead_id=lead_id)
    changes = {k: v for k, v in data.dict(exclude_unset=True).items() if v is not None}
    return services.lead_update(lead=lead, **changes) if changes else lead


@leads.post("/{lead_id}/not-interested", response={200: LeadOut, **ERRORS})
def lead_not_interested(request, lead_id: Id, data: ReasonIn):
    lead = owned(selectors.lead_get, seller=request.seller, lead_id=lead_id)
    return services.lead_not_interested(lead=lead, reason=data.reason)


@leads.post("/{lead_id}/reactivate", response={200: LeadOut, **ERRORS})
def lead_reactivate(request, lead_id: Id):
    lead = owned(selectors.lead_get, seller=request.seller, lead_id=lead_id)
    return services.lead_reactivate(lead=lead)


class QualifyIn(Schema):
    notes: Text = ""


class StatusIn(Schema):
    status: Literal["won", "lost", "do_not_contact"]


class ActivityIn(Schema):
    kind: Literal["call", "email", "text", "meeting", "note"] = "call"
    direction: Literal["outbound", "inbound"] = "outbound"
    at: datetime | None = None
    notes: Text = ""


class ActivityOut(Schema):
    id: int
    lead_id: Id
    kind: str
    direction: str
    at: datetime
    notes: str


@leads.post("/{lead_id}/qualify", response={200: LeadOut, **ERRORS})
def lead_qualify(request, lead_id: Id, data: QualifyIn):
    lead = owned(selectors.lead_get, seller=request.seller, lead_id=lead_id)
    return services.lead_qualify(lead=lead, notes=data.notes)


@leads.post("/{lead_id}/status", response={200: LeadOut, **ERRORS})
def lead_set_status(request, lead_id: Id, data: StatusIn):
    lead = owned(selectors.lead_get, seller=request.seller, lead_id=lead_id)
    return services.lead_set_status(lead=lead, status=data.status)


@leads.post("/{lead_id}/activities", response={201: ActivityOut, **ERRORS})
def lead_log(request, lead_id: Id, data: ActivityIn):
    lead = owned(selectors.lead_get, seller=request.seller, lead_id=lead_id)
    activity = services.activity_log(lead=lead, kind=data.kind, direction=data.direction,
                                     at=aware(data.at, request.seller), notes=data.notes)
    return Status(201, activity)


# --- appointments --------------------------------------------------------------------------------

appointments = Router(tags=["appointments"])


@appointments.post("", response={201: AppointmentOut, **ERRORS})
def appointment_book(request, data: AppointmentIn):
    seller = request.seller
    lead = owned(selectors.lead_get, seller=seller, lead_id=data.lead_id)
    start = aware(data.start, seller)
    end = aware(data.end, seller) if data.end else start + timedelta(minutes=data.duration_minutes)
    appointment = services.appointment_book(lead=lead, start=start, end=end, location=data.location,
                                            booked_by=data.booked_by, timezone_name=seller.timezone)
    return Status(201, appointment)


@appointments.get("", response={200: AppointmentPage, 400: Problem, 422: Problem})
def appointment_list(request, lead_id: Id | None = None, status: Text | None = None, cursor: Text | None = None,
                     limit: int = 50):
    return page(selectors.appointment_list(seller=request.seller, lead_id=lead_id, status=status), cursor, limit)


@appointments.get("/{appointment_id}", response={200: AppointmentOut, 404: Problem})
def appointment_read(request, appointment_id: Id):
    return owned(selectors.appointment_get, seller=request.seller, appointment_id=appointment_id)


def _outcome(c: Cancellation, moved: Appointment | None = None) -> dict:
    c.refresh_from_db()
    return {"cancellation": c, "lead": Lead.objects.get(pk=c.lead_id), "appointment": moved}


@appointments.post("/{appointment_id}/cancel", response={200: Outcome, **ERRORS})
def appointment_cancel(request, appointment_id: Id, data: CancelIn):
    appointment = owned(selectors.appointment_get, seller=request.seller, appointment_id=appointment_id)
    c = services.appointment_cancel(appointment=appointment, by=data.by, reason=data.reason, valid=data.valid,
                                    at=aware(data.at, request.seller))
    return _outcome(c)


@appointments.post("/{appointment_id}/reschedule", response={200: Outcome, **ERRORS})
def appointment_reschedule(request, appointment_id: Id, data: RescheduleIn):
    appointment = owned(selectors.appointment_get, seller=request.seller, appointment_id=appointment_id)
    c, moved = services.appointment_reschedule(appointment=appointment, to=aware(data.to, request.seller), by=data.by,
                                               reason=data.reason, valid=data.valid, at=aware(data.at, request.seller))
    return _outcome(c, moved)


@appointments.post("/{appointment_id}/held", response={200: AppointmentOut, **ERRORS})
def appointment_held(request, appointment_id: Id):
    appointment = owned(selectors.appointment_get, seller=request.seller, appointment_id=appointment_id)
    return services.appointment_mark_held(appointment=appointment)


@appointments.post("/{appointment_id}/no-show", response={200: Outcome, **ERRORS})
def appointment_no_show(request, appointment_id: Id):
    appointment = owned(selectors.appointment_get, seller=request.seller, appointment_id=appointment_id)
    return _outcome(services.appointment_mark_no_show(appointment=appointment))


@appointments.get("/{appointment_id}/freed", response={200: list[dict[str, Any]], **ERRORS})
def appointment_freed(request, appointment_id: Id):
    from dataclasses import asdict

    appointment = owned(selectors.appointment_get, seller=request.seller, appointment_id=appointment_id)
    return [asdict(s) for s in selectors.freed(appointment=appointment, now=timezone.now())]


# --- cancellations and checklists ----------------------------------------------------------------

cancellations = Router(tags=["cancellations"])


@cancellations.get("", response={200: CancellationPage, 400: Problem})
def cancellation_list(request, needs_review: bool = False, cursor: Text | None = None, limit: int = 50):
    rows = Cancellation.objects.filter(seller=request.seller)
    if needs_review:
        rows = rows.filter(category="unknown", valid_override__isnull=True)
    return page(rows, cursor, limit)


@cancellations.post("/{cancellation_id}/judge", response={200: CancellationOut, **ERRORS})
def cancellation_judge(request, cancellation_id: Id, data: JudgeIn):
    c = owned(selectors.cancellation_get, seller=request.seller, cancellation_id=cancellation_id)
    services.cancellation_judge(cancellation=c, valid=data.valid)
    c.refresh_from_db()
    return c


def _steps(c) -> list[dict]:
    return [{"key": s.key, "title": s.title, "done": s.done, "done_by": s.done_by, "skipped": s.skipped}
            for s, _ in selectors.cancellation_checklist(c)]


@cancellations.get("/{cancellation_id}/checklist", response={200: list[StepOut], **ERRORS})
def checklist_read(request, cancellation_id: Id):
    return _steps(owned(selectors.cancellation_get, seller=request.seller, cancellation_id=cancellation_id))


@cancellations.post("/{cancellation_id}/checklist/{step}", response={200: list[StepOut], **ERRORS})
def checklist_tick(request, cancellation_id: Id, step: str, data: TickIn):
    c = owned(selectors.cancellation_get, seller=request.seller, cancellation_id=cancellation_id)
    services.checklist_tick(cancellation=c, step=step, done=data.done)
    return _steps(selectors.cancellation_get(seller=request.seller, cancellation_id=cancellation_id))


# --- outbox --------------------------------------------------------------------------------------

outbox = Router(tags=["outbox"])


@outbox.get("", response={200: MessagePage, 400: Problem, 422: Problem})
def message_list(request, status: Text | None = None, cursor: Text | None = None, limit: int = 50):
    rows = PlannedMessage.objects.filter(seller=request.seller)
    if status:
        if status not in PlannedMessage.Status.values:
            raise RebookError(f"status: one of {', '.join(PlannedMessage.Status.values)}")
        rows = rows.filter(status=status)
    return page(rows, cursor, limit)


def _message(request, message_id: Id) -> PlannedMessage:
    from rebook.outbox.selectors import message_get

    return owned(message_get, seller=request.seller, message_id=message_id)


class MessageFull(MessageOut):
    to: str
    body: str
    html: str
    attachments: list[str]
    calendar: str | None


class MessageEdit(Schema):
    subject: Text | None = Field(None, max_length=300)
    body: Text | None = None
    html: Text | None = None


def _full(message: PlannedMessage) -> dict:
    from rebook.outbox.selectors import message_preview

    preview = message_preview(message, now=timezone.now())
    composed = preview.composed
    basics = {f: getattr(message, f) for f in ("id", "lead_id", "kind", "due", "status", "attempts", "last_error", "sent_at")}
    return {
        **basics, "note": message.status_note, "subject": composed.subject, "to": preview.to, "body": composed.text,
        "html": composed.html, "attachments": [a.name for a in composed.attachments],
        "calendar": composed.calendar.method if composed.calendar else None,
    }


@outbox.get("/{message_id}", response={200: MessageFull, 404: Problem})
def message_read(request, message_id: Id):
    """The message as it will go out (or went): recipient, subject, both bodies, attachments."""
    return _full(_message(request, message_id))


@outbox.patch("/{message_id}", response={200: MessageFull, **ERRORS})
def message_edit(request, message_id: Id, data: MessageEdit):
    message = outbox_services.message_edit(message=_message(request, message_id), subject=data.subject,
                                           body=data.body, html=data.html)
    return _full(message)


@outbox.post("/{message_id}/approve", response={200: MessageOut, **ERRORS})
def message_approve(request, message_id: Id):
    return outbox_services.message_approve(message=_message(request, message_id))


@outbox.post("/{message_id}/retry", response={200: MessageOut, **ERRORS})
def message_retry(request, message_id: Id):
    """Try again now: a message waiting for its next attempt after a temporary failure, or a failed one."""
    return outbox_services.message_retry(message=_message(request, message_id))


@outbox.post("/{message_id}/discard", response={200: MessageOut, **ERRORS})
def message_discard(request, message_id: Id):
    return outbox_services.message_discard(message=_message(request, message_id))


# --- pipeline and policy -------------------------------------------------------------------------

overview = Router(tags=["pipeline and policy"])


@overview.get("/pipeline", response=dict[str, Any])
def pipeline(request):
    from dataclasses import asdict

    health = selectors.pipeline(seller=request.seller, now=timezone.now())
    return asdict(health) | {"sentences": list(health.sentences)}


@overview.get("/policy", response=dict[str, str])
def policy_read(request):
    from rebook.strategy.policy import policy_as_text

    return policy_as_text(request.seller.policy)


def _policy_text(value: Any) -> str:
    """A JSON value as the text `rebook policy set` would take; 4.0 is 4, anything else is refused by the policy."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, str | int | float):
        return str(value)
    return repr(value)[:40]


@overview.patch("/policy", response={200: dict[str, str], 422: Problem})
def policy_update(request, data: dict[Text, Any] = Body(...)):
    from rebook.sellers.services import PolicyErrors, seller_policy_update
    from rebook.strategy.policy import policy_as_text

    values = {k: _policy_text(v) for k, v in data.items()}
    try:
        seller = seller_policy_update(seller=request.seller, values=values)
    except PolicyErrors as e:
        return problem(request, 422, "validation", "Invalid request", "Some policy values are not valid.",
                       errors=[{"field": str(err).split(" ")[1].rstrip(":"), "message": str(err)} for err in e.errors])
    return policy_as_text(seller.policy)


# --- imports -------------------------------------------------------------------------------------

imports = Router(tags=["imports"])


@imports.post("", response={202: ImportOut, 413: Problem, 422: Problem})
def import_upload(request, file: UploadedFile = File(...), dry_run: bool = Form(False), columns: Text = Form("")):
    """Upload a calendar file or e-mail (.ics, .eml, .mbox) or contacts (.csv, .vcf). The worker imports it:
    poll `GET /imports/{id}` until `status` is `done` (the report) or `failed` (`error` says why)."""
    from rebook.imports import import_enqueue
    from rebook.strategy.limits import MAX_UPLOAD_BYTES

    if file.size is not None and file.size > MAX_UPLOAD_BYTES:
        return problem(request, 413, "too-large", "Upload too large",
                       f"file: {file.size // (1024 * 1024)} MB; the limit is {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    name = _clean_name(file.name or "") or "upload"
    mapping = {}
    for line in columns.splitlines():
        column, sep, target = line.rpartition("=")
        if sep and column.strip():
            mapping[column.strip()] = target.strip().lower()
    run = import_enqueue(seller=request.seller, data=file.read(), name=name, dry_run=dry_run, columns=mapping)
    response = api.create_response(request, ImportOut.from_orm(run).dict(), status=202)
    response["Location"] = f"/api/v1/imports/{run.pk}"
    return response


def _clean_name(name: str) -> str:
    return name.replace("\x00", "").encode("utf-8", errors="ignore").decode()[:255]


@imports.get("/{import_id}", response={200: ImportOut, 404: Problem})
def import_read(request, import_id: Id):
    run = ImportRun.objects.filter(seller=request.seller, pk=import_id).first()
    if run is None:
        raise Http404(f"no import with id {import_id}")
    return run


# --- webhooks ------------------------------------------------------------------------------------

webhooks = Router(tags=["webhooks"])


@webhooks.post("", response={201: WebhookCreated, 422: Problem})
def webhook_create(request, data: WebhookIn):
    """Register a URL for events (all of them when `events` is empty). The signing secret is shown once."""
    return Status(201, webhook_services.endpoint_create(seller=request.seller, url=data.url, events=data.events))


@webhooks.get("", response=list[WebhookOut])
def webhook_list(request):
    return list(Endpoint.objects.filter(seller=request.seller))


def _endpoint(request, webhook_id: Id) -> Endpoint:
    endpoint = Endpoint.objects.filter(seller=request.seller, pk=webhook_id).first()
    if endpoint is None:
        raise Http404(f"no webhook with id {webhook_id}")
    return endpoint


# Declared before "/{webhook_id}", whose pattern would otherwise take "events" and answer 405.
@webhooks.get("/events", response=list[str])
def webhook_events(request):
    return list(EVENTS)


@webhooks.delete("/{webhook_id}", response={204: None, 404: Problem})
def webhook_delete(request, webhook_id: Id):
    webhook_services.endpoint_delete(endpoint=_endpoint(request, webhook_id))
    return Status(204, None)


@webhooks.get("/{webhook_id}/deliveries", response={200: list[DeliveryOut], 404: Problem})
def webhook_deliveries(request, webhook_id: Id, limit: int = 50):
    endpoint = _endpoint(request, webhook_id)
    return list(Delivery.objects.filter(endpoint=endpoint).order_by("-id")[: max(1, min(limit, MAX_LIMIT))])


# --- inbound: a booking tool posts a cancellation or reschedule ------------------------------------

inbound = Router(tags=["inbound"])


@inbound.post("/{token}", auth=None, response={200: Outcome, 401: Problem, 404: Problem, 422: Problem})
def inbound_event(request, token: str):
    """Signed like outgoing webhooks (Rebook-Timestamp, Rebook-Signature over "timestamp.body")."""
    hook = InboundHook.objects.select_related("seller").filter(token=token).first()
    if hook is None or not token:
        raise Http404("no such inbound URL")
    try:
        webhook_services.verify(hook.secret, request.headers.get("Rebook-Timestamp", ""),
                                request.headers.get("Rebook-Signature", ""), request.body, timezone.now())
    except RebookError as e:
        return problem(request, 401, "bad-signature", "Signature refused", str(e))
    try:
        data = InboundIn.model_validate(json.loads(request.body or b"{}"))
    except (ValueError, json.JSONDecodeError) as e:
        return problem(request, 422, "validation", "Invalid request", str(e)[:500])
    seller = hook.seller
    appointment = _inbound_appointment(seller, data)
    if data.event == "cancelled":
        c = services.appointment_cancel(appointment=appointment, by=data.by, reason=data.reason)
        return _outcome(c)
    if data.new_start is None:
        raise RebookError("new_start: needed for a reschedule")
    c, moved = services.appointment_reschedule(appointment=appointment, to=aware(data.new_start, seller), by=data.by,
                                               reason=data.reason)
    return _outcome(c, moved)


def _inbound_appointment(seller, data: InboundIn) -> Appointment:
    rows = Appointment.objects.filter(seller=seller, status=Appointment.Status.SCHEDULED).select_related("lead")
    if data.appointment_id is not None:
        found = rows.filter(pk=data.appointment_id).first()
    elif data.uid:
        found = rows.filter(ical_uid=data.uid).order_by("-id").first()
    elif data.email and data.start:
        found = rows.filter(lead__email__iexact=data.email, start=aware(data.start, seller)).first()
    else:
        raise RebookError("say which appointment: appointment_id, uid, or email and start")
    if found is None:
        raise Http404("no scheduled appointment matches")
    return found


api.add_router("/leads", leads)
api.add_router("/appointments", appointments)
api.add_router("/cancellations", cancellations)
api.add_router("/messages", outbox)
api.add_router("/", overview)
api.add_router("/imports", imports)
api.add_router("/webhooks", webhooks)
api.add_router("/inbound", inbound)
