"""Contact exports as programs really write them: CSV from Google, Outlook, Thunderbird, LinkedIn and
Salesforce (or any CSV with a header), and vCard 2.1, 3.0 and 4.0. Knows no Django.

CSV is read as a stream, so a file of any length is read in bounded memory: the encoding is guessed
from the first 64 KiB, the delimiter sniffed, and the header looked for in the first rows (LinkedIn
puts a preamble before it).
"""

from __future__ import annotations

import codecs
import csv
import io
import quopri
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from rebook.errors import RebookError
from rebook.strategy.limits import MAX_LINE_CHARS

FIELDS = ("name", "first_name", "middle_name", "last_name", "email", "phone", "company", "source", "notes", "ignore")

# Header names, lower-cased with everything but letters and digits removed, and the field they hold.
ALIASES: dict[str, str] = {}
for _field, _names in {
    "name": ["name", "displayname", "fullname", "fn", "contactname", "contact"],
    "first_name": ["firstname", "givenname", "first", "forename"],
    "middle_name": ["middlename", "additionalname", "middle"],
    "last_name": ["lastname", "familyname", "surname", "last"],
    "email": ["email", "emailaddress", "primaryemail", "email1value", "emailaddress1", "mail", "workemail",
              "email2address", "email3address", "secondaryemail", "email2value", "email3value", "otheremail",
              "emailaddress2", "homeemail", "personalemail"],
    "phone": ["phone", "primaryphone", "mobilephone", "mobile", "mobilenumber", "cellphone", "cell", "businessphone",
              "workphone", "phone1value", "phone2value", "phone3value", "homephone", "telephone", "tel",
              "phonenumber", "businessphone2", "homephone2", "otherphone", "companymainphone"],
    "company": ["company", "organization", "organisation", "organization1name", "companyaccount", "employer",
                "accountname", "companyname", "org"],
    "source": ["leadsource", "source"],
    "notes": ["notes", "note", "description", "comments"],
}.items():
    for _name in _names:
        ALIASES[_name] = _field


