"""Business cards: the field reader on its own, and the whole path (Pillow, Tesseract, the reader, the save)
on cards rendered here in several fonts, layouts, rotations, blur and noise. Prints per-field accuracy."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from rebook.strategy.cards import Word, read_fields

FONTS = Path("/usr/share/fonts/truetype")
CARDS = [
    {"name": "Dana Reyes", "title": "Sales Director", "company": "Reyes Landscaping LLC",
     "email": "dana.reyes@reyeslandscaping.com", "phone": "+1 415-555-0134", "e164": "+14155550134",
     "website": "www.reyeslandscaping.com"},
    {"name": "Marc Dubois", "title": "Founder & CEO", "company": "Dubois Consulting",
     "email": "marc@duboisconsulting.fr", "phone": "+33 1 42 68 53 00", "e164": "+33142685300",
     "website": "www.duboisconsulting.fr"},
    {"name": "Priya Nair", "title": "Account Manager", "company": "Brightwave Solutions Ltd",
     "email": "priya.nair@brightwave.co.uk", "phone": "+44 20 7946 0958", "e164": "+442079460958",
     "website": "brightwave.co.uk"},
    {"name": "Tom Becker", "title": "Senior Engineer", "company": "Becker Systems GmbH",
     "email": "t.becker@becker-systems.de", "phone": "+49 30 901820", "e164": "+4930901820",
     "website": "www.becker-systems.de"},
    {"name": "Lucia Romano", "title": "Marketing Manager", "company": "Romano Design Studio",
     "email": "lucia@romanodesign.it", "phone": "+39 06 6982 1234", "e164": "+390669821234",
     "website": "www.romanodesign.it"},
    {"name": "James Okafor", "title": "Real Estate Agent", "company": "Harbor Realty Group",
     "email": "jokafor@harborrealty.com", "phone": "(312) 555-0187", "e164": "+13125550187",
     "website": "harborrealty.com"},
]


def _font(name: str, size: int):
    from PIL import ImageFont

    path = next(FONTS.rglob(name), None)
    if path is None:
        pytest.skip(f"font {name} is not installed")
    return ImageFont.truetype(str(path), size)


def render(card: dict, *, variant: int) -> bytes:
    """A card photographed on a desk: white card, the fields in a layout, then rotation, blur and noise."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(variant)
    fonts = ["DejaVuSans.ttf", "LiberationSerif-Regular.ttf", "LiberationSans-Regular.ttf", "DejaVuSerif.ttf"]
    regular = fonts[variant % len(fonts)]
    bold = regular.replace("-Regular", "-Bold").replace("Sans.ttf", "Sans-Bold.ttf").replace("Serif.ttf", "Serif-Bold.ttf")
    card_img = Image.new("L", (1050, 600), 255)
    draw = ImageDraw.Draw(card_img)
    left = 60 if variant % 2 else 520
    draw.text((60, 50), card["company"], font=_font(bold, 40), fill=30)
    draw.text((left, 200), card["name"], font=_font(bold, 56), fill=10)
    draw.text((left, 275), card["title"], font=_font(regular, 34), fill=60)
    lines = [f"Tel: {card['phone']}", card["email"], card["website"]]
    if variant % 3 == 0:
        lines[0] = f"M {card['phone']}"
    for i, text in enumerate(lines):
        draw.text((60, 400 + i * 52), text, font=_font(regular, 32), fill=20)
    desk = Image.new("L", (1400, 1000), 150 + rng.randint(-30, 30))
    desk.paste(card_img.rotate(rng.uniform(-3, 3), expand=True, fillcolor=150), (120, 160))
    if variant % 4 == 1:
        desk = desk.filter(ImageFilter.GaussianBlur(1.2))
    noise = Image.effect_noise(desk.size, 12)
    desk = Image.blend(desk, noise, 0.08)
    if variant % 5 == 2:
        desk = desk.rotate(90, expand=True)  # a phone that wrote no orientation: the text runs sideways
    out = io.BytesIO()
    desk.convert("RGB").save(out, format="JPEG", quality=88)
    return out.getvalue()


# --- the reader alone --------------------------------------------------------------------------------------


