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
* ``attach(wake)`` is called once, before the first ``next_items()``. A source that waits for
  input calls ``wake()`` when it has more, and is asked again at once.

A source that follows the listener (`FollowsTaps`, such as "Breathe with Me") also takes taps,
each timestamped with the heard position, is told where its items really ended once every clip
is known, and asks to be asked for more only a few seconds ahead, so a tap is heard soon.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from coreg_desktop.constants import SAMPLE_RATE, seconds_to_frames
from coreg_desktop.practice.model import Cue, Phase, Practice
from coreg_desktop.practice.patterns import BreathPattern
from coreg_desktop.practice.timeline import (
    BELL_STEP_S,
    TAIL_S,
    BellItem,
    BreathPhase,
    Item,
    MemoClip,
    Silence,
    estimate_seconds,
    plan,
)

Wake = Callable[[], None]
SpokenSeconds = Callable[[str], float | None]


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

    def attach(self, wake: Wake) -> None: ...

    def next_items(self) -> Chunk: ...

    def estimated_seconds(self) -> float | None: ...


@runtime_checkable
class FollowsTaps(Protocol):
    #: Ask for more this many seconds before what is laid out runs out (instead of the
    #: session's usual half a minute).
    lookahead_s: float

    def tap(self, at_s: float) -> bool:
        """A tap heard at program second `at_s`; False if it was ignored."""
        ...

    def tap_status(self) -> str:
        """A few plain words on the taps so far ("2 of 4 taps"), or ""."""
        ...

    @property
    def items(self) -> list[Item]:
        """Every line it may say, so they can be made ahead of time."""
        ...

    def placed(self, end_s: float, spoken_s: SpokenSeconds | None = None) -> None:
        """The items handed out so far end at program second `end_s` (their spoken lines'
        lengths were only estimates when they were handed out); `spoken_s(text)` is how long a
        line already made takes to say, None for one not made yet."""
        ...


class PracticeSource:
    """A composed practice from a practice file: all of it, planned at once."""

    def __init__(
        self,
        practice: Practice,
        values: Mapping[str, str | None] | None = None,
        rate: float = 1.0,
        spoken_values: Mapping[str, str | None] | None = None,
        *,
        by_name: bool = True,
        memos: Sequence[MemoClip] = (),
    ) -> None:
        self.practice = practice
        self._items = plan(practice, values, rate, spoken_values, by_name=by_name, memos=memos)
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

    def attach(self, wake: Wake) -> None:
        """A practice never waits for input."""

    def next_items(self) -> Chunk:
        if self._given:
            return Chunk(last=True)
        self._given = True
        return Chunk(self._items, last=True)

    def estimated_seconds(self) -> float | None:
        return estimate_seconds(self._items)


#: Short spoken cues for a pacer: a word at each phase, never a sentence to wait for.
PACER_WORDS: dict[Phase, str] = {
    Phase.INHALE: "In.",
    Phase.HOLD: "Hold.",
    Phase.EXHALE: "Out.",
    Phase.REST: "Rest.",
}
PACER_MINUTES_RANGE = (1.0, 180.0)


def check_pacer_minutes(minutes: float) -> float:
    lo, hi = PACER_MINUTES_RANGE
    if not math.isfinite(minutes) or not lo <= minutes <= hi:
        raise ValueError(f"--minutes {minutes:g} is out of range for the pacer; use {lo:g} to "
                         f"{hi:g}")
    return float(minutes)


class PacerSource:
    """A breathing pacer: one pattern repeated, cued by soft tones (or a spoken word, or nothing).

    `minutes` is the whole length, bell and tail included: as many whole breaths as fit, then a
    quiet moment and the bell, so a file or session is exactly as long as asked for. It hands
    out about a minute of breaths at a time (a session asks for more as it plays), so a pacer of
    any length costs the same to start.
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
        self.minutes = float(minutes)
        self._ambience = ambience
        whole = seconds_to_frames(self.minutes * 60.0)
        around = seconds_to_frames(BELL_STEP_S) + seconds_to_frames(TAIL_S)
        cycle = sum(seconds_to_frames(p.seconds) for p in pattern.phases)
        self.cycles = max(1, (whole - around) // cycle)
        rest = max(0, whole - around - self.cycles * cycle)
        self._per_cycle = len(pattern.phases)
        self._items: list[Item] = [*self._breaths(cue)]
        if rest:
            self._items.append(Silence(rest / SAMPLE_RATE, 0))
        self._items.append(BellItem(0))
        self._given = 0

    def _breaths(self, cue: Cue) -> list[BreathPhase]:
        items = []
        for cycle in range(1, self.cycles + 1):
            for phase in self.pattern.phases:
                text = PACER_WORDS[phase.phase] if cue is Cue.VOICE else None
                items.append(BreathPhase(phase.phase, phase.seconds, cycle, self.cycles, cue,
                                         text, 0, phase.fill))
        return items

    @property
    def id(self) -> str:
        return f"pacer:{self.pattern.id}"

    @property
    def title(self) -> str:
        return self.pattern.title

    @property
    def ambience(self) -> str:
        return self._ambience

    @property
    def items(self) -> list[Item]:
        return list(self._items)

    def attach(self, wake: Wake) -> None:
        """A pacer knows every breath in advance; it never waits for input."""

    def next_items(self) -> Chunk:
        per_chunk = max(1, round(self.CHUNK_S / self.pattern.cycle_seconds)) * self._per_cycle
        start = self._given
        end = min(len(self._items), start + per_chunk)
        if len(self._items) - end <= 2:
            end = len(self._items)  # the quiet moment and the bell go with the last breaths
        self._given = end
        return Chunk(self._items[start:end], last=end == len(self._items))

    def estimated_seconds(self) -> float | None:
        return estimate_seconds(self._items)


class SleepTail:
    """A composed practice (or the pacer) whose soundscape keeps looping after its end while a
    sleep timer runs.

    It hands out the practice as it is, but not as the last chunk: when the session asks for more
    (half a minute before the end), a running timer gets another half minute of quiet, over
    which the soundscape goes on; no timer, and the practice ends as it always does. So a timer
    set in the middle of a practice still keeps the sound going, and the timer's own fade ends it.
    """

    TAIL_CHUNK_S = 30.0

    def __init__(self, inner: PracticeSource | PacerSource,
                 keep_going: Callable[[], bool]) -> None:
        self.inner = inner
        self._keep_going = keep_going
        self._inner_done = False
        self._last_step = 0
        #: The practice itself has been played out: only its soundscape goes on (so the timer's
        #: end is the practice's completion, not a stop).
        self.in_tail = False

    @property
    def id(self) -> str:
        return self.inner.id

    @property
    def title(self) -> str:
        return self.inner.title

    @property
    def ambience(self) -> str:
        return self.inner.ambience

    @property
    def items(self) -> list[Item]:
        return self.inner.items

    def attach(self, wake: Wake) -> None:
        self.inner.attach(wake)

    def next_items(self) -> Chunk:
        if not self._inner_done:
            chunk = self.inner.next_items()
            self._inner_done = chunk.last
            if chunk.items:
                self._last_step = chunk.items[-1].step
            return Chunk(chunk.items, last=False)
        if self._keep_going():
            self.in_tail = True
            return Chunk((Silence(self.TAIL_CHUNK_S, self._last_step),), last=False)
        return Chunk((), last=True)

    def estimated_seconds(self) -> float | None:
        return self.inner.estimated_seconds()
