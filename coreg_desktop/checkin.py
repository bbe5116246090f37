"""The check-in before and after a practice: its words, its parsing, and the gentle suggestion.

The scale is SUDS (subjective units of distress), as used in therapy: one question, 0 to 10, with
three anchors in plain words, and an optional word for the state. Everything here is plain
Python (no Qt), so the terminal and the window ask the same question in the same words, and show
the change the same way: as a fact ("from 7 to 4"), never as a score, a grade or a judgement.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from coreg_desktop.history import RATING_RANGE, STATES, BadCheckIn, check_rating, check_state

QUESTION = "How activated do you feel right now?"
#: The labelled points of the scale.
ANCHORS: dict[int, str] = {0: "calm, settled", 5: "on edge", 10: "as bad as it gets"}
STATE_QUESTION = "If a word fits, which one?"
LOW, HIGH = RATING_RANGE
#: From this rating up, the suggestion is the practice for panic and overwhelm.
HIGH_ACTIVATION = 6

STAY_SAFE = "stay-safe"
ORIENTING = "orienting"
SAFE_PERSON = "safe-person"
SELF_COMPASSION = "self-compassion"
QUICK_RESET = "quick-reset"

__all__ = ["STATES", "BadCheckIn", "CheckIn", "Suggestion", "check_rating", "check_state"]


@dataclass(frozen=True)
class CheckIn:
    """What the listener said before a practice: a rating, a state word, either or neither."""

    before: int | None = None
    state: str | None = None

    def __post_init__(self) -> None:
        check_rating(self.before, "before")
        check_state(self.state)


@dataclass(frozen=True)
class Suggestion:
    practice_id: str
    why: str  # one plain, gentle line


def scale_hint() -> str:
    """The anchors on one line: "0 calm, settled · 5 on edge · 10 as bad as it gets"."""
    return " · ".join(f"{value} {words}" for value, words in ANCHORS.items())


def parse_rating(text: str) -> int:
    """A rating typed by the listener ("7", " 7 "); BadCheckIn with one line otherwise."""
    cleaned = text.strip()
    if not cleaned.isdigit() or not cleaned.isascii():
        shown = cleaned if len(cleaned) <= 20 else cleaned[:19] + "…"
        raise BadCheckIn(f'"{shown}" is not a number; use a whole number from {LOW} to {HIGH}')
    value = int(cleaned)
    if not LOW <= value <= HIGH:
        raise BadCheckIn(f"{value} is outside the scale; use a whole number from {LOW} to {HIGH}")
    return value


def parse_state(text: str) -> str:
    """A state word as typed ("on-edge", "Shut down"); BadCheckIn with the choices otherwise."""
    cleaned = " ".join(text.strip().lower().replace("-", " ").replace("_", " ").split())
    if cleaned in STATES:
        return cleaned
    choices = ", ".join(f'"{s}"' for s in STATES)
    raise BadCheckIn(f'"{text.strip()}" is not one of the words; use {choices}')


def describe_change(before: int, after: int) -> str:
    """The change, as it is: "from 7 to 4", or "still 5". No score, no praise, no blame."""
    if before == after:
        return f"still {after}"
    return f"from {before} to {after}"


def suggest(
    before: int | None, state: str | None, available: Collection[str]
) -> Suggestion | None:
    """A practice that may fit how the listener feels, and why, in one line; None without a
    fitting practice or an answer. It only suggests: the library stays as it is."""
    if state in ("on edge", "overwhelmed") or (before is not None and before >= HIGH_ACTIVATION):
        if STAY_SAFE in available:
            return Suggestion(STAY_SAFE, "When everything feels loud, finding solid ground "
                              "comes first.")
        return None
    if state == "shut down":
        if ORIENTING in available:
            return Suggestion(ORIENTING, "Gently noticing the room around you can help you "
                              "come back, at your own pace.")
        if QUICK_RESET in available:
            return Suggestion(QUICK_RESET, "Something short and simple can help you come back, "
                              "a little at a time.")
        return None
    if state == "settled" or (before is not None and before <= 2):
        for practice_id, why in (
            (SAFE_PERSON, "A settled moment is a good time to spend with someone who feels safe."),
            (SELF_COMPASSION, "A settled moment is a good time for a few kind words to yourself."),
        ):
            if practice_id in available:
                return Suggestion(practice_id, why)
    return None
