"""The API's documentation page on a phone: a viewport, a language, and badges readable at 4.5:1."""

from __future__ import annotations

import re
from pathlib import Path

CSS = Path(__file__).resolve().parents[2] / "src" / "rebook" / "web" / "static" / "rebook" / "api-docs.css"


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_docs_page_fits_a_phone_and_loads_the_readable_badges(client, db):
    page = client.get("/api/v1/docs").content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert '<html lang="en">' in page and "rebook/api-docs.css" in page
    assert client.get("/static/rebook/api-docs.css").status_code == 200


def test_every_badge_background_is_at_least_4_5_to_1_against_its_white_text():
    backgrounds = re.findall(r"background:\s*(#[0-9a-fA-F]{6})", CSS.read_text())
    assert len(backgrounds) >= 9
    assert all(contrast(b, "#ffffff") >= 4.5 for b in backgrounds), [(b, round(contrast(b, "#ffffff"), 2))
                                                                     for b in backgrounds]
    grey = re.search(r"parameter__in.*?color:\s*(#[0-9a-fA-F]{6})", CSS.read_text(), re.S)[1]
    assert contrast(grey, "#ffffff") >= 4.5
    assert round(contrast("#49cc90", "#ffffff"), 1) < 4.5  # what Swagger UI had: why the file exists
