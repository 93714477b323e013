"""E-mail addresses and phone numbers checked as ``email_validator`` and ``phonenumbers`` check them,
faster for many at once."""

from __future__ import annotations

import functools
import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from phonenumbers import PhoneMetadata, PhoneNumber

# What email_validator accepts as a local part without change (RFC 5322 dot-atom, ASCII): most addresses.
_DOT_ATOM = re.compile(r"[a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~]+(?:\.[a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~]+)*\Z")
_SHORT = 200  # well under the 254 characters an address may have, even with its domain in punycode


def valid_email(address: str) -> str:
    """The address normalised as ``email_validator`` does it, or EmailNotValidError. The domain part (an
    IDNA check, character by character: most of the time a large import spent on addresses) is checked
    once per distinct domain; an import of 100,000 contacts has a few thousand. A plain local part
    (dot-atom ASCII, which email_validator takes as it is) needs no check of its own."""
    local, at, domain = address.rpartition("@")
    if at and domain.isascii() and len(address) <= _SHORT and _DOT_ATOM.match(local):
        if local.lower() in CASE_INSENSITIVE_MAILBOX_NAMES:
            local = local.lower()  # postmaster@, abuse@: as email_validator writes them
        return f"{local}@{_domain(domain)}"
    return validate_email(address, check_deliverability=False).normalized  # anything else: as it is


@functools.lru_cache(maxsize=20_000)
def _domain_checked(domain: str) -> tuple[str, str]:
    try:
        return validate_email(f"a@{domain}", check_deliverability=False).domain, ""
    except EmailNotValidError as e:
        return "", str(e)


def _domain(domain: str) -> str:
    normalized, error = _domain_checked(domain)
    if error:
        raise EmailNotValidError(error)
    return normalized


# A number in international form and nothing else: a plus, ASCII digits, and the spaces, brackets, dots and
# dashes people write between them ("+1 (212) 555-0100", as Outlook writes every number it formats).
_INTERNATIONAL = re.compile(r"\+[1-9][0-9 ().\-]*\Z")  # a country code never starts with 0
_PUNCTUATION = str.maketrans("", "", "+ ().-")
_POSSIBLE = phonenumbers.ValidationResult.IS_POSSIBLE


def possible_phone(raw: str, region: str) -> str | None:
    """The number in E.164 form ("+12125550100") if ``phonenumbers`` parses it (``region`` for a number
    without its country code) and finds it possible, or None. A number in plain international form is read
    straight from phonenumbers' metadata, as its ``parse`` would read it; anything else, or anything that
    reading cannot settle (a national prefix after the country code, a leading zero, a non-geographic
    code), goes through ``parse`` itself: a third of a large contact import was spent there."""
    number = _international(raw)
    if number is None:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            return None
    if phonenumbers.is_possible_number_with_reason(number) != _POSSIBLE:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _international(raw: str) -> PhoneNumber | None:
    """What phonenumbers.parse makes of "+<country code><number>" with punctuation: the country code is the
    first one to three digits that name one, and the rest is the national number unless it starts with the
    country's national prefix (parse may strip it) or a zero (kept as leading zeros). None when unsure."""
    if len(raw) > 100 or not _INTERNATIONAL.match(raw):
        return None
    digits = raw.translate(_PUNCTUATION)
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = digits[size:]
    if not 2 <= len(national) <= 17 or national[0] == "0":
        return None
    region = phonenumbers.region_code_for_country_code(code)
    if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
        return None
    metadata = PhoneMetadata.metadata_for_region(region, None)
    if metadata is None:
        return None
    prefix = metadata.national_prefix_for_parsing
    if prefix and _compiled(prefix).match(national):
        return None
    return PhoneNumber(country_code=code, national_number=int(national))


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def phone_as_written(number: str, region: str) -> str:
    """A number kept in E.164, as people write it: in their own region's national form ("(415) 867-5309" for a
    seller in the US), any other in the international one ("+44 20 7946 0958"); as it is if it does not parse."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return number
    same = phonenumbers.region_code_for_number(parsed) == region.upper()
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL if same
                                      else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
