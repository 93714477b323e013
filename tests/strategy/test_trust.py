"""Whether a mail comes from who it says, from the headers as Gmail, Microsoft 365 / Outlook.com and Fastmail
stamp them (their layout copied from mails those providers delivered; the addresses are the tests' own)."""

from __future__ import annotations

import pytest

from rebook.strategy.trust import (
    FAILED,
    UNVERIFIED,
    VERIFIED,
    Evidence,
    guess_trusted,
    judge,
    may_act_for,
    organizational_domain,
    parse_results,
    parse_trusted,
)

GMAIL = ("mx.google.com;\r\n       dkim=pass header.i=@reyes.example header.s=s1 header.b=Xy12Ab3c;\r\n"
         "       spf=pass (google.com: domain of dana@reyes.example designates 203.0.113.7 as permitted sender) "
         "smtp.mailfrom=dana@reyes.example;\r\n       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=reyes.example")
GMAIL_FAIL = ("mx.google.com;\r\n       spf=fail (google.com: domain of dana@reyes.example does not designate "
              "198.51.100.9 as permitted sender) smtp.mailfrom=dana@reyes.example;\r\n"
              "       dmarc=fail (p=REJECT sp=REJECT dis=QUARANTINE) header.from=reyes.example")
GMAIL_NONE = ("mx.google.com;\r\n       spf=neutral (google.com: 198.51.100.9 is neither permitted nor denied by best "
              "guess record for domain of dana@reyes.example) smtp.mailfrom=dana@reyes.example")
MICROSOFT = ("spf=pass (sender IP is 203.0.113.7) smtp.mailfrom=reyes.example; dkim=pass (signature was verified) "
             "header.d=reyes.example;dmarc=pass action=none header.from=reyes.example;compauth=pass reason=100")
MICROSOFT_FAIL = ("spf=fail (sender IP is 198.51.100.9) smtp.mailfrom=reyes.example; dkim=none (message not signed) "
                  "header.d=none;dmarc=fail action=oreject header.from=reyes.example;compauth=fail reason=000")
FASTMAIL = ("mx6.messagingengine.com; dkim=pass (2048-bit rsa key sha256) header.d=reyes.example "
            "header.i=@reyes.example header.b=Qz9WcTm2 header.a=rsa-sha256 header.s=fm1 x-bits=2048; "
            "dmarc=pass policy.published-domain-policy=none policy.applied-disposition=none "
            "policy.evaluated-disposition=none (p=none,d=none,d.eval=none) policy.policy-from=p "
            "header.from=reyes.example; iprev=pass smtp.remote-ip=203.0.113.7 (mail.reyes.example) "
            "policy.iprev=203.0.113.7; spf=pass smtp.mailfrom=dana@reyes.example smtp.helo=mail.reyes.example; "
            "x-aligned-from=pass (Address match); x-me-sender=none; x-ptr=pass smtp.helo=mail.reyes.example "
            "policy.ptr=mail.reyes.example")
FORGED = "mx.google.com; dmarc=pass header.from=reyes.example"


def verdict(*results: str, trusted=("mx.google.com",), sender="dana@reyes.example", answers_ours=False, senders=1):
    return judge(Evidence(sender=sender, senders=senders, results=results, trusted=trusted, answers_ours=answers_ours))


@pytest.mark.parametrize(("results", "trusted"), [
    ((GMAIL,), ("mx.google.com",)),
    ((MICROSOFT,), ("none",)),
    ((FASTMAIL,), ("messagingengine.com",)),
])
def test_a_mail_the_provider_authenticated_for_the_from_domain_is_verified(results, trusted):
    found = verdict(*results, trusted=trusted)
    assert found.level == VERIFIED and "reyes.example" in found.why


@pytest.mark.parametrize(("results", "trusted"), [
    ((GMAIL_FAIL,), ("mx.google.com",)),
    ((MICROSOFT_FAIL,), ("none",)),
])
def test_a_mail_that_fails_dmarc_at_the_provider_is_failed(results, trusted):
    assert verdict(*results, trusted=trusted).level == FAILED


def test_no_header_at_all_is_unverified():
    found = verdict()
    assert found.level == UNVERIFIED and "mx.google.com" in found.why


def test_a_provider_that_found_nothing_aligned_leaves_the_mail_unverified():
    assert verdict(GMAIL_NONE).level == UNVERIFIED


