"""Reading a business card's fields from its words: pure (OCR words and boxes in, fields with a confidence
each out), so it can improve without touching the web.

E-mails, websites and phones are found by pattern (phones with ``phonenumbers``' matcher, in the seller's
region, then the card's own). The name and the company need judgement: the largest words, the line next to
a job title, the e-mail's local part and the website's domain all vote; labels ("Tel", "Head Office"),
titles and company words are not names.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from dataclasses import dataclass, field

import phonenumbers

TITLE_WORDS = {
    "ceo", "cto", "cfo", "coo", "founder", "co-founder", "cofounder", "owner", "president", "vice", "director",
    "manager", "head", "lead", "engineer", "consultant", "partner", "associate", "advisor", "adviser", "analyst",
    "designer", "developer", "officer", "representative", "specialist", "sales", "marketing", "account",
    "executive", "coordinator", "agent", "broker", "realtor", "architect", "attorney", "lawyer", "accountant",
    "principal", "chief", "senior", "junior", "assistant", "supervisor", "administrator", "producer", "editor",
    "photographer", "therapist", "doctor", "dr.", "md", "phd", "coach", "trainer", "planner", "strategist",
    # Portuguese, Spanish, French, German, Italian
    "diretor", "diretora", "gerente", "presidente", "vendedor", "vendedora", "engenheiro", "engenheira",
    "consultor", "consultora", "analista", "coordenador", "coordenadora", "sócio", "sócia", "fundador",
    "fundadora", "comercial", "executivo", "executiva", "representante", "supervisora",
    "directora", "jefe", "jefa", "ingeniero", "ingeniera", "asesor", "asesora", "ventas", "vendas", "socio",
    "directeur", "directrice", "président", "présidente", "ingénieur", "conseiller", "conseillère", "chargé",
    "chargée", "responsable", "commercial", "commerciale", "fondateur", "fondatrice", "gérant", "gérante",
    "geschäftsführer", "geschäftsführerin", "leiter", "leiterin", "vertrieb", "vertriebsleiter", "berater",
    "beraterin", "ingenieur", "ingenieurin", "inhaber", "inhaberin", "gründer", "gründerin", "vorstand",
    "prokurist", "referent", "referentin", "direttore", "direttrice", "responsabile", "titolare", "amministratore",
}
COMPANY_WORDS = {
    "inc", "inc.", "llc", "ltd", "ltd.", "limited", "gmbh", "ag", "sa", "s.a.", "sarl", "bv", "b.v.", "plc", "co",
    "co.", "corp", "corp.", "corporation", "company", "group", "holdings", "partners", "associates", "studio",
    "studios", "solutions", "services", "consulting", "agency", "labs", "systems", "technologies", "bakery", "cafe",
    "realty", "design", "media", "law", "clinic", "foundation", "industries", "enterprises", "ventures",
    "llp", "lp", "pllc", "ltda", "ltda.", "s.l.", "sl", "s.r.l.", "srl", "s.p.a.", "spa", "sas", "s.a.s.", "kg",
    "ohg", "ug", "e.k.", "nv", "n.v.", "oy", "ab", "a/s", "aps", "pte", "pty", "bhd", "jsc", "k.k.", "kk", "eireli",
    "me", "s/a", "trading", "logistics", "engenharia", "ingeniería", "consultoria", "consultoría", "conseil",
    "comércio", "comercio", "indústria", "industria", "construtora", "transportes", "maschinenbau", "soluciones",
    "soluções", "tecnologia", "tecnología", "technologie", "sociedad", "sociedade", "société",
}
LABELS = re.compile(r"^(tel|tél|telefone|teléfono|telefono|telefon|phone|fone|mobile|mobil|móvil|movil|mob|cell|"
                    r"celular|cel|fax|office|direct|main|head office|email|e-mail|mail|correo|courriel|web|www|url|"
                    r"site|sitio|address|endereço|dirección|adresse|website|t|m|f|e|w|p|o|c)\b[.:]?", re.IGNORECASE)
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,24}")
WEBSITE = re.compile(r"\b(?:https?://)?(?:www\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:com|net|org|io|co|biz|info|"
                     r"[a-z]{2})(?:/\S*)?\b", re.IGNORECASE)
HONORIFIC = re.compile(r"^(dr|mr|mrs|ms|mx|prof|sir|dame|sr|sra|srta|dra|herr|frau|m|mme|mlle)\.?\s+(?=[A-Z])",
                       re.IGNORECASE)
NOT_NAME_WORDS = {"department", "dept", "division", "team", "unit", "office", "headquarters", "branch",
                  "departamento", "département", "abteilung", "filial", "sucursal", "matriz", "sede"}
MOBILE_HINT = re.compile(r"\b(mobile|mobil|móvil|movil|mob|cell|cel|celular|portable|handy|m)\b[.:]?", re.IGNORECASE)
TLD_REGION = {"uk": "GB", "de": "DE", "fr": "FR", "es": "ES", "it": "IT", "nl": "NL", "be": "BE", "ch": "CH",
              "at": "AT", "ie": "IE", "au": "AU", "nz": "NZ", "ca": "CA", "se": "SE", "no": "NO", "dk": "DK",
              "fi": "FI", "pt": "PT", "pl": "PL", "br": "BR", "mx": "MX", "za": "ZA", "in": "IN", "sg": "SG",
              "vn": "VN", "jp": "JP", "cn": "CN", "kr": "KR", "tw": "TW", "hk": "HK", "ar": "AR", "cl": "CL",
              "pe": "PE", "uy": "UY", "ru": "RU", "tr": "TR", "gr": "GR", "cz": "CZ", "hu": "HU", "ro": "RO",
              "il": "IL", "ae": "AE", "ph": "PH", "th": "TH", "my": "MY", "id": "ID", "ng": "NG", "ke": "KE",
              "lu": "LU"}


@dataclass(frozen=True)
class Word:
    """One OCR word: its text, its box (left, top, width, height in pixels), the line it is on, and the
    OCR engine's confidence (0..100)."""

    text: str
    left: int
    top: int
    width: int
    height: int
    line: int
    conf: float = 90.0


