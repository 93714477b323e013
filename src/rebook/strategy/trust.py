"""Whether a mail really comes from the address it names: one judgement for every channel, over plain facts.

Rebook cannot check a signature itself after the fact (keys rotate, mail is altered in transit), but the
seller's own mail provider checked SPF, DKIM and DMARC when the mail arrived and wrote what it found in an
``Authentication-Results`` header (RFC 8601) on top of the mail. Only that header counts: the first one
from an ``authserv-id`` the seller's mailbox trusts (the provider's own: it always adds one above whatever
the sender wrote, so a header forged lower down is never the first). A pass counts only when it is aligned
with the ``From:`` domain, as DMARC defines it. A reply to a mail Rebook sent is evidence too.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import authres

VERIFIED, UNVERIFIED, FAILED = "verified", "unverified", "failed"
NO_ID = "none"  # a trusted "authserv-id" meaning a header that names none, as Microsoft 365 and Outlook.com write it

# Where the mailbox is → the authserv-id its provider stamps (a match is the id itself or a name under it).
PROVIDERS = {
    "gmail.com": "mx.google.com", "googlemail.com": "mx.google.com",
    "office365.com": NO_ID, "outlook.com": NO_ID, "hotmail.com": NO_ID, "live.com": NO_ID,
    "fastmail.com": "messagingengine.com", "messagingengine.com": "messagingengine.com",
    "zoho.com": "mx.zohomail.com", "zoho.eu": "mx.zohomail.eu",
    "mail.me.com": "apple.com", "icloud.com": "apple.com",
    "yahoo.com": "yahoo.com", "aol.com": "aol.com",
}


@dataclass(frozen=True)
class Evidence:
    sender: str  # the From address
    senders: int  # how many addresses the From field(s) name: DMARC judges a mail with one
    results: tuple[str, ...]  # the Authentication-Results values, topmost first
    trusted: tuple[str, ...]  # the authserv-ids the seller's mailbox trusts
    answers_ours: bool = False  # In-Reply-To or References names a mail Rebook sent


@dataclass(frozen=True)
class Trust:
    level: str  # VERIFIED, UNVERIFIED or FAILED
    why: str  # for the seller, e.g. "dmarc=pass for reyes.example (mx.google.com)"

    @property
    def verified(self) -> bool:
        return self.level == VERIFIED


@dataclass(frozen=True)
class _Result:
    method: str
    result: str
    properties: dict[str, str]  # "header.from" -> "reyes.example"


def guess_trusted(imap_host: str) -> tuple[str, ...]:
    """The authserv-id a mailbox's provider writes, from the IMAP host (imap.gmail.com → mx.google.com); for a
    provider Rebook does not know, the host's own domain (imap.example.com → example.com)."""
    host = imap_host.strip().lower().rstrip(".")
    for domain, authserv in PROVIDERS.items():
        if host == domain or host.endswith("." + domain):
            return (authserv,)
    if not host or host.replace(".", "").isdigit() or ":" in host or "." not in host:
        return ()  # an address or a local name: the seller must say
    return (organizational_domain(host),)


def parse_trusted(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(part.strip().lower().rstrip(".") for part in text.replace(" ", ",").split(",")
                               if part.strip()))


def judge(evidence: Evidence) -> Trust:
    sender = evidence.sender.strip().lower()
    domain = sender.rpartition("@")[2]
    if not domain or evidence.senders != 1:
        return Trust(UNVERIFIED, "the From field does not name exactly one address")
    found = _first_trusted(evidence.results, evidence.trusted)
    if found is None:
        if evidence.answers_ours:
            return Trust(VERIFIED, "it answers a mail Rebook sent")
        where = ", ".join(evidence.trusted) or "none set"
        return Trust(UNVERIFIED, f"no Authentication-Results from your mail provider (trusted: {where})")
    authserv, results = found
    by = f" ({authserv})" if authserv else ""
    for r in results:
        if r.method == "dmarc" and r.result == "fail" and _aligned_domain(r, domain):
            return Trust(FAILED, f"dmarc=fail for {domain}{by}")
        if r.method == "compauth" and r.result == "fail":
            return Trust(FAILED, f"compauth=fail for {domain}{by}")
    for r in results:
        if r.result == "pass" and r.method in ("dmarc", "dkim", "spf") and _aligned_domain(r, domain):
            return Trust(VERIFIED, f"{r.method}=pass for {domain}{by}")
    for r in results:
        if r.method == "spf" and r.result == "fail" and _aligned_domain(r, domain):
            return Trust(FAILED, f"spf=fail for {domain}{by}")
    if evidence.answers_ours:
        return Trust(VERIFIED, "it answers a mail Rebook sent")
    return Trust(UNVERIFIED, f"your mail provider{by} found nothing that proves it comes from {domain}")


def _first_trusted(values: tuple[str, ...], trusted: tuple[str, ...]) -> tuple[str, list[_Result]] | None:
    for value in values:
        parsed = parse_results(value)
        if parsed is not None and _is_trusted(parsed[0], trusted):
            return parsed
    return None


def _is_trusted(authserv: str, trusted: tuple[str, ...]) -> bool:
    if not authserv:
        return NO_ID in trusted
    return any(t != NO_ID and (authserv == t or authserv.endswith("." + t)) for t in trusted)


def parse_results(value: str) -> tuple[str, list[_Result]] | None:
    """(authserv-id, results) of one Authentication-Results value, or None if it cannot be read. Microsoft's
    header names no authserv-id ("spf=pass (...) smtp.mailfrom=...; dkim=pass ..."): its id is ""."""
    value = " ".join(value.split())[:8000]
    head = value.split(";", 1)[0]
    missing = "=" in head.split("(", 1)[0]  # the first part is already a result: no authserv-id
    try:
        header = authres.AuthenticationResultsHeader.parse_value(("rebook.invalid; " if missing else "") + value)
    except Exception:  # noqa: BLE001 - authres raises its own SyntaxError and others on hostile text
        return None
    results = [_Result(str(r.method).lower(), str(r.result).lower(),
                       {f"{p.type}.{p.name}".lower(): str(p.value).lower() for p in r.properties})
               for r in header.results]
    return ("" if missing else str(header.authserv_id).lower().rstrip(".")), results


def _aligned_domain(result: _Result, domain: str) -> bool:
    """Whether the domain the result is about shares the From domain's organizational domain (DMARC's relaxed
    alignment)."""
    p = result.properties
    if result.method == "dmarc" or result.method == "compauth":
        named = p.get("header.from")
    elif result.method == "dkim":
        named = p.get("header.d") or p.get("header.i", "").rpartition("@")[2]
    elif result.method == "spf":
        named = p.get("smtp.mailfrom", "").rpartition("@")[2]
    else:
        return False
    if not named:
        return result.method in ("dmarc", "compauth")  # about the From domain by definition
    return organizational_domain(named.strip(".")) == organizational_domain(domain)


@cache
def _suffixes():
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def organizational_domain(domain: str) -> str:
    """reyes.example from mail.reyes.example; reyes.co.uk from mx.reyes.co.uk (the Public Suffix List)."""
    domain = domain.lower().strip(".")
    return _suffixes().privatesuffix(domain) or domain


def may_act_for(sender: str, lead_addresses: set[str], seller_addresses: set[str]) -> bool:
    """Only the lead's own addresses, or the seller's, may cancel or decline the lead's meeting by mail."""
    sender = sender.strip().lower()
    return bool(sender) and (sender in lead_addresses or sender in seller_addresses)
