"""Schemathesis, property-based, against the generated OpenAPI document: for every operation it sends
generated requests (valid and not) and checks that no answer is a server error and that every
documented answer matches its schema."""

from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from rebook.api.services import token_create

EXAMPLES = 25


@pytest.fixture
def token(alice, charlie):
    from django.utils import timezone

    from rebook.leads.services import appointment_book, appointment_cancel

    now = timezone.now()
    first = appointment_book(lead=charlie, start=now + timedelta(days=2), end=now + timedelta(days=2, hours=1))
    appointment_cancel(appointment=first, by="prospect", reason="something came up")
    appointment_book(lead=charlie, start=now + timedelta(days=5), end=now + timedelta(days=5, hours=1))
    return token_create(seller=alice, name="schemathesis")[1]


def test_no_server_errors_and_no_answer_that_breaks_the_schema(token, settings):
    from django.core.wsgi import get_wsgi_application

    settings.REBOOK_API_RATE_LIMIT = 100_000
    failures: list[str] = []
    # As Django's test client does: requests must not close the test's database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 30
        _run(operations, token, failures)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert not failures, "\n\n".join(failures)


def _run(operations, token: str, failures: list[str]) -> None:
    from hypothesis import given

    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None,
                             suppress_health_check=list(HealthCheck))
        def exercise(case):
            case.call_and_validate(
                headers={"Authorization": f"Bearer {token}"},
                checks=[not_a_server_error, response_schema_conformance, content_type_conformance,
                        status_code_conformance],
            )

        try:
            exercise()
        except Exception as e:  # collect every operation's failure, then report them together
            failures.append(f"{operation.method.upper()} {operation.path}: {e}"[:2000])


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