@dataclass
class Phone:
    number: str  # E.164
    kind: str = ""  # "mobile", "office", "fax" or "" when the card does not say
    valid: bool = True  # a number in use by the numbering plan, not only of a possible length


@dataclass
class CardFields:
    name: str = ""
    title: str = ""
    company: str = ""
    emails: list[str] = field(default_factory=list)
    phones: list[Phone] = field(default_factory=list)
    website: str = ""
    address: str = ""
    confidence: dict[str, float] = field(default_factory=dict)
    text: str = ""  # the raw text, line by line


def lines_of(words: list[Word]) -> list[list[Word]]:
    by_line: dict[int, list[Word]] = {}
    for w in words:
        if w.text.strip():
            by_line.setdefault(w.line, []).append(w)
    return [sorted(ws, key=lambda w: w.left) for _, ws in sorted(by_line.items(), key=lambda kv: min(w.top for w in kv[1]))]


def _text(line: list[Word]) -> str:
    return " ".join(w.text for w in line).strip()


def _size(line: list[Word]) -> float:
    heights = sorted(w.height for w in line)
    return heights[len(heights) // 2] if heights else 0


def read_fields(words: list[Word], *, region: str = "US") -> CardFields:
    """The card's fields from its words, each with a confidence from 0 to 1."""
    lines = lines_of(words)
    # OCR often splits an address at its dots and @: "lucia@ romanodesign. it".
    texts = [_joined(_text(line)) for line in lines]
    out = CardFields(text="\n".join(texts))
    full = "\n".join(texts)
    out.emails = sorted({e.lower().rstrip(".") for e in EMAIL.findall(full)})
    domain = out.emails[0].split("@", 1)[1] if out.emails else ""
    sites = [m.group(0) for t in texts for m in WEBSITE.finditer(t) if "@" not in t]
    # Only a website the card prints: one made up from the e-mail's domain would be a guess the seller must undo.
    out.website = sites[0].lower() if sites else ""
    card_region = TLD_REGION.get((out.website or domain).rsplit(".", 1)[-1]) if (out.website or domain) else None
    out.phones = _phones(texts, region, card_region)
    used = {i for i, t in enumerate(texts) if EMAIL.search(t) or (sites and any(s in t for s in sites))
            or _has_phone(t, region, card_region)}
    candidates = [(i, lines[i]) for i in range(len(lines)) if i not in used and texts[i]]
    title_i = next((i for i, _ in candidates if _is_title(texts[i])), None)
    out.title = texts[title_i] if title_i is not None else ""
    company_i, company_score = _company(candidates, texts, domain or out.website, title_i)
    out.company = texts[company_i] if company_i is not None else ""
    stem = _stem(domain or out.website)
    squashed = re.sub(r"[^a-z0-9]", "", out.company.lower())
    if stem and len(stem) >= 3 and (domain or out.website) and not _freemail(domain):
        if out.company and squashed != stem and squashed in stem and len(out.company.split()) == 1:
            # A logo read in part ("NTOSO" for "CONTOSO"): the domain spells it whole.
            out.company = stem.upper() if out.company.isupper() else stem.capitalize()
        elif not out.company:
            out.company, company_score, company_i = stem.capitalize(), 0.4, -1
    name_i, name_score = _name(candidates, texts, lines, out.emails, title_i, company_i)
    out.name = _spelled_as_address(texts[name_i], out.emails) if name_i is not None else ""
    address = [texts[i] for i, _ in candidates if i not in (title_i, company_i, name_i) and _looks_like_address(texts[i])]
    out.address = ", ".join(address)
    ocr = {i: sum(w.conf for w in lines[i]) / max(len(lines[i]), 1) / 100 for i in range(len(lines))}
    out.confidence = {
        "emails": 0.95 if out.emails else 0.0,
        "phones": (0.9 if out.phones[0].valid else 0.6) if out.phones else 0.0,
        "website": (0.9 if sites else 0.6) if out.website else 0.0,
        "title": round(0.8 * ocr.get(title_i, 0), 2) if title_i is not None else 0.0,
        "company": (round(min(1.0, company_score) * ocr.get(company_i, 1.0), 2) if company_i is not None else 0.0),
        "name": round(min(1.0, name_score) * ocr.get(name_i, 0), 2) if name_i is not None else 0.0,
        "address": 0.6 if address else 0.0,
    }
    return out


def _joined(text: str) -> str:
    if "@" in text or re.search(r"\bwww\s*\.", text, re.IGNORECASE):
        return re.sub(r"\s*([@.])\s+(?=[A-Za-z0-9])|\s+([@.])\s*(?=[A-Za-z0-9])", r"\1\2", text)
    return text


def _freemail(domain: str) -> bool:
    return domain in {"gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "aol.com", "gmx.de",
                      "web.de", "orange.fr", "live.com", "me.com", "proton.me", "protonmail.com"}


def _has_phone(text: str, region: str, card_region: str | None) -> bool:
    digits = sum(ch.isdigit() for ch in text)
    return digits >= 7 and any(True for _ in phonenumbers.PhoneNumberMatcher(text, card_region or region))


def _phones(texts: list[str], region: str, card_region: str | None) -> list[Phone]:
    """Every possible number on the card (as the contact import accepts them), in E.164; a fax number is kept
    but listed last, so the first is one to call."""
    found: dict[str, Phone] = {}
    for text in texts:
        for reg in dict.fromkeys([card_region, region] if card_region else [region]):
            for match in phonenumbers.PhoneNumberMatcher(text, reg, leniency=phonenumbers.Leniency.POSSIBLE):
                number = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
                if number in found or len(str(match.number.national_number)) < 6:  # a house or postal number
                    continue
                before = text[: match.start]
                kind = "mobile" if MOBILE_HINT.search(before[-12:]) else (
                    "fax" if re.search(r"\bfax\b[.:]?\s*$", before, re.I) else
                    "office" if re.search(r"\b(tel|phone|office|direct|main|t|o|p)\b[.:]?\s*$", before, re.I) else "")
                if not kind and phonenumbers.number_type(match.number) == phonenumbers.PhoneNumberType.MOBILE:
                    kind = "mobile"
                found[number] = Phone(number, kind, phonenumbers.is_valid_number(match.number))
            if found:
                break
    return sorted(found.values(), key=lambda p: p.kind == "fax")


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_][\w.'’-]*", text.lower())


def _is_title(text: str) -> bool:
    if HONORIFIC.match(text):  # "Dr. Avery Smith" is a name, with its honorific
        return False
    words = _words(text)
    return bool(words) and len(words) <= 7 and sum(w in TITLE_WORDS for w in words) >= 1 and not LABELS.match(text)


def _stem(domain: str) -> str:
    """"contoso" of "www.contoso.com", "https://contoso.co.uk/" or "contoso.com"."""
    host = re.sub(r"^(https?://)?(www\.)?", "", domain.split("@")[-1].lower()).split("/")[0]
    return host.split(".")[0] if host else ""


def _company(candidates, texts, domain: str, title_i) -> tuple[int | None, float]:
    stem = _stem(domain)
    best, score = None, 0.0
    for i, _ in candidates:
        if i == title_i:
            continue
        words = _words(texts[i])
        s = 0.0
        if any(w.strip(".,") in COMPANY_WORDS for w in words):
            s += 0.7
        squashed = re.sub(r"[^a-z0-9]", "", texts[i].lower())
        if stem and len(stem) >= 3 and (stem in squashed or (squashed and squashed in stem)):
            s += 1.6 if squashed == stem else 0.8  # the name the domain spells, over a line that holds it
        if s > score:
            best, score = i, s
    return best, score


def _name(candidates, texts, lines, emails, title_i, company_i) -> tuple[int | None, float]:
    local = re.sub(r"[^a-z]", " ", emails[0].split("@")[0].lower()).split() if emails else []
    sizes = {i: _size(lines[i]) for i, _ in candidates}
    biggest = max(sizes.values(), default=0)
    best, score = None, 0.0
    for i, _ in candidates:
        if i in (title_i, company_i) or LABELS.match(texts[i]):
            continue
        honorific = HONORIFIC.match(texts[i])
        words = _words(texts[i][honorific.end():] if honorific else texts[i])
        if not 1 <= len(words) <= 4 or any(ch.isdigit() for ch in texts[i]):
            continue
        if any(w in TITLE_WORDS or w.strip(".,") in COMPANY_WORDS or w in NOT_NAME_WORDS for w in words):
            continue
        s = 0.4 if honorific else 0.2
        if all(w[:1].isalpha() for w in words) and sum(t[:1].isupper() for t in texts[i].split()) >= len(words):
            s += 0.2
        if 2 <= len(words) <= 3:
            s += 0.2
        if biggest and sizes[i] >= 0.9 * biggest:
            s += 0.3
        if title_i is not None and abs(i - title_i) == 1:
            s += 0.3
        if local and any(part in w or w in part for part in local for w in words if len(w) >= 3):
            s += 0.5
        if s > score:
            best, score = i, s
    return best, score


def _fold(text: str) -> str:
    """Letters only, without accents, lower case; "ü" as "ue" and "ß" as "ss", as addresses write them."""
    text = text.lower().replace("ü", "ue").replace("ö", "oe").replace("ä", "ae").replace("ß", "ss")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isalpha() and c.isascii())


