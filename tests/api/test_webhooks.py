"""Webhooks out (through the outbox, signed, retried, visible) and in (a booking tool's signed post)."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from django.utils import timezone

from rebook.api.services import inbound_hook_for, token_create
from rebook.leads.models import Appointment
from rebook.leads.services import appointment_book, appointment_cancel
from rebook.outbox.worker import Worker
from rebook.webhooks.models import Delivery
from rebook.webhooks.services import endpoint_create, sign, verify
from tests.clirunner import Rebook
from tests.conftest import NOW
from tests.smtpserver import free_port

pytestmark = pytest.mark.usefixtures("frozen")


class Receiver:
    """A real HTTP server on loopback that records posts and answers as scripted."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append({"headers": dict(self.headers), "body": body})
                code = outer.script.pop(0) if outer.script else 204
                self.send_response(code)
                self.end_headers()
                if code >= 400:
                    self.wfile.write(b"busy, try later")

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"


@pytest.fixture
def receiver(settings):
    settings.REBOOK_WEBHOOK_ALLOW_PRIVATE = True  # the receiver is on loopback
    r = Receiver()
    yield r
    r.server.shutdown()


def test_an_event_is_queued_with_the_change_signed_and_delivered(alice, charlie, receiver, frozen):
    endpoint = endpoint_create(seller=alice, url=receiver.url, events=["appointment.cancelled"])
    appointment = appointment_book(lead=charlie, start=NOW + timedelta(days=2), end=NOW + timedelta(days=2, hours=1))
    assert not Delivery.objects.exists()  # booked is not an event this endpoint wants
    appointment_cancel(appointment=appointment, by="prospect", reason="my son is sick")
    delivery = Delivery.objects.get()
    assert (delivery.event, delivery.status) == ("appointment.cancelled", "scheduled")

    assert Worker(name="w").run(until_idle=True).lines[-1].endswith("delivered")
    [posted] = receiver.requests
    headers, body = posted["headers"], posted["body"]
    assert headers["Rebook-Event"] == "appointment.cancelled" and headers["Rebook-Delivery"] == str(delivery.pk)
    verify(endpoint.secret, headers["Rebook-Timestamp"], headers["Rebook-Signature"], body, timezone.now())
    payload = json.loads(body)
    assert payload["data"]["cancellation"]["reason"] == "my son is sick" and payload["data"]["lead"]["id"] == charlie.pk
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == ("delivered", 204)


def test_a_failing_endpoint_is_retried_and_its_last_response_is_visible(alice, charlie, receiver, frozen):
    endpoint_create(seller=alice, url=receiver.url)
    receiver.script = [503]
    appointment_book(lead=charlie, start=NOW + timedelta(days=2), end=NOW + timedelta(days=2, hours=1))
    Worker(name="w").run(until_idle=True)
    delivery = Delivery.objects.get(event="appointment.booked")
    # The status and Rebook's own note; never the body the endpoint answered with.
    assert (delivery.status, delivery.last_status_code, delivery.last_response) == (
        "scheduled", 503, "HTTP 503 Service Unavailable")
    assert delivery.due == timezone.now() + timedelta(minutes=1)
    listing = Rebook().json("webhook", "list")
    assert listing[0]["last_delivery"]["status_code"] == 503
    frozen.move_to(delivery.due)
    Worker(name="w").run(until_idle=True)
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and len(receiver.requests) == 2  # the refused try and the good one


def test_the_signature_scheme_refuses_forgeries_and_replays():
    body = b'{"x":1}'
    now = timezone.now()
    stamp = int(now.timestamp())
    verify("secret", str(stamp), sign("secret", stamp, body), body, now)
    with pytest.raises(Exception, match="does not match"):
        verify("secret", str(stamp), sign("other", stamp, body), body, now)
    with pytest.raises(Exception, match="5-minute window"):
        verify("secret", str(stamp - 301), sign("secret", stamp - 301, body), body, now)


