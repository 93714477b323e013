"""From an image file to OCR words with boxes: Pillow prepares it (the EXIF orientation, grayscale,
contrast, scale so the text is large enough), then Debian's Tesseract reads it, on this machine, in the
page-segmentation modes that suit cards; the mode that reads the most confident words wins."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from dataclasses import dataclass

from rebook.errors import RebookError
from rebook.strategy.cards import Word

MAX_BYTES = 25 * 1024 * 1024
MAX_PIXELS = 60_000_000
TARGET_WIDTH = 2000  # text on a card photographed at this width is about 30 px high: what Tesseract likes
MODES = (3, 11, 6)  # automatic layout, sparse text, one block


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


def prepare(data: bytes, name: str):
    """The image as Tesseract reads best: upright, gray, stretched contrast, about 2,000 px wide."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(data) > MAX_BYTES:
        raise RebookError(f"{name}: {len(data) // (1024 * 1024)} MB; the limit is {MAX_BYTES // (1024 * 1024)} MB")
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise RebookError(f"{name}: {image.width * image.height / 1e6:.0f} megapixels; the limit is "
                              f"{MAX_PIXELS // 1_000_000}")
        image.load()
    except Image.DecompressionBombError:
        raise RebookError(f"{name}: more than {MAX_PIXELS // 1_000_000} megapixels") from None
    except UnidentifiedImageError:
        raise RebookError(f"{name}: not an image Rebook can read (JPEG, PNG, TIFF, WebP)") from None
    except OSError as e:
        raise RebookError(f"{name}: the image is damaged or cut short ({e})") from None
    if max(image.size) > 10 * max(1, min(image.size)):
        raise RebookError(f"{name}: {image.width}x{image.height} pixels is no card's shape (more than 10 to 1)")
    image = ImageOps.exif_transpose(image)
    gray = ImageOps.autocontrast(image.convert("L"), cutoff=1)
    if gray.width < TARGET_WIDTH:
        # Enlarged so the text is big enough, never past a size Tesseract reads in seconds.
        scale = min(TARGET_WIDTH / gray.width, (MAX_PIXELS / 4 / (gray.width * gray.height)) ** 0.5)
        if scale > 1:
            gray = gray.resize((round(gray.width * scale), max(1, round(gray.height * scale))), Image.LANCZOS)
    return gray


def _run(image, mode: int) -> list[Word]:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    try:
        done = subprocess.run([tesseract(), "stdin", "stdout", "--psm", str(mode), "-l", "eng", "tsv"],
                              input=buffer.getvalue(), capture_output=True, timeout=60, check=False)
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


def _upright(image):
    """Turn the image so its text reads upright. The EXIF tag is applied first, but phones sometimes write
    a wrong one (or none): when the image reads poorly as it is, each quarter turn is tried and the one that
    reads best kept."""
    first = _run(image, 3)
    if sum(1 for w in first if w.conf >= 60 and len(w.text) > 2) >= 4:
        return image, first
    best, best_words = image, first
    for angle in (90, 270, 180):
        turned = image.rotate(angle, expand=True, fillcolor=255)
        words = _run(turned, 3)
        if _score(words) > _score(best_words):
            best, best_words = turned, words
    return best, best_words


def read_image(data: bytes, name: str) -> Reading:
    """OCR words of a card image, from the mode that reads it most confidently."""
    image, first = _upright(prepare(data, name))
    best: Reading | None = None
    best_score = -1.0
    for mode in MODES:
        words = first if mode == 3 else _run(image, mode)
        score = _score(words)
        if score > best_score:
            best, best_score = Reading(words, mode, image.width, image.height), score
    assert best is not None
    if not any(w.conf >= 50 and len(w.text) > 1 for w in best.words):
        raise RebookError(f"{name}: no readable text (blurred, too dark, or not a card?)")
    return best