def _spelled_as_address(name: str, emails: list[str]) -> str:
    """A name the recogniser ran together ("VIJAYCHANDRASEKHAR") or broke ("Kiichi M urata"), spaced as the
    e-mail address spells it (vijay.chandrasekhar@, kiichi.murata@); any other name as it was read."""
    if not emails:
        return name
    parts = [p for p in re.split(r"[._-]+", emails[0].split("@")[0].lower()) if p.isalpha()]
    letters = [c for c in name if c.isalpha()]
    if len(parts) < 2 or any(c.isspace() for c in name.strip()) and len(name.split()) == len(parts):
        return name
    if "".join(_fold(c) for c in letters) not in ("".join(parts), "".join(reversed(parts))):
        return name
    order = parts if "".join(_fold(c) for c in letters) == "".join(parts) else list(reversed(parts))
    out, i = [], 0
    for part in order:
        taken, length = [], 0
        while i < len(letters) and length < len(part):
            taken.append(letters[i])
            length += len(_fold(letters[i]))
            i += 1
        out.append("".join(taken))
    return " ".join(out)


def _looks_like_address(text: str) -> bool:
    return bool(re.search(r"\d+\s+\w+.*\b(st|street|ave|avenue|road|rd|blvd|lane|ln|drive|dr|way|suite|floor|"
                          r"str\.?|straße|strasse|rue|via|calle|plaza|square|sq)\b", text, re.IGNORECASE)
                or re.search(r"\b\d{4,5}\b\s+[A-Z][a-z]+", text) or re.search(r"\b[A-Z]{2}\s+\d{5}\b", text))