def _words(lines: list[tuple[str, int]]) -> list[Word]:
    out, top = [], 10
    for n, (text, height) in enumerate(lines):
        x = 10
        for token in text.split():
            out.append(Word(token, x, top, len(token) * height // 2, height, n, 92))
            x += len(token) * height // 2 + 10
        top += height + 15
    return out


def test_the_reader_finds_each_field_and_says_how_sure_it_is():
    fields = read_fields(_words([
        ("Reyes Landscaping LLC", 30), ("Dana Reyes", 48), ("Sales Director", 24),
        ("Tel: (415) 555-0134", 20), ("Mobile: 415 555 0199", 20), ("dana.reyes@reyeslandscaping.com", 20),
        ("www.reyeslandscaping.com", 20), ("1200 Market Street, Suite 400", 18),
    ]), region="US")
    assert (fields.name, fields.title, fields.company) == ("Dana Reyes", "Sales Director", "Reyes Landscaping LLC")
    assert fields.emails == ["dana.reyes@reyeslandscaping.com"] and fields.website == "www.reyeslandscaping.com"
    assert [(p.number, p.kind) for p in fields.phones] == [("+14155550134", "office"), ("+14155550199", "mobile")]
    assert "Market Street" in fields.address
    assert all(0 <= v <= 1 for v in fields.confidence.values()) and fields.confidence["name"] > 0.5


def test_labels_titles_and_company_words_are_not_names():
    fields = read_fields(_words([("Head Office", 40), ("Chief Executive Officer", 30), ("Acme Holdings Inc.", 30),
                                 ("Jo Smith", 26), ("jo.smith@acme.example", 20)]), region="US")
    assert fields.name == "Jo Smith" and fields.company == "Acme Holdings Inc."


def test_a_phone_without_a_country_code_is_read_in_the_cards_country():
    fields = read_fields(_words([("Anna Weber", 40), ("030 901820", 20), ("anna@weber-bau.de", 20)]), region="US")
    assert [p.number for p in fields.phones] == ["+4930901820"]


# --- the whole path on rendered cards ---------------------------------------------------------------------


def test_rendered_cards_are_read_field_by_field(tesseract, capsys):
    import time

    from rebook.cards.services import card_scan

    right = {"email": 0, "phone": 0, "name": 0, "company": 0, "title": 0}
    total, seconds = 0, []
    misses = []
    for variant in range(12):
        card = CARDS[variant % len(CARDS)]
        t = time.perf_counter()
        scan = card_scan(data=render(card, variant=variant), name=f"card-{variant}.jpg", region="US")
        seconds.append(time.perf_counter() - t)
        total += 1
        if scan.error:
            misses.append(f"card {variant}: {scan.error}")
            continue
        f = scan.fields
        got = {"email": card["email"] in f.emails, "phone": card["e164"] in [p.number for p in f.phones],
               "name": f.name.lower() == card["name"].lower(), "company": f.company.lower() == card["company"].lower(),
               "title": f.title.lower() == card["title"].lower()}
        for k, ok in got.items():
            right[k] += ok
            if not ok:
                misses.append(f"card {variant} {k}: read {getattr(f, k if k in ('name', 'company', 'title') else k + 's', '')!r}")
    seconds.sort()
    with capsys.disabled():
        print(f"\nrendered cards: {total}; right: " + ", ".join(f"{k} {v}/{total}" for k, v in right.items())
              + f"; median {seconds[len(seconds) // 2]:.2f} s a card", *misses[:12], sep="\n  ")
    assert right["email"] >= 0.9 * total and right["phone"] >= 0.8 * total
    assert right["name"] >= 0.7 * total and right["company"] >= 0.6 * total


def test_scan_saves_leads_and_fills_in_an_existing_one(tesseract, alice, tmp_path):
    from rebook.cards.models import BusinessCard
    from rebook.leads.models import Lead
    from rebook.leads.services import lead_create
    from tests.clirunner import Rebook

    lead_create(seller=alice, name="Marc Dubois", email="marc@duboisconsulting.fr")
    paths = []
    for i, card in enumerate(CARDS[:2]):
        path = tmp_path / f"card{i}.jpg"
        path.write_bytes(render(card, variant=4 + i * 2))
        paths.append(str(path))
    bad = tmp_path / "notes.txt"
    bad.write_text("not an image")
    result = Rebook().json("card", "scan", *paths, str(bad), "--event", "Chamber mixer, 12 Mar", "--yes")
    assert [r.get("error", "") != "" for r in result] == [False, False, True]
    assert "not an image" in result[2]["error"]
    dana = Lead.objects.get(email="dana.reyes@reyeslandscaping.com")
    assert dana.source == "Chamber mixer, 12 Mar" and dana.phone == "+14155550134"
    marc = Lead.objects.get(email="marc@duboisconsulting.fr")
    assert marc.company == "Dubois Consulting" and result[1].get("merged")  # filled in, not doubled
    assert Lead.objects.filter(seller=alice).count() == 2 and BusinessCard.objects.count() == 2
    dry = Rebook().json("card", "scan", paths[0], "--dry-run")
    assert dry[0]["lead_id"] is None and BusinessCard.objects.count() == 2


def test_cards_to_call_on_today_then_the_call_is_logged_and_the_card_is_on_the_lead_page(alice, alice_client, bob):
    from rebook.cards.models import BusinessCard
    from rebook.leads.models import Activity
    from rebook.leads.services import lead_create

    lead = lead_create(seller=alice, name="Dana Reyes", phone="+14155550134", source="Chamber mixer")
    card = BusinessCard.objects.create(lead=lead, file="dana.jpg", content_type="image/jpeg", data=b"\xff\xd8jpeg",
                                       event="Chamber mixer")
    today = alice_client.get("/").content.decode()
    assert "Cards to call" in today and 'href="tel:+14155550134"' in today and "Log the call" in today
    response = alice_client.post(f"/leads/{lead.pk}/log/", {"kind": "call", "direction": "outbound"})
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    assert Activity.objects.get(lead=lead).kind == "call"
    assert "Cards to call" not in alice_client.get("/").content.decode()  # called: gone from the list
    page = alice_client.get(f"/leads/{lead.pk}/").content.decode()
    assert f"/leads/{lead.pk}/cards/{card.pk}/" in page and "Mark qualified" in page and "Book a meeting" in page
    image = alice_client.get(f"/leads/{lead.pk}/cards/{card.pk}/")
    assert image["Content-Type"] == "image/jpeg" and image.content == b"\xff\xd8jpeg"
    from django.test import Client

    other = Client()
    other.force_login(bob.user)
    assert other.get(f"/leads/{lead.pk}/cards/{card.pk}/").status_code == 404
    # The card travels in the exports, image and all.
    import base64
    import csv
    import json

    [row] = list(csv.DictReader(io.StringIO(alice_client.get("/data/export.csv?table=cards").content.decode())))
    assert (row["lead_id"], row["file"], row["event"]) == (str(lead.pk), "dana.jpg", "Chamber mixer")
    assert base64.b64decode(row["image"].removeprefix("data:image/jpeg;base64,")) == b"\xff\xd8jpeg"
    everything = json.loads(alice_client.get("/data/export.json").content)
    assert [c["file"] for c in everything["cards"]] == ["dana.jpg"]


@pytest.mark.parametrize("make, says", [
    (lambda: _png(20000, 20000), "megapixels"),
    (lambda: _png(10, 50_000), "no card's shape"),
    (lambda: _jpeg()[:1500], "cut short"),
    (lambda: b"not an image", "not an image"),
])
def test_bad_photos_are_refused_with_the_reason_quickly(make, says):
    from rebook.cards.services import card_scan

    scan = card_scan(data=make(), name="x.jpg", region="US")
    assert says in scan.error and scan.fields is None


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (width, height), 1).save(out, format="PNG", optimize=True)
    return out.getvalue()


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (800, 500), "white").save(out, format="JPEG")
    return out.getvalue()


