"""Every number, duration, date and text has a range, checked in one place that the CLI, web and API share:
out-of-range input is a clear error naming the field, never a 500 or a traceback, and changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from rebook.api.services import token_create
from rebook.leads.models import Appointment, Lead
from tests.clirunner import Rebook

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def api(alice):
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_create(seller=alice, name='t')[1]}")


@pytest.mark.parametrize("values, field", [
    ({"strike_limit": 1e20}, "strike_limit"),
    ({"strike_limit": 99999999999999999999}, "strike_limit"),
    ({"nurture_checkin_days": 1_000_000_000}, "nurture_checkin_days"),
    ({"connecting_moment_delay": "99999999d"}, "connecting_moment_delay"),
    ({"late_notice_hours": -5}, "late_notice_hours"),
    ({"working_hours": "17:00-09:00"}, "working_hours"),
])
def test_policy_values_out_of_range_are_a_problem_naming_the_field_through_the_api(api, alice, values, field):
    answer = api.patch("/api/v1/policy", values, content_type="application/json")
    assert answer.status_code == 422, answer.content
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    alice.refresh_from_db()
    assert alice.strike_limit == 3 and alice.nurture_checkin_days == 90


@pytest.mark.parametrize("start", ["9999-12-31T23:59:59", "0001-01-01T00:00:00", "2100-01-01T00:00:00Z",
                                   "9999-12-31T23:59:59-12:00"])
def test_booking_far_outside_the_calendar_is_a_problem_not_a_500(api, charlie, start):
    answer = api.post("/api/v1/appointments", {"lead_id": charlie.pk, "start": start},
                      content_type="application/json")
    assert answer.status_code in (400, 422), answer.content
    assert "outside the dates Rebook keeps" in answer.content.decode()
    assert not Appointment.objects.exists()


def test_the_web_forms_refuse_far_dates_and_long_durations_beside_the_field(alice_client, charlie):
    for start, duration, words in [("9999-12-31T23:59", "45m", b"outside the dates"),
                                   ("2026-03-09T10:00", "99999999d", b"at most 31d")]:
        page = alice_client.post(f"/leads/{charlie.pk}/book/", {"start": start, "duration": duration,
                                                                "booked_by": "seller"})
        assert page.status_code == 400 and words in page.content
    from rebook.strategy.policy import policy_as_text

    page = alice_client.post("/policy/", policy_as_text(charlie.seller.policy) | {"strike_limit": "99999999999999999999"})
    assert page.status_code == 400 and b"from 1 to 100" in page.content
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("args, words", [
    (("appt", "book", "{lead}", "--at", "tomorrow 10am", "--duration", "99999999d"), "at most 31d"),
    (("appt", "book", "{lead}", "--at", "9999-12-31T23:59"), "outside the dates Rebook keeps"),
    (("appt", "book", "{lead}", "--at", "0001-01-01T00:00"), "outside the dates Rebook keeps"),
    (("appt", "book", "{lead}", "--at", "in 99999999 days"), "cannot read"),
    (("policy", "set", "strike_limit", "99999999999999999999"), "from 1 to 100"),
    (("policy", "set", "strike_limit", "-1"), "between 1 and 100"),
    (("policy", "set", "connecting_moment_delay", "99999999d"), "at most 30d"),
    (("policy", "set", "working_hours", "17:00-09:00"), "runs past midnight"),
])
def test_the_command_line_refuses_out_of_range_values_in_one_line(charlie, args, words):
    result = Rebook()(*[a.format(lead=charlie.pk) for a in args], ok=False)
    assert result.exit_code == 1 and result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and words in line, line
    assert not Appointment.objects.exists()


def test_text_fields_keep_their_length_on_every_database(alice, api):
    from rebook.errors import RebookError
    from rebook.leads.services import lead_create

    with pytest.raises(RebookError, match="name: at most 200 characters"):
        lead_create(seller=alice, name="x" * 5000)
    answer = api.post("/api/v1/leads", {"name": "x" * 5000}, content_type="application/json")
    assert answer.status_code in (400, 422)
    assert not Lead.objects.exists()


def test_an_idempotent_upload_larger_than_the_json_limit_is_queued(api, alice):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from rebook.api.models import ImportRun

    rows = b"Name,Email\n" + b"".join(b"Lead %d,lead%d@example.com\n" % (i, i) for i in range(120_000))
    assert len(rows) > 3 * 1024 * 1024
    first = api.post("/api/v1/imports", {"file": SimpleUploadedFile("big.csv", rows)}, HTTP_IDEMPOTENCY_KEY="k1")
    again = api.post("/api/v1/imports", {"file": SimpleUploadedFile("big.csv", rows)}, HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == again.status_code == 202, first.content[:300]
    assert again["Idempotent-Replayed"] == "true" and ImportRun.objects.count() == 1


def test_replays_wait_their_turn_when_the_token_is_rate_limited(api, alice, settings):
    settings.REBOOK_API_RATE_LIMIT = 3
    body = {"name": "Dana"}
    assert api.post("/api/v1/leads", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="a").status_code == 201
    for _ in range(2):
        api.get("/api/v1/leads")
    replay = api.post("/api/v1/leads", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="a")
    assert replay.status_code == 429 and replay["Retry-After"]
    assert Lead.objects.count() == 1


def test_a_body_larger_than_any_upload_is_refused_before_it_is_read(api, alice_client):
    from rebook.web.middleware import MAX_REQUEST_BYTES

    huge = {"CONTENT_LENGTH": str(MAX_REQUEST_BYTES + 1), "CONTENT_TYPE": "multipart/form-data; boundary=x"}
    answer = api.generic("POST", "/api/v1/imports", b"", **huge)
    assert answer.status_code == 413 and answer["Content-Type"] == "application/problem+json"
    page = alice_client.generic("POST", "/data/", b"", **huge)
    assert page.status_code == 413 and b"largest upload is 50 MB" in page.content


def test_api_refusals_name_the_field_not_a_command_line_flag(api):
    answer = api.post("/api/v1/leads", {"name": "Dana", "email": "nope"}, content_type="application/json")
    problem = answer.json()
    assert answer.status_code == 422 and "--" not in problem["detail"]
    assert problem["errors"] == [{"field": "email", "message": "'nope' is not a valid e-mail address"}]


@pytest.mark.parametrize("content_type, body", [
    ("text/plain", '{"name": "Dana"}'), ("application/xml", "<lead><name>Dana</name></lead>"),
    ("application/x-www-form-urlencoded", "name=Dana"),
])
def test_json_operations_refuse_other_media_types(api, content_type, body):
    answer = api.post("/api/v1/leads", body, content_type=content_type)
    assert answer.status_code == 415 and answer["Content-Type"] == "application/problem+json"
    assert not Lead.objects.exists()


@pytest.mark.parametrize("body", ["[]", "null", '"Dana"', "3"])
def test_a_body_that_is_not_an_object_is_refused(api, charlie, body):
    from datetime import timedelta

    from rebook.leads.services import appointment_book
    from tests.conftest import NOW

    appointment = appointment_book(lead=charlie, start=NOW + timedelta(days=2), end=NOW + timedelta(days=2, hours=1))
    for path in ("/api/v1/leads", f"/api/v1/appointments/{appointment.pk}/cancel"):
        answer = api.post(path, body, content_type="application/json")
        assert answer.status_code == 422 and "must be a JSON object" in answer.json()["detail"], path
    appointment.refresh_from_db()
    assert appointment.status == "scheduled" and Lead.objects.count() == 1


def test_an_upload_must_be_multipart(api):
    answer = api.post("/api/v1/imports", '{"file": "x"}', content_type="application/json")
    assert answer.status_code == 415
