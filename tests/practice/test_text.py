"""Placeholder filling and sentence splitting, as a listener would hear and read them."""

from __future__ import annotations

import pytest

from coreg_desktop.practice.text import (
    DEFAULT_FALLBACKS,
    fill,
    placeholders_in,
    split_sentences,
    tidy,
    unknown_placeholders,
)

SAM = {"name": "Sam", "safe_person": "Ana"}


@pytest.mark.parametrize(
    ("text", "unset", "with_values"),
    [
        ("It's okay, {name}.", "It's okay.", "It's okay, Sam."),
        ("{name}, you are safe.", "You are safe.", "Sam, you are safe."),
        ("Hello {name}!", "Hello!", "Hello Sam!"),
        ("Breathe, {name}, slowly.", "Breathe, slowly.", "Breathe, Sam, slowly."),
        ("Hello {name}", "Hello", "Hello Sam"),
        ("{name}", "", "Sam"),
        # A placeholder starting a later sentence (this used to come out as "Good., you ...").
        ("Good. {name}, be here.", "Good. Be here.", "Good. Sam, be here."),
        ("Good! {name}, rest.", "Good! Rest.", "Good! Sam, rest."),
        # A trailing placeholder must not leave a dangling comma behind.
        ("You are doing well, {name}", "You are doing well", "You are doing well, Sam"),
        # Sentence starts are re-capitalised in any script, not only a-z.
        ("{name}, ça va?", "Ça va?", "Sam, ça va?"),
        ("Think of {safe_person}.", "Think of someone who feels safe to you.", "Think of Ana."),
        ("Picture {safe_person|someone kind}.", "Picture someone kind.", "Picture Ana."),
        ("Rest, { name }.", "Rest.", "Rest, Sam."),
    ],
)
def test_fill_unset_and_set(text: str, unset: str, with_values: str) -> None:
    assert fill(text) == unset
    assert fill(text, {}) == unset
    assert fill(text, SAM) == with_values


def test_blank_or_none_value_counts_as_unset() -> None:
    assert fill("It's okay, {name}.", {"name": "   "}) == "It's okay."
    assert fill("It's okay, {name}.", {"name": None}) == "It's okay."
    assert fill("Call {safe_person}.", {"safe_person": ""}) == (
        f"Call {DEFAULT_FALLBACKS['safe_person']}."
    )


def test_value_is_trimmed_and_not_itself_expanded() -> None:
    assert fill("Hi {name}.", {"name": "  {safe_person} "}) == "Hi {safe_person}."


def test_own_fallback_beats_default_but_not_a_value() -> None:
    assert fill("With {name|friend}.") == "With friend."
    assert fill("With {name|friend}.", {"name": "Sam"}) == "With Sam."
    # An explicitly empty fallback removes the placeholder, even for safe_person.
    assert fill("Stay here {safe_person|}.") == "Stay here."


def test_unknown_placeholder_without_fallback_vanishes() -> None:
    assert fill("Hello {nobody}, friend.") == "Hello, friend."


def test_text_without_placeholders_is_only_tidied() -> None:
    assert fill("Breathe in.  And out.") == "Breathe in. And out."


def test_tidy_collapses_repeated_commas() -> None:
    assert tidy("Softly, , , now.") == "Softly, now."
    assert tidy("Now , .") == "Now."


def test_placeholders_in_reports_names_and_offsets() -> None:
    text = "Hi {name}, think of { safe_person |a friend}."
    assert placeholders_in(text) == [("name", 3), ("safe_person", 20)]
    assert text[20] == "{"


def test_unknown_placeholders() -> None:
    assert unknown_placeholders("{name} {nme} {safe_person} {x|y}") == ["nme", "x"]
    assert unknown_placeholders("no braces") == []


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Breathe in. Breathe out.", ["Breathe in.", "Breathe out."]),
        ("Really? Yes! Good…  Rest", ["Really?", "Yes!", "Good…", "Rest"]),
        ('She said "Good." Then rest.', ['She said "Good."', "Then rest."]),
        ("(Slowly.) Now.", ["(Slowly.)", "Now."]),
        ("Wait?! Okay.", ["Wait?!", "Okay."]),
        # A decimal point is not a sentence end (this used to split into "4." and "5 seconds.").
        ("Breathe in for 4.5 seconds. Out.", ["Breathe in for 4.5 seconds.", "Out."]),
        ("Line one.\nLine two.", ["Line one.", "Line two."]),
        ("", []),
        ("...", []),
        ("  Just words  ", ["Just words"]),
    ],
)
def test_split_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


def test_split_sentences_keeps_every_word_in_order() -> None:
    text = "One. Two, three! Four? Five… six."
    assert " ".join(split_sentences(text)).split() == text.split()