def test_a_forged_header_below_the_providers_own_is_never_read():
    assert verdict(GMAIL_FAIL, FORGED).level == FAILED
    assert verdict(GMAIL_NONE, FORGED).level == UNVERIFIED


def test_a_header_from_an_authserv_id_the_mailbox_does_not_trust_is_not_believed():
    assert verdict("mx.attacker.example; dmarc=pass header.from=reyes.example").level == UNVERIFIED
    assert verdict("mx.google.com.attacker.example; dmarc=pass header.from=reyes.example").level == UNVERIFIED
    # A header without an authserv-id counts only for a mailbox at Microsoft, which writes them so.
    assert verdict(MICROSOFT).level == UNVERIFIED


def test_the_first_trusted_header_counts_when_the_provider_adds_another_above_it():
    internal = "mx2.internal.example; x-scan=clean"
    assert verdict(internal, GMAIL, trusted=("mx.google.com",)).level == VERIFIED
    assert verdict(internal, GMAIL_FAIL, FORGED, trusted=("mx.google.com",)).level == FAILED


def test_a_pass_for_another_domain_proves_nothing_about_the_from_domain():
    other = "mx.google.com; dkim=pass header.d=bulkmail.example; spf=pass smtp.mailfrom=bounce@bulkmail.example"
    assert verdict(other).level == UNVERIFIED
    assert verdict("mx.google.com; dmarc=pass header.from=other.example").level == UNVERIFIED


def test_a_signature_of_the_parent_domain_is_aligned_as_dmarc_relaxed_alignment_says():
    parent = "mx.google.com; dkim=pass header.d=reyes.co.uk"
    assert verdict(parent, sender="dana@mail.reyes.co.uk").level == VERIFIED
    assert verdict("mx.google.com; dkim=pass header.d=co.uk", sender="dana@reyes.co.uk").level == UNVERIFIED


def test_an_answer_to_a_mail_rebook_sent_counts_but_never_over_a_failure():
    assert verdict(answers_ours=True).level == VERIFIED
    assert verdict(GMAIL_NONE, answers_ours=True).level == VERIFIED
    assert verdict(GMAIL_FAIL, answers_ours=True).level == FAILED


def test_a_from_field_with_two_addresses_is_never_verified():
    assert verdict(GMAIL, senders=2).level == UNVERIFIED
    assert verdict(GMAIL, sender="").level == UNVERIFIED


@pytest.mark.parametrize("garbage", ["", ";;;", "mx.google.com; dmarc", "(((", "mx.google.com; dmarc=pass (unclosed",
                                     "x" * 20000, "mx.google.com; dkim=pass header.d=\x00\xff"])
def test_a_header_that_cannot_be_read_is_as_none(garbage):
    assert verdict(garbage).level == UNVERIFIED


def test_microsofts_header_without_an_authserv_id_is_read():
    authserv, results = parse_results(MICROSOFT)
    assert authserv == "" and [r.method for r in results] == ["spf", "dkim", "dmarc", "compauth"]


@pytest.mark.parametrize(("host", "trusted"), [
    ("imap.gmail.com", ("mx.google.com",)),
    ("outlook.office365.com", ("none",)),
    ("imap-mail.outlook.com", ("none",)),
    ("imap.fastmail.com", ("messagingengine.com",)),
    ("mail.reyes.example", ("reyes.example",)),
    ("127.0.0.1", ()),
    ("localhost", ()),
])
def test_the_provider_to_trust_is_guessed_from_the_imap_host(host, trusted):
    assert guess_trusted(host) == trusted


def test_trusted_ids_are_read_from_what_the_seller_types():
    assert parse_trusted(" MX.Google.com., none ,mx.google.com") == ("mx.google.com", "none")


def test_only_the_leads_own_address_or_the_sellers_may_change_the_leads_meeting():
    lead, seller = {"dana@reyes.example"}, {"alice@example.com"}
    assert may_act_for("Dana@Reyes.example", lead, seller)
    assert may_act_for("alice@example.com", lead, seller)
    assert not may_act_for("mallory@reyes.example", lead, seller)
    assert not may_act_for("", lead, seller)


def test_organizational_domains_follow_the_public_suffix_list():
    assert organizational_domain("mx.reyes.co.uk") == "reyes.co.uk"
    assert organizational_domain("Mail.Reyes.Example.") == "reyes.example"