def combine(readings: list[CardFields]) -> CardFields:
    """One card read several ways (Tesseract's page-segmentation modes), combined field by field: each
    field takes the value the readings agree on most, weighted by their confidence; e-mails and phones are
    those most readings found. The first reading (the most confident) breaks ties and gives the raw text."""
    if not readings:
        return CardFields()
    out = CardFields(text=readings[0].text, confidence={})
    for name in ("name", "title", "company", "website", "address"):
        votes: dict[str, list[float]] = {}
        shown: dict[str, str] = {}
        for r in readings:
            value = getattr(r, name)
            if value:
                key = re.sub(r"\W+", "", value.lower())
                votes.setdefault(key, []).append(r.confidence.get(name, 0.0))
                shown.setdefault(key, value)
        if votes:
            key = max(votes, key=lambda k: (sum(votes[k]), -list(shown).index(k)))
            setattr(out, name, shown[key])
            agreeing = len(votes[key]) / len(readings)
            out.confidence[name] = round(min(1.0, max(votes[key]) * (0.8 + 0.2 * agreeing)), 2)
        else:
            out.confidence[name] = 0.0
    out.emails = _agreed([r.emails for r in readings])
    by_number = {p.number: p for r in reversed(readings) for p in r.phones}
    numbers = _agreed([[p.number for p in r.phones] for r in readings])
    out.phones = sorted((by_number[n] for n in numbers), key=lambda p: p.kind == "fax")
    out.confidence["emails"] = max((r.confidence.get("emails", 0.0) for r in readings if r.emails), default=0.0)
    out.confidence["phones"] = (0.9 if out.phones[0].valid else 0.6) if out.phones else 0.0
    return out


