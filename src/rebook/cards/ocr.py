"""From an image file to OCR words with boxes: Pillow prepares it (the EXIF orientation, the card found in
the photo, straightened and cropped, grayscale, contrast, scaled so the text is large enough), then Debian's
Tesseract reads it, on this machine, in the page-segmentation modes that suit cards; the mode that reads the
most confident words wins."""

from __future__ import annotations

import csv
import io
import math
import mimetypes
import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from rebook.errors import RebookError
from rebook.strategy.cards import Word, words_from_lines

MAX_BYTES = 25 * 1024 * 1024
MAX_PIXELS = 60_000_000
TARGET_WIDTH = 2000  # text on a card photographed at this width is about 30 px high: what Tesseract likes
WORKING_SIZE = 3000  # larger photos are reduced to this first: phones write 4,000 px and more
MODES = (3, 11, 6)  # automatic layout, sparse text, one block


MAX_PAGES = 100  # cards in one PDF scan
PDF_DPI = 300  # a card-sized page is drawn at this ...
PAGE_SIDE = TARGET_WIDTH  # ... and no page larger than this on its long side: all a card needs (4 megapixels at most)
PAGE_QUALITY = 90  # each page is kept as a grayscale JPEG: about 150 KB a card
# Each PDF scan together: a poster-sized page is drawn no larger than a card's, so 100 card-shaped pages at the
# full size fit (229 megapixels) and 100 posters (400) do not; what is kept is at most what may be uploaded.
FILE_PIXELS = 250_000_000
FILE_BYTES = MAX_BYTES
FILE_SECONDS = 60  # drawing one file's pages; the pages not drawn by then are each an error


@dataclass
class Picture:
    """One card's image as it will be kept with the lead: a photo as sent, or a page of a PDF scan."""

    name: str
    data: bytes
    content_type: str
    error: str = ""  # why this page was not drawn (the file's budget ran out): a card that says so


@dataclass
class Reading:
    words: list[Word]
    mode: int
    width: int
    height: int


def tesseract() -> str:
    path = shutil.which("tesseract")
    if path is None:
        raise RebookError("tesseract is not installed; install Debian's tesseract-ocr package (apt-get install tesseract-ocr)")
    return path


def pictures(data: bytes, name: str) -> list[Picture]:
    """The cards in one file: a PDF scan is one card a page (each drawn at most 300 dpi and 2,000 px, kept
    as a JPEG, within the file's budget of pixels, bytes and seconds); a HEIC photo (what
    iPhones write) is turned into a JPEG, which every browser shows; any other image is kept as it is."""
    if data[:5] == b"%PDF-":
        return _pdf_pages(data, name)
    if _is_heic(data):
        from PIL import ImageOps

        image = ImageOps.exif_transpose(_open(data, name))  # the same limits as any photo, before decoding
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=90)
        return [Picture(name, out.getvalue(), "image/jpeg")]
    return [Picture(name, data, _image_type(data) or mimetypes.guess_type(name)[0] or "application/octet-stream")]


def _is_heic(data: bytes) -> bool:
    return data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1", b"ftyphevc")


def _image_type(data: bytes) -> str:
    """The image type the bytes say, whatever the file is called."""
    for magic, kind in ((b"\x89PNG", "image/png"), (b"\xff\xd8", "image/jpeg"), (b"GIF8", "image/gif"),
                        (b"II*\x00", "image/tiff"), (b"MM\x00*", "image/tiff")):
        if data.startswith(magic):
            return kind
    return "image/webp" if data[:4] == b"RIFF" and data[8:12] == b"WEBP" else ""


def _heif() -> None:
    from pillow_heif import register_heif_opener

    register_heif_opener()


def _pdf_pages(data: bytes, name: str) -> list[Picture]:
    import pypdfium2

    if len(data) > MAX_BYTES:
        raise RebookError(f"{name}: {len(data) // (1024 * 1024)} MB; the limit is {MAX_BYTES // (1024 * 1024)} MB")
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as e:
        raise RebookError(f"{name}: not a PDF Rebook can read ({e})") from None
    try:
        if len(document) > MAX_PAGES:
            raise RebookError(f"{name}: {len(document)} pages; the limit is {MAX_PAGES} cards a file")
        # The sizes come from the page tree, before any page is drawn: a file too large to draw is refused whole.
        planned = sum(_page_pixels(*_page_size(document, i)) for i in range(len(document)))
        if planned > FILE_PIXELS:
            raise RebookError(f"{name}: its {len(document)} pages would be drawn as {planned / 1e6:,.0f} megapixels; "
                              f"the limit is {FILE_PIXELS // 1_000_000} megapixels a file (split the scan)")
        deadline = time.monotonic() + FILE_SECONDS
        kept = 0
        out: list[Picture] = []
        over = ""  # once the file's budget is spent, why each page left is not drawn
        for number in range(1, len(document) + 1):
            page_name = f"{name}, page {number}"
            if not over and time.monotonic() > deadline:
                over = f"not drawn: drawing the file's pages took more than {FILE_SECONDS} seconds (split the scan)"
            if over:
                out.append(Picture(page_name, b"", "", over))
                continue
            try:
                jpeg = _draw(document, number - 1)
            except (pypdfium2.PdfiumError, ValueError) as e:
                out.append(Picture(page_name, b"", "", f"the page cannot be drawn ({e})"))
                continue
            if kept + len(jpeg) > FILE_BYTES:
                over = f"not kept: the file's pages came to more than {FILE_BYTES // (1024 * 1024)} MB (split the scan)"
                out.append(Picture(page_name, b"", "", over))
                continue
            kept += len(jpeg)
            out.append(Picture(page_name, jpeg, "image/jpeg"))
        return out
    finally:
        document.close()


