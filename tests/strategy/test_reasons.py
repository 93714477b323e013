from __future__ import annotations

import subprocess
import sys

import pytest

from rebook.strategy.reasons import ReasonClassifier, classify_reason


@pytest.mark.parametrize(
    ("reason", "category"),
    [
        ("My child is sick", "illness"),
        ("my daughter is in hospital", "illness"),
        ("Family emergency, sorry!", "family_emergency"),
        ("We have a funeral to attend", "bereavement"),
        ("I was in a car crash this morning", "accident"),
        ("Blizzard - the roads are closed", "severe_weather"),
        ("My flight was cancelled", "travel_disruption"),
        ("Work emergency, the servers are down", "work_emergency"),
    ],
)
def test_recognised_hardship_is_a_valid_reason(reason, category):
    verdict = classify_reason(reason)
    assert (verdict.category, verdict.valid, verdict.needs_review) == (category, True, False)


@pytest.mark.parametrize("reason", ["Something came up", "too busy", "Forgot, sorry", "can't make it"])
def test_vague_reasons_are_not_valid(reason):
    verdict = classify_reason(reason)
    assert (verdict.category, verdict.valid) == ("vague", False)


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_no_reason_is_not_valid(reason):
    assert classify_reason(reason).category == "no_reason"
    assert classify_reason(reason).valid is False


def test_unrecognised_reason_is_not_valid_and_flagged_for_the_seller():
    verdict = classify_reason("My accountant needs me that day")
    assert (verdict.category, verdict.valid, verdict.needs_review) == ("unknown", False, True)


def test_not_interested_wins_over_anything_else_said():
    verdict = classify_reason("Not interested any more, and I'm sick of calls")
    assert verdict.category == "not_interested"
    assert not verdict.valid


def test_phrases_match_whole_words_only():
    # "ill" inside "I'll" and "sick" inside "sickle" are not illness.
    assert classify_reason("I'll call you back").category == "unknown"
    assert classify_reason("The sickle broke").category == "unknown"


def test_the_verdict_explains_itself():
    assert classify_reason("my son has the flu").explanation == 'illness ("flu")'  # the verdict is shown beside it, not twice


def test_a_sellers_edited_word_list_replaces_the_default_for_that_category():
    classifier = ReasonClassifier.from_phrases({"work_emergency": ["accountant"]})
    assert classifier.classify("My accountant needs me").category == "work_emergency"
    assert classifier.classify("work emergency").category == "unknown"
    assert classifier.classify("my child is sick").category == "illness"


def test_the_strategy_core_does_not_import_django():
    code = (
        "import sys, rebook.strategy.reasons, rebook.strategy.strikes, rebook.strategy.followups, "
        "rebook.strategy.checklist, rebook.strategy.interest, rebook.strategy.pipeline, rebook.strategy.freed, "
        "rebook.timeparse; assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), 'django'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