def header_key(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


@dataclass
class Contact:
    line: int
    name: str = ""
    first_name: str = ""
    middle_name: str = ""
    last_name: str = ""
    emails: list[tuple[str, bool]] = field(default_factory=list)  # (address, marked primary)
    phones: list[tuple[str, bool]] = field(default_factory=list)
    company: str = ""
    source: str = ""
    notes: str = ""

    def full_name(self) -> str:
        name = self.name or " ".join(p for p in (self.first_name, self.middle_name, self.last_name) if p)
        return " ".join(name.split())


# --- encodings ----------------------------------------------------------------------------------


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 (BOM), else the best guess (Shift-JIS, Latin-1, ...)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as e:
        if e.start >= len(sample) - 3:
            return "utf-8"  # the sample ends inside a character
    # Japanese exports (Shift-JIS) are common and short samples fool statistical guessers: if the bytes
    # read cleanly as Shift-JIS and give kana or kanji, that is what they are.
    try:
        japanese = sample.decode("cp932")
    except UnicodeDecodeError:
        japanese = ""
    if japanese and re.search(r"[\u3040-\u30ff]|[\u4e00-\u9fff]{2}", japanese):
        return "cp932"
    # Western exports from Windows: every non-ASCII character a Latin letter or common punctuation.
    western = sample.decode("cp1252", errors="replace")
    if all(ch.isascii() or "\u00a0" <= ch <= "\u017f" or ch in "\u2018\u2019\u201c\u201d\u2013\u2014\u20ac\u2026" for ch in western):
        return "cp1252"
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None or best.encoding in {"ascii"}:
        return "cp1252"
    return best.encoding


# --- CSV ----------------------------------------------------------------------------------------


@dataclass
class CsvLayout:
    encoding: str
    delimiter: str
    header: list[str]
    mapping: dict[int, str]  # column index -> field
    header_line: int


def _sniff_delimiter(text: str) -> str:
    try:
        return csv.Sniffer().sniff(text, delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: text.count(d) for d in ",;\t|"}
        return max(counts, key=counts.get) if any(counts.values()) else ","


def map_columns(header: list[str], overrides: dict[str, str]) -> dict[int, str]:
    by_key = {header_key(k): v for k, v in overrides.items()}
    mapping = {}
    for i, name in enumerate(header):
        key = header_key(name)
        target = by_key.get(key) or ALIASES.get(key)
        if target is None and re.fullmatch(r"(e?mail|phone)\d+value", key):
            target = "email" if "mail" in key else "phone"
        if target and target != "ignore":
            mapping[i] = target
    return mapping


def read_csv(stream: BinaryIO, *, overrides: dict[str, str] | None = None) -> tuple[CsvLayout, Iterator[Contact]]:
    """The layout found, and a lazy iterator of contacts (one per data row), each with its line number."""
    overrides = overrides or {}
    for target in overrides.values():
        if target not in FIELDS:
            raise RebookError(f"--map: unknown field {target!r}; fields: {', '.join(FIELDS)}")
    sample = stream.read(65536)
    if not sample.strip():
        raise RebookError("the file is empty")
    encoding = detect_encoding(sample)
    stream.seek(0)
    text_stream = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
    first_text = sample.decode(encoding, errors="ignore")
    delimiter = _sniff_delimiter(first_text[:20000])
    reader = csv.reader(text_stream, delimiter=delimiter)
    header, mapping, header_line = None, {}, 0
    for _ in range(25):
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise RebookError(f"line {reader.line_num}: cannot be read as CSV ({e})") from None
        candidate = map_columns(row, overrides)
        fields = set(candidate.values())
        if len(candidate) >= 2 or fields & {"email", "name"} or (overrides and candidate):
            header, mapping, header_line = row, candidate, reader.line_num
            break
    if header is None:
        raise RebookError(
            "no header row found in the first 25 lines; name the columns with --map, e.g. --map \"E-mail=email\""
        )
    if not set(mapping.values()) & {"name", "first_name", "last_name", "email", "phone"}:
        raise RebookError(
            f"line {header_line}: none of the columns ({', '.join(header[:8])}...) holds a name, an e-mail address "
            "or a phone number; map one with --map \"Column=email\""
        )
    layout = CsvLayout(encoding, delimiter, header, mapping, header_line)
    return layout, _csv_rows(reader, layout)


_EMAIL_SEPARATORS = re.compile(r"[;,\s]+")
_PHONE_SEPARATORS = re.compile(r"\s*[;,]\s*| ::: ")  # ::: is how Google's export separates a cell's values


def _csv_rows(reader, layout: CsvLayout) -> Iterator[Contact]:
    header = [header_key(h) for h in layout.header]
    primary_markers = _primary_columns(header)
    type_columns = _type_columns(header)
    width = len(layout.header)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            yield Contact(line=reader.line_num, notes=f"\x00unreadable row: {e}")
            continue
        if len(row) == 1 and width > 1 and layout.delimiter in row[0]:
            try:  # a whole row wrapped in quotes
                row = next(csv.reader(io.StringIO(row[0], newline=""), delimiter=layout.delimiter), row)
            except csv.Error as e:
                yield Contact(line=reader.line_num, notes=f"\x00unreadable row: {e}")
                continue
        if not any(cell.strip() for cell in row):
            continue
        contact = Contact(line=reader.line_num)
        for i, target in layout.mapping.items():
            value = row[i].replace("\x00", "").strip() if i < len(row) else ""  # no database keeps NUL
            if not value:
                continue
            marked = i in primary_markers or (i in type_columns and type_columns[i] < len(row)
                                               and row[type_columns[i]].lstrip().startswith("*"))
            if target == "email":
                for part in _EMAIL_SEPARATORS.split(value):
                    if part:
                        contact.emails.append((part, marked))
            elif target == "phone":
                for part in _PHONE_SEPARATORS.split(value):
                    if part:
                        contact.phones.append((part, marked))
            elif target == "notes":
                contact.notes = f"{contact.notes}\n{value}".strip()
            else:
                setattr(contact, target, " ".join(value.split()))
        yield contact


def _primary_columns(header: list[str]) -> set[int]:
    return {i for i, key in enumerate(header) if key in {"primaryemail", "primaryphone"}}


def _type_columns(header: list[str]) -> dict[int, int]:
    """Google writes "E-mail 1 - Type" = "* Work" for the primary address: value column -> its type column."""
    pairs = {}
    for i, key in enumerate(header):
        match = re.fullmatch(r"(e?mail|phone)(\d+)value", key)
        if match:
            type_key = f"{match[1]}{match[2]}type"
            if type_key in header:
                pairs[i] = header.index(type_key)
    return pairs


# --- vCard --------------------------------------------------------------------------------------


def read_vcards(data: bytes) -> Iterator[Contact]:
    """Every card in a vCard file (2.1, 3.0 or 4.0), with the line it starts on."""
    encoding = detect_encoding(data[:65536])
    text = data.decode(encoding, errors="replace").lstrip("\ufeff").replace("\x00", "")
    card: Contact | None = None
    for number, line in _unfolded(text):
        if not line.strip() or ":" not in line:
            continue
        name_part, value = line.split(":", 1)
        params = name_part.split(";")
        prop = params[0].split(".")[-1].upper()  # "item1.EMAIL" is an EMAIL
        if prop == "BEGIN" and value.strip().upper() == "VCARD":
            card = Contact(line=number)
            continue
        if prop == "END" and value.strip().upper() == "VCARD":
            if card is not None:
                yield card
            card = None
            continue
        if card is None:
            continue
        value = _vcard_value(value, params[1:])
        upper = [p.upper() for p in params[1:]]
        primary = any(p in ("PREF", "TYPE=PREF") or p.startswith("PREF=1") or ("TYPE=" in p and "PREF" in p.split("=", 1)[1].split(",")) for p in upper)
        if prop in ("FN", "EMAIL", "NOTE", "TEL"):
            value = _unescape(value)
        if prop == "FN":
            card.name = " ".join(value.split())
        elif prop == "N":
            parts = _split_unescaped(value, ";") + ["", "", ""]
            card.last_name, card.first_name, card.middle_name = (" ".join(p.split()) for p in parts[:3])
        elif prop == "EMAIL" and value.strip():
            card.emails.append((value.strip(), primary))
        elif prop == "TEL" and value.strip():
            if not any("FAX" in p or "PAGER" in p for p in upper):
                card.phones.append((value.strip().removeprefix("tel:"), primary))
        elif prop == "ORG":
            card.company = " ".join(_split_unescaped(value, ";")[0].split())
        elif prop == "NOTE":
            card.notes = value.strip()


def _unfolded(text: str) -> Iterator[tuple[int, str]]:
    """(line number, logical line): folded lines joined once each, so a huge card costs linear time."""
    start, parts, length = 0, [], 0
    for number, raw in enumerate(re.split(r"\r*\n|\r", text), start=1):
        if parts and raw[:1] in (" ", "\t"):
            piece = raw[1:]  # folded (3.0, 4.0, and base64 in 2.1)
        elif parts and _soft_break(parts[0], parts[-1]):
            piece = "\n" + raw  # quoted-printable soft line break (2.1); quopri removes it
        else:
            if parts:
                yield start, "".join(parts)
            start, parts, length = number, [raw], len(raw)
            continue
        length += len(piece)
        if length > MAX_LINE_CHARS:
            raise RebookError(f"line {start}: a property longer than {MAX_LINE_CHARS // 1024} KB")
        parts.append(piece)
    if parts:
        yield start, "".join(parts)


def _soft_break(first: str, last: str) -> bool:
    return last.endswith("=") and "QUOTED-PRINTABLE" in first.split(":", 1)[0].upper()


def _split_unescaped(value: str, sep: str) -> list[str]:
    parts = re.split(rf"(?<!\\){re.escape(sep)}", value)
    return [_unescape(p) for p in parts]


def _unescape(value: str) -> str:
    return re.sub(r"\\([,;:\\])", r"\1", value).replace("\\n", "\n").replace("\\N", "\n")


def _vcard_value(value: str, params: list[str]) -> str:
    upper = [p.upper() for p in params]
    charset = next((p.split("=", 1)[1] for p in upper if p.startswith("CHARSET=")), "UTF-8")
    if "ENCODING=QUOTED-PRINTABLE" in upper or "QUOTED-PRINTABLE" in upper:
        raw = quopri.decodestring(value.encode("latin-1", errors="replace"))
        try:
            value = raw.decode(charset.lower())
        except (LookupError, UnicodeDecodeError):
            value = raw.decode("utf-8", errors="replace")
    return value