def _page_size(document, index: int) -> tuple[float, float]:
    import pypdfium2

    try:
        return document.get_page_size(index)
    except pypdfium2.PdfiumError:
        return 0.0, 0.0  # drawn (or refused) on its own when its turn comes


def _page_scale(width: float, height: float) -> float:
    """Points to pixels: 300 dpi, but never past PAGE_SIDE on the long side (a poster is drawn card-sized)."""
    return min(PDF_DPI / 72, PAGE_SIDE / max(width, height, 1e-6))


def _page_pixels(width: float, height: float) -> int:
    if not (0 < width < float("inf") and 0 < height < float("inf")):
        return 0
    scale = _page_scale(width, height)
    return math.ceil(width * scale) * math.ceil(height * scale)


def _draw(document, index: int) -> bytes:
    """One page, gray, at most PAGE_SIDE px on its long side, as a JPEG."""
    page = document[index]
    try:
        image = page.render(scale=_page_scale(*page.get_size()), grayscale=True).to_pil()
    finally:
        page.close()
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=PAGE_QUALITY)
    return buffer.getvalue()


def _open(data: bytes, name: str):
    """The image, decoded only within the limits (bytes, pixels, shape), or RebookError saying which."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_BYTES:
        raise RebookError(f"{name}: {len(data) // (1024 * 1024)} MB; the limit is {MAX_BYTES // (1024 * 1024)} MB")
    if _is_heic(data):
        _heif()
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise RebookError(f"{name}: {image.width * image.height / 1e6:.0f} megapixels; the limit is "
                              f"{MAX_PIXELS // 1_000_000}")
        if image.format == "JPEG":  # a phone's 12 megapixels decoded at half size: faster, and still enough
            image.draft("RGB", (WORKING_SIZE // 2, WORKING_SIZE // 2))
        image.load()
    except Image.DecompressionBombError:
        raise RebookError(f"{name}: more than {MAX_PIXELS // 1_000_000} megapixels") from None
    except UnidentifiedImageError:
        raise RebookError(f"{name}: not an image Rebook can read (JPEG, PNG, HEIC, TIFF, WebP, or a PDF scan)") from None
    except (OSError, ValueError, RuntimeError) as e:  # the decoders' own errors: one card's message, not a crash
        raise RebookError(f"{name}: the image is damaged or cut short ({e})") from None
    if max(image.size) > 10 * max(1, min(image.size)):
        raise RebookError(f"{name}: {image.width}x{image.height} pixels is no card's shape (more than 10 to 1)")
    return image


def prepare(data: bytes, name: str):
    """The image as Tesseract reads best: upright, gray, stretched contrast, about 2,000 px wide."""
    from PIL import Image, ImageOps

    image = _open(data, name)
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    if max(image.size) > WORKING_SIZE:
        image.thumbnail((WORKING_SIZE, WORKING_SIZE), Image.LANCZOS)
    return ImageOps.autocontrast(_card_of(image), cutoff=1)


def _card_of(image):
    """The card, straightened and cropped, at TARGET_WIDTH; or, when no card outline is found, the whole
    image levelled and scaled."""
    from PIL import Image

    from rebook.cards import photo  # numpy and scipy: loaded when a card is read, not with the app

    corners = photo.find_card(image)
    if corners is None:
        angle = photo.skew(image.convert("L"))
        if abs(angle) >= 0.5:
            fill = tuple(int(v) for v in photo.median_colour(image))
            image = image.rotate(angle, expand=True, fillcolor=fill if image.mode == "RGB" else fill[0],
                                 resample=Image.BICUBIC)
            corners = photo.find_card(image)
    gray = image.convert("L")
    if corners is not None:
        return photo.straighten(gray, corners, TARGET_WIDTH)
    if gray.width < TARGET_WIDTH:
        # Enlarged so the text is big enough, never past a size Tesseract reads in seconds.
        scale = min(TARGET_WIDTH / gray.width, (MAX_PIXELS / 4 / (gray.width * gray.height)) ** 0.5)
        if scale > 1:
            gray = gray.resize((round(gray.width * scale), max(1, round(gray.height * scale))), Image.LANCZOS)
    return gray


def _run(image, mode: int) -> list[Word]:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    # One thread per Tesseract: the modes run side by side, and OpenMP's own threads only slow that down.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run([tesseract(), "stdin", "stdout", "--psm", str(mode), "-l", "eng", "tsv"],
                              input=buffer.getvalue(), capture_output=True, timeout=60, check=False, env=env)
    except subprocess.TimeoutExpired:
        raise RebookError("tesseract took more than 60 s on one card") from None
    if done.returncode != 0:
        raise RebookError(f"tesseract failed: {done.stderr.decode(errors='replace')[:200]}")
    words = []
    reader = csv.DictReader(io.StringIO(done.stdout.decode("utf-8", errors="replace")), delimiter="\t",
                            quoting=csv.QUOTE_NONE)
    for row in reader:
        text = (row.get("text") or "").strip()
        try:
            conf = float(row.get("conf") or -1)
        except ValueError:
            conf = -1
        if not text or conf < 0:
            continue
        line = int(row["block_num"]) * 10_000 + int(row["par_num"]) * 100 + int(row["line_num"])
        words.append(Word(text, int(row["left"]), int(row["top"]), int(row["width"]), int(row["height"]), line, conf))
    return words


def _score(words: list[Word]) -> float:
    return sum(w.conf for w in words if w.conf >= 50 and len(w.text) > 1)


def _many(jobs: list[tuple[object, int]]) -> list[list[Word]]:
    """Tesseract on each (image, mode), side by side."""
    with ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1)) as pool:
        return list(pool.map(lambda job: _run(*job), jobs))


def _readable(words: list[Word]) -> bool:
    return sum(1 for w in words if w.conf >= 60 and len(w.text) > 2) >= 4


READERS = ("ppocr", "tesseract")


def reader() -> str:
    """The reader a card goes through: PP-OCR's detector and recogniser with Tesseract's second reading of each
    line (cards/engine.py), or, where its package cannot be imported, Tesseract alone."""
    from rebook.cards import engine

    return "ppocr" if engine.available() else "tesseract"


def read_image(data: bytes, name: str, *, using: str | None = None) -> list[Reading]:
    """The card's readings, the most confident first: one from PP-OCR (the lines it found, each merged with
    Tesseract's reading of the same box), or, ``using="tesseract"``, one per page-segmentation mode."""
    using = using or reader()
    if using == "ppocr":
        return [_read_lines(data, name)]
    return _read_tesseract(data, name)


