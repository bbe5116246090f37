"""Placeholder filling for spoken text.

A practice says "It's okay, {name}." Most people never set a name, so an unset placeholder must
vanish without leaving a stray comma or a lower-case sentence start behind. A placeholder may carry
its own fallback after a bar: "{safe_person|someone you trust}".
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from coreg_desktop.constants import PLACEHOLDERS

#: Used when a placeholder is unset and the text gives no fallback of its own.
#: An empty fallback means "remove it, and tidy the punctuation around it".
DEFAULT_FALLBACKS: dict[str, str] = {
    "name": "",
    "safe_person": "someone who feels safe to you",
    # The safe person's relationship said to the listener ("your grandmother"); unset, it
    # goes, with the comma before it: "Ana, your grandmother." -> "Ana."
    "relationship": "",
}

PLACEHOLDER_RE = re.compile(r"\{([^{}|]*)(?:\|([^{}]*))?\}")


def placeholders_in(text: str) -> list[tuple[str, int]]:
    """Every placeholder name in `text` with its offset, so the loader can point at bad ones."""
    return [(m.group(1).strip(), m.start()) for m in PLACEHOLDER_RE.finditer(text)]


def unknown_placeholders(text: str) -> list[str]:
    return [name for name, _ in placeholders_in(text) if name not in PLACEHOLDERS]


def fill(text: str, values: Mapping[str, str | None] | None = None) -> str:
    """Substitute placeholders, then tidy what an empty substitution left behind."""
    values = values or {}

    def sub(match: re.Match[str]) -> str:
        key = match.group(1).strip()
        value = (values.get(key) or "").strip()
        if value:
            return value
        if match.group(2) is not None:
            return match.group(2).strip()
        return DEFAULT_FALLBACKS.get(key, "")

    filled = PLACEHOLDER_RE.sub(sub, text)
    return tidy(filled)


def tidy(text: str) -> str:
    """Repair the punctuation an empty placeholder leaves: ", ." / "Hello ,"/ leading commas."""
    out = re.sub(r"[ \t]+", " ", text)
    out = re.sub(r"\s*,\s*([.!?;:])", r"\1", out)  # "okay, ." -> "okay."
    # A sentence starting with a comma; before the next rule, which would glue "Good. ," into
    # "Good.," and hide the sentence start.
    out = re.sub(r"(^|[.!?]\s+)(?:,\s*)+", r"\1", out)
    out = re.sub(r"\s+([,.!?;:])", r"\1", out)  # "okay ," -> "okay,"
    out = re.sub(r",(\s*,)+", ",", out)  # ",," -> ","
    out = re.sub(r",\s*$", "", out)  # "well done, {name}" -> "well done"
    out = out.strip()
    # Re-capitalise sentence starts that lost their first word (any script, not only a-z).
    out = re.sub(r"(^|[.!?]\s+)([^\W\d_])", lambda m: m.group(1) + m.group(2).upper(), out)
    return out


#: A sentence ends at terminators followed by space or the end, so "4.5 seconds" stays whole.
_SENTENCE_END_RE = re.compile(r"[.!?…]+[\"'”’)]*(?=\s|$)")


def split_sentences(text: str) -> list[str]:
    """Sentences in speaking order; the narrator puts a breath of silence between them."""
    parts: list[str] = []
    start = 0
    for m in _SENTENCE_END_RE.finditer(text):
        parts.append(text[start : m.end()].strip())
        start = m.end()
    parts.append(text[start:].strip())
    return [p for p in parts if p and re.search(r"\w", p)]
