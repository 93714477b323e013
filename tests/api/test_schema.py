"""Schemathesis, property-based, against the generated OpenAPI document, with every check it has: for
every operation it sends generated requests (valid and not) and checks that no answer is a server error,
that every answer matches the document, that what the document calls valid is accepted and what it calls
invalid is refused; then its stateful phase chains operations through the links it infers (create a lead,
book it, cancel that appointment...) with the same checks on every step.

One allowance, and the document states it: a field marked `x-rebook-checked` has rules a schema cannot say
(a time zone that exists, a dialable number, a time inside Rebook's window), so a schema-valid value may
be refused with a 422 that names that field and no other."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

from rebook.api.base import CHECKED
from rebook.api.services import token_create

EXAMPLES = 25  # per operation; derandomized, so a run in CI is the run seen here
load_all_checks()


def _checked_fields(document: dict) -> set[str]:
    """Every property the document marks as checked beyond its schema."""
    found: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            for name, sub in (node.get("properties") or {}).items():
                if isinstance(sub, dict) and sub.get(CHECKED):
                    found.add(name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return found


CHECKED_FIELDS: set[str] = set()


@schemathesis.check
def positive_data_accepted_unless_checked_beyond_the_schema(ctx, response, case):
    """positive_data_acceptance, but a 422 that names only fields marked checked is a legitimate refusal."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if response.status_code == 422:
            errors = json.loads(response.content or b"{}").get("errors") or []
            named = {e.get("field") for e in errors}
            if named and named <= CHECKED_FIELDS:
                return None
        raise


def _checks() -> list:
    return [c for c in CHECKS.get_all() if c is not positive_data_acceptance] + [
        positive_data_accepted_unless_checked_beyond_the_schema]


@pytest.fixture
def token(alice, charlie):
    from django.utils import timezone

    from rebook.leads.services import appointment_book, appointment_cancel

    now = timezone.now()
    first = appointment_book(lead=charlie, start=now + timedelta(days=2), end=now + timedelta(days=2, hours=1))
    appointment_cancel(appointment=first, by="prospect", reason="something came up")
    appointment_book(lead=charlie, start=now + timedelta(days=5), end=now + timedelta(days=5, hours=1))
    return token_create(seller=alice, name="schemathesis")[1]


@pytest.fixture
def schema(token, settings):
    from django.core.wsgi import get_wsgi_application

    settings.REBOOK_API_RATE_LIMIT = 100_000
    # As Django's test client does: requests must not close the test's database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
        CHECKED_FIELDS.clear()
        CHECKED_FIELDS.update(_checked_fields(schema.raw_schema))
        yield schema
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_the_document_marks_what_it_cannot_say():
    """The allowance above is narrow: these fields and no others."""
    from rebook.api.api import api

    assert _checked_fields(api.get_openapi_schema()) == {
        "email", "phone", "timezone", "start", "end", "at", "to", "new_start", "url",
        "connecting_moment_delay", "reschedule_offer_delay", "booking_followup_delay", "confirmation_lead_time",
        "quiet_hours", "working_hours",
    }


def test_every_operation_passes_every_check(schema, token):
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    _run(operations, token, failures)
    assert not failures, "\n\n".join(failures)


def _run(operations, token: str, failures: list[str]) -> None:
    from hypothesis import given

    checks = _checks()
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                             suppress_health_check=list(HealthCheck))
        def exercise(case):
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=checks)

        try:
            exercise()
        except (Exception, BaseExceptionGroup) as e:  # collect every operation's failure, then report them together
            failures.append(f"{operation.method.upper()} {operation.path}: {e}"[:2000])


def test_stateful_chains_of_operations_pass_every_check(schema, token):
    """Each scenario runs in a savepoint rolled back at its end, so every scenario starts from the same
    data and Hypothesis can replay (and shrink) a failing chain."""
    from django.db import transaction

    checks = _checks()
    answered: Counter = Counter()

    class Scenario(schema.as_state_machine()):
        def setup(self):
            self.savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": f"Bearer {token}"}}

        def after_call(self, response, case):
            answered[case.operation.path, response.status_code // 100] += 1

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=checks, headers=kwargs.get("headers"))

    Scenario.run(settings=hypothesis_settings(max_examples=40, stateful_step_count=8, deadline=None, database=None,
                                              derandomize=True, suppress_health_check=list(HealthCheck)))
    # The chains reached real resources: an id taken from one answer worked in the next request.
    assert any("{" in path and kind == 2 for path, kind in answered), answered


def test_the_document_declares_the_problems_operations_really_answer_with(client):
    import json

    def no_key_twice(pairs):  # 422 beside "422": Swagger UI refuses such a document outright
        keys = [key for key, _ in pairs]
        assert len(keys) == len(set(keys)), keys
        return dict(pairs)

    paths = json.loads(client.get("/api/v1/openapi.json").content, object_pairs_hook=no_key_twice)["paths"]
    create = paths["/api/v1/leads"]["post"]["responses"]
    assert {"400", "401", "413", "415", "422", "429"} <= set(create)
    assert "application/problem+json" in create["401"]["content"]
    assert {"401", "429"} <= set(paths["/api/v1/pipeline"]["get"]["responses"])