def _read_lines(data: bytes, name: str) -> Reading:
    from PIL import ImageOps

    from rebook.cards import engine

    image = ImageOps.exif_transpose(_open(data, name))
    if image.mode != "RGB":
        image = image.convert("RGB")
    lines = engine.read_lines(image)
    if not any(line.conf >= 0.6 and len(line.text) > 1 for line in lines):
        raise RebookError(f"{name}: no readable text (blurred, too dark, or not a card?)")
    words = words_from_lines([(line.text, line.box, line.conf) for line in lines])
    return Reading(words, 0, image.width, image.height)


def _read_tesseract(data: bytes, name: str) -> list[Reading]:
    """The card read by Tesseract in each page-segmentation mode, the most confident reading first.

    The image is upright after its EXIF tag, but phones sometimes write a wrong one (or none): when no mode
    reads it well as it is, each quarter turn is tried in the automatic mode and the best turn read again."""
    image = prepare(data, name)
    readings = _many([(image, mode) for mode in MODES])
    if not any(_readable(words) for words in readings):
        turns = [image.rotate(angle, expand=True, fillcolor=255) for angle in (90, 270, 180)]
        turned = _many([(t, 3) for t in turns])
        best = max(range(3), key=lambda i: _score(turned[i]))
        if _score(turned[best]) > max(_score(words) for words in readings):
            image = turns[best]
            readings = [turned[best], *_many([(image, mode) for mode in MODES if mode != 3])]
    out = sorted((Reading(words, mode, image.width, image.height) for words, mode in zip(readings, MODES, strict=True)),
                 key=lambda r: -_score(r.words))
    if not any(w.conf >= 50 and len(w.text) > 1 for w in out[0].words):
        raise RebookError(f"{name}: no readable text (blurred, too dark, or not a card?)")
    return out