def _agreed(lists: list[list[str]]) -> list[str]:
    """The values found by the most readings; when no two readings agree, those of the first that found any."""
    counts: dict[str, int] = {}
    for values in lists:
        for v in dict.fromkeys(values):
            counts[v] = counts.get(v, 0) + 1
    if not counts:
        return []
    top = max(counts.values())
    if top == 1:
        return list(next(values for values in lists if values))
    return [v for v in counts if counts[v] == top]


def _base(ch: str) -> str:
    """A character without its accent, folded: what two recognisers are compared on, one character for one."""
    return (unicodedata.normalize("NFKD", ch)[:1] or ch).casefold()


def merged_line(primary: str, second: str, *, primary_conf: float = 1.0, second_conf: float = 0.0) -> str:
    """One line as two recognisers read it: ``primary`` (the detector's own recogniser: right letters, but it
    drops spaces and accents, "SaoPaulo") and ``second`` (a Latin-script recogniser on the same box: spaces and
    accents, but more wrong letters, "João Pereir:"), each with its confidence (0..1). Where they agree on a
    letter, the second's spelling (with its accent) is kept; a space only the second saw is kept, except inside
    an e-mail or web address the primary read whole; where they differ, the primary's letters stand, unless the
    primary was unsure and the second sure. When they read different things altogether, the primary stands,
    its joined words split where the case changes."""
    a, b = primary.strip(), " ".join(second.split())
    if not b:
        return _split_joined(a)
    pa, pb = [_base(c) for c in a], [_base(c) for c in b]
    matcher = difflib.SequenceMatcher(None, pa, pb, autojunk=False)
    letters = sum(1 for c in pa if c.isalnum())
    agreed = sum(1 for tag, i1, i2, _, _ in matcher.get_opcodes() if tag == "equal" for c in pa[i1:i2] if c.isalnum())
    if not letters or agreed / letters < 0.6:
        return _split_joined(a)
    second_wins = primary_conf < 0.9 and second_conf >= 0.85
    whole = _addresses(a)
    out: list[str] = []
    def inside(i: int) -> bool:
        return any(start <= i < end for start, end in whole)

    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":  # the second's accents, but never inside an address ("dürandconseil.fr")
            out.append("".join(a[i1 + k] if inside(i1 + k) else b[j1 + k] for k in range(i2 - i1)))
        elif tag == "insert" and not b[j1:j2].strip():
            # A space between two lower-case letters splits a word ("Comerc ial") unless the second is sure.
            split_word = (0 < i1 < len(a) and a[i1 - 1].islower() and a[i1].islower() and second_conf < 0.9
                          and not any(start == i1 for start, _ in whole))  # a label run into an address is not
            out.append("" if split_word or any(start < i1 < end for start, end in whole) else " ")
        elif second_wins and tag in ("insert", "replace"):
            out.append(b[j1:j2].replace(" ", "") if any(start < i1 < end for start, end in whole) else b[j1:j2])
        elif tag == "replace" and not b[j1:j2].strip() and not a[i1:i2].strip():
            out.append(b[j1:j2])
        elif tag != "insert":  # a letter only the primary saw, or read differently: the primary's
            out.append(a[i1:i2])
    return " ".join("".join(out).split())


