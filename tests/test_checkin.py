"""The check-in's words, parsing and suggestion: plain functions, the same for both front ends."""

from __future__ import annotations

import pytest

from coreg_desktop.checkin import (
    ANCHORS,
    QUESTION,
    BadCheckIn,
    CheckIn,
    Suggestion,
    describe_change,
    parse_rating,
    parse_state,
    scale_hint,
    suggest,
)
from coreg_desktop.core import Core
from coreg_desktop.settings import Settings

BUILT_IN = frozenset({"stay-safe", "safe-person", "self-compassion", "quick-reset", "breathe-with"})


def test_the_question_and_its_anchors() -> None:
    assert QUESTION == "How activated do you feel right now?"
    assert ANCHORS == {0: "calm, settled", 5: "on edge", 10: "as bad as it gets"}
    assert scale_hint() == "0 calm, settled · 5 on edge · 10 as bad as it gets"


@pytest.mark.parametrize(("text", "value"), [("0", 0), (" 7 ", 7), ("10", 10), ("05", 5)])
def test_ratings_parse(text: str, value: int) -> None:
    assert parse_rating(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [("11", "11 is outside the scale"), ("-1", '"-1" is not a number'),
     ("7.5", '"7.5" is not a number'), ("", '"" is not a number'),
     ("seven", '"seven" is not a number'), ("٣", '"٣" is not a number')],
)
def test_bad_ratings_are_one_line(text: str, message: str) -> None:
    with pytest.raises(BadCheckIn) as raised:
        parse_rating(text)
    assert message in str(raised.value) and "from 0 to 10" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_state_words_parse_as_typed() -> None:
    assert parse_state("Shut-down") == "shut down"
    assert parse_state(" on_edge ") == "on edge"
    assert parse_state("OVERWHELMED") == "overwhelmed"
    with pytest.raises(BadCheckIn, match='"calm" is not one of the words; use "shut down"'):
        parse_state("calm")


def test_the_change_is_told_gently_never_as_a_score() -> None:
    assert describe_change(7, 4) == "from 7 to 4"
    assert describe_change(3, 6) == "from 3 to 6"
    assert describe_change(5, 5) == "still 5"
    for before in range(11):
        for after in range(11):
            line = describe_change(before, after).lower()
            assert not any(word in line for word in ("%", "score", "better", "worse", "great",
                                                     "well done", "!", "improv", "fail"))


def test_check_in_values_are_checked() -> None:
    assert CheckIn(7, "on edge").before == 7
    assert CheckIn().before is None
    with pytest.raises(BadCheckIn):
        CheckIn(11)
    with pytest.raises(BadCheckIn):
        CheckIn(None, "fine")


@pytest.mark.parametrize(
    ("before", "state", "available", "expected"),
    [
        (7, None, BUILT_IN, "stay-safe"),
        (6, None, BUILT_IN, "stay-safe"),
        (3, "on edge", BUILT_IN, "stay-safe"),
        (None, "overwhelmed", BUILT_IN, "stay-safe"),
        (9, None, BUILT_IN | {"extended-exhale"}, "stay-safe"),  # a pattern, not a practice
        (None, "shut down", BUILT_IN | {"orienting"}, "orienting"),
        (None, "shut down", BUILT_IN, "quick-reset"),
        (4, "settled", BUILT_IN, "safe-person"),
        (None, "settled", BUILT_IN - {"safe-person"}, "self-compassion"),
        (1, None, BUILT_IN, "safe-person"),
        (4, None, BUILT_IN, None),
        (None, None, BUILT_IN, None),
        (8, None, frozenset({"self-compassion"}), None),
        (None, "shut down", frozenset(), None),
    ],
)
def test_the_suggestion_follows_the_before_answer(
    before: int | None, state: str | None, available: frozenset[str], expected: str | None
) -> None:
    found = suggest(before, state, available)
    if expected is None:
        assert found is None
        return
    assert isinstance(found, Suggestion) and found.practice_id == expected
    assert found.why and "\n" not in found.why and len(found.why) < 100


def test_every_suggestion_names_a_practice_that_exists() -> None:
    """The ids above are the library's own, not guesses: suggest from the real library."""
    core = Core(Settings(path=None))
    ids = set(core.library.practices)
    assert ids >= BUILT_IN
    for before in (None, *range(11)):
        for state in (None, "shut down", "on edge", "settled", "overwhelmed"):
            found = suggest(before, state, ids)
            assert found is None or found.practice_id in ids


def test_suggestions_name_practices_the_real_library_has() -> None:
    from coreg_desktop.practice.loader import load_library

    ids = set(load_library().practices)
    for before, state in ((8, None), (None, "shut down"), (2, "settled"), (None, "on edge")):
        found = suggest(before, state, ids)
        assert found is not None and found.practice_id in ids, (before, state, found)
    shut_down = suggest(None, "shut down", ids)
    assert shut_down is not None and shut_down.practice_id == "orienting"
