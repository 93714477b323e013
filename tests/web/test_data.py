"""The import and export page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rebook.leads.models import Appointment, Lead
from tests.conftest import NOW

pytestmark = pytest.mark.usefixtures("frozen")

INVITE = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:web-1\r\n"
    "DTSTAMP:20260302T120000Z\r\nDTSTART:20260310T150000Z\r\nDTEND:20260310T160000Z\r\nSUMMARY:Coffee\r\n"
    "ORGANIZER;CN=Dana Reyes:mailto:dana@reyes.example\r\nATTENDEE:mailto:alice@example.com\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)


def upload(client, name: str, data: bytes, **fields):
    """Post a file, let the worker run it, and return the import page it redirected to."""
    from rebook.outbox.worker import Worker

    response = client.post("/data/", {"file": SimpleUploadedFile(name, data), **fields})
    assert response.status_code == 302, response.content[:300]
    waiting = client.get(response["Location"])
    assert b'http-equiv="refresh"' in waiting.content and b"Importing" in waiting.content  # polled, not run here
    Worker(name="w", send_mail=False).run(until_idle=True)
    page = client.get(response["Location"])
    assert b'http-equiv="refresh"' not in page.content
    return response["Location"], page


def test_uploading_an_invitation_books_it(alice_client):
    assert not Appointment.objects.exists()
    _, page = upload(alice_client, "invite.ics", INVITE.encode())
    assert page.status_code == 200 and b"booked with Dana Reyes" in page.content
    assert Appointment.objects.get().lead.email == "dana@reyes.example"


def test_uploading_contacts_reports_rows_and_offers_the_report(alice_client):
    data = b"Name,Email\nDana,dana@example.com\n,,\n,not-an-address\n"
    where, response = upload(alice_client, "c.csv", data)
    page = response.content.decode()
    assert "1 new lead, 0 merged" in page and "Line 4: not imported" in page
    report = alice_client.get(f"{where}report.csv")
    assert report["Content-Type"].startswith("text/csv") and b"4,not imported" in report.content
    assert Lead.objects.count() == 1


def test_a_bad_upload_says_why_and_changes_nothing(alice_client):
    _, page = upload(alice_client, "x.ics", b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT")
    assert b"could not be imported" in page.content and b"is it cut short" in page.content
    response = alice_client.post("/data/", {"file": SimpleUploadedFile("c.csv", b"A,B\n1,2\n"), "columns": "nonsense"})
    assert response.status_code == 400 and b"write COLUMN=FIELD" in response.content
    response = alice_client.post("/data/", {"file": SimpleUploadedFile("c.csv", b"A,B\n1,2\n"), "columns": "A=phonenumber"})
    assert response.status_code == 400 and b"not a field" in response.content
    assert not Lead.objects.exists()


def test_another_sellers_import_answers_404(alice_client, bob):
    from rebook.imports import import_enqueue

    run = import_enqueue(seller=bob, data=b"Name\nX\n", name="b.csv")
    assert alice_client.get(f"/data/imports/{run.pk}/").status_code == 404
    assert alice_client.get(f"/data/imports/{run.pk}/report.csv").status_code == 404


def test_exports_download_only_the_sellers_own_data(alice_client, charlie, bob):
    from rebook.leads.services import lead_create

    lead_create(seller=bob, name="Bobs Lead")
    csv_export = alice_client.get("/data/export.csv?table=leads")
    assert b"Charlie Chen" in csv_export.content and b"Bobs Lead" not in csv_export.content
    assert alice_client.get("/data/export.json").json()["leads"][0]["name"] == "Charlie Chen"
    from rebook.leads.services import appointment_book

    appointment_book(lead=charlie, start=NOW + timedelta(days=1), end=NOW + timedelta(days=1, hours=1))
    assert b"BEGIN:VCALENDAR" in alice_client.get("/data/export.ics").content
    assert alice_client.get("/data/export.csv?table=secrets").status_code == 400
