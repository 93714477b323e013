"""The card reader's eyes: PP-OCR's text detector and recogniser (PaddleOCR's models, run by onnxruntime
through ``rapidocr-onnxruntime``, which ships them in its wheel: nothing is downloaded) find and read each
line of a photo, upright or turned, on any card stock; Tesseract's Latin-script model then reads the same
boxes again, for the spaces and accents PP-OCR's recogniser drops ("SaoPaulo" → "São Paulo"). The two
readings are merged by the pure ``strategy.cards.merged_line``; the fields are judged from the lines and
their boxes by ``strategy.cards.read_fields``, as before."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from functools import cache

from rebook.errors import RebookError
from rebook.strategy.cards import merged_line

DETECT_SIDE = 1280  # a photo's long side is reduced to this before detection: a 12 MP photo costs what a scan does
LINE_HEIGHT = 48  # each line is scaled to this height for Tesseract
TESSERACT_SECONDS = 30
SECOND_READING_LINES = 60  # lines of one photo that Tesseract reads again (its page: at most 60 x 96 px high)


@dataclass(frozen=True)
class Line:
    text: str  # merged
    box: tuple[tuple[float, float], ...]  # four corners in the reduced image: top left, top right, bottom right, bottom left
    conf: float  # 0..1, the detector's recogniser's
    primary: str = ""  # what PP-OCR read
    second: str = ""  # what Tesseract read


def available() -> bool:
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


_lock = threading.Lock()


@cache
def _engine():
    from rapidocr_onnxruntime import RapidOCR

    threads = max(1, min(2, os.cpu_count() or 1))
    return RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1, print_verbose=False)


def read_lines(image) -> list[Line]:
    """Every line of text in a PIL image (RGB), top to bottom, each with its box and confidence."""
    import numpy as np
    from PIL import Image

    if max(image.size) > DETECT_SIDE:
        image = image.copy()
        image.thumbnail((DETECT_SIDE, DETECT_SIDE), Image.LANCZOS)
    with _lock:  # one photo at a time through the detector in a process: it uses both CPUs already
        found, _ = _engine()(np.asarray(image)[:, :, ::-1])
    found = [(box, text, float(conf)) for box, text, conf in found or [] if str(text).strip()]
    if not found:
        return []
    # A card has a dozen lines; an image made to hold thousands gets its second reading for the first few only,
    # so that the page Tesseract reads stays small whatever the photo.
    crops = [_crop(image, box) for box, _, _ in found[:SECOND_READING_LINES]]
    seconds = _tesseract_lines(crops) + [("", 0.0)] * (len(found) - len(crops))
    lines = [Line(merged_line(text, second, primary_conf=conf, second_conf=second_conf),
                  tuple((float(x), float(y)) for x, y in box), conf, text, second)
             for (box, text, conf), (second, second_conf) in zip(found, seconds, strict=True)]
    return sorted(lines, key=lambda line: (min(y for _, y in line.box), min(x for x, _ in line.box)))


def _crop(image, box):
    """The line's box cut out and set straight (a perspective warp of its four corners)."""
    import numpy as np
    from PIL import Image

    pts = np.array(box, dtype=np.float64)
    width = max(np.linalg.norm(pts[0] - pts[1]), np.linalg.norm(pts[3] - pts[2]))
    height = max(np.linalg.norm(pts[0] - pts[3]), np.linalg.norm(pts[1] - pts[2]))
    w, h = max(1, round(width)), max(1, round(height))
    coeffs = _coefficients(pts, [(0, 0), (w, 0), (w, h), (0, h)])
    crop = image.transform((w, h), Image.PERSPECTIVE, coeffs, Image.BICUBIC)
    if h > 1.5 * w:  # a line written upwards or downwards: PP-OCR read it turned, and so must Tesseract
        crop = crop.rotate(90, expand=True)
    return crop


def _coefficients(to, frm) -> list[float]:
    """PIL's perspective coefficients that map output pixels (``frm``) to input pixels (``to``)."""
    import numpy as np

    rows, rhs = [], []
    for (x, y), (u, v) in zip(to, frm, strict=True):
        rows += [[u, v, 1, 0, 0, 0, -x * u, -x * v], [0, 0, 0, u, v, 1, -y * u, -y * v]]
        rhs += [x, y]
    return np.linalg.solve(np.array(rows), np.array(rhs)).tolist()


@cache
def _latin() -> str | None:
    """The Tesseract model to read the lines with: the Latin script (every Latin-alphabet language, accents
    and all; Debian's tesseract-ocr-script-latn), else English; None without Tesseract."""
    program = shutil.which("tesseract")
    if program is None:
        return None
    try:
        listed = subprocess.run([program, "--list-langs"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    names = listed.stdout.decode(errors="replace").split()
    return "Latin" if "Latin" in names else ("eng" if "eng" in names else None)


def _tesseract_lines(crops: list) -> list[tuple[str, float]]:
    """Tesseract's reading of each line and its confidence (0..1, its words' mean), in one run: the lines stacked
    on one page, each found again by where it lies on the page. A line Tesseract does not read is ("", 0)."""
    from PIL import Image, ImageOps

    model = _latin()
    if model is None or not crops:
        return [("", 0.0)] * len(crops)
    prepared = []
    for crop in crops:
        gray = ImageOps.autocontrast(crop.convert("L"), cutoff=1)
        if _mean(gray) < 128:  # light text on a dark card
            gray = ImageOps.invert(gray)
        scale = LINE_HEIGHT / max(gray.height, 1)
        prepared.append(gray.resize((max(1, min(4000, round(gray.width * scale))), LINE_HEIGHT), Image.LANCZOS))
    gap = LINE_HEIGHT
    page = Image.new("L", (max(p.width for p in prepared) + 2 * gap, len(prepared) * (LINE_HEIGHT + gap) + gap), 255)
    spans = []
    for i, p in enumerate(prepared):
        top = gap + i * (LINE_HEIGHT + gap)
        page.paste(p, (gap, top))
        spans.append((top, top + LINE_HEIGHT))
    buffer = io.BytesIO()
    page.save(buffer, format="PNG", compress_level=1)
    try:
        done = subprocess.run(["tesseract", "stdin", "stdout", "--psm", "6", "-l", model, "tsv"],
                              input=buffer.getvalue(), capture_output=True, timeout=TESSERACT_SECONDS, check=False,
                              env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    except subprocess.TimeoutExpired:
        raise RebookError(f"tesseract took more than {TESSERACT_SECONDS} s on one card") from None
    words: list[list[tuple[int, str, float]]] = [[] for _ in prepared]
    for row in done.stdout.decode("utf-8", errors="replace").splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or not cells[11].strip() or float(cells[10] or -1) < 0:
            continue
        left, top, height = int(cells[6]), int(cells[7]), int(cells[9])
        middle = top + height / 2
        for i, (start, end) in enumerate(spans):
            if start - gap / 2 <= middle < end + gap / 2:
                words[i].append((left, cells[11].strip(), float(cells[10]) / 100))
                break
    return [(" ".join(text for _, text, _ in sorted(ws)), sum(c for *_, c in ws) / len(ws) if ws else 0.0)
            for ws in words]


def _mean(gray) -> float:
    from PIL import ImageStat

    return ImageStat.Stat(gray).mean[0]
