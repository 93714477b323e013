"""Card photos made hard on purpose: cards rendered in many layouts, fonts, languages and card stocks, then
"photographed" in software (a desk behind, perspective, rotation, blur, glare, shadow, low JPEG quality,
12-megapixel frames). Deterministic: card ``n`` is the same picture on every machine that has the fonts
.ci/run installs (DejaVu and Liberation). The people and companies are invented; numbers are in ranges
kept for fiction or are unassigned."""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass
from pathlib import Path

FONTS = Path("/usr/share/fonts/truetype")

PEOPLE = [
    dict(name="Dana Reyes", title="Sales Director", company="Reyes Landscaping LLC",
         email="dana.reyes@reyeslandscaping.com", phone="+1 415-555-0134", e164="+14155550134",
         website="www.reyeslandscaping.com", address="1200 Market St, San Francisco, CA 94102", labels="en"),
    dict(name="João Pereira", title="Diretor Comercial", company="Pereira & Filhos Ltda",
         email="joao.pereira@pereirafilhos.com.br", phone="(11) 3456-7890", e164="+551134567890",
         website="www.pereirafilhos.com.br", address="Av. Paulista, 1000 - São Paulo, SP", labels="pt"),
    dict(name="Carmen López", title="Gerente de Ventas", company="Soluciones Ibéricas S.A.",
         email="c.lopez@solucionesibericas.es", phone="+34 912 345 678", e164="+34912345678",
         website="www.solucionesibericas.es", address="Calle de Alcalá 45, 28014 Madrid", labels="es"),
    dict(name="Klaus Müller", title="Geschäftsführer", company="Müller Maschinenbau GmbH",
         email="k.mueller@mueller-maschinenbau.de", phone="+49 89 12345678", e164="+498912345678",
         website="www.mueller-maschinenbau.de", address="Leopoldstraße 12, 80802 München", labels="de"),
    dict(name="Élodie Durand", title="Directrice Marketing", company="Durand Conseil SARL",
         email="e.durand@durandconseil.fr", phone="+33 4 72 10 20 30", e164="+33472102030",
         website="www.durandconseil.fr", address="12 rue de la République, 69002 Lyon", labels="fr"),
    dict(name="Phạm Minh Anh", title="Sales Manager", company="Sao Mai Trading JSC",
         email="anh.pham@saomaitrading.vn", phone="+84 28 3822 1234", e164="+842838221234",
         website="www.saomaitrading.vn", address="12 Nguyễn Huệ, Quận 1, TP. Hồ Chí Minh", labels="en"),
    dict(name="Kenji Tanaka", title="Senior Engineer", company="Sakura Trading Co., Ltd.",
         email="k.tanaka@sakura-trading.co.jp", phone="+81 3-1234-5678", e164="+81312345678",
         website="www.sakura-trading.co.jp", address="1-2-3 Marunouchi, Chiyoda-ku, Tokyo", labels="jp"),
    dict(name="Rachel Kim", title="Operations Manager", company="Northwind Logistics Inc.",
         email="rachel.kim@northwindlogistics.com", phone="(206) 555-0142", e164="+12065550142",
         website="northwindlogistics.com", address="400 Pine St, Seattle, WA 98101", labels="en"),
    dict(name="Oliver Bennett", title="Senior Consultant", company="Bennett & Clarke LLP",
         email="oliver.bennett@bennettclarke.co.uk", phone="+44 161 496 0123", e164="+441614960123",
         website="www.bennettclarke.co.uk", address="21 King Street, Manchester M2 6AZ", labels="en"),
    dict(name="Ana Beatriz Souza", title="Gerente de Projetos", company="Souza Engenharia Ltda",
         email="ana.souza@souzaengenharia.com.br", phone="(21) 2555-1234", e164="+552125551234",
         website="www.souzaengenharia.com.br", address="Rua da Assembleia, 10 - Rio de Janeiro", labels="pt"),
    dict(name="Marco Bianchi", title="Account Executive", company="Bianchi Design Studio",
         email="marco@bianchidesign.it", phone="+39 06 6982 1234", e164="+390669821234",
         website="www.bianchidesign.it", address="Via del Corso 101, 00186 Roma", labels="en"),
    dict(name="Sarah O'Connor", title="Chief Financial Officer", company="Harbor Realty Group",
         email="soconnor@harborrealty.com", phone="(312) 555-0187", e164="+13125550187",
         website="harborrealty.com", address="233 S Wacker Dr, Chicago, IL 60606", labels="en"),
]
LABELS = {
    "en": ("Tel:", "Mobile:", "Email:", "Web:"),
    "pt": ("Fone:", "Cel:", "E-mail:", "Site:"),
    "es": ("Tel.:", "Móvil:", "Correo:", "Web:"),
    "de": ("Tel.:", "Mobil:", "E-Mail:", "Web:"),
    "fr": ("Tél. :", "Mobile :", "Courriel :", "Web :"),
    "jp": ("TEL", "MOBILE", "E-mail", "URL"),
}
# Card stock and ink: (paper, ink, accent).
STOCKS = [((250, 250, 248), (20, 20, 20), (30, 60, 140)), ((246, 240, 225), (60, 55, 50), (140, 30, 30)),
          ((22, 36, 71), (245, 245, 245), (230, 190, 90)), ((30, 90, 60), (250, 250, 250), (250, 250, 250)),
          ((175, 30, 40), (255, 255, 255), (255, 230, 200)), ((225, 225, 225), (110, 110, 110), (60, 60, 60)),
          ((15, 15, 15), (225, 200, 120), (240, 240, 240)), ((255, 255, 255), (40, 40, 40), (0, 120, 160))]
