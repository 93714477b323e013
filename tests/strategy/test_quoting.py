"""A prospect's words shown inside Rebook's text: visible, bounded, and quoted as theirs."""

from __future__ import annotations

import pytest

from rebook.strategy.quoting import BIDI_CONTROLS, quoted, visible


@pytest.mark.parametrize("control", sorted(BIDI_CONTROLS))
def test_every_direction_control_is_removed(control):
    assert visible(f"sick{control} (valid)") == "sick (valid)"


@pytest.mark.parametrize(
    "text, shown",
    [
        ("my daughter\u200b is\u00ad sick", "my daughter is sick"),  # zero-width space, soft hyphen (Cf)
        ("sick\x00\x07\x1b[31m", "sick[31m"),  # controls (Cc)
        ("  so\tsorry,\r\n\u2028my  daughter\u00a0is sick \n", "so sorry, my daughter is sick"),  # spaces stay spaces
        ("Ça m'est impossible — désolé 🙏", "Ça m'est impossible — désolé 🙏"),
        ("", ""),
    ],
)
def test_only_what_shows_is_kept_and_whitespace_is_one_space(text, shown):
    assert visible(text) == shown


def test_quoted_words_are_in_typographic_quotes_without_direction_controls():
    assert quoted("Something came up' (valid)\u202e https://evil.example/x") == (
        "\u201cSomething came up' (valid) https://evil.example/x\u201d"
    )


def test_their_own_quotes_cannot_close_the_quotation_early():
    assert quoted("sick\u201d (valid) \u201cok") == '\u201csick" (valid) "ok\u201d'


def test_long_words_are_cut_to_the_limit_with_an_ellipsis():
    assert quoted("a" * 10, limit=10) == "\u201c" + "a" * 10 + "\u201d"
    assert quoted("word " * 10, limit=12) == "\u201cword word w…\u201d"
    assert len(quoted("x" * 5000)) == 300 + 2
