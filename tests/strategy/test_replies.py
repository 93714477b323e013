"""Reading replies: what a prospect's mail asks for, measured on a table of phrasings as people write them
(kind, and whether the reason the classifier reads from it is valid). Prints precision and recall per kind."""

from __future__ import annotations

from collections import Counter

import pytest

from rebook.strategy.reasons import classify_reason
from rebook.strategy.replies import (
    CANCEL,
    KINDS,
    NOT_INTERESTED,
    RESCHEDULE,
    UNSUBSCRIBE,
    detect,
    is_auto_reply,
    new_text,
)

C, R, N, U = CANCEL, RESCHEDULE, NOT_INTERESTED, UNSUBSCRIBE
V, X = True, False  # the reason is valid / not valid; None: no reason to judge

# (reply text, expected kind or None, expected validity of the reason, expected proposed time phrase or "")
TABLE: list[tuple[str, str | None, bool | None, str]] = [
    ("So sorry, my daughter is sick, can we do Friday 3pm?", R, V, "Friday 3pm"),
    ("Hi Sam, I'm afraid I have to cancel tomorrow. My son has a fever.", C, V, ""),
    ("Something came up and I can't make it on Thursday.", C, X, ""),
    ("I won't be able to make our meeting, sorry.", C, X, ""),
    ("Can we reschedule? I'm stuck at the airport, my flight was cancelled.", R, V, ""),
    ("Could we move the meeting to next week? Work is crazy right now.", R, X, "next week"),
    ("We've decided to go with another vendor. Thanks for your time.", N, None, ""),
    ("Please stop emailing me.", U, None, ""),
    ("Unsubscribe", U, None, ""),
    ("Take me off your list please", U, None, ""),
    ("Thanks, see you Thursday!", None, None, ""),
    ("Sounds good. Looking forward to it.", None, None, ""),
    ("Got the info pack, very helpful, thank you.", None, None, ""),
    ("My mother passed away last night, I need to cancel our meeting.", C, V, ""),
    ("I was in a car accident this morning and can't make it today.", C, V, ""),
    ("We have a snowstorm here, roads are closed. Can we do Monday at 10am instead?", R, V, "Monday at 10am"),
    ("I'm not interested anymore, sorry.", N, None, ""),
    ("Not a good fit for us at this time.", N, None, ""),
    ("We'll pass for now.", N, None, ""),
    ("Can't make it, double booked. How about Wednesday 2pm?", R, X, "Wednesday 2pm"),
    ("I need to postpone our call, I'm sick with the flu.", R, V, ""),
    ("Can we push it back an hour?", R, X, ""),
    ("Running late, will be there in 10 minutes", None, None, ""),
    ("Is there parking near your office?", None, None, ""),
    ("Could you send me the pricing before we meet?", None, None, ""),
    ("I have to cancel. Family emergency.", C, V, ""),
    ("Sorry, I have to miss our meeting tomorrow, there's a work emergency at the plant.", C, V, ""),
    ("Please remove me from your mailing list.", U, None, ""),
    ("Do not contact me again.", U, None, ""),
    ("Leave me alone.", U, None, ""),
    ("We no longer need your services.", N, None, ""),
    ("We found another provider who fits our budget.", N, None, ""),
    ("Can we meet next Tuesday at 11 instead?", R, X, "next Tuesday at 11"),
    ("would Thursday at 4pm work instead?", R, X, "Thursday at 4pm"),
    ("Let's take a rain check on this week.", R, X, ""),
    ("I'm swamped, can we do a different day?", R, X, ""),
    ("Our office is closed due to the hurricane, we need to cancel.", C, V, ""),
    ("The kids are home sick, I can't come in today.", C, V, ""),
    ("I cannot attend the meeting on the 5th.", C, X, ""),
    ("I'm unable to make it, my wife is in the hospital.", C, V, ""),
    ("Cancel please", C, X, ""),
    ("Need to call off tomorrow's meeting.", C, X, ""),
    ("Could we do March 12 at 9:30 am instead? Thanks", R, X, "March 12 at 9:30 am"),
    ("Tomorrow at noon would work better for me.", R, X, "Tomorrow at noon"),
    ("See you then.", None, None, ""),
    ("Confirmed, thanks!", None, None, ""),
    ("Yes, 3pm works.", None, None, ""),
    ("Who else will be at the meeting?", None, None, ""),
    ("I'm going to have to skip our meeting, my flight got delayed.", C, V, ""),
    ("My train is delayed, I won't make it. Can we reschedule?", R, V, ""),
    ("We are not moving forward with this project.", N, None, ""),
    ("I don't need this right now, thanks though.", N, None, ""),
    ("Not for us, sorry.", N, None, ""),
    ("Stop sending me these emails", U, None, ""),
    ("opt me out", U, None, ""),
    ("I've been sick all week. Can we move our meeting to next Friday?", R, V, "next Friday"),
    ("Bereavement in the family, I'll need to cancel.", C, V, ""),
    ("I'm snowed in, can't make it.", C, V, ""),
    ("Power outage at our office, have to cancel today, sorry!", C, V, ""),
    ("Let's postpone until after the holidays.", R, X, ""),
    ("Thanks for the reminder!", None, None, ""),
    ("Perfect, I added it to my calendar.", None, None, ""),
    ("Can I bring a colleague along?", None, None, ""),
    ("Something urgent came up at work, can we do another time?", R, X, ""),
    ("I forgot I have a dentist appointment then. Could we meet on Friday morning?", R, X, "Friday morning"),
]