FACES = [("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"), ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"),
         ("LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf"), ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf"),
         ("LiberationSansNarrow-Regular.ttf", "LiberationSansNarrow-Bold.ttf"),
         ("DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold.ttf")]
LAYOUTS = ("classic", "centered", "two_columns", "big_logo", "label_column", "right_block")
COUNT = 48  # the card set's made part; tests/cards/test_card_set.py holds some out of tuning


@dataclass(frozen=True)
class Photo:
    number: int
    data: bytes
    expected: dict  # name, title, company, email, phone (E.164), the layout and what was done to it
    how: str


def _font(name: str, size: int):
    from PIL import ImageFont

    path = next(FONTS.rglob(name), None)
    if path is None:
        raise FileNotFoundError(f"font {name} is not installed (.ci/run installs fonts-dejavu-core and fonts-liberation)")
    return ImageFont.truetype(str(path), size)


def _card(person: dict, layout: str, stock, faces, rng: random.Random):
    """The card itself, 1050 x 600 (3.5 x 2 inches at 300 dpi)."""
    from PIL import Image, ImageDraw

    paper, ink, accent = stock
    img = Image.new("RGB", (1050, 600), paper)
    d = ImageDraw.Draw(img)
    regular, bold = faces
    tel, mob, mail, web = LABELS[person["labels"]]
    contact = [f"{tel} {person['phone']}", f"{mail} {person['email']}", f"{web} {person['website']}"]
    small = _font(regular, rng.choice([24, 26, 28]))
    if layout == "classic":
        d.text((60, 45), person["company"], font=_font(bold, 40), fill=accent)
        d.text((60, 180), person["name"], font=_font(bold, 56), fill=ink)
        d.text((60, 252), person["title"], font=_font(regular, 32), fill=ink)
        for i, text in enumerate(contact + [person["address"]]):
            d.text((60, 360 + i * 48), text, font=small, fill=ink)
    elif layout == "centered":
        def center(y, text, font, fill):
            width = d.textlength(text, font=font)
            d.text(((1050 - width) / 2, y), text, font=font, fill=fill)
        center(40, person["company"].upper(), _font(bold, 38), accent)
        center(165, person["name"], _font(bold, 60), ink)
        center(240, person["title"], _font(regular, 32), ink)
        center(350, person["email"], small, ink)
        center(400, f"{tel} {person['phone']}", small, ink)
        center(450, person["website"], small, ink)
        center(500, person["address"], _font(regular, 22), ink)
    elif layout == "two_columns":
        d.text((50, 60), person["name"], font=_font(bold, 48), fill=ink)
        d.text((50, 125), person["title"], font=_font(regular, 28), fill=ink)
        d.text((50, 470), person["company"], font=_font(bold, 34), fill=accent)
        d.line([(560, 60), (560, 540)], fill=accent, width=3)
        for i, text in enumerate([f"{tel} {person['phone']}", person["email"], person["website"]]
                                 + _wrapped(person["address"], 30)):
            d.text((590, 200 + i * 44), text, font=_font(regular, 22), fill=ink)
    elif layout == "big_logo":
        d.rectangle([(0, 0), (1050, 150)], fill=accent)
        logo = person["company"].split()[0].upper()
        d.text((50, 20), logo, font=_font(bold, 96), fill=paper)
        d.text((50, 185), person["name"], font=_font(bold, 44), fill=ink)
        d.text((50, 240), person["title"], font=_font(regular, 26), fill=ink)
        d.text((50, 290), person["company"], font=_font(regular, 26), fill=ink)
        for i, text in enumerate(contact):
            d.text((50, 380 + i * 36), text, font=_font(regular, 21), fill=ink)
        d.text((50, 500), person["address"], font=_font(regular, 20), fill=ink)
    elif layout == "label_column":
        d.text((60, 40), person["company"], font=_font(bold, 36), fill=accent)
        d.text((60, 140), person["name"], font=_font(bold, 52), fill=ink)
        d.text((60, 205), person["title"], font=_font(regular, 30), fill=ink)
        rows = [(tel.rstrip(": ."), person["phone"]), (mail.rstrip(": ."), person["email"]),
                (web.rstrip(": ."), person["website"]), ("", person["address"])]
        for i, (label, value) in enumerate(rows):
            d.text((60, 330 + i * 52), label, font=_font(bold, 24), fill=accent)
            d.text((260, 330 + i * 52), value, font=_font(regular, 26), fill=ink)
    else:  # right_block
        d.text((60, 60), person["company"], font=_font(bold, 44), fill=accent)
        d.text((60, 115), person["website"], font=_font(regular, 24), fill=ink)
        for i, text in enumerate([person["name"], person["title"], person["email"], f"{tel} {person['phone']}",
                                  person["address"]]):
            font = _font(bold, 40) if i == 0 else _font(regular, 26 if i == 1 else 23)
            width = d.textlength(text, font=font)
            d.text((1000 - width, 250 + i * 56), text, font=font, fill=ink)
    return img


