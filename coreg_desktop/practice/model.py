"""The practice model: frozen dataclasses that the loader produces and the timeline consumes.

Steps are deliberately few and plain (say, pause, breathe, bell, memo) so that a practice is a
file a non-programmer can write, and so that every layer below can be tested with hand-made
practices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path


class Cue(str, Enum):
    """How a breathing phase change is signalled."""

    VOICE = "voice"
    TONE = "tone"
    SILENT = "silent"


class Phase(str, Enum):
    """What the body is asked to do right now; the orb and captions read this."""

    INHALE = "inhale"
    HOLD = "hold"
    EXHALE = "exhale"
    REST = "rest"  # the hold after an exhale
    IDLE = "idle"  # not a breathing step: the orb breathes slowly on its own


@dataclass(frozen=True)
class Say:
    text: str  # what the caption shows
    pause: float = 0.0  # silence after the spoken text, seconds
    line: int = 0
    #: What the voice says instead, sentence for sentence, where the engine would otherwise say
    #: a word wrongly ("Sheer-sha" for Saoirse, "four, and out for six" for a rhythm); None:
    #: the voice says `text`. The caption always shows `text`.
    speak: str | None = None
    #: The line as said to "you" instead of by name, for a listener who chose that (or gave no
    #: name): "This is really hard for you right now." for "{name}, this is really hard right
    #: now." None: the line is the same either way.
    you: str | None = None


@dataclass(frozen=True)
class Pause:
    seconds: float
    line: int = 0


@dataclass(frozen=True)
class Breathe:
    inhale: float
    exhale: float
    hold: float = 0.0
    hold_after: float = 0.0
    cycles: int | None = None
    seconds: float | None = None
    cue: Cue = Cue.VOICE
    line: int = 0

    @property
    def cycle_seconds(self) -> float:
        return self.inhale + self.hold + self.exhale + self.hold_after

    @property
    def cycle_count(self) -> int:
        """`seconds` rounds to whole cycles, because stopping mid-breath feels abrupt."""
        if self.cycles is not None:
            return self.cycles
        assert self.seconds is not None
        return max(1, round(self.seconds / self.cycle_seconds))


@dataclass(frozen=True)
class Bell:
    line: int = 0


@dataclass(frozen=True)
class Memo:
    """Play a voice memo of the listener's safe person (they take turns, when there are
    several). With no memo the step is left out, pause and all, so the line before it must
    read naturally either way."""

    pause: float = 0.0  # quiet after the memo, only when one plays
    line: int = 0


Step = Say | Pause | Breathe | Bell | Memo


@dataclass(frozen=True)
class Practice:
    id: str
    title: str
    summary: str = ""
    tags: tuple[str, ...] = ()
    ambience: str = "none"
    steps: tuple[Step, ...] = ()
    source: Path | None = field(default=None, compare=False)
    builtin: bool = field(default=False, compare=False)
