"""What a prospect's reply asks for: cancel, move, "not interested", "please stop writing", or nothing.

Pure: text in, an intent out. The new text of a reply is found first (the quoted mail and the signature
cut off), then each sentence is read against phrase lists, per language, like the reason classifier's.
The sentence that decided it becomes the reason (the classifier judges it), and a time the prospect
proposes is returned as the phrase they wrote ("Friday 3pm"), to be read in their zone from the mail's
date by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

CANCEL = "cancel"
RESCHEDULE = "reschedule"
NOT_INTERESTED = "not_interested"
UNSUBSCRIBE = "unsubscribe"
KINDS = (CANCEL, RESCHEDULE, NOT_INTERESTED, UNSUBSCRIBE)

# Per language, per kind: phrases (lower case, matched on word boundaries; "*" stands for up to three words).
PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        UNSUBSCRIBE: (
            "unsubscribe", "stop emailing", "stop e-mailing", "stop writing", "stop contacting", "stop sending",
            "stop messaging", "remove me from", "take me off", "do not contact me", "don't contact me",
            "do not email me", "don't email me", "no more emails", "no more e-mails", "leave me alone",
            "stop reaching out", "opt out", "opt me out", "don't write to me", "do not write to me",
        ),
        NOT_INTERESTED: (
            "not interested", "no longer interested", "not a good fit", "not the right fit", "decided to go with",
            "decided against", "went with another", "going with another", "chose another", "chosen another",
            "we'll pass", "we will pass", "i'll pass", "i will pass", "not moving forward", "won't be moving forward",
            "will not be moving forward", "don't need", "do not need", "no need for", "not looking for",
            "not for us", "not for me", "found another", "signed with", "no longer need", "not pursue",
            "not going to pursue", "change of plans on our side",
        ),
        RESCHEDULE: (
            "reschedule", "re-schedule", "move our meeting", "move the meeting", "move our call", "move the call",
            "move it to", "push it back", "push back our", "push the meeting", "push our", "postpone",
            "another time", "different time", "another day", "different day", "a later date", "later date",
            "can we do", "could we do", "can we meet", "could we meet", "how about", "would * work instead",
            "does * work instead", "works better", "would work better", "instead?", "rain check", "raincheck",
            "can we make it", "could we make it", "shift our", "bump our", "bump the",
        ),
        CANCEL: (
            "cancel", "can't make it", "cannot make it", "can not make it", "won't be able to make",
            "will not be able to make", "unable to make", "not be able to attend", "can't attend", "cannot attend",
            "unable to attend", "have to miss", "won't make it", "will not make it", "need to bail", "call off",
            "can't come", "cannot come", "won't be able to come", "not able to make", "can't do", "cannot do",
            "won't be able to meet", "can't meet", "cannot meet", "not going to make it", "have to skip",
            "need to skip", "drop our meeting", "scrap our",
        ),
    },
}

# Who a reply would be from on holiday, not a person answering.
AUTO_SUBJECTS = re.compile(
    r"^\s*(automatic reply|auto(matic)?[- ]?reply|autoreply|out of (the )?office|ooo\b|abwesenheit|absence|"
    r"r[ée]ponse automatique|respuesta autom[áa]tica|on vacation|away from (the )?office|vacation reply)",
    re.IGNORECASE)

WEEKDAY = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|rsday|urday)?"
CLOCK = r"(?:\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|\d{1,2}:\d{2}|noon|midday)"
MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
DAY = (rf"(?:(?:next\s+|this\s+|on\s+)?{WEEKDAY}|tomorrow|today|{MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?|"
       rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH})")
TIME_PHRASE = re.compile(
    rf"\b(?:{DAY}(?:\s*,?\s*(?:at|@|around|from)?\s*{CLOCK})?(?:\s+(?:morning|afternoon|evening))?"
    rf"|(?:at\s+)?{CLOCK}\s+(?:on\s+)?{DAY}"
    rf"|next\s+week)\b",
    re.IGNORECASE)

_QUOTE_HEADER = re.compile(
    r"^\s*(on\s.+wrote:?|le\s.+a\s+écrit\s*:|am\s.+schrieb.*:|-{2,}\s*original message\s*-{2,}|"
    r"_{5,}|from:\s.+|sent from my \w+.*|get outlook for \w+.*)\s*$", re.IGNORECASE)
_SIGNATURE = re.compile(r"^(--\s*|—\s*|(best|kind|warm)?\s*regards,?|thanks,?|thank you,?|cheers,?|best,?|sincerely,?)$",
                        re.IGNORECASE)


@dataclass(frozen=True)
class Intent:
    """What a reply asks for. ``kind`` is None when it asks for nothing Rebook acts on."""

    kind: str | None
    sentence: str = ""  # the sentence that decided it: the reason, as the prospect put it
    proposed: str = ""  # the time they propose, as they wrote it ("Friday 3pm"), for a move
    matched: str = ""  # the phrase that decided it


def new_text(body: str) -> str:
    """The part of a reply the prospect wrote now: no quoted lines, nothing from the quoted mail's header on,
    no signature."""
    lines = []
    for line in body.replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if stripped.startswith(">") or _QUOTE_HEADER.match(stripped):
            if stripped.startswith(">") and not lines:
                continue
            break
        if _SIGNATURE.match(stripped):
            break
        lines.append(line.rstrip())
    return "\n".join(lines).strip()


def sentences(text: str) -> list[str]:
    flat = " ".join(text.split())
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|\s*\n\s*", flat)
    return [p.strip() for p in parts if p.strip()]


def _pattern(phrase: str) -> re.Pattern:
    words = [re.escape(w) if w != "*" else r"(?:\S+\s+){0,3}?\S+" for w in phrase.split()]
    body = r"\s+".join(words)
    tail = r"" if phrase.endswith("?") else r"\b"
    return re.compile(r"\b" + body + tail, re.IGNORECASE)


_COMPILED = {lang: {kind: [(p, _pattern(p.replace("’", "'"))) for p in phrases] for kind, phrases in kinds.items()}
             for lang, kinds in PHRASES.items()}
_ORDER = (UNSUBSCRIBE, NOT_INTERESTED, RESCHEDULE, CANCEL)


def _first(kind: str, parts: list[str], language: str) -> tuple[str, str] | None:
    for sentence in parts:
        normal = sentence.replace("’", "'")
        for phrase, pattern in _COMPILED[language][kind]:
            if pattern.search(normal):
                return sentence, phrase
    return None


def detect(text: str, *, language: str = "en") -> Intent:
    """Read the new text of a reply (call ``new_text`` first on a whole body)."""
    parts = sentences(text)
    found = {kind: _first(kind, parts, language) for kind in _ORDER}
    proposed = _proposed(parts, language)
    for kind in (UNSUBSCRIBE, NOT_INTERESTED):
        if found[kind]:
            return Intent(kind, found[kind][0], "", found[kind][1])
    if found[RESCHEDULE] or (found[CANCEL] and proposed):
        # "I can't make it, can we do Friday 3pm?": a move. The reason is the sentence that says why.
        decided = found[CANCEL] or found[RESCHEDULE]
        return Intent(RESCHEDULE, _reason(parts, decided[0]), proposed.strip(), decided[1])
    if found[CANCEL]:
        return Intent(CANCEL, _reason(parts, found[CANCEL][0]), "", found[CANCEL][1])
    return Intent(None)


def _proposed(parts: list[str], language: str) -> str:
    """A time the prospect offers: in a sentence that asks to move or asks a question, not in the one that
    says which meeting they cannot make ("I can't make it today")."""
    for sentence in parts:
        normal = sentence.replace("’", "'")
        moves = any(p.search(normal) for _, p in _COMPILED[language][RESCHEDULE])
        cancels = any(p.search(normal) for _, p in _COMPILED[language][CANCEL])
        if not moves and (cancels or "?" not in sentence):
            continue
        match = TIME_PHRASE.search(sentence)
        if match:
            return re.sub(r"^on\s+", "", match.group(0).strip(), flags=re.IGNORECASE)
    return ""


def _reason(parts: list[str], decided: str) -> str:
    """The deciding sentence, with the one before or after it when that one says why ("my son is sick")."""
    i = parts.index(decided)
    around = [p for p in parts[max(0, i - 1): i + 2] if not _is_greeting(p)]
    return " ".join(around)[:500]


def _is_greeting(sentence: str) -> bool:
    return bool(re.match(r"^(hi|hello|hey|dear|good (morning|afternoon|evening))\b[^.!?]{0,40}[,!.]?$", sentence, re.I))


def is_auto_reply(headers: Mapping[str, str], subject: str) -> bool:
    """An out-of-office or other automatic answer (RFC 3834's Auto-Submitted, and what mail servers add)."""
    auto = (headers.get("auto-submitted") or "").strip().lower()
    if auto and auto != "no":
        return True
    if any(headers.get(h) for h in ("x-autoreply", "x-autorespond")):
        return True
    if (headers.get("precedence") or "").strip().lower() in {"auto_reply", "bulk", "junk"}:
        return True
    return bool(AUTO_SUBJECTS.match(subject or ""))
