"""Contact import: real CSV and vCard exports, encodings, header detection, mapping, merging."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from rebook.contacts.services import contact_import
from rebook.errors import RebookError
from rebook.leads.models import Lead
from tests.clirunner import Rebook

FIXTURES = Path(__file__).parent.parent / "fixtures"
REAL = sorted([*(FIXTURES / "csv").rglob("*.csv"), *(FIXTURES / "vcard").rglob("*.vcf")])


def load(seller, data: bytes | Path, name="contacts.csv", **kwargs):
    if isinstance(data, Path):
        name, data = data.name, data.read_bytes()
    return contact_import(seller=seller, stream=io.BytesIO(data), name=name, **kwargs)


@pytest.mark.parametrize("path", REAL, ids=[p.name for p in REAL])
def test_every_real_export_imports_or_is_reported_row_by_row(alice, path):
    report = load(alice, path)
    assert report.rows >= 1
    assert report.created + report.unchanged + report.merged + len(report.refused) == report.rows
    for line, reason in report.refused + report.notes:
        assert line >= 1 and reason
    again = load(alice, path)
    assert again.created == 0 and again.merged == 0  # re-importing changes nothing


def test_encodings_are_detected(alice):
    shift_jis = load(alice, FIXTURES / "csv/thunderbird/shiftjis_addressbook.csv")
    utf16 = load(alice, FIXTURES / "csv/thunderbird/utf16_addressbook.csv")
    assert (shift_jis.encoding, utf16.encoding) == ("cp932", "utf-16")
    names = set(Lead.objects.values_list("name", flat=True))
    assert "名無しの権兵衛" in names and "John Doe" in names
    latin1 = "Name,Email\nJos\u00e9 Mu\u00f1oz,jose@example.com\n".encode("latin-1")
    load(alice, latin1)
    bom = "\ufeffName,Email\nZo\u00eb,zoe@example.com\n".encode()
    load(alice, bom)
    assert Lead.objects.filter(name="Jos\u00e9 Mu\u00f1oz").exists() and Lead.objects.filter(name="Zo\u00eb").exists()


def test_a_linkedin_export_with_its_preamble(alice):
    data = (
        b"Notes:\n"
        b'"When exporting your connection data, you may notice that some of the email addresses are missing."\n'
        b"\n"
        b"First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
        b'Priya,"Nayak, MSc, MBA",https://www.linkedin.com/in/priya,,Acme,CEO,02 Jun 2022\n'
        b",,,,,,02 Jun 2022\n"
        b"Igor\t,Petrov,https://www.linkedin.com/in/igor,igor@example.com,,,01 May 2021\n"
    )
    report = load(alice, data, name="Connections.csv")
    assert report.created == 2
    assert report.columns == {"First Name": "first_name", "Last Name": "last_name", "Email Address": "email",
                              "Company": "company"}
    assert set(Lead.objects.values_list("name", "email")) == {("Priya Nayak, MSc, MBA", ""), ("Igor Petrov", "igor@example.com")}
    # A "restricted" member (only a date) cannot be used, and says so.
    assert report.refused == [(6, "no name, e-mail address or phone number")]


def test_google_marks_the_primary_address(alice):
    data = (
        b"Name,Given Name,Family Name,E-mail 1 - Type,E-mail 1 - Value,E-mail 2 - Type,E-mail 2 - Value,Phone 1 - Type,Phone 1 - Value\n"
        b"Dana Reyes,Dana,Reyes,* Home,dana@home.example,Work,dana@work.example,Mobile,(555) 201-0100\n"
        b"Ben Carter,Ben,Carter,Home,ben@home.example,* Work,ben@work.example,,\n"
    )
    load(alice, data)
    assert dict(Lead.objects.values_list("name", "email")) == {"Dana Reyes": "dana@home.example",
                                                               "Ben Carter": "ben@work.example"}
    assert Lead.objects.get(name="Dana Reyes").phone == "+15552010100"


def test_phone_numbers_become_e164_with_the_default_region(alice):
    data = b"Name,Mobile Phone\nHans,030 1234567\nAnn,+44 20 7946 0018\nBad,12\n"
    report = load(alice, data, region="DE")
    assert dict(Lead.objects.values_list("name", "phone")) == {"Hans": "+49301234567", "Ann": "+442079460018", "Bad": ""}
    assert report.notes == [(4, "phone number '12' is not a possible number (region DE); left out")]
    assert report.refused == []  # Bad still has a name


def test_a_pasted_page_in_a_cell_is_quoted_short_in_its_note(alice):
    """The value left out is named by its start and its length; the line says where the rest is."""
    data = f"Name,Email,Phone\nDana,{'x' * 300},{'9' * 5000}\n".encode()
    report = load(alice, data)
    assert Lead.objects.get().name == "Dana"  # the name still goes in
    (line, email), (_, phone) = report.notes
    assert line == 2 and email.startswith(f"e-mail address {'x' * 60!r}… (300 characters) is not valid (")
    assert phone == f"phone number {'9' * 60!r}… (5,000 characters) is not a possible number (region US); left out"


def test_unusable_rows_are_listed_with_line_and_reason_and_good_rows_go_in(alice):
    data = b"Name,Email,Phone\nDana,dana@example.com,\n,not-an-address,\n\n,,\nEve,,555 201 0199\n"
    report = load(alice, data)
    assert report.created == 2
    assert report.refused == [(3, "no name, e-mail address or phone number; e-mail address 'not-an-address' is not "
                                  "valid (An email address must have an @-sign.); left out")]
    assert "line,outcome,reason" in report.report_csv() and "3,not imported" in report.report_csv()


def test_duplicates_merge_within_the_file_and_with_existing_leads(alice):
    from rebook.leads.services import lead_create

    existing = lead_create(seller=alice, name="Dana Reyes", email="dana@example.com")
    data = (
        b"Name,Email,Phone,Company\n"
        b"Dana R.,DANA@example.com,555 201 0100,Reyes Landscaping\n"  # same e-mail: fills the blanks
        b"Ben Carter,,555 201 0111,\n"
        b"Benjamin Carter,ben@example.com,(555) 201-0111,Carter & Co\n"  # same phone as the row before
        b"Sam,,,Acme\n"
        b"sam,,,ACME\n"  # same name and company
    )
    report = load(alice, data)
    assert (report.created, report.merged, report.unchanged) == (2, 2, 1)
    existing.refresh_from_db()
    assert (existing.name, existing.phone, existing.company) == ("Dana Reyes", "+15552010100", "Reyes Landscaping")
    ben = Lead.objects.get(phone="+15552010111")
    assert (ben.name, ben.email, ben.company) == ("Ben Carter", "ben@example.com", "Carter & Co")
    assert Lead.objects.count() == 3
    assert load(alice, data).merged == 0


def test_columns_can_be_mapped_by_hand(alice):
    data = b"Who,Reach me at\nDana,dana@example.com\n"
    with pytest.raises(RebookError, match="no header row found"):
        load(alice, data)
    load(alice, data, overrides={"Who": "name", "Reach me at": "email"})
    assert Lead.objects.get().email == "dana@example.com"
    with pytest.raises(RebookError, match="unknown field 'mail'"):
        load(alice, data, overrides={"Reach me at": "mail"})


def test_a_dry_run_changes_nothing(alice):
    report = load(alice, b"Name,Email\nDana,dana@example.com\n", dry_run=True)
    assert report.created == 1 and not Lead.objects.exists()


@pytest.mark.parametrize(("data", "message"), [
    (b"", "the file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "no header row found"),
])
def test_files_that_are_not_contacts_are_refused(alice, data, message):
    with pytest.raises(RebookError, match=message):
        load(alice, data)
    assert not Lead.objects.exists()


def test_the_import_command_for_contacts(alice, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text("Full Name;E-mail Address\nDana Reyes;dana@example.com\n;\nBad Row;=cmd|' /C calc'!A0\n")
    report_path = tmp_path / "report.csv"
    rebook = Rebook()
    data = rebook.json("import", str(path), "--map", "Full Name=name", "--report", str(report_path))
    assert data["created"] == 2 and data["columns"] == {"Full Name": "name", "E-mail Address": "email"}
    report = report_path.read_text()
    assert all(not cell.startswith("=") for line in report.splitlines() for cell in line.split(","))
    out = rebook("import", str(path), "--dry-run").stdout
    assert out.startswith("Would import contacts.csv: 0 new lead(s), 0 merged into existing ones, 2 already there")
    assert "--map: expected COLUMN=FIELD" in rebook.error("import", str(path), "--map", "nonsense")


def test_a_large_file_imports_in_batches(alice):
    rows = "".join(f"Lead {i},lead{i}@example.com,555-{i % 1000:03d}-{i % 10000:04d}\n" for i in range(5000))
    report = load(alice, ("Name,Email,Phone\n" + rows).encode())
    assert report.created == 5000 and Lead.objects.count() == 5000


# Exact header lines of real exports (see tests/fixtures/csv/HEADERS.md), with a made-up row each.
OUTLOOK_HEADER = ("First Name,Middle Name,Last Name,Title,Suffix,Initials,Web Page,Gender,Birthday,Anniversary,"
                  "Location,Language,Internet Free Busy,Notes,E-mail Address,E-mail 2 Address,E-mail 3 Address,"
                  "Primary Phone,Home Phone,Home Phone 2,Mobile Phone,Pager,Home Fax,Street Number,Street Name,"
                  "Street name 2,Home Street 3,Home Address PO Box,City,State,Zip,Home Country,Spouse,Children,"
                  "Manager's Name,Assistant's Name,")
SALESFORCE_HEADER = ('"Id","IsDeleted","MasterRecordId","LastName","FirstName","Salutation","Name","Title","Company",'
                     '"Street","City","State","PostalCode","Country","Phone","MobilePhone","Fax","Email","Website",'
                     '"Description","LeadSource","Status"')


def test_outlook_and_salesforce_exports_map_their_columns(alice):
    outlook_row = "Dana,,Reyes,,,,,,,,,,,Met at the fair,dana@example.com,,,(555) 201-0100" + "," * 18
    load(alice, f"{OUTLOOK_HEADER}\r\n{outlook_row}\r\n".encode(), name="outlook.csv")
    salesforce_row = ('"00Q1","0","","Carter","Ben","Mr.","Ben Carter","CEO","Carter & Co","","","","","",'
                      '"555 201 0111","","","ben@example.com","","Wants a demo","Web","Open"')
    report = load(alice, f"{SALESFORCE_HEADER}\n{salesforce_row}\n".encode(), name="Lead.csv")
    assert report.columns["LeadSource"] == "source" and report.columns["Email"] == "email"
    dana = Lead.objects.get(email="dana@example.com")
    assert (dana.name, dana.phone, dana.notes) == ("Dana Reyes", "+15552010100", "Met at the fair")
    ben = Lead.objects.get(email="ben@example.com")
    assert (ben.name, ben.company, ben.source, ben.phone) == ("Ben Carter", "Carter & Co", "Web", "+15552010111")


def test_colleagues_sharing_an_office_number_or_a_company_stay_different_people(alice):
    data = (
        b"First Name,Last Name,E-mail Address,Company,Company Main Phone\n"
        b"Ana,Lopez,ana@acme.example,Acme,+1 555 201 0199\n"
        b"Bo,Chen,bo@acme.example,Acme,+1 555 201 0199\n"
        b"Cy,Diaz,cy@acme.example,Acme,+1 555 201 0199\n"
        b"Dee,Ford,dee@acme.example,Acme,\n"
        b"Dee,Ford,dee.ford@home.example,Acme,\n"  # same name and company, another address: another person
    )
    report = load(alice, data)
    assert (report.created, report.merged, report.unchanged) == (5, 0, 0)
    assert Lead.objects.filter(phone="+15552010199").count() == 3
    assert load(alice, data).created == 0  # and a second import finds each of them again


def test_a_file_with_more_rows_than_allowed_is_refused_whole(alice, monkeypatch):
    from rebook.errors import RebookError
    from rebook.strategy import limits

    monkeypatch.setattr(limits, "MAX_ROWS_PER_IMPORT", 3)
    rows = b"Name,Email\n" + b"".join(b"P%d,p%d@example.com\n" % (i, i) for i in range(4))
    with pytest.raises(RebookError, match="more than 3 rows"):
        load(alice, rows)
    assert not Lead.objects.exists()


def test_imported_leads_have_every_column_bulk_create_would_give_them(alice, frozen):
    """The import writes new leads with its own INSERT (values prepared once a batch): each must read back
    exactly as a Lead saved by Django would, default columns included, with its id set."""
    import io

    from django.forms.models import model_to_dict

    from rebook.contacts.services import contact_import
    from rebook.leads.models import Lead

    csv = "Name,E-mail,Phone,Company,Notes\nDana Reyes,dana@reyes.example,+1 415 555 0134,Reyes Co,met at the fair\n" \
          "Zoë Ölund,zoe@example.se,,Ölund AB,\n"
    report = contact_import(seller=alice, stream=io.BytesIO(csv.encode()), name="c.csv")
    assert report.created == 2
    for lead in Lead.objects.filter(seller=alice, name__in=["Dana Reyes", "Zoë Ölund"]):
        reference = Lead.objects.create(seller=alice, name=lead.name, email=lead.email, phone=lead.phone,
                                        company=lead.company, source=lead.source, notes=lead.notes,
                                        created_at=lead.created_at)
        ours, theirs = model_to_dict(lead), model_to_dict(reference)
        ours.pop("id"), theirs.pop("id")
        assert ours == theirs and lead.updated_at == reference.updated_at
        reference.delete()
