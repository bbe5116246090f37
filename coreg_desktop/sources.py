"""Program sources: what a session plays, handed over a little at a time.

A session does not care whether it plays a composed practice, a breathing pacer, a "breathe with
me" that follows the listener's taps, or a memo step: it asks its source for the next items (the
timeline's sentences, silences, breath phases and bells) whenever what is laid out runs short, and
the mixer only ever sees finished sounds. So a new kind of session is a new source, and neither
the session nor the mixer's callback changes.

The protocol is deliberately small:

* ``next_items()`` returns a `Chunk`: more items to append (none, for a source that waits for
  input) and whether they are the last. A composed practice returns all of itself at once; a pacer
  hands out a minute at a time; an open-ended source may never end, and then only the listener
  stops it.
* ``estimated_seconds()`` is its whole length for progress bars, or None for open length.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from coreg_desktop.practice.model import Cue, Phase, Practice
from coreg_desktop.practice.timeline import (
    BELL_STEP_S,
    TAIL_S,
    VOICE_CUES,
    VOICE_CUES_FIRST,
    BellItem,
    BreathPhase,
    Item,
    estimate_seconds,
    plan,
)


@dataclass(frozen=True)
class Chunk:
    items: Sequence[Item] = ()
    last: bool = False  # nothing follows these items


class ProgramSource(Protocol):
    @property
    def id(self) -> str:
        """Names it in events and history (a practice's id, or "pacer:<pattern>")."""
        ...

    @property
    def title(self) -> str: ...

    @property
    def ambience(self) -> str:
        """Its own soundscape ("none" for silence); the listener's choice overrides it."""
        ...

    def next_items(self) -> Chunk: ...

    def estimated_seconds(self) -> float | None: ...


class PracticeSource:
    """A composed practice from a practice file: all of it, planned at once."""

    def __init__(
        self,
        practice: Practice,
        values: Mapping[str, str | None] | None = None,
        rate: float = 1.0,
    ) -> None:
        self.practice = practice
        self._items = plan(practice, values, rate)
        self._given = False

    @property
    def id(self) -> str:
        return self.practice.id

    @property
    def title(self) -> str:
        return self.practice.title

    @property
    def ambience(self) -> str:
        return self.practice.ambience

    @property
    def items(self) -> list[Item]:
        """Everything it will play (a practice is known in full before it starts)."""
        return list(self._items)

    def next_items(self) -> Chunk:
        if self._given:
            return Chunk(last=True)
        self._given = True
        return Chunk(self._items, last=True)

    def estimated_seconds(self) -> float | None:
        return estimate_seconds(self._items)


@dataclass(frozen=True)
class BreathPattern:
    """One breath, as seconds per phase; a pacer repeats it."""

    id: str
    title: str
    inhale: float
    exhale: float
    hold: float = 0.0
    hold_after: float = 0.0

    @property
    def cycle_seconds(self) -> float:
        return self.inhale + self.hold + self.exhale + self.hold_after

    def phases(self) -> list[tuple[Phase, float]]:
        return [
            (phase, seconds)
            for phase, seconds in (
                (Phase.INHALE, self.inhale),
                (Phase.HOLD, self.hold),
                (Phase.EXHALE, self.exhale),
                (Phase.REST, self.hold_after),
            )
            if seconds > 0
        ]


class PacerSource:
    """A breathing pacer: one pattern repeated for a number of minutes, cued by soft tones.

    It hands out about a minute of breaths at a time, so a pacer of any length costs the same to
    start, and it closes with the bell.
    """

    CHUNK_S = 60.0

    def __init__(
        self,
        pattern: BreathPattern,
        minutes: float,
        cue: Cue = Cue.TONE,
        ambience: str = "none",
    ) -> None:
        if pattern.cycle_seconds <= 0:
            raise ValueError(f"pattern {pattern.id!r} has no length")
        self.pattern = pattern
        self.cue = cue
        self._ambience = ambience
        self.cycles = max(1, round(minutes * 60.0 / pattern.cycle_seconds))
        self._next_cycle = 1
        self._ended = False

    @property
    def id(self) -> str:
        return f"pacer:{self.pattern.id}"

    @property
    def title(self) -> str:
        return self.pattern.title

    @property
    def ambience(self) -> str:
        return self._ambience

    def next_items(self) -> Chunk:
        if self._ended:
            return Chunk(last=True)
        per_chunk = max(1, round(self.CHUNK_S / self.pattern.cycle_seconds))
        last = min(self.cycles, self._next_cycle + per_chunk - 1)
        items: list[Item] = []
        for cycle in range(self._next_cycle, last + 1):
            cues = VOICE_CUES_FIRST if cycle == 1 else VOICE_CUES
            for phase, seconds in self.pattern.phases():
                text = cues[phase] if self.cue is Cue.VOICE else None
                items.append(BreathPhase(phase, seconds, cycle, self.cycles, self.cue, text, 0))
        self._next_cycle = last + 1
        if self._next_cycle > self.cycles:
            items.append(BellItem(1))
            self._ended = True
        return Chunk(items, last=self._ended)

    def estimated_seconds(self) -> float | None:
        return self.cycles * self.pattern.cycle_seconds + BELL_STEP_S + TAIL_S
