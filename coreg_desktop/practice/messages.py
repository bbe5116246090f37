"""The wording of problem messages: how user values and choices are put into one plain line.

Practice files are written by hand, often by people who have never seen TOML and who may be
having a hard day, so a message names what was written in everyday words ("a whole number (3)",
not `int`), suggests the likely intended word, and can never be broken over several lines or
made unreadable by what the author typed.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Sequence


def quote(text: str, limit: int = 40) -> str:
    """Quote user text for a one-line message: short, and with invisible characters spelled out."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    out = []
    for ch in text:
        if ch.isprintable():
            out.append('\\"' if ch == '"' else ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def number_text(value: int | float) -> str:
    """A number as the author would write it: 4 rather than 4.0, and never 5,000 digits."""
    if isinstance(value, int) and abs(value) >= 10**15:
        return "a very large number"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
    return str(value)


def seconds_text(value: float) -> str:
    return "1 second" if value == 1 else f"{number_text(value)} seconds"


def describe(value: object) -> str:
    """Name the type the author wrote, in words rather than Python's."""
    if isinstance(value, bool):
        return f"a true/false value ({'true' if value else 'false'})"
    if isinstance(value, int):
        return f"a whole number ({number_text(value)})"
    if isinstance(value, float):
        return f"a number ({number_text(value)})"
    if isinstance(value, str):
        return f"text ({quote(value)})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return "a date or time"


def join(words: Sequence[str], last: str = "and") -> str:
    """Words as "a, b and c" (or "a, b or c"), for listing the keys or values allowed."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` was most likely a typo of, if any is close enough to be worth saying."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def one_line(message: str) -> str:
    """Keep `path:line: message` on one line, as editors and terminals expect to link it."""
    return " ".join(message.splitlines()) or "something is wrong here"