def _wrapped(text: str, width: int) -> list[str]:
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    return lines + ([line] if line else [])


def _desk(kind: str, size: tuple[int, int], rng: random.Random):
    """What the card lies on: wood grain, a keyboard, a grey or a dark desk."""
    import numpy as np
    from PIL import Image

    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    noise = np.random.default_rng(rng.randint(0, 1 << 30)).normal(0, 6, (h, w)).astype(np.float32)
    if kind == "wood":
        grain = np.sin((x * 0.02 + np.sin(y * 0.004) * 9) + np.sin(y * 0.05) * 0.4) * 18
        base = np.stack([150 + grain, 105 + grain * 0.8, 60 + grain * 0.5], axis=-1)
    elif kind == "keyboard":
        keys = ((x % 90 < 80) & (y % 90 < 80)).astype(np.float32)
        shade = 45 + keys * 25
        base = np.stack([shade, shade, shade + 4], axis=-1)
    elif kind == "dark":
        base = np.full((h, w, 3), 40, np.float32)
    else:
        base = np.full((h, w, 3), 140 + rng.randint(-20, 20), np.float32)
    base += noise[..., None]
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")


def _perspective(card, desk, rng: random.Random, strength: float, angle: float):
    """The card laid on the desk seen at an angle: its corners moved by up to ``strength`` of its size."""
    from PIL import Image

    W, H = desk.size
    cw = W * rng.uniform(0.55, 0.75)
    ch = cw * card.height / card.width
    cx, cy = W / 2 + rng.uniform(-0.05, 0.05) * W, H / 2 + rng.uniform(-0.05, 0.05) * H
    corners = []
    for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        px = dx * cw / 2 + rng.uniform(-strength, strength) * cw
        py = dy * ch / 2 + rng.uniform(-strength, strength) * ch
        a = math.radians(angle)
        corners.append((cx + px * math.cos(a) - py * math.sin(a), cy + px * math.sin(a) + py * math.cos(a)))
    coeffs = _coefficients(corners, [(0, 0), (card.width, 0), (card.width, card.height), (0, card.height)])
    warped = card.transform(desk.size, Image.PERSPECTIVE, coeffs, Image.BICUBIC)
    mask = Image.new("L", card.size, 255).transform(desk.size, Image.PERSPECTIVE, coeffs, Image.BICUBIC)
    desk.paste(warped, (0, 0), mask)
    return desk