# Written after the phrase lists were frozen and never used to tune them: the honest measure. Many are
# missed (a missed reply is still logged on the lead for the seller to read; no suggestion is made). What
# the test holds to is precision: a suggestion Rebook makes must be right, since the seller applies it
# with one button.
HELD_OUT: list[tuple[str, str | None]] = [
    ("Apologies but I need to bow out of tomorrow's session.", C),
    ("Hey, something's come up on my end - any chance we could find another slot?", R),
    ("I'll have to take a pass on the demo, we're going a different direction.", N),
    ("Kindly remove my address from your list.", U),
    ("Looking forward to it, see you at 10.", None),
    ("Can we shift to 4:30 on Wednesday?", R),
    ("My husband is in hospital so I won't be able to come on Monday.", C),
    ("We picked a different solution, so no need to meet.", N),
    ("Please don't contact me anymore.", U),
    ("Would it be possible to push our call to Thursday afternoon?", R),
    ("I'm really sorry, I can't do tomorrow after all.", C),
    ("Great, thanks for confirming.", None),
    ("Could we do the same time next week?", R),
    ("The budget got cut, so we won't be going ahead.", N),
    ("I have a conflict now - can we move to Friday at 1pm?", R),
    ("Do you have any availability later in the month instead?", R),
    ("I need to cancel our appointment, I've come down with covid.", C),
    ("What should I prepare for our chat?", None),
    ("Stop. I never asked for these emails.", U),
    ("Our team decided not to proceed at this time.", N),
    ("Sorry to do this last minute but I have to cancel.", C),
    ("Is it ok if we talk over the phone instead of meeting in person?", None),
    ("Something urgent at home, I won't make it tonight.", C),
    ("Let's catch up in the new year instead.", R),
]


def test_held_out_phrasings(capsys):
    right = Counter()
    total = Counter()
    predicted = Counter()
    misses = []
    for text, kind in HELD_OUT:
        got = detect(new_text(text)).kind
        total[kind] += 1
        predicted[got] += 1
        right[kind] += got == kind
        if got != kind:
            misses.append(f"{text!r}: {got} (expected {kind})")
    accuracy = sum(right.values()) / len(HELD_OUT)
    with capsys.disabled():
        print(f"\nheld-out phrasings: {sum(right.values())} of {len(HELD_OUT)} read right ({accuracy:.0%});",
              "per kind " + ", ".join(
                  f"{k}: precision {right[k] / predicted[k] if predicted[k] else 1:.2f}, recall {right[k] / total[k]:.2f}"
                  for k in KINDS), *(["missed:"] + misses if misses else []), sep="\n  ")
    for kind in KINDS:
        if predicted[kind]:
            assert right[kind] / predicted[kind] >= 0.9, kind
    assert accuracy >= 0.5  # a guard against a collapse; the figures printed are the measure