def _signed_post(client, url, secret, payload, *, stamp=None):
    body = json.dumps(payload).encode()
    stamp = stamp or int(time.time())
    return client.post(url, body, content_type="application/json",
                       headers={"Rebook-Timestamp": str(stamp), "Rebook-Signature": sign(secret, stamp, body)})


def test_a_booking_tool_posts_a_signed_cancellation(alice, charlie, frozen):
    appointment = appointment_book(lead=charlie, start=NOW + timedelta(days=2), end=NOW + timedelta(days=2, hours=1))
    hook = inbound_hook_for(alice)
    url = f"/api/v1/inbound/{hook.token}"
    client = Client()
    stamp = int(NOW.timestamp())
    payload = {"event": "cancelled", "email": "charlie@chen.example", "start": appointment.start.isoformat(),
               "by": "prospect", "reason": "Something came up"}
    forged = client.post(url, json.dumps(payload), content_type="application/json",
                         headers={"Rebook-Timestamp": str(stamp), "Rebook-Signature": "v1=00"})
    assert forged.status_code == 401 and Appointment.objects.get().status == "scheduled"
    stale = _signed_post(client, url, hook.secret, payload, stamp=stamp - 600)
    assert stale.status_code == 401 and "5-minute window" in stale.json()["detail"]
    done = _signed_post(client, url, hook.secret, payload, stamp=stamp)
    assert done.status_code == 200, done.content
    assert done.json()["cancellation"]["is_strike"] is True
    assert Appointment.objects.get().status == "cancelled"
    assert Client().post("/api/v1/inbound/nope", b"{}", content_type="application/json").status_code == 404


def test_a_booking_tool_posts_a_reschedule_by_appointment_id(alice, charlie, frozen):
    appointment = appointment_book(lead=charlie, start=NOW + timedelta(days=2), end=NOW + timedelta(days=2, hours=1))
    hook = inbound_hook_for(alice)
    payload = {"event": "rescheduled", "appointment_id": appointment.pk, "new_start": "2026-03-06T15:00:00Z",
               "by": "prospect", "reason": "my child is sick"}
    done = _signed_post(Client(), f"/api/v1/inbound/{hook.token}", hook.secret, payload, stamp=int(NOW.timestamp()))
    assert done.status_code == 200 and done.json()["appointment"]["rescheduled_from_id"] == appointment.pk


def test_tokens_and_webhooks_from_the_command_line(alice):
    rebook = Rebook()
    created = rebook.json("token", "create", "--name", "Booking page")
    assert created["token"].startswith("rbk_") and created["name"] == "Booking page"
    assert Client(HTTP_AUTHORIZATION=f"Bearer {created['token']}").get("/api/v1/leads").status_code == 200
    assert rebook.json("token", "list")[0]["revoked_at"] is None
    rebook("token", "revoke", str(created["id"]))
    assert Client(HTTP_AUTHORIZATION=f"Bearer {created['token']}").get("/api/v1/leads").status_code == 401
    hook = rebook.json("webhook", "add", "https://example.com/hook", "--event", "lead.moved_to_nurture")
    assert len(hook["secret"]) == 64
    assert "unknown nope" in rebook.error("webhook", "add", "https://example.com/x", "--event", "nope")
    rebook("webhook", "remove", str(hook["id"]))
    inbound = rebook.json("webhook", "inbound")
    assert inbound["url"].startswith("http://127.0.0.1:8000/api/v1/inbound/")
    assert rebook.json("webhook", "inbound", "--rotate")["url"] != inbound["url"]


def test_tokens_in_the_web_app(alice_client, alice):
    page = alice_client.post("/tokens/", {"name": "Zapier"}).content.decode()
    token = page.split('<code id="new-token">')[1].split("</code>")[0]
    assert token.startswith("rbk_")
    row = alice.api_tokens.get()
    assert alice_client.get("/tokens/").content.decode().count(token) == 0  # never shown again
    alice_client.post(f"/tokens/{row.pk}/revoke/")
    row.refresh_from_db()
    assert row.revoked_at is not None
    _, bob_token = token_create(seller=alice, name="x")
    assert bob_token not in alice_client.get("/tokens/").content.decode()


