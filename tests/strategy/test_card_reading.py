"""The card's fields from lines as real recognisers read them: joined and split words, dropped accents,
labels run into their values, lines from a photo taken at an angle. Pure: milliseconds, no image."""

from __future__ import annotations

import math

import pytest

from rebook.strategy.cards import merged_line, read_fields, words_from_lines


@pytest.mark.parametrize(("primary", "second", "expected"), [
    ("PEREIRA&FILHOSLTDA", "PEREIRA & FILHOS LTDA", "PEREIRA & FILHOS LTDA"),
    ("Av.Paulista,1000-SaoPaulo,SP", "Av. Paulista, 1000 - São Paulo, SP", "Av. Paulista, 1000 - São Paulo, SP"),
    ("Joao Pereira", "João Pereir:", "João Pereira"),  # the accent from one, the last letter from the other
    ("avery.smith@contoso.com", "avery. smith@contoso. com", "avery.smith@contoso.com"),  # no space in an address
    ("E-mailk.tanaka@sakura-trading.co.jp", "E-mail k.tanaka@sakura-trading.co.jp",
     "E-mail k.tanaka@sakura-trading.co.jp"),  # but the label comes off it
    ("URLwww.sakura-trading.co.jp", "URL www.sakura-trading.co.jp", "URL www.sakura-trading.co.jp"),
    ("ChiefFinancial Officer", "x7 ##", "Chief Financial Officer"),  # nothing alike: the primary, split by case
    ("SarahO'Connor", "", "Sarah O'Connor"),
    ("Klaus Muller", "Klaus Müller", "Klaus Müller"),
])
def test_two_readings_of_a_line_are_merged_letter_by_letter(primary, second, expected):
    assert merged_line(primary, second, primary_conf=0.97, second_conf=0.6) == expected


def test_an_unsure_primary_gives_way_to_a_sure_second_reading():
    line = merged_line("E-mail:anasua@ouzaengenharia.m.b", "E-mail: ana.souza@souzaengenharia.com.br",
                       primary_conf=0.77, second_conf=0.92)
    assert line == "E-mail: ana.souza@souzaengenharia.com.br"


def _lines(rows: list[tuple[str, float]], angle: float = 0.0, height: float = 30.0):
    """Detector lines for ``rows`` (text, relative height), laid out top to bottom and turned by ``angle``."""
    out, top = [], 100.0
    a = math.radians(angle)

    def turn(x, y):
        return (500 + (x - 500) * math.cos(a) - (y - 400) * math.sin(a),
                400 + (x - 500) * math.sin(a) + (y - 400) * math.cos(a))

    for text, size in rows:
        h, w = height * size, len(text) * height * size * 0.5
        corners = tuple(turn(x, y) for x, y in ((100, top), (100 + w, top), (100 + w, top + h), (100, top + h)))
        out.append((text, corners, 0.95))
        top += h + 20
    return out


CARD = [("Sao Mai Trading JSC", 1.2), ("Phạm Minh Anh", 1.6), ("Giám đốc Kinh doanh", 1.0),
        ("Tel: 028 3822 1234", 0.9), ("anh.pham@saomaitrading.vn", 0.9)]


@pytest.mark.parametrize("angle", [0, 18, -25, 90, -90])
def test_lines_of_a_photo_taken_at_an_angle_read_top_to_bottom(angle):
    words = words_from_lines(_lines(CARD, angle))
    fields = read_fields(words, region="US")
    assert fields.name == "Phạm Minh Anh" and fields.company == "Sao Mai Trading JSC"
    assert fields.text.splitlines()[0] == "Sao Mai Trading JSC"
    assert [p.number for p in fields.phones] == ["+842838221234"]  # in the card's country (.vn), not the seller's


@pytest.mark.parametrize(("name", "email", "expected"), [
    ("VIJAYCHANDRASEKHAR", "vijay.chandrasekhar@stanford.edu", "VIJAY CHANDRASEKHAR"),
    ("Kiichi M urata", "kiichi.murata@sakura.co.jp", "Kiichi Murata"),
])
def test_a_name_run_together_or_broken_is_spaced_as_the_email_spells_it(name, email, expected):
    fields = read_fields(words_from_lines(_lines([(name, 1.6), ("Senior Engineer", 1.0), (email, 0.9)])))
    assert fields.name == expected


@pytest.mark.parametrize(("title", "company"), [
    ("Diretor Comercial", "Pereira & Filhos Ltda"), ("Gerente de Ventas", "Soluciones Ibéricas S.A."),
    ("Geschäftsführer", "Müller Maschinenbau GmbH"), ("Directrice Marketing", "Durand Conseil SARL"),
    ("Sales Manager", "Sao Mai Trading JSC"), ("Senior Engineer", "Sakura Trading Co., Ltd."),
])
def test_titles_and_company_words_in_the_cards_languages(title, company):
    rows = [(company, 1.2), ("Ana Souza", 1.6), (title, 1.0), ("ana@example.com", 0.9)]
    fields = read_fields(words_from_lines(_lines(rows)))
    assert (fields.title, fields.company, fields.name) == (title, company, "Ana Souza")


def test_a_website_is_only_what_the_card_prints():
    fields = read_fields(words_from_lines(_lines([("Dana Reyes", 1.6), ("dana@reyeslandscaping.com", 0.9)])))
    assert fields.website == "" and fields.emails == ["dana@reyeslandscaping.com"]


def test_house_and_postal_numbers_are_not_phones():
    rows = [("Klaus Müller", 1.6), ("Tel.: +49 89 12345678", 0.9), ("Leopoldstraße 12, 80802 München", 0.9),
            ("k.mueller@mueller-maschinenbau.de", 0.9)]
    assert [p.number for p in read_fields(words_from_lines(_lines(rows))).phones] == ["+498912345678"]