def test_the_table_is_large_enough():
    assert len(TABLE) >= 60


@pytest.mark.parametrize("text, kind, valid, proposed", TABLE)
def test_each_phrasing(text, kind, valid, proposed):
    intent = detect(new_text(text))
    assert intent.kind == kind, (text, intent)
    if kind in (CANCEL, RESCHEDULE):
        assert intent.sentence and classify_reason(intent.sentence).valid is valid, (text, intent.sentence)
    if proposed:
        assert intent.proposed.lower() == proposed.lower(), (text, intent.proposed)


def test_precision_and_recall_per_kind(capsys):
    predicted, expected = Counter(), Counter()
    right = Counter()
    for text, kind, _, _ in TABLE:
        got = detect(new_text(text)).kind
        predicted[got] += 1
        expected[kind] += 1
        right[kind] += got == kind
    lines = []
    for kind in KINDS:
        precision = right[kind] / predicted[kind] if predicted[kind] else 1.0
        recall = right[kind] / expected[kind] if expected[kind] else 1.0
        lines.append(f"{kind}: precision {precision:.2f}, recall {recall:.2f} ({expected[kind]} cases)")
        assert precision >= 0.9 and recall >= 0.9, lines[-1]
    with capsys.disabled():
        print("\nreply detection on", len(TABLE), "phrasings:\n  " + "\n  ".join(lines))


def test_the_new_text_leaves_out_quotes_headers_and_signatures():
    body = """So sorry, my daughter is sick. Can we do Friday 3pm?

Best regards,
Dana
Reyes Landscaping | 555-0100

On Mon, 2 Mar 2026 at 09:00, Sam Seller <sam@example.com> wrote:
> Looking forward to our meeting on Thursday.
> If anything comes up, just reply.
"""
    assert new_text(body) == "So sorry, my daughter is sick. Can we do Friday 3pm?"
    outlook = "I need to cancel, sorry.\r\n\r\n________________________________\r\nFrom: Sam\r\nSent: Monday\r\n"
    assert new_text(outlook) == "I need to cancel, sorry."
    assert new_text("Cancel please\n\nSent from my iPhone") == "Cancel please"
    # A quote of the mail Rebook sent does not make the reply a cancellation.
    assert detect(new_text("Thanks!\n\n> If you need to cancel, just reply.")).kind is None


def test_auto_replies_are_recognised():
    assert is_auto_reply({"auto-submitted": "auto-replied"}, "Re: our meeting")
    assert not is_auto_reply({"auto-submitted": "no"}, "Re: our meeting")
    assert is_auto_reply({"x-autoreply": "yes"}, "Re: x")
    assert is_auto_reply({}, "Automatic reply: Looking forward to our meeting")
    assert is_auto_reply({}, "Out of Office: back on Monday")
    assert not is_auto_reply({}, "Re: Looking forward to our meeting")


def test_reading_is_bounded_however_long_the_reply():
    from rebook.strategy.replies import MAX_SENTENCE, MAX_TEXT

    # What a person asks is read where people write it; past the bounds nothing is read at all.
    assert detect("filler. " * (MAX_TEXT // 8) + "I have to cancel.").kind is None
    assert detect("x " * MAX_SENTENCE + "I have to cancel").kind is None
    assert detect("Thanks. " * 100 + "I have to cancel.").kind == CANCEL
    # A sentence made of thousands of phrases that each need checking reads as quickly as any other.
    assert detect("they cancel the thing " * 5000).kind is None
