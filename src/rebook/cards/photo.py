"""Finding the card in a photo: a card lying on a desk is photographed at an angle, with the desk around it.
Rebook finds the card (the largest nearly rectangular region that is brighter than the desk, or that the
strongest edges enclose), straightens it with a perspective
transform and crops to it, so Tesseract sees level lines of text of a good size. When no card outline can be
found (a flat scan, a card filling the frame, a card cut off by the frame), the text's own angle is measured
and the image levelled, and the card is looked for again in the levelled image."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageChops
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

WORK = 480  # the card is looked for on a copy this size: fast, and enough for its outline
MIN_FILL = 0.8  # the region must fill this much of its smallest enclosing rectangle to be a card
MIN_AREA, MAX_AREA = 0.06, 0.93  # ... and cover this much of the photo (more is a scan: nothing to crop)


def whiteness(image: Image.Image) -> Image.Image:
    """The darkest of the three channels: high only where a pixel is both bright and neutral, as card stock
    is, and low on a wooden or coloured desk that is bright in one channel only."""
    if image.mode == "L":
        return image
    r, g, b = image.convert("RGB").split()
    return ImageChops.darker(ImageChops.darker(r, g), b)


def otsu(values: np.ndarray) -> int:
    hist = np.bincount(values.ravel(), minlength=256).astype(float)
    p = hist / max(hist.sum(), 1)
    omega = np.cumsum(p)
    mu = np.cumsum(p * np.arange(256))
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu[-1] * omega - mu) ** 2 / (omega * (1 - omega))
    if np.all(np.isnan(between)):  # one shade only (a blank photo): nothing to split
        return int(values.ravel()[0]) if values.size else 0
    return int(np.nanargmax(between))


def _bright(a: np.ndarray, threshold: int) -> np.ndarray:
    """The pixels brighter than ``threshold``: a card on a darker desk."""
    return ndimage.binary_fill_holes(ndimage.binary_opening(a > threshold, iterations=2))


def _outlined(a: np.ndarray, percentile: float) -> np.ndarray:
    """What the strongest edges enclose: a card on a desk as light as the card, or lit unevenly."""
    smooth = ndimage.gaussian_filter(a.astype(float), 1.5)
    strength = np.hypot(ndimage.sobel(smooth, 0), ndimage.sobel(smooth, 1))
    edges = ndimage.binary_dilation(strength > np.percentile(strength, percentile), iterations=2)
    return ndimage.binary_opening(ndimage.binary_fill_holes(edges), iterations=4)


def _quad_of(mask: np.ndarray) -> tuple[float, np.ndarray] | None:
    """The largest region of ``mask``, as (how rectangular it is, its four corners)."""
    labels, n = ndimage.label(mask)
    if not n:
        return None
    sizes = ndimage.sum(mask, labels, range(1, n + 1))
    biggest = int(np.argmax(sizes))
    if not MIN_AREA < sizes[biggest] / mask.size < MAX_AREA:
        return None
    ys, xs = np.nonzero(labels == biggest + 1)
    points = np.column_stack([xs, ys]).astype(float)
    try:
        hull = points[ConvexHull(points).vertices]
    except QhullError:
        return None
    corners = hull
    while len(corners) > 4:
        # The card's corners: drop, one at a time, the hull point whose loss shrinks the hull least; a photo's
        # perspective makes a trapezium, not a rectangle, so its corners are where the hull turns most.
        before, after = np.roll(corners, 1, axis=0), np.roll(corners, -1, axis=0)
        u, v = corners - before, after - before
        loss = np.abs(u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]) / 2
        corners = np.delete(corners, int(np.argmin(loss)), axis=0)
    area = _area(corners)
    if area <= 0 or not _corners_square_enough(corners):
        return None
    ratio = sizes[biggest] / area  # 1 when the region is the quadrilateral; less or more when it is not
    return min(ratio, 1 / ratio), corners


def _corners_square_enough(corners: np.ndarray) -> bool:
    """A card seen at an angle still has four corners of about 90 degrees (40 to 140); a triangle or a
    sliver does not."""
    for i in range(4):
        a, b, c = corners[i - 1], corners[i], corners[(i + 1) % 4]
        u, v = a - b, c - b
        cos = np.dot(u, v) / max(np.linalg.norm(u) * np.linalg.norm(v), 1e-9)
        if not -0.77 <= cos <= 0.77:
            return False
    return True


def _area(polygon: np.ndarray) -> float:
    x, y = polygon[:, 0], polygon[:, 1]
    return float(abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))) / 2)


def find_card(image: Image.Image) -> np.ndarray | None:
    """The card's corners in ``image`` (top-left, top-right, bottom-right, bottom-left), or None."""
    small = whiteness(image)
    small = small.resize((WORK, max(1, round(WORK * small.height / small.width)))) if small.width > small.height \
        else small.resize((max(1, round(WORK * small.width / small.height)), WORK))
    scale = image.width / small.width
    a = np.asarray(small)
    start = otsu(a)
    masks = [_bright(a, int(t)) for t in np.linspace(start, 250, 9)] + [_outlined(a, p) for p in (85, 90, 94)]
    best = None
    for mask in masks:
        found = _quad_of(mask)
        if found and (best is None or found[0] > best[0]):
            best = found
    if best is None or best[0] < MIN_FILL:
        return None
    quad = best[1] * scale
    total, diff = quad.sum(1), quad[:, 0] - quad[:, 1]
    return np.array([quad[np.argmin(total)], quad[np.argmax(diff)], quad[np.argmax(total)], quad[np.argmin(diff)]])


def straighten(image: Image.Image, corners: np.ndarray, width: int) -> Image.Image:
    """The card cut out of the photo and seen from straight above, ``width`` pixels wide."""
    tl, tr, br, bl = corners
    w = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    h = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    out_w, out_h = width, max(1, round(width * h / w))
    rows, rhs = [], []
    for (x, y), (u, v) in zip([(0, 0), (out_w, 0), (out_w, out_h), (0, out_h)], corners, strict=True):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    coefficients = np.linalg.solve(np.array(rows, dtype=float), np.array(rhs, dtype=float))
    return image.transform((out_w, out_h), Image.PERSPECTIVE, tuple(coefficients), Image.BICUBIC)


def skew(gray: Image.Image) -> float:
    """The angle (degrees, counter-clockwise positive as Pillow's rotate takes it) that levels the text:
    the angle at which the dark ink falls into the fewest, fullest rows."""
    small = gray.copy()
    small.thumbnail((800, 800))
    a = np.asarray(small).astype(float)
    ink = a < ndimage.uniform_filter(a, 25) - 25
    ys, xs = np.nonzero(ink)
    if len(xs) < 50:
        return 0.0

    def sharpness(degrees: float) -> float:
        r = np.deg2rad(degrees)
        rows = ys * np.cos(r) - xs * np.sin(r)
        return float((np.bincount((rows - rows.min()).astype(int)).astype(float) ** 2).sum())

    coarse = max(np.arange(-30, 30.5, 1.0), key=sharpness)
    return float(max(np.arange(coarse - 1, coarse + 1.01, 0.1), key=sharpness))


def median_colour(image: Image.Image) -> np.ndarray:
    """The photo's typical colour (the desk's, mostly): what a levelled photo's new corners are filled with."""
    small = image.convert("RGB")
    small.thumbnail((200, 200))
    return np.median(np.asarray(small).reshape(-1, 3), axis=0)