def test_a_heic_photo_and_a_pdf_scan_are_read_and_a_broken_pdf_says_so(tesseract):
    from PIL import Image
    from pillow_heif import register_heif_opener

    from rebook.cards.services import card_scan_file

    register_heif_opener()
    heic = io.BytesIO()
    Image.open(io.BytesIO(render(CARDS[2], variant=1))).save(heic, format="HEIF", quality=90)
    assert heic.getvalue()[4:12] in (b"ftypheic", b"ftypmif1")
    [scan] = card_scan_file(data=heic.getvalue(), name="IMG_0042.HEIC", region="US")
    assert not scan.error and CARDS[2]["email"] in scan.fields.emails
    assert scan.content_type == "image/jpeg" and scan.data[:2] == b"\xff\xd8"  # kept as a JPEG every browser shows

    [broken] = card_scan_file(data=b"%PDF-1.7\n" + b"x" * 500, name="scan.pdf", region="US")
    assert "not a PDF Rebook can read" in broken.error and broken.fields is None


def test_a_photo_with_no_text_or_too_blurred_to_read_says_so(tesseract):
    from PIL import Image, ImageFilter

    from rebook.cards.services import card_scan

    blurred = io.BytesIO()
    Image.open(io.BytesIO(render(CARDS[0], variant=0))).filter(ImageFilter.GaussianBlur(14)).save(blurred, "JPEG")
    for data in (_jpeg(), blurred.getvalue()):
        scan = card_scan(data=data, name="x.jpg", region="US")
        assert "no readable text" in scan.error and scan.fields is None


