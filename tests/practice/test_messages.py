"""Message wording: user values are named in plain words and can never break the one-line shape."""

from __future__ import annotations

from datetime import date

from coreg_desktop.practice.messages import (
    describe,
    join,
    number_text,
    one_line,
    quote,
    seconds_text,
    suggest,
)


def test_quote_spells_out_invisible_characters_and_shortens() -> None:
    assert quote('say "hi"') == '"say \\"hi\\""'
    assert quote("a\nb\u2028c\U000e0001") == '"a\\u000ab\\u2028c\\U000e0001"'
    long = quote("x" * 100)
    assert long == '"' + "x" * 39 + '…"'
    assert quote("x" * 40) == '"' + "x" * 40 + '"'


def test_numbers_read_as_the_author_wrote_them() -> None:
    assert number_text(4.0) == "4"
    assert number_text(2.5) == "2.5"
    assert number_text(-1) == "-1"
    assert number_text(10**15) == "a very large number"
    assert number_text(float("nan")) == "nan"
    assert number_text(float("-inf")) == "-inf"
    assert seconds_text(1) == "1 second"
    assert seconds_text(1.0) == "1 second"
    assert seconds_text(30.0) == "30 seconds"


def test_describe_names_each_toml_type_in_words() -> None:
    assert describe(True) == "a true/false value (true)"
    assert describe(3) == "a whole number (3)"
    assert describe(1.5) == "a number (1.5)"
    assert describe("calm") == 'text ("calm")'
    assert describe([1]) == "a list"
    assert describe({}) == "a table"
    assert describe(date(1979, 5, 27)) == "a date or time"


def test_join_suggest_and_one_line() -> None:
    assert join([]) == ""
    assert join(["a"]) == "a"
    assert join(["a", "b"]) == "a and b"
    assert join(["a", "b", "c"], "or") == "a, b or c"
    assert suggest("rian", ["rain", "ocean"]) == "rain"
    assert suggest("jungle", ["rain", "ocean"]) is None
    assert one_line("first\nsecond\r\nthird") == "first second third"
    assert one_line("") == "something is wrong here"
