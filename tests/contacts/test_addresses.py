"""valid_email checks each domain once but must say exactly what email_validator says, address by address."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email

from rebook.addresses import valid_email

CASES = ["Dana.Reyes@Example.COM", "x@bücher.de", "bad at example.com", "a..b@example.com", "a@localhost", "A@B",
         "user+tag@gmail.com", '"quoted"@example.com', "x@exa_mple.com", "Zoë@exämple.com", " spaced@example.com ",
         "dana@springfield-landscaping.example", "x@@y.com", "@y.com", "x@", "a@b@c.com", "x@-bad.com",
         "o'brien@example.ie", "x@exämple.com", "x@EXÄMPLE.COM", "a" * 65 + "@example.com",
         "x@" + "a" * 64 + ".com", "x@example.test", "x@example.com.", "Postmaster@Example.com", "ABUSE@example.org",
         "first.last-x_y+z@sub.domain.co.uk", "user@[192.168.0.1]", ".dot@example.com", "dot.@example.com",
         "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 50 + ".com", "x" * 190 + "@example.com",
         "x@xn--bcher-kva.de", "x@b\u00fccher.de", "Dana <dana@example.com>", "dana@example.com>"]


def _outcome(check, address):
    try:
        return check(address)
    except EmailNotValidError as e:
        return f"error: {e}"


@pytest.mark.parametrize("address", CASES)
def test_same_answer_as_email_validator(address):
    assert _outcome(valid_email, address) == _outcome(
        lambda a: validate_email(a, check_deliverability=False).normalized, address)


def test_a_domain_is_checked_once():
    from rebook import addresses

    addresses._domain_checked.cache_clear()
    for i in range(50):
        valid_email(f"person{i}@once-only.example")
    assert addresses._domain_checked.cache_info().misses == 1


def test_same_answer_as_email_validator_for_random_addresses():
    """Addresses put together from the characters that matter to either path, in every position."""
    import random

    rng = random.Random(5)
    pieces = ["a", "Z", "0", ".", "..", "-", "_", "+", "'", "!", "~", "é", "ü", " ", '"', "<", ">", "@", "[", "]",
              "xn--", "com", "example", "postmaster", "a" * 40]
    for _ in range(3000):
        local = "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 5)))
        domain = ".".join("".join(rng.choice(pieces) for _ in range(rng.randrange(1, 3))) for _ in range(rng.randrange(1, 4)))
        address = f"{local}@{domain}"
        assert _outcome(valid_email, address) == _outcome(
            lambda a: validate_email(a, check_deliverability=False).normalized, address), address


def _phone_reference(raw, region):
    import phonenumbers

    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def test_possible_phone_says_what_phonenumbers_says():
    """Every region's example numbers as people write them, and random digits after every country code with
    national prefixes, leading zeros and punctuation: the same answer as parse, is_possible and format."""
    import random

    import phonenumbers

    from rebook import addresses
    from rebook.addresses import possible_phone

    rng = random.Random(11)
    written = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                for style in phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.NATIONAL:
                    written.append(phonenumbers.format_number(example, style))
    codes = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    for _ in range(4000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randrange(0, 19)))
        head = rng.choice(["", "0", "00", "1", "8", "9", "06", "0 (0)"])
        number = f"+{rng.choice(codes)}{head}{digits}"
        written.append("".join(c + rng.choice(["", "", "", " ", "-", ".", "(", ")"]) for c in number))
    written += ["+", "+1", "+12", "+0 212 555 0100", "+1 (212) 555-0100 x12", "+1 212 555 0100 ext. 4", "+800 1234 5678",
                "+44 (0)20 7946 0000", "+39 06 6982 0000", "+1 1 212 555 0100", "+7 8 495 123 4567", "+1-212-555-0100-",
                "++1 212 555 0100", "+1 ２１２ 555 0100", "+" + "1" * 30]
    fast = 0
    for raw in written:
        for region in ("US", "GB", "DE"):
            assert possible_phone(raw, region) == _phone_reference(raw, region), (raw, region)
        fast += addresses._international(raw) is not None
    assert fast > 1000  # a quarter of the numbers took the fast path: this compared it, not parse with itself
