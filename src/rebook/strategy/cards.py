"""Reading a business card's fields from its words: pure (OCR words and boxes in, fields with a confidence
each out), so it can improve without touching the web.

E-mails, websites and phones are found by pattern (phones with ``phonenumbers``' matcher, in the seller's
region, then the card's own). The name and the company need judgement: the largest words, the line next to
a job title, the e-mail's local part and the website's domain all vote; labels ("Tel", "Head Office"),
titles and company words are not names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import phonenumbers

TITLE_WORDS = {
    "ceo", "cto", "cfo", "coo", "founder", "co-founder", "cofounder", "owner", "president", "vice", "director",
    "manager", "head", "lead", "engineer", "consultant", "partner", "associate", "advisor", "adviser", "analyst",
    "designer", "developer", "officer", "representative", "specialist", "sales", "marketing", "account",
    "executive", "coordinator", "agent", "broker", "realtor", "architect", "attorney", "lawyer", "accountant",
    "principal", "chief", "senior", "junior", "assistant", "supervisor", "administrator", "producer", "editor",
    "photographer", "therapist", "doctor", "dr.", "md", "phd", "coach", "trainer", "planner", "strategist",
}
COMPANY_WORDS = {
    "inc", "inc.", "llc", "ltd", "ltd.", "limited", "gmbh", "ag", "sa", "s.a.", "sarl", "bv", "b.v.", "plc", "co",
    "co.", "corp", "corp.", "corporation", "company", "group", "holdings", "partners", "associates", "studio",
    "studios", "solutions", "services", "consulting", "agency", "labs", "systems", "technologies", "bakery", "cafe",
    "realty", "design", "media", "law", "clinic", "foundation", "industries", "enterprises", "ventures",
}
LABELS = re.compile(r"^(tel|phone|mobile|mob|cell|fax|office|direct|main|head office|email|e-mail|mail|web|www|"
                    r"address|website|t|m|f|e|w|p|o|c)\b[.:]?", re.IGNORECASE)
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,24}")
WEBSITE = re.compile(r"\b(?:https?://)?(?:www\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:com|net|org|io|co|biz|info|"
                     r"[a-z]{2})(?:/\S*)?\b", re.IGNORECASE)
HONORIFIC = re.compile(r"^(dr|mr|mrs|ms|mx|prof|sir|dame)\.?\s+(?=[A-Z])", re.IGNORECASE)
NOT_NAME_WORDS = {"department", "dept", "division", "team", "unit", "office", "headquarters", "branch"}
MOBILE_HINT = re.compile(r"\b(mobile|mob|cell|m)\b[.:]?", re.IGNORECASE)
TLD_REGION = {"uk": "GB", "de": "DE", "fr": "FR", "es": "ES", "it": "IT", "nl": "NL", "be": "BE", "ch": "CH",
              "at": "AT", "ie": "IE", "au": "AU", "nz": "NZ", "ca": "CA", "se": "SE", "no": "NO", "dk": "DK",
              "fi": "FI", "pt": "PT", "pl": "PL", "br": "BR", "mx": "MX", "za": "ZA", "in": "IN", "sg": "SG"}


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
    out.website = (sites[0] if sites else (f"www.{domain}" if domain and not _freemail(domain) else "")).lower()
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
    out.name = texts[name_i] if name_i is not None else ""
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
        for reg in dict.fromkeys([region, card_region] if card_region else [region]):
            for match in phonenumbers.PhoneNumberMatcher(text, reg, leniency=phonenumbers.Leniency.POSSIBLE):
                number = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
                if number in found:
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
    return re.findall(r"[A-Za-z][A-Za-z.'-]*", text.lower())


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
            s += 0.8
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