ADDRESS_LABEL = re.compile(r"(?i)^(?:e-?mail|mail|correo|courriel|url|site|web)[:.]?")


def _addresses(text: str) -> list[tuple[int, int]]:
    """Where the e-mail and web addresses are in a line, without a label the recogniser ran into them
    ("E-mailk.tanaka@...", "URLwww...")."""
    spans = []
    for pattern in (EMAIL, WEBSITE):
        for m in pattern.finditer(text):
            start, end = m.span()
            label = ADDRESS_LABEL.match(text[start:end])
            if label and pattern.fullmatch(text[start + label.end():end]):
                start += label.end()
            spans.append((start, end))
    return spans


def _split_joined(text: str) -> str:
    """"SarahO'Connor" → "Sarah O'Connor", "ChiefFinancial Officer" → "Chief Financial Officer": a lower-case
    letter followed by a capital inside a word is a space the recogniser lost (not in an address or a site)."""
    if "@" in text or "www" in text.lower() or "://" in text:
        return text
    return re.sub(r"(?<=[a-zà-ÿ])(?=[A-ZÀ-Þ][a-zà-ÿ'’])", " ", text)


def words_from_lines(lines: list[tuple[str, tuple[tuple[float, float], ...], float]]) -> list[Word]:
    """The Words ``read_fields`` judges, from lines a detector found: (text, its four corners from the top left
    clockwise, confidence 0..1). Positions are taken in the card's own frame (the photo turned by the lines'
    median slant, so that a card photographed at 20 degrees or sideways still reads top to bottom), and each
    word of a line gets its share of the line's width."""
    if not lines:
        return []
    angles = sorted(math.atan2(c[1][1] - c[0][1], c[1][0] - c[0][0]) for _, c, _ in lines)
    slant = angles[len(angles) // 2]
    cos, sin = math.cos(-slant), math.sin(-slant)
    placed = []
    for text, corners, conf in lines:
        xs, ys = zip(*((x * cos - y * sin, x * sin + y * cos) for x, y in corners), strict=True)
        height = (math.dist(corners[0], corners[3]) + math.dist(corners[1], corners[2])) / 2
        placed.append((min(ys), min(xs), max(xs) - min(xs), height, text, conf))
    placed.sort(key=lambda p: (round(p[0] / max(p[3], 1) * 2), p[1]))  # rows (half a line apart), then left to right
    words: list[Word] = []
    for n, (top, left, width, height, text, conf) in enumerate(placed):
        tokens = text.split()
        chars = sum(len(t) for t in tokens) + max(len(tokens) - 1, 0)
        x = left
        for token in tokens:
            w = width * len(token) / max(chars, 1)
            words.append(Word(token, round(x), round(top), max(1, round(w)), max(1, round(height)), n, 100 * conf))
            x += w + width / max(chars, 1)
    return words
