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
