"""The "Add from cards" page: photos uploaded, read by the worker, reviewed (low-confidence fields marked, the
raw text at hand), corrected and saved as leads; bad files are a message on their own row."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.cards.test_cards import CARDS, render


def _read_all():
    from rebook.outbox.worker import Worker

    return Worker(name="cards-test", send_mail=False, report=lambda line: None).run(until_idle=True)


def _pdf(*pages: bytes) -> bytes:
    from PIL import Image

    images = [Image.open(io.BytesIO(p)).convert("RGB") for p in pages]
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=150)
    return out.getvalue()


def test_upload_read_review_correct_and_save(tesseract, alice, alice_client, bob):
    from rebook.cards.models import BusinessCard, CardUpload
    from rebook.leads.models import Lead

    dana_photo = render(CARDS[0], variant=0)
    photos = [SimpleUploadedFile("dana.jpg", dana_photo, "image/jpeg"),
              SimpleUploadedFile("scan.pdf", _pdf(render(CARDS[1], variant=1), render(CARDS[2], variant=3)),
                                 "application/pdf"),
              SimpleUploadedFile("notes.txt", b"not a photo", "text/plain")]
    response = alice_client.post("/cards/", {"photos": photos, "event": "Chamber mixer, 12 Mar"})
    assert response.status_code == 302 and response["Location"] == "/cards/"
    page = alice_client.get("/cards/").content.decode()
    assert "Reading 3 cards" in page and 'http-equiv="refresh"' in page  # nothing to fill in yet: it refreshes
    assert 'accept="image/*,application/pdf"' in page and 'capture="environment"' in page and "multiple" in page

    _read_all()
    rows = list(CardUpload.objects.order_by("id"))
    assert [r.file for r in rows] == ["dana.jpg", "scan.pdf, page 1", "notes.txt", "scan.pdf, page 2"]
    assert [r.status for r in rows] == ["read", "read", "failed", "read"]
    page = alice_client.get("/cards/").content.decode()
    assert 'http-equiv="refresh"' not in page
    assert "Could not read this card: not an image" in page
    assert 'value="dana.reyes@reyeslandscaping.com"' in page and 'value="(415) 555-0134"' in page
    assert "The text as read" in page and f"/cards/{rows[0].pk}/photo/" in page
    photo = alice_client.get(f"/cards/{rows[1].pk}/photo/")
    assert photo["Content-Type"] == "image/jpeg" and photo.content.startswith(b"\xff\xd8")  # a page kept reduced

    # The seller corrects the name, then saves: a lead with the event as its source, the card kept with it.
    dana = rows[0]
    form = {f"card{dana.pk}-{k}": v for k, v in {
        "name": "Dana M. Reyes", "title": "Sales Director", "company": "Reyes Landscaping LLC",
        "email": "dana.reyes@reyeslandscaping.com", "phone": "(415) 555-0134", "website": "", "address": ""}.items()}
    response = alice_client.post(f"/cards/{dana.pk}/save/", form)
    assert response.status_code == 302
    lead = Lead.objects.get(seller=alice, name="Dana M. Reyes")
    assert (lead.email, lead.phone, lead.source) == ("dana.reyes@reyeslandscaping.com", "+14155550134",
                                                    "Chamber mixer, 12 Mar")
    card = BusinessCard.objects.get(lead=lead)
    assert card.file == "dana.jpg" and bytes(card.data) == dana_photo and card.event == "Chamber mixer, 12 Mar"
    dana.refresh_from_db()
    assert dana.status == "saved" and dana.data is None and dana.lead_id == lead.pk
    today = alice_client.get("/").content.decode()
    assert "Cards to call" in today and "Dana M. Reyes" in today and 'href="tel:+14155550134"' in today

    # A review with nothing to call or write to is refused on its row, and what was typed stays.
    marc = rows[1]
    blank = {f"card{marc.pk}-{k}": "" for k in ("name", "email", "phone")} | {f"card{marc.pk}-company": "Typed Co"}
    response = alice_client.post(f"/cards/{marc.pk}/save/", blank)
    assert response.status_code == 400
    assert "Give at least a name, an e-mail or a phone." in response.content.decode()
    assert 'value="Typed Co"' in response.content.decode()

    # Another seller sees none of it; a dismissed card is gone.
    from django.test import Client

    other = Client()
    other.force_login(bob.user)
    assert other.get(f"/cards/{marc.pk}/photo/").status_code == 404
    assert other.post(f"/cards/{marc.pk}/save/", {}).status_code == 404
    assert "scan.pdf" not in other.get("/cards/").content.decode()
    assert alice_client.post(f"/cards/{rows[2].pk}/dismiss/").status_code == 302
    assert not CardUpload.objects.filter(pk=rows[2].pk).exists()


def test_low_confidence_fields_are_marked_for_checking(alice, alice_client):
    from rebook.cards.models import CardUpload

    row = CardUpload.objects.create(seller=alice, file="blurry.jpg", content_type="image/jpeg", data=b"\xff\xd8",
                                    status="read", fields={"name": "Jo Smlth", "company": "Acme", "emails": [],
                                                           "phones": [], "confidence": {"name": 0.3, "company": 0.9},
                                                           "text": "Jo Smlth\nAcme"})
    page = alice_client.get("/cards/").content.decode()
    name_input = page[page.index(f'name="card{row.pk}-name"') - 200:page.index(f'name="card{row.pk}-name"') + 200]
    company_input = page[page.index(f'name="card{row.pk}-company"') - 200:page.index(f'name="card{row.pk}-company"') + 200]
    assert 'class="check"' in name_input and 'class="check"' not in company_input
    assert "Read with low confidence (30%): please check." in page and "Read with 90% confidence." in page
    assert f'id="card{row.pk}-name-help"' in page and f'aria-describedby="card{row.pk}-name-help"' in page


def test_uploads_are_checked_before_they_are_queued(alice, alice_client):
    from rebook.cards.models import CardUpload

    response = alice_client.post("/cards/", {"event": "x"})
    assert response.status_code == 400 and "Choose one or more photos of cards." in response.content.decode()
    many = [SimpleUploadedFile(f"c{i}.jpg", b"\xff\xd8x", "image/jpeg") for i in range(21)]
    response = alice_client.post("/cards/", {"photos": many})
    assert response.status_code == 400 and "21 files; the limit is 20 at a time" in response.content.decode()
    assert not CardUpload.objects.exists()


def test_a_pdf_scan_is_read_one_card_a_worker_step_and_a_broken_heic_says_so(tesseract, alice):
    from rebook.cards.models import CardUpload
    from rebook.cards.services import card_scan_file, cards_enqueue
    from rebook.outbox.worker import Worker

    cards_enqueue(seller=alice, files=[("stack.pdf", _pdf(*(render(CARDS[i], variant=i) for i in range(3))))])
    worker = Worker(name="cards-test", send_mail=False, report=lambda line: None)
    assert worker.step()  # one step: the first page read, the other two queued as their own rows
    assert list(CardUpload.objects.order_by("id").values_list("file", "status", "content_type")) == [
        ("stack.pdf, page 1", "read", "image/jpeg"), ("stack.pdf, page 2", "queued", "image/jpeg"),
        ("stack.pdf, page 3", "queued", "image/jpeg")]
    worker.run(until_idle=True)
    assert set(CardUpload.objects.values_list("status", flat=True)) == {"read"}

    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200  # the header, then nothing
    [broken] = card_scan_file(data=heic, name="IMG_1.HEIC", region="US")
    assert broken.fields is None and broken.error  # a message on its row, not a crash
