"""What a person's name may be, and how it is tidied before anyone hears or sees it.

A name is typed once, often in a hard moment, and then spoken in a calm voice and shown on the
screen, cached on disk under a hash of the line, and written into settings.json. So a name is
letters (any script, with their accents), spaces, hyphens and apostrophes. Anything else (an
emoji, a line break, a quote or brace, a "$" or ";" a shell or TOML would read specially, a page
of text) is refused with one line saying what and where, rather than cleaned into something the
person did not write. What is cleaned is only what nobody means: spaces around and doubled, and
the Unicode form (a name pasted in decomposed form becomes the composed one, so "Zoë" is one
name, one cache key and one pronunciation, however it was typed).
"""

from __future__ import annotations

import re
import unicodedata

#: Names are spoken and shown; a respelling is about as long as the name.
NAME_MAX = 60
#: Apostrophes a name may hold ("O'Neill", "N’Golo", the Hawaiian ʻokina) and hyphens ("Mary-Jane").
APOSTROPHES = "'\u2019\u02bc\u02bb"
HYPHENS = "-\u2010\u2011"
ALLOWED_HELP = "a name can hold letters, spaces, hyphens and apostrophes"
_SPACES = re.compile(" {2,}")


def clean(text: str) -> str:
    """The name as stored: composed Unicode, single spaces, none at either end."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip(" ")


def _allowed(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] in "LM" or ch == " " or ch in APOSTROPHES or ch in HYPHENS


def _describe(ch: str) -> str:
    """One character, named so a person can find it (a line break has no visible form)."""
    category = unicodedata.category(ch)
    if ch in "\n\r\u2028\u2029":
        return "a line break"
    if ch == "\t":
        return "a tab"
    if category in ("Cc", "Cf", "Cs", "Co", "Cn"):
        return f"an invisible control character (U+{ord(ch):04X})"
    if category == "So" or 0x1F000 <= ord(ch) <= 0x1FAFF:
        return f"an emoji or symbol ({ch})"
    if category == "Nd":
        return f'a digit ("{ch}")'
    if ch.isspace():
        return f"an unusual space (U+{ord(ch):04X})"
    return f'"{ch}"'


def problem(text: str, max_length: int = NAME_MAX) -> str | None:
    """What is wrong with a (cleaned) name, as a phrase to follow it; None when it is fine."""
    for ch in text:
        if not _allowed(ch):
            return f"has {_describe(ch)}; {ALLOWED_HELP}"
    if len(text) > max_length:
        return f"is {len(text)} characters long; use at most {max_length} characters"
    if text and not any(unicodedata.category(c)[0] == "L" for c in text):
        return f"has no letters; {ALLOWED_HELP}"
    return None