def _coefficients(to, frm):
    import numpy as np

    rows = []
    for (x, y), (u, v) in zip(to, frm, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.array(rows, dtype=np.float64)
    b = np.array([c for pair in frm for c in pair], dtype=np.float64)
    return np.linalg.solve(a, b).tolist()


def _glare(img, rng: random.Random, strength: float):
    import numpy as np
    from PIL import Image

    w, h = img.size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    gx, gy, r = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h, rng.uniform(0.08, 0.15) * w
    spot = np.exp(-((x - gx) ** 2 + (y - gy) ** 2) / (2 * r * r)) * 255 * strength
    arr = np.asarray(img, np.float32) + spot[..., None]
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def _shadow(img, rng: random.Random):
    import numpy as np
    from PIL import Image

    w, h = img.size
    ramp = np.linspace(1.0, rng.uniform(0.45, 0.7), w, dtype=np.float32)
    if rng.random() < 0.5:
        ramp = ramp[::-1]
    arr = np.asarray(img, np.float32) * ramp[None, :, None]
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def photo(number: int) -> Photo:
    """Card ``number`` (0 <= number < COUNT), photographed."""
    from PIL import Image, ImageFilter

    rng = random.Random(1000 + number)
    person = PEOPLE[number % len(PEOPLE)]
    layout = LAYOUTS[(number + number // len(PEOPLE)) % len(LAYOUTS)]
    stock = STOCKS[(number * 5 + 3) % len(STOCKS)]
    faces = FACES[(number * 7 + 1) % len(FACES)]
    card = _card(person, layout, stock, faces, rng)
    how = [layout, f"stock {STOCKS.index(stock)}", faces[0].split(".")[0]]
    kind = ("wood", "keyboard", "grey", "dark")[number % 4]
    big = number % 6 == 5  # a 12-megapixel phone photo
    size = (4032, 3024) if big else (1600, 1200)
    desk = _desk(kind, (size[0] // 4, size[1] // 4), rng).resize(size, Image.BILINEAR) if big else _desk(kind, size, rng)
    angle = rng.choice([0, 0, rng.uniform(-12, 12), rng.uniform(-25, 25), 90 if number % 9 == 4 else 0])
    strength = rng.choice([0.0, 0.04, 0.08, 0.12])
    img = _perspective(card, desk, rng, strength, angle)
    how += [f"{kind} desk", f"{angle:.0f} deg", f"perspective {strength:.2f}"] + (["12 MP"] if big else [])
    if number % 3 == 1:
        img = _glare(img, rng, rng.uniform(0.5, 0.9))
        how.append("glare")
    if number % 4 == 2:
        img = _shadow(img, rng)
        how.append("shadow")
    blur = rng.choice([0, 0, 0.8, 1.5])
    if blur:
        img = img.filter(ImageFilter.GaussianBlur(blur * (2.5 if big else 1)))
        how.append(f"blur {blur}")
    quality = rng.choice([40, 55, 75, 90])
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=quality)
    how.append(f"JPEG q{quality}")
    expected = {k: person[k] for k in ("name", "title", "company", "email")} | {"phone": person["e164"]}
    return Photo(number, out.getvalue(), expected, ", ".join(how))


def photos() -> list[Photo]:
    return [photo(n) for n in range(COUNT)]


if __name__ == "__main__":  # python -m tests.cards.photos DIR: write them out to look at
    import sys

    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "card-photos")
    folder.mkdir(parents=True, exist_ok=True)
    for p in photos():
        (folder / f"card-{p.number:02d}.jpg").write_bytes(p.data)
        print(p.number, p.how, p.expected["name"])
