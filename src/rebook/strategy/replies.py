"""What a prospect's reply asks for: cancel, move, "not interested", "please stop writing", or nothing.

Pure: text in, an intent out, with the words that decided it. The new text of a reply is found first (the
quoted mail and the signature cut off), then each sentence is read against phrase lists, per language, as
people write them:

- word forms: a phrase's words match their inflections ("cancel" reads "cancelled", "canceling";
  "postpone" reads "postponed"), so notices in the passive or the third person are read too ("the call has
  been postponed", "Mr. Lay will not be attending");
- negation and conditions: "no need to cancel", "if you have to reschedule, ..." and "we can go ahead as
  planned" ask for nothing;
- some phrases only ask for a move when a time is named with them ("how about Friday at 2?", not "how about
  a substitute?");
- the subject line counts when it announces the change ("Cancelled: weekly call") and the text is short.

The reason for the validity judgement is the sentence that says why ("I'm out sick"), kept apart from the one
that asks ("can we move to Tuesday?"). A time the prospect proposes is returned as they wrote it; ``when``
reads it against the mail's date in their zone, and returns nothing rather than a wrong time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rebook.strategy.reasons import VALID_CATEGORIES, classify_reason

CANCEL = "cancel"
RESCHEDULE = "reschedule"
NOT_INTERESTED = "not_interested"
UNSUBSCRIBE = "unsubscribe"
KINDS = (CANCEL, RESCHEDULE, NOT_INTERESTED, UNSUBSCRIBE)

HIGH = "high"  # a phrase in the text itself, not negated, not a condition
LOW = "low"  # only the subject line, or only a phrase that is a move when a time is named

# Per language, per kind: phrases, lower case, matched on word boundaries. Each word of four letters or more
# also matches its inflections. "*" stands for up to three words. A leading "@" marks a phrase that asks
# for a move only when the same sentence names a time or day ("how about Friday?"); a leading "%" a verb
# that counts only when it is about a meeting, or said by the writer ("we need to cancel", "the call was
# postponed", "cancel our lunch", "Cancel please"), not news about others ("Karzai cancelled").
PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        UNSUBSCRIBE: (
            "unsubscribe", "stop emailing", "stop e-mailing", "stop writing", "stop contacting", "stop sending",
            "stop messaging", "remove me from", "remove me", "remove my address", "remove my email", "remove my name",
            "remove us from", "take me off", "take us off", "delete me from", "do not contact me", "don't contact me",
            "do not email me", "don't email me", "no more emails", "no more e-mails", "leave me alone",
            "stop reaching out", "opt out", "opt me out", "don't write to me", "do not write to me",
            "please don't contact", "please do not contact", "never asked for these", "don't send me",
            "do not send me", "off your list", "off your mailing list", "off this list", "from your list",
            "from this list", "from your mailing list", "from all your lists",
        ),
        NOT_INTERESTED: (
            "not interested", "no longer interested", "not a good fit", "not the right fit", "decided to go with",
            "decided against", "went with another", "going with another", "chose another", "chosen another",
            "we'll pass", "we will pass", "i'll pass", "i will pass", "not moving forward", "won't be moving forward",
            "will not be moving forward", "don't need", "do not need", "no need for", "not looking for",
            "not for us", "not for me", "found another", "signed with", "no longer need", "not pursue",
            "not going to pursue", "change of plans on our side", "take a pass", "pass on this", "going to pass",
            "does not wish to meet", "do not wish to meet", "doesn't wish to meet", "no interest in",
            "different direction", "decided not to proceed", "not to proceed", "won't be going ahead",
            "will not be going ahead", "not going ahead with", "picked a different", "chose a different",
            "went with a different", "going with a different", "selected another", "selected a different",
            "no thanks", "no thank you", "not something we", "not at this time", "don't see a fit",
            "not a priority", "not in the market", "decline", "say no to", "not able to accept", "unable to accept",
            "cannot accept", "can't accept", "not be able to accept", "unable to participate", "cannot participate",
            "not be able to participate", "not make this a priority", "cannot make this a priority", "cannot do this", "can't do this", "not be a co-author", "will not be able to help",
        ),
        RESCHEDULE: (
            "%reschedule", "%re-schedule", "%postpone", "%push back", "%pushed back", "%delay", "&move", "&push",
            "&shift", "&bump", "move it to", "push it back", "change the time", "change time", "@can we try",
            "@could we try", "@let's try", "@let's do", "@try for", "another time", "different time", "another day",
            "different day", "a later date", "later date", "another slot", "different slot", "another date",
            "different date", "new time", "new date", "rain check", "raincheck", "rebook", "same time next week", "later in the month", "later in the week",
            "in the new year instead", "any availability", "other times",
            "@move to", "@moved to", "@moving to", "@shift to", "@push to", "@push it to", "@pushed to",
            "@can we do", "@could we do", "@can we meet", "@could we meet", "@how about", "@what about",
            "@would * work", "@does * work", "@works better", "@would work better", "@can we make it",
            "@could we make it", "@is * possible", "@change * to", "@could do",
            "@changed * to", "@now at", "@now on", "@now be", "@will now", "@has been moved", "@been moved",
        ),
        CANCEL: (
            "%cancel", "%call off", "%called off", "can't make it", "cannot make it", "can not make it", "won't be able to make",
            "will not be able to make", "unable to make", "not be able to attend", "can't attend", "cannot attend",
            "unable to attend", "have to miss", "won't make it", "will not make it", "need to bail", "call off",
            "can't come", "cannot come", "won't be able to come", "not able to make", "@can't do", "@cannot do",
            "isn't coming", "won't be coming", "can't go", "cannot go", "won't be able to go", "not happening",
            "isn't happening", "sorry to miss", "won't be able to see", "will not be able to see", "can't see", "no longer available",
            "won't be able to meet", "can't meet", "cannot meet", "not going to make it", "have to skip",
            "need to skip", "drop our meeting", "scrap our", "will not be attending", "won't be attending",
            "will not attend", "won't attend", "not be attending", "not attending", "not be joining",
            "won't be joining", "will not be joining", "can't join", "cannot join", "unable to join",
            "not able to join", "not able to attend", "won't be there", "will not be there",
            "can't be there", "cannot be there", "not going to be there", "not be able to make", "bow out",
            "must miss", "will miss", "going to miss", "have to drop", "has to drop", "need to drop",
            "drop off the", "no longer able to", "can no longer", "sends regrets", "send regrets", "sends her regrets",
            "sends his regrets", "send my regrets", "my regrets", "not make the", "can't make the", "cannot make the",
            "unable to make the", "won't make the", "not be able to come", "not be able to join", "not going to make",
        ),
    },
}
# Phrases that say the meeting goes ahead: a sentence with one of them asks for no change.
GOING_AHEAD = re.compile(r"\b(as planned|as scheduled|still on\b|go ahead with|going ahead with|proceed as|"
                         r"still works|works for me|works fine|keep (?:the|our) (?:meeting|call|time)|"
                         r"no need to (?:cancel|reschedule|move|postpone)|not cancel+ed|not (?:be )?postponed)",
                         re.IGNORECASE)
_NEGATORS = re.compile(r"(?:\bnot|n't|\bno longer|\bno need to|\bnever|\bwithout|\bno reason to|\bnothing to)"
                       r"(?:\s+\S+){0,2}\s*$", re.IGNORECASE)
_CONDITION = re.compile(r"(?:^|\s)(?:if|in case|should you|unless|whether|in the event|when(?:ever)? you)\b",
                        re.IGNORECASE)
_SUBJECT_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|tr|sv|antw)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_SUBJECT_NOTICE = re.compile(r"^\s*(cancel+ed|canceled|cancellation|postponed|moved|rescheduled|updated|"
                             r"declined|not attending)\b", re.IGNORECASE)

WINDOW = 200  # how far back from a phrase its clause is read (negation, condition, who does it)
MAX_TEXT, MAX_SENTENCE = 20_000, 1_000
_CLAUSE_BREAK = re.compile(r"[,;:(]|\s[-–—]\s|\bbut\b|\bhowever\b")

# Who a reply would be from on holiday, not a person answering.
AUTO_SUBJECTS = re.compile(
    r"^\s*(automatic reply|auto(matic)?[- ]?reply|autoreply|out of (the )?office|ooo\b|abwesenheit|absence|"
    r"r[ée]ponse automatique|respuesta autom[áa]tica|on vacation|away from (the )?office|vacation reply)",
    re.IGNORECASE)

WEEKDAY = r"(?:mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|rsday|urday)?\.?"
_AMPM = r"(?:am|pm|a\.m\.?|p\.m\.?)"
CLOCK = rf"(?:\d{{1,2}}(?:[:.]\d{{2}})?\s*{_AMPM}|\d{{1,2}}:\d{{2}}|noon|midday)"
MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_ORD = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s*(?:19|20)\d{2})"
_RANGE = rf"(?:\s*(?:-|–|to|through)\s*{_ORD})?"
DAY = (rf"(?:(?:next\s+|this\s+|on\s+|this\s+coming\s+)?{WEEKDAY}(?:,?\s+(?:the\s+)?{_ORD}(?!\s*{_AMPM}|:))?|"
       rf"tomorrow|today|tonight|{MONTH}\s+{_ORD}{_RANGE}{_YEAR}?|"
       rf"(?:the\s+)?{_ORD}\s+(?:of\s+)?{MONTH}{_YEAR}?|\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?|the\s+\d{{1,2}}(?:st|nd|rd|th))")
PART = r"(?:morning|afternoon|evening|am|pm|lunch|noon)"
_AT = r"(?:at|@|around|about|by|from|after|before|for|to|between|btw)"
_BARE_HOUR = r"\d{1,2}(?![\d:/])(?!\s*(?:st|nd|rd|th|%|minutes|mins|hours|people|days|weeks))"
TIME_PHRASE = re.compile(
    rf"\b(?:{DAY}(?:\s*,?\s*(?:in\s+the\s+|at\s+)?{PART})?(?:\s*,?\s*{_AT}?\s*(?:{CLOCK}|{_BARE_HOUR}))?"
    rf"(?:\s+(?:in\s+the\s+)?{PART})?"
    rf"|(?:{_AT}\s+)?(?:{CLOCK}|\d{{1,2}}(?:[:.]\d{{2}})?)(?:\s*(?:-|–|to|and)\s*{CLOCK})(?:\s*,?\s*(?:on\s+)?{DAY})?"
    rf"|(?:{_AT}\s+)?{CLOCK}(?:\s*,?\s*(?:on\s+)?{DAY})?"
    rf"|{_AT}\s+\d{{1,2}}(?![\d:/])(?:\s+(?:on\s+)?{DAY})?"
    rf"|next\s+week|later\s+this\s+week|same\s+time\s+next\s+week|end\s+of\s+(?:the\s+)?(?:week|month))\b",
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
    sentence: str = ""  # the reason, as the prospect put it: the sentence that says why, and the one that asks
    proposed: str = ""  # the time they propose, as they wrote it ("Friday 3pm"), for a move
    matched: str = ""  # the phrase that decided it
    confidence: str = ""  # HIGH or LOW; "" when kind is None
    asked: str = ""  # the sentence that asks (or the subject line, when only it does)


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


def _word(word: str) -> str:
    """A word and its inflections: cancel(s|led|ed|ing|ling), postpone(s|d), reply/replied."""
    if word == "*":
        return r"(?:\S+\s+){0,3}?\S+"
    if len(word) < 4 or not word.isalpha():
        return re.escape(word)
    if word.endswith("e"):
        return re.escape(word[:-1]) + r"(?:e|es|ed|ing)"
    if word.endswith("y") and word[-2] not in "aeiou":
        return re.escape(word[:-1]) + r"(?:y|ies|ied|ying)"
    return re.escape(word) + rf"(?:s|es|{re.escape(word[-1])}?(?:ed|ing))?"


def _pattern(phrase: str) -> re.Pattern:
    body = r"\s+".join(_word(w) for w in phrase.split())
    return re.compile(r"(?<![\w'-])" + body + r"(?![\w'])", re.IGNORECASE)


@dataclass(frozen=True)
class _Phrase:
    text: str
    pattern: re.Pattern
    needs_time: bool
    negative: bool  # the phrase says "not" itself ("won't be attending"): no negation check before it
    needs_context: bool = False
    needs_object: bool = False


def _compile(phrase: str) -> _Phrase:
    needs_time = phrase.startswith("@")
    text = phrase.lstrip("@%&").replace("’", "'")
    negative = bool(re.search(r"\b(not|no|never)\b|n't|\bunable\b|\bcannot\b", text))
    return _Phrase(text, _pattern(text), needs_time, negative, phrase.startswith("%"), phrase.startswith("&"))


MEETING = (r"(?:meeting|mtg|meet|call|phone call|appointment|appt|session|demo|lunch|dinner|breakfast|coffee|"
           r"visit|interview|chat|catch-?up|discussion|presentation|briefing|conversation|1:1|one-on-one|sit-down|"
           r"event|tour|consultation|webinar|conference|get-together|plans?)s?")
_OWN = r"(?:our|my|the|this|that|your|tomorrow's|today's|tonight's|monday's|tuesday's|wednesday's|thursday's|" \
       r"friday's|saturday's|sunday's|next week's|this week's|these|those|all)"
_FIRST_PERSON = re.compile(r"\b(?:i|we|i'm|we're|i'll|we'll|i've|we've|i'd|we'd|let's|lets|let us)\b(?:\s+\S+){0,5}\s*$",
                           re.IGNORECASE)
_OBJECT = rf"^\s*(?:(?:{_OWN}\s+)?(?:\S+\s+){{0,2}}?{MEETING}\b|it\b|this\b|that\b|them\b)"
_NEW_MEETING = re.compile(rf"\b(?:a|an|new|weekly|regular|another)\s+(?:\S+\s+){{0,2}}?{MEETING}\b", re.IGNORECASE)
_INSTEAD = re.compile(rf"(?:{TIME_PHRASE.pattern})\s*,?\s*instead\b", re.IGNORECASE)
_MODAL_BEFORE = re.compile(r"\b(?:have to|has to|had to|need to|needs to|must|gotta|got to|going to|want to|"
                           r"like to|will have to|will need to|'ll have to|'ll need to|please|pls|plz|may have to|"
                           r"might have to|may need to)\s*$", re.IGNORECASE)
_SUBJECT_BEFORE = re.compile(rf"\b(?:{MEETING}|it|this|we)\b(?:\s+\S+){{0,4}}\s*$", re.IGNORECASE)


def _about_a_meeting(normal: str, start: int, end: int) -> bool:
    """A verb like "cancel" counts when the writer does it, or when it is done to a meeting (before or after
    it), or when it starts the sentence ("Cancel please")."""
    clause, after = _clause(normal, start), normal[end:end + 60]
    if not clause.strip() or _FIRST_PERSON.search(clause[-60:]) or _MODAL_BEFORE.search(clause):
        return True
    if re.search(r"\b(?:his|her|their)\s*$", clause, re.IGNORECASE) or \
            re.match(r"^\s*(?:his|her|their)\b", after, re.IGNORECASE):
        return False
    if re.match(_OBJECT, after, re.IGNORECASE):
        return True
    return bool(_SUBJECT_BEFORE.search(clause))


def _done_to_a_meeting(normal: str, start: int, end: int) -> bool:
    """"move", "push": only with a meeting as their object ("move our call to 4", "push it back") or subject
    ("the dinner was moved to Friday"), never "we are moving forward"."""
    before, after = _clause(normal, start), normal[end:end + 60]
    if re.match(r"^\s*(?:his|her|their)\b", after, re.IGNORECASE):
        return False
    return bool(re.match(_OBJECT, after, re.IGNORECASE)) or bool(
        re.search(rf"\b(?:{MEETING}|it)\b(?:\s+\S+){{0,3}}\s*$", before, re.IGNORECASE))


_COMPILED = {lang: {kind: [_compile(p) for p in phrases] for kind, phrases in kinds.items()}
             for lang, kinds in PHRASES.items()}
_ORDER = (UNSUBSCRIBE, NOT_INTERESTED, RESCHEDULE, CANCEL)


@dataclass(frozen=True)
class _Hit:
    sentence: str
    phrase: str
    start: int
    weak: bool  # a phrase that needs a time, with one


def _normal(sentence: str) -> str:
    return sentence.replace("’", "'").replace("‘", "'")


def _clause(normal: str, start: int) -> str:
    """The words of the clause just before ``start`` (at most ``WINDOW`` characters back, so that reading a long
    sentence stays linear in its length)."""
    return _CLAUSE_BREAK.split(normal[max(0, start - WINDOW):start])[-1]


def _counts(normal: str, start: int, phrase: _Phrase) -> bool:
    """A phrase found at ``start`` asks for something: not negated just before, not inside a condition."""
    clause = _clause(normal, start)
    if _CONDITION.search(clause):
        return False
    return phrase.negative or not _NEGATORS.search(clause[-40:])


def _find(kind: str, sentence: str, language: str) -> _Hit | None:
    normal = _normal(sentence)
    if kind in (RESCHEDULE, CANCEL) and GOING_AHEAD.search(normal):
        return None
    for phrase in _COMPILED[language][kind]:
        for match in phrase.pattern.finditer(normal):
            if not _counts(normal, match.start(), phrase):
                continue
            if phrase.needs_context and not _about_a_meeting(normal, match.start(), match.end()):
                continue
            if phrase.needs_object and not _done_to_a_meeting(normal, match.start(), match.end()):
                continue
            if phrase.needs_time and (not (TIME_PHRASE.search(normal, match.start())
                                           or TIME_PHRASE.search(normal, max(0, match.start() - WINDOW),
                                                                 match.start())
                                           or re.match(_OBJECT, normal[match.end():], re.IGNORECASE))
                                      or _NEW_MEETING.search(normal, match.end())):
                continue  # no time named; or a new meeting asked for ("can we do a weekly call at 9?")
            return _Hit(sentence, phrase.text, match.start(), phrase.needs_time)
    if kind == RESCHEDULE:
        instead = _INSTEAD.search(normal)
        if instead and _counts(normal, instead.start(), _compile("instead")):
            return _Hit(sentence, "instead", instead.start(), True)
    return None


def _first(kind: str, parts: list[str], language: str) -> _Hit | None:
    weak = None
    for sentence in parts:
        hit = _find(kind, sentence, language)
        if hit and not hit.weak:
            return hit
        weak = weak or hit
    return weak


def detect(text: str, *, subject: str = "", language: str = "en") -> Intent:
    """Read the new text of a reply (call ``new_text`` first on a whole body), and its subject line. Only the
    first ``MAX_TEXT`` characters are read, and of each sentence the first ``MAX_SENTENCE``: what a person asks
    is in neither a 20-page reply nor a thousand-character sentence, and reading stays bounded."""
    parts = [p[:MAX_SENTENCE] for p in sentences(text[:MAX_TEXT])]
    subject = subject[:300]
    found = {kind: _first(kind, parts, language) for kind in _ORDER}
    for kind in (UNSUBSCRIBE, NOT_INTERESTED):
        hit = found[kind]
        if hit:
            return Intent(kind, hit.sentence, "", hit.phrase, HIGH, hit.sentence)
    move, cancel = found[RESCHEDULE], found[CANCEL]
    proposed = _proposed(parts, language)
    if move or (cancel and proposed):
        # "I can't make it, can we do Friday 3pm?": a move. The reason is the sentence that says why.
        decided = move or cancel
        sure = HIGH if (cancel or not move.weak) else LOW
        return Intent(RESCHEDULE, _reason(parts, decided.sentence), proposed, decided.phrase, sure, decided.sentence)
    if cancel:
        return Intent(CANCEL, _reason(parts, cancel.sentence), "", cancel.phrase, HIGH, cancel.sentence)
    return _from_subject(subject, parts, language)


def _from_subject(subject: str, parts: list[str], language: str) -> Intent:
    """A notice whose subject says it ("Cancelled: weekly call", "Postponed - board dinner") and whose text is
    short and says nothing else: the subject decides, with low confidence. A reply ("Re: ...") does not."""
    if not subject or _SUBJECT_PREFIX.match(subject) or sum(len(p.split()) for p in parts) > 40:
        return Intent(None)
    if any(GOING_AHEAD.search(_normal(p)) for p in parts):
        return Intent(None)
    for kind in (RESCHEDULE, CANCEL):
        hit = _find(kind, subject, language)
        if hit and (not hit.weak) and (_SUBJECT_NOTICE.match(subject) or kind == RESCHEDULE):
            proposed = _proposed([subject, *parts], language) if kind == RESCHEDULE else ""
            return Intent(kind, _reason(parts, parts[0]) if parts else subject, proposed, hit.phrase, LOW, subject)
    return Intent(None)


def _says_cannot(normal: str) -> bool:
    return any(p.negative and p.pattern.search(normal) for p in _COMPILED["en"][CANCEL])


def _proposed(parts: list[str], language: str) -> str:
    """A time the prospect offers: after the words that ask to move, never the time they say they cannot make
    ("I can't do Tuesday, how about Wednesday at 2?" proposes Wednesday at 2)."""
    for sentence in parts:
        normal = _normal(sentence)
        if GOING_AHEAD.search(normal):
            continue
        moves = [m for p in _COMPILED[language][RESCHEDULE] for m in p.pattern.finditer(normal)
                 if _counts(normal, m.start(), p)]
        if not moves:
            if "?" not in sentence or _says_cannot(normal):
                continue
            start = 0
        else:
            start = min(m.start() for m in moves)
        match = TIME_PHRASE.search(normal, start)
        if match is None and moves and not _says_cannot(normal[:start]):
            match = TIME_PHRASE.search(normal[:start])
        if match:
            found = match.group(0).strip()
            moved = re.match(rf"^from\s+.+?\s+to\s+({CLOCK}.*)$", found, re.IGNORECASE)  # from 1pm to 11:30am
            if moved:
                found = moved.group(1)
            return re.sub(r"^(?:on|at|@|around|about|by|from|for|to|between|btw)\s+", "", found, flags=re.IGNORECASE)
    return ""


def _reason(parts: list[str], decided: str) -> str:
    """The sentence that asks, with the sentences around it, and any sentence of the reply that gives a valid
    reason ("I'm out sick today. ... Could we move to Tuesday?"); the validity judgement reads this."""
    i = parts.index(decided) if decided in parts else 0
    around = [p for p in parts[max(0, i - 1): i + 2] if not _is_greeting(p)]
    why = [p for p in parts if p not in around and classify_reason(p).category in VALID_CATEGORIES]
    return " ".join(why[:2] + around)[:500]


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


# --------------------------------------------------------------------------- the proposed time

_WEEKDAY_NAMES = {"mon": "monday", "tue": "tuesday", "wed": "wednesday", "thu": "thursday", "fri": "friday",
                  "sat": "saturday", "sun": "sunday"}
_CLOCK_RE = re.compile(rf"\b(?:(\d{{1,2}})(?:[:.](\d{{2}}))?\s*({_AMPM})|(\d{{1,2}}):(\d{{2}})|(noon|midday)|"
                       rf"{_AT}\s+(\d{{1,2}})(?![\d:/])|^(\d{{1,2}})(?=\s+(?:tomorrow|today|tonight|on|this|next|"
                       rf"{WEEKDAY})\b))", re.IGNORECASE)
_DAY_RE = re.compile(DAY, re.IGNORECASE)
_PART_HOURS = {"morning": 9, "afternoon": 14, "evening": 18, "lunch": 12, "noon": 12}


@dataclass(frozen=True)
class When:
    """A proposed time read from a phrase: the day, and the clock time when one was given."""

    day: date
    clock: time | None

    def at(self, tz: ZoneInfo, default: time) -> datetime:
        """The instant, in ``tz``, taking ``default`` (the meeting's own clock time) when only a day was said."""
        return datetime.combine(self.day, self.clock or default, tzinfo=tz)


def _clock(phrase: str) -> time | None:
    m = _CLOCK_RE.search(phrase)
    if m is None:
        part = re.search(r"\b(morning|afternoon|evening|lunch|noon)\b", phrase, re.IGNORECASE)
        return time(_PART_HOURS[part.group(1).lower()]) if part else None
    if m.group(6):
        return time(12)
    if m.group(3):
        hour, minute, suffix = int(m.group(1)), int(m.group(2) or 0), m.group(3).lower()
        if not 1 <= hour <= 12 or minute > 59:
            return None
        hour = hour % 12 + (12 if suffix.startswith("p") else 0)
        return time(hour, minute)
    hour, minute = (int(m.group(4)), int(m.group(5))) if m.group(4) else (int(m.group(7) or m.group(8)), 0)
    if hour > 23 or minute > 59:
        return None
    if 1 <= hour <= 6 or hour == 7 and re.search(r"\b(evening|tonight|dinner|pm)\b", phrase, re.IGNORECASE):  # "at 2", "4:30": business hours, so the afternoon
        hour += 12
    return time(hour, minute)


def _day(phrase: str, base: datetime) -> date | None:
    found = _DAY_RE.search(phrase)
    if found is None:
        return None
    text = found.group(0).lower().strip(" ,.")
    text = re.sub(r"^on\s+", "", text)
    if text in ("today", "tonight"):
        return base.date()
    if text == "tomorrow":
        return base.date() + timedelta(days=1)
    text = re.sub(rf"(\d)\s*(?:-|–|to|through)\s*{_ORD}", r"\1", text)  # a range: its start
    text = re.sub(r"\b(mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?", lambda m: _WEEKDAY_NAMES[m.group(1)], text)
    text = re.sub(r"^this\s+coming\s+", "this ", text)
    import dateparser  # imported late: only a proposed time needs it

    try:
        parsed = dateparser.parse(text, languages=["en"], settings={
            "RELATIVE_BASE": base.replace(tzinfo=None), "PREFER_DATES_FROM": "future",
            "PARSERS": ["relative-time", "absolute-time", "custom-formats"], "RETURN_AS_TIMEZONE_AWARE": False})
    except (OverflowError, ValueError):
        return None
    return parsed.date() if parsed else None


def when(phrase: str, *, base: datetime, tz: ZoneInfo) -> When | None:
    """Read a proposed time ("Thursday at 2", "October 19 about 2:00 p.m.", "March 3-7, 2002") against the
    mail's date ``base`` in the writer's zone ``tz``. None when it names no day, or the day is past or more
    than a year out: a wrong time would be worse than none."""
    if not phrase or len(phrase) > 80:
        return None
    local = base.astimezone(tz)
    clock = _clock(phrase)
    day = _day(phrase, local)
    if day is None:
        if clock is None or not re.search(rf"{CLOCK}|{_AT}\s+\d", phrase, re.IGNORECASE):
            return None  # "next week": no day to propose
        day = local.date()  # "at 4 instead": the same day
        if datetime.combine(day, clock, tzinfo=tz) <= local:
            return None
    if day < local.date() or day > local.date() + timedelta(days=365):
        return None
    if day > local.date() + timedelta(days=180) and not re.search(r"\b(?:19|20)\d{2}\b|/\d{2,4}\b", phrase):
        return None  # "March 3" written on March 8: most likely the date just gone, not next year's
    if day == local.date() and clock is not None and datetime.combine(day, clock, tzinfo=tz) <= local:
        return None
    return When(day, clock)
