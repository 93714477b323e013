"""Every uploaded PDF scan has a budget (issue 29, item 4): its pages together are drawn within so many pixels
(checked before any page is drawn), kept within so many bytes, and drawn within so many seconds; a page is
never drawn larger than a card needs. A hostile file is refused or cut short in a second, not minutes and
gigabytes. Each file is built here by hand: 100 poster-sized pages that all draw one small image."""

from __future__ import annotations

import io
import random
import resource
import time
import zlib
from datetime import timedelta

import pytest

from rebook.cards import ocr
from rebook.errors import RebookError


def poster_pdf(pages: int, *, side: int = 5000, image: int = 256) -> bytes:
    """``pages`` pages of ``side`` x ``side`` points, each drawing the same noise image across the whole page,
    smoothed (/Interpolate): what compresses worst once drawn. A few hundred KB whatever ``pages`` is."""
    pixels = zlib.compress(random.Random(29).randbytes(image * image))
    content = f"q {side} 0 0 {side} 0 0 cm /Im0 Do Q".encode()
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % (5 + i) for i in range(pages)), pages),
        3: b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 "
           b"/Interpolate true /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream" % (image, image, len(pixels),
                                                                                             pixels),
        4: b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    }
    for i in range(pages):
        objects[5 + i] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources << /XObject << /Im0 3 0 R >> "
                          b">> /Contents 4 0 R >>" % (side, side))
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number in sorted(objects):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, xref)
    return bytes(out)


@pytest.fixture
def bounded():
    """The test's wall time and the growth of the process's peak memory, checked at the end."""
    started, peak = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yield
    assert time.monotonic() - started < 10  # before the budget: 50 s and more
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak) / 1024 < 200  # MB; before: about 900


def test_a_pdf_of_100_poster_pages_is_refused_before_any_page_is_drawn(bounded, monkeypatch):
    drawn = []
    monkeypatch.setattr(ocr, "_draw", lambda document, index: drawn.append(index))
    data = poster_pdf(100)
    assert len(data) < 300_000
    with pytest.raises(RebookError) as refused:
        ocr.pictures(data, "posters.pdf")
    assert str(refused.value) == ("posters.pdf: its 100 pages would be drawn as 400 megapixels; the limit is "
                                  "250 megapixels a file (split the scan)")
    assert drawn == []


def test_the_worker_records_a_refused_pdf_as_one_error_and_keeps_none_of_it(bounded, alice):
    from rebook.cards.models import CardUpload
    from rebook.cards.services import card_claim, card_read, cards_enqueue
    from tests.conftest import NOW

    cards_enqueue(seller=alice, files=[("posters.pdf", poster_pdf(100))])
    rows = card_read(upload=card_claim(worker="w", now=NOW, lease=timedelta(minutes=5)), region="US")
    assert [(r.file, r.status) for r in rows] == [("posters.pdf", "failed")]
    row = CardUpload.objects.get()
    assert "limit is 250 megapixels a file" in row.error and row.data is None


def test_a_scan_within_the_pixel_budget_keeps_pages_only_up_to_the_byte_budget(bounded, alice, monkeypatch):
    """62 posters are 248 megapixels (within the budget), but each drawn page is a large JPEG of noise: the
    pages past 25 MB are each an error, and the worker's rows hold no more than that."""
    from django.db.models import Sum
    from django.db.models.functions import Length

    from rebook.cards.models import CardUpload
    from rebook.cards.services import card_claim, card_read, cards_enqueue
    from tests.conftest import NOW

    def no_text(data, name, **options):
        raise RebookError(f"{name}: no readable text")

    monkeypatch.setattr(ocr, "read_image", no_text)  # Tesseract on a page of noise is not what is tested here
    cards_enqueue(seller=alice, files=[("posters.pdf", poster_pdf(62))])
    rows = card_read(upload=card_claim(worker="w", now=NOW, lease=timedelta(minutes=5)), region="US")
    assert [r.file for r in rows] == [f"posters.pdf, page {n}" for n in range(1, 63)]
    assert (rows[0].status, rows[0].error, rows[0].data) == ("failed", "no readable text", None)
    kept = 1 + next(i for i, r in enumerate(rows[1:]) if r.status == "failed")
    assert 1 < kept < 62 and {(r.status, r.content_type) for r in rows[1:kept]} == {("queued", "image/jpeg")}
    assert {(r.status, r.error, r.data) for r in rows[kept:]} == {
        ("failed", "not kept: the file's pages came to more than 25 MB (split the scan)", None)}
    assert CardUpload.objects.aggregate(n=Sum(Length("data")))["n"] <= ocr.FILE_BYTES  # before: 100 rows, 830 MB


def test_pages_not_drawn_in_the_time_budget_are_each_an_error(bounded, monkeypatch):
    monkeypatch.setattr(ocr, "FILE_SECONDS", 0.3)
    started = time.monotonic()
    pages = ocr.pictures(poster_pdf(60), "posters.pdf")
    assert time.monotonic() - started < 0.3 + 2  # the page in hand is finished, no other is begun
    assert len(pages) == 60 and pages[0].data and not pages[0].error
    late = next(i for i, p in enumerate(pages) if p.error)
    assert all(not p.data and p.error == "not drawn: drawing the file's pages took more than 0.3 seconds "
               "(split the scan)" for p in pages[late:])


def test_a_poster_sized_page_is_drawn_no_larger_than_a_card_needs(bounded):
    from PIL import Image

    [page] = ocr.pictures(poster_pdf(1), "poster.pdf")
    image = Image.open(io.BytesIO(page.data))
    assert page.content_type == "image/jpeg" and image.format == "JPEG"
    assert image.size == (ocr.PAGE_SIDE, ocr.PAGE_SIDE) and image.mode == "L"  # before: 3,873 px at 300 dpi...
    assert len(page.data) < 3_000_000  # ... kept as an 8 MB PNG


def test_rebook_card_scan_refuses_the_poster_pdf_at_once(bounded, alice, tmp_path):
    from tests.clirunner import Rebook

    path = tmp_path / "posters.pdf"
    path.write_bytes(poster_pdf(100))
    [scan] = Rebook().json("card", "scan", str(path), "--dry-run")
    assert scan["file"] == "posters.pdf" and "limit is 250 megapixels a file" in scan["error"]


def test_rebook_card_scan_reads_a_file_s_cards_within_its_time_budget(bounded, monkeypatch):
    """`rebook card scan` reads a PDF's cards one after another: those not begun within the budget each say
    so, and the scan ends."""
    from rebook.cards import services

    def slow(data, name, **options):
        time.sleep(0.3)
        raise RebookError(f"{name}: no readable text")

    monkeypatch.setattr(ocr, "read_image", slow)
    monkeypatch.setattr(services, "SCAN_SECONDS", 1.0)
    started = time.monotonic()
    scans = services.card_scan_file(data=poster_pdf(20, side=252), name="cards.pdf", region="US")
    assert time.monotonic() - started < 1.0 + 0.3 + 1  # the card in hand is finished, no other is begun
    assert len(scans) == 20 and scans[0].error == "no readable text"  # read (and found empty)
    assert {s.error for s in scans[4:]} == {"not read: reading the file's cards took more than 1.0 seconds "
                                            "(split the scan)"}