def test_without_tesseract_the_message_names_the_package(monkeypatch):
    from rebook.cards import ocr
    from rebook.cards.services import card_scan

    monkeypatch.setattr(ocr.shutil, "which", lambda name: None)
    scan = card_scan(data=render(CARDS[0], variant=0), name="x.jpg", region="US", using="tesseract")
    assert "tesseract-ocr" in scan.error and scan.fields is None


def test_without_tesseract_pp_ocr_still_reads_the_card(monkeypatch):
    """Tesseract only gives PP-OCR's lines their accents and lost spaces back: without it the card is read."""
    from rebook.cards import engine
    from rebook.cards.services import card_scan

    monkeypatch.setattr(engine, "_latin", lambda: None)
    scan = card_scan(data=render(CARDS[0], variant=0), name="x.jpg", region="US")
    assert not scan.error and CARDS[0]["email"] in scan.fields.emails


def test_a_card_in_a_large_pdf_page_is_read_and_kept_as_a_reduced_jpeg(tesseract):
    """A scan whose page is larger than a card (here 19 by 14 inches: 24 megapixels at 300 dpi) is drawn no
    larger than a card needs and kept as a JPEG of a few hundred KB, and still reads."""
    from PIL import Image

    from rebook.cards import ocr
    from rebook.cards.services import card_scan_file

    out = io.BytesIO()
    Image.open(io.BytesIO(render(CARDS[0], variant=0))).save(out, format="PDF", resolution=72)
    [scan] = card_scan_file(data=out.getvalue(), name="scan.pdf", region="US")
    assert not scan.error and scan.file == "scan.pdf, page 1"
    assert scan.fields.name == CARDS[0]["name"] and CARDS[0]["email"] in scan.fields.emails
    kept = Image.open(io.BytesIO(scan.data))
    assert scan.content_type == "image/jpeg" and kept.format == "JPEG" and max(kept.size) == ocr.PAGE_SIDE
    assert len(scan.data) < 500_000  # before: a 15-megapixel PNG of several MB


def test_a_photo_of_thousands_of_lines_reads_only_the_first_again(monkeypatch):
    """The second reading's page stays small whatever the photo holds."""
    from PIL import Image

    from rebook.cards import engine

    boxes = [([[0, i * 12], [200, i * 12], [200, i * 12 + 10], [0, i * 12 + 10]], f"line {i}", 0.9) for i in range(500)]
    seen = []
    monkeypatch.setattr(engine, "_engine", lambda: lambda image: (boxes, None))
    monkeypatch.setattr(engine, "_tesseract_lines", lambda crops: seen.append(len(crops)) or [("", 0.0)] * len(crops))
    lines = engine.read_lines(Image.new("RGB", (400, 6000), "white"))
    assert seen == [engine.SECOND_READING_LINES] and len(lines) == 500
