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


def test_uploading_an_invitation_books_it(alice_client):
    response = alice_client.post("/data/", {"file": SimpleUploadedFile("invite.ics", INVITE.encode())})
    assert response.status_code == 200 and b"booked with Dana Reyes" in response.content
    assert Appointment.objects.get().lead.email == "dana@reyes.example"


def test_uploading_contacts_reports_rows_and_offers_the_report(alice_client):
    data = b"Name,Email\nDana,dana@example.com\n,,\n,not-an-address\n"
    response = alice_client.post("/data/", {"file": SimpleUploadedFile("c.csv", data)})
    page = response.content.decode()
    assert "1 new lead, 0 merged" in page and "Line 4: not imported" in page
    report = alice_client.get("/data/import-report.csv")
    assert report["Content-Type"].startswith("text/csv") and b"4,not imported" in report.content
    assert Lead.objects.count() == 1


def test_a_bad_upload_is_refused_next_to_the_field(alice_client):
    response = alice_client.post("/data/", {"file": SimpleUploadedFile("x.ics", b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT")})
    assert response.status_code == 400 and b"is it cut short" in response.content
    response = alice_client.post("/data/", {"file": SimpleUploadedFile("c.csv", b"A,B\n1,2\n"), "columns": "nonsense"})
    assert response.status_code == 400 and b"write COLUMN=FIELD" in response.content


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
