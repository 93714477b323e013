"""The REST API: every operation, privacy between sellers, tokens, limits, problems, idempotency."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client

from rebook.api.services import token_create, token_revoke
from rebook.leads.models import Appointment, Cancellation, Lead
from rebook.outbox.models import PlannedMessage
from tests.conftest import NOW

pytestmark = pytest.mark.usefixtures("frozen")


class Api:
    def __init__(self, token: str):
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def __getattr__(self, method):
        def call(path, data=None, status=200, **headers):
            kwargs = {"content_type": "application/json"} if data is not None and method != "get" else {}
            if data is not None:
                kwargs["data"] = data if method == "get" else json.dumps(data)
            response = getattr(self.client, method)(f"/api/v1{path}", headers=headers, **kwargs)
            assert response.status_code == status, (response.status_code, response.content[:500])
            return response.json() if response.content else None

        return call


@pytest.fixture
def api(alice):
    return Api(token_create(seller=alice, name="test")[1])


@pytest.fixture
def bob_api(bob):
    return Api(token_create(seller=bob, name="bob")[1])


def test_the_whole_cancellation_story_through_the_api(api):
    lead = api.post("/leads", {"name": "Dana Reyes", "email": "dana@example.com", "source": "Chamber mixer"}, status=201)
    statuses = []
    for day in (3, 4, 5):
        appointment = api.post("/appointments", {"lead_id": lead["id"], "start": f"2026-03-0{day}T10:00:00",
                                                 "duration_minutes": 30}, status=201)
        assert appointment["start"].startswith(f"2026-03-0{day}T")  # read in Alice's zone: 10:00 EST
        outcome = api.post(f"/appointments/{appointment['id']}/cancel", {"by": "prospect", "reason": "something came up"})
        statuses.append((outcome["lead"]["strikes"], outcome["lead"]["status"], outcome["cancellation"]["is_strike"]))
    assert statuses == [(1, "active", True), (2, "active", True), (3, "nurture", True)]
    review = api.get("/messages", {"status": "review"})["items"]
    note = next(m for m in review if m["kind"] == "nurture_move")
    assert api.post(f"/messages/{note['id']}/approve")["status"] == "scheduled"
    assert api.post(f"/leads/{lead['id']}/reactivate")["status"] in {"active", "new", "qualified"}


def test_leads_list_filters_and_pages_with_a_cursor(api, alice):
    from rebook.leads.services import lead_create

    for i in range(5):
        lead_create(seller=alice, name=f"Lead {i}", source="fair" if i % 2 else "web")
    first = api.get("/leads", {"limit": 2})
    second = api.get("/leads", {"limit": 2, "cursor": first["next_cursor"]})
    third = api.get("/leads", {"limit": 2, "cursor": second["next_cursor"]})
    names = [x["name"] for p in (first, second, third) for x in p["items"]]
    assert names == [f"Lead {i}" for i in range(5)] and third["next_cursor"] is None
    assert [x["name"] for x in api.get("/leads", {"source": "fair"})["items"]] == ["Lead 1", "Lead 3"]
    assert [x["name"] for x in api.get("/leads", {"q": "lead 4"})["items"]] == ["Lead 4"]
    problem = api.get("/leads", {"cursor": "!!"}, status=422)
    assert problem["errors"][0]["field"] == "cursor"
    misspelt = api.get("/leads", {"stauts": "nurture"}, status=422)  # not quietly ignored
    assert misspelt["errors"][0]["field"] == "stauts" and "status" in misspelt["errors"][0]["message"]


def test_lead_read_update_and_not_interested(api, charlie):
    assert api.get(f"/leads/{charlie.pk}")["name"] == "Charlie Chen"
    updated = api.patch(f"/leads/{charlie.pk}", {"company": "Chen Bakery & Cafe", "timezone": "Europe/Paris"})
    assert (updated["company"], updated["timezone"]) == ("Chen Bakery & Cafe", "Europe/Paris")
    assert api.post(f"/leads/{charlie.pk}/not-interested", {"reason": "bought elsewhere"})["status"] == "nurture"


def test_appointments_reschedule_held_no_show_freed(api, charlie):
    a = api.post("/appointments", {"lead_id": charlie.pk, "start": "2026-03-04T15:00:00Z"}, status=201)
    moved = api.post(f"/appointments/{a['id']}/reschedule", {"to": "2026-03-06T15:00:00Z", "by": "seller"})
    assert moved["appointment"]["rescheduled_from_id"] == a["id"] and moved["appointment"]["chain"] == a["chain"]
    assert isinstance(api.get(f"/appointments/{a['id']}/freed"), list)
    past = Appointment.objects.create(lead=charlie, seller=charlie.seller, start=NOW - timedelta(days=1), end=NOW - timedelta(hours=23),
                                      timezone="UTC", booked_at=NOW - timedelta(days=3))
    assert api.post(f"/appointments/{past.pk}/held")["status"] == "held"
    other = Appointment.objects.create(lead=charlie, seller=charlie.seller, start=NOW - timedelta(days=2), end=NOW - timedelta(hours=47),
                                       timezone="UTC", booked_at=NOW - timedelta(days=3))
    assert api.post(f"/appointments/{other.pk}/no-show")["cancellation"]["kind"] == "no_show"
    listed = api.get("/appointments", {"lead_id": charlie.pk, "status": "held"})["items"]
    assert [x["id"] for x in listed] == [past.pk]


def test_what_the_present_state_refuses_is_a_409_conflict_and_changes_nothing(api, charlie):
    a = api.post("/appointments", {"lead_id": charlie.pk, "start": "2026-03-04T15:00:00Z"}, status=201)
    api.post(f"/appointments/{a['id']}/cancel", {"by": "seller"})
    again = api.post(f"/appointments/{a['id']}/cancel", {"by": "prospect", "reason": "sick"}, status=409)
    assert again["type"].endswith("/conflict") and "cancelled" in again["detail"]
    assert Cancellation.objects.filter(appointment_id=a["id"]).count() == 1
    withdrawn = api.get("/messages", {"status": "withdrawn"})["items"][0]  # the booking follow-up, not needed now
    assert "withdrawn" in api.post(f"/messages/{withdrawn['id']}/approve", status=409)["detail"]
    # Asking something malformed is still a 422 that names the field.
    assert api.get("/appointments", {"status": "someday"}, status=422)["errors"][0]["field"] == "status"


def test_cancellations_judge_and_checklist(api, charlie):
    a = api.post("/appointments", {"lead_id": charlie.pk, "start": "2026-03-04T15:00:00Z"}, status=201)
    c = api.post(f"/appointments/{a['id']}/cancel", {"by": "prospect", "reason": "my cat looked at me"})["cancellation"]
    assert c["needs_review"] and [x["id"] for x in api.get("/cancellations", {"needs_review": True})["items"]] == [c["id"]]
    judged = api.post(f"/cancellations/{c['id']}/judge", {"valid": True})
    assert (judged["valid"], judged["is_strike"]) == (True, False)
    steps = api.get(f"/cancellations/{c['id']}/checklist")
    assert {s["key"] for s in steps} >= {"respond", "reuse_time"}
    ticked = api.post(f"/cancellations/{c['id']}/checklist/respond", {"done": True})
    assert next(s for s in ticked if s["key"] == "respond")["done"]


def test_outbox_discard_pipeline_and_policy(api, charlie):
    api.post("/appointments", {"lead_id": charlie.pk, "start": "2026-03-10T15:00:00Z"}, status=201)
    message = api.get("/messages")["items"][0]
    assert api.post(f"/messages/{message['id']}/discard")["status"] == "discarded"
    assert "sentences" in api.get("/pipeline")
    assert api.get("/policy")["strike_limit"] == "3"
    assert api.patch("/policy", {"strike_limit": 4, "auto_send": True})["auto_send"] == "true"
    problem = api.patch("/policy", {"quiet_hours": "whenever"}, status=422)
    assert problem["errors"][0]["field"] == "quiet_hours"
    assert api.patch("/policy", {"strike_limt": 4}, status=422)["errors"][0]["field"] == "strike_limt"
    assert api.patch("/policy", {"strike_limit": 0}, status=422)["errors"][0]["field"] == "strike_limit"
    assert api.get("/policy")["strike_limit"] == "4"


def test_imports_are_queued_run_by_the_worker_and_polled(api, alice):
    from rebook.outbox.worker import Worker

    upload = api.client.post("/api/v1/imports", {"file": _file("c.csv", b"Name,Email\nDana,dana@example.com\n,bad\n")})
    assert upload.status_code == 202, upload.content
    queued = upload.json()
    assert (queued["status"], queued["kind"]) == ("queued", "contacts") and upload["Location"].endswith(str(queued["id"]))
    assert not Lead.objects.exists()  # nothing happens in the request
    Worker(name="w", send_mail=False).run(until_idle=True)
    run = api.get(f"/imports/{queued['id']}")
    assert run["status"] == "done" and run["report"]["created"] == 1 and run["report"]["refused"][0]["line"] == 3


def test_an_unreadable_upload_fails_with_its_reason_and_a_huge_one_is_refused(api, alice, settings):
    from rebook.outbox.worker import Worker

    queued = api.client.post("/api/v1/imports", {"file": _file("x.ics", b"BEGIN:VCALENDAR\nBEGIN:VEVENT\n")}).json()
    Worker(name="w", send_mail=False).run(until_idle=True)
    run = api.get(f"/imports/{queued['id']}")
    assert run["status"] == "failed" and "END:VCALENDAR" in run["error"]
    from rebook.strategy import limits

    big = api.client.post("/api/v1/imports", {"file": _file("big.csv", b"x" * (limits.MAX_UPLOAD_BYTES + 1))})
    assert big.status_code == 413 and big["Content-Type"] == "application/problem+json"


def _file(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def _owned_paths(story) -> list[tuple[str, str, dict | None]]:
    lead, appointment, c, message = story
    return [
        ("get", f"/leads/{lead}", None), ("patch", f"/leads/{lead}", {"name": "Mallory"}),
        ("post", f"/leads/{lead}/not-interested", {}), ("post", f"/leads/{lead}/reactivate", None),
        ("get", f"/appointments/{appointment}", None), ("post", f"/appointments/{appointment}/cancel", {"by": "seller"}),
        ("post", f"/appointments/{appointment}/reschedule", {"by": "seller", "to": "2026-04-01T10:00:00Z"}),
        ("post", f"/appointments/{appointment}/held", None), ("post", f"/appointments/{appointment}/no-show", None),
        ("get", f"/appointments/{appointment}/freed", None),
        ("post", f"/cancellations/{c}/judge", {"valid": True}), ("get", f"/cancellations/{c}/checklist", None),
        ("post", f"/cancellations/{c}/checklist/respond", {"done": True}),
        ("post", f"/messages/{message}/approve", None), ("post", f"/messages/{message}/discard", None),
        ("post", "/appointments", {"lead_id": lead, "start": "2026-04-01T10:00:00Z"}),
    ]


def test_another_sellers_ids_answer_404_and_change_nothing(api, bob_api, charlie):
    a = api.post("/appointments", {"lead_id": charlie.pk, "start": "2026-03-04T15:00:00Z"}, status=201)
    c = api.post(f"/appointments/{a['id']}/cancel", {"by": "prospect", "reason": "flu"})["cancellation"]
    b = api.post("/appointments", {"lead_id": charlie.pk, "start": "2026-03-05T15:00:00Z"}, status=201)
    message = PlannedMessage.objects.filter(lead=charlie, status="review").first()
    before = (Lead.objects.get(pk=charlie.pk).status, Appointment.objects.filter(status="scheduled").count(),
              PlannedMessage.objects.filter(status="review").count())
    for method, path, data in _owned_paths((charlie.pk, b["id"], c["id"], message.pk)):
        problem = getattr(bob_api, method)(path, data, status=404)
        assert problem["status"] == 404 and problem["type"].endswith("/not-found"), path
    after = (Lead.objects.get(pk=charlie.pk).status, Appointment.objects.filter(status="scheduled").count(),
             PlannedMessage.objects.filter(status="review").count())
    assert after == before
    assert bob_api.get("/leads")["items"] == [] and bob_api.get("/messages")["items"] == []


def test_without_a_valid_token_the_answer_is_401(alice):
    row, token = token_create(seller=alice, name="old")
    for header in ({}, {"HTTP_AUTHORIZATION": "Bearer rbk_nonsense"}, {"HTTP_AUTHORIZATION": "Basic abc"}):
        response = Client(**header).get("/api/v1/leads")
        assert response.status_code == 401 and response["Content-Type"] == "application/problem+json"
    assert Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/leads").status_code == 200
    token_revoke(seller=alice, token_id=row.pk)
    assert Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/leads").status_code == 401
    assert row.digest != token and token not in str(type(row).objects.values_list("digest", "prefix"))


def test_each_token_is_rate_limited_with_retry_after(api, settings):
    settings.REBOOK_API_RATE_LIMIT = 3
    for _ in range(3):
        api.get("/leads")
    response = api.client.get("/api/v1/leads")
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert response.json()["type"].endswith("/rate-limited")


def test_validation_errors_are_problem_details_with_fields(api):
    problem = api.post("/appointments", {"lead_id": "x", "start": "not a time"}, status=422)
    assert problem["title"] == "Invalid request" and {e["field"] for e in problem["errors"]} == {"lead_id", "start"}
    refused = api.post("/leads", {"name": "Dana", "email": "not-an-address"}, status=422)
    assert "is not a valid e-mail address" in refused["detail"]


def test_a_retried_write_with_the_same_idempotency_key_changes_nothing_more(api):
    first = api.post("/leads", {"name": "Dana"}, status=201, Idempotency_Key="abc-1")
    again = api.client.post("/api/v1/leads", json.dumps({"name": "Dana"}), content_type="application/json",
                            headers={"Idempotency-Key": "abc-1"})
    assert again.status_code == 201 and again.json() == first and again["Idempotent-Replayed"] == "true"
    assert Lead.objects.count() == 1
    other = api.post("/leads", {"name": "Someone else"}, status=422, Idempotency_Key="abc-1")
    assert "different request" in other["detail"]


def test_the_openapi_document_and_docs_are_served(client):
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.") and "/api/v1/leads" in document["paths"]
    assert client.get("/api/v1/docs").status_code == 200


def test_qualify_status_contacts_and_reading_and_editing_a_message(api, charlie):
    assert api.post(f"/leads/{charlie.pk}/qualify", {"notes": "budget agreed"})["status"] == "qualified"
    contact = api.post(f"/leads/{charlie.pk}/activities", {"kind": "call", "direction": "inbound",
                                                           "notes": "called back"}, status=201)
    assert (contact["kind"], contact["direction"]) == ("call", "inbound")
    api.post("/appointments", {"lead_id": charlie.pk, "start": "2026-03-10T15:00:00Z"}, status=201)
    message = api.get("/messages", {"status": "review"})["items"][0]
    full = api.get(f"/messages/{message['id']}")
    assert full["to"] == "Charlie Chen <charlie@chen.example>" and full["calendar"] == "REQUEST" and "Hello Charlie" in full["body"]
    edited = api.patch(f"/messages/{message['id']}", {"subject": "See you soon"})
    assert edited["subject"] == "See you soon" and edited["status"] == "review"
    assert api.post(f"/leads/{charlie.pk}/status", {"status": "won"})["status"] == "won"
    assert api.post(f"/leads/{charlie.pk}/status", {"status": "nurture"}, status=422)["errors"]