class Redirector(Receiver):
    """An endpoint that answers with a redirect to an inside page and a body that must not be echoed."""

    def __init__(self, secret_page: str):
        super().__init__()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append({"method": "POST", "path": self.path})
                self.send_response(302)
                self.send_header("Location", secret_page)
                self.end_headers()
                self.wfile.write(b"internal secret: hunter2")

            def do_GET(self):
                outer.requests.append({"method": "GET", "path": self.path})
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"internal secret: hunter2")

            def log_message(self, *args):
                pass

        self.server.RequestHandlerClass = Handler


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hooks", "http://localhost/x", "http://10.1.2.3/x", "http://192.168.0.1/x",
    "http://172.16.5.5/x", "http://169.254.169.254/latest/meta-data/", "http://[::1]/x", "http://[fd00::1]/x",
    "http://[::ffff:127.0.0.1]/x", "http://0.0.0.0/x", "http://100.64.0.1/x",
])
def test_it_refuses_a_webhook_aimed_inside_the_network(alice, url):
    from rebook.errors import RebookError

    with pytest.raises(RebookError, match="REBOOK_WEBHOOK_ALLOW_PRIVATE"):
        endpoint_create(seller=alice, url=url)


def test_the_api_refuses_an_inside_target_with_a_problem(alice):
    token = token_create(seller=alice, name="t")[1]
    answer = Client().post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/x"}, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {token}")
    assert answer.status_code in (400, 422) and "private" in answer.json()["detail"]


def test_a_name_that_resolves_inside_is_refused_at_delivery_on_the_address_connected_to(alice, charlie, settings,
                                                                                        monkeypatch):
    """Registered while its name resolved outside (or not at all), then rebound to loopback: never posted to."""
    import socket

    receiver = Receiver()
    try:
        settings.REBOOK_WEBHOOK_ALLOW_PRIVATE = False
        real = socket.getaddrinfo
        monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: real(
            "127.0.0.1" if host == "hooks.rebinding.example" else host, *a, **k))
        from rebook.webhooks.models import Endpoint

        Endpoint.objects.create(seller=alice, url=f"http://hooks.rebinding.example:{receiver.port}/x", secret="s",
                                created_at=timezone.now())
        appointment_book(lead=charlie, start=NOW + timedelta(days=2), end=NOW + timedelta(days=2, hours=1))
        Worker(name="w").run(until_idle=True)
        delivery = Delivery.objects.get(event="appointment.booked")
        assert receiver.requests == []
        assert delivery.last_status_code is None and "127.0.0.1" in delivery.last_response
    finally:
        receiver.server.shutdown()


def test_redirects_are_not_followed_and_the_answer_is_never_echoed(alice, charlie, settings):
    settings.REBOOK_WEBHOOK_ALLOW_PRIVATE = True
    redirector = Redirector("/admin/secret")
    try:
        endpoint = endpoint_create(seller=alice, url=redirector.url)
        appointment_book(lead=charlie, start=NOW + timedelta(days=2), end=NOW + timedelta(days=2, hours=1))
        Worker(name="w").run(until_idle=True)
        assert [r["method"] for r in redirector.requests] == ["POST"]  # no GET to the redirect target
        delivery = Delivery.objects.get(event="appointment.booked")
        assert delivery.last_status_code == 302 and "hunter2" not in delivery.last_response
        token = token_create(seller=alice, name="t")[1]
        listing = Client().get(f"/api/v1/webhooks/{endpoint.pk}/deliveries", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert listing.status_code == 200 and "hunter2" not in listing.content.decode()
    finally:
        redirector.server.shutdown()


def test_the_list_of_events_is_reachable(alice):
    token = token_create(seller=alice, name="t")[1]
    answer = Client().get("/api/v1/webhooks/events", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert answer.status_code == 200 and "appointment.cancelled" in answer.json()
