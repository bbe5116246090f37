"""Compile a practice into a timeline, and answer "what is happening at frame N?".

Two stages keep streaming narration simple:

* `plan()` turns a practice into a flat list of items (sentences, silences, breath phases, bells).
  It needs no audio, so it is instant.
* `compile_timeline()` lays the items out in frames once clip lengths are known. It stops at the
  first sentence whose clip is not synthesized yet, so playback can start after the first line and
  the timeline simply grows as the narrator catches up.

`Timeline.state_at(frame)` is a pure function of the frame: the orb, captions, progress bar and tray
all ask it for the audio clock's position, and nothing counts timer ticks.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from coreg_desktop.constants import SAMPLE_RATE, SENTENCE_GAP_S, seconds_to_frames
from coreg_desktop.practice.model import Bell, Breathe, Cue, Memo, Pause, Phase, Practice, Say
from coreg_desktop.practice.text import fill, split_sentences

#: A breath before the next say step starts after a previous one ended.
STEP_GAP_S = 0.35
#: How long the bell step lasts; the bell itself rings on under the closing silence.
BELL_STEP_S = 5.0
#: Silence after the last step, so the bell and ambience can fade instead of stopping dead.
TAIL_S = 4.0
#: An orb with nothing to pace breathes slowly on its own.
IDLE_CYCLE_S = 10.0
#: Spoken cues must fit inside their phase with this much room to spare.
CUE_MARGIN_S = 0.25
#: Speaking speed assumed before a sentence is synthesized (and for captions without a voice):
#: Piper's voices at rate 1.0 speak about 3.0 words a second in these calm texts (measured over
#: every built-in practice by scripts/bench_library.py); a little under it, so a listed length
#: errs long by a few percent rather than promising less than it takes.
WORDS_PER_SECOND = 2.8
#: A short sentence still takes a moment to say and to read.
SPEECH_MIN_S = 0.3

#: Spoken breath cues. The first cycle is spoken in full; later cycles more briefly.
VOICE_CUES_FIRST: dict[Phase, str] = {
    Phase.INHALE: "Breathe in, slowly.",
    Phase.HOLD: "Hold, gently.",
    Phase.EXHALE: "And breathe out, all the way.",
    Phase.REST: "Rest.",
}
VOICE_CUES: dict[Phase, str] = {
    Phase.INHALE: "Breathe in.",
    Phase.HOLD: "Hold.",
    Phase.EXHALE: "And out.",
    Phase.REST: "Rest.",
}
PHASE_LABELS: dict[Phase, str] = {
    Phase.INHALE: "Breathe in",
    Phase.HOLD: "Hold",
    Phase.EXHALE: "Breathe out",
    Phase.REST: "Rest",
    Phase.IDLE: "",
}


# --------------------------------------------------------------------------------------- plan


def speech_seconds(text: str) -> float:
    """How long a sentence takes to say, before its clip exists (or when it never will)."""
    return max(1, len(text.split())) / WORDS_PER_SECOND + SPEECH_MIN_S


@dataclass(frozen=True)
class Speech:
    """One sentence; narration is synthesized per sentence so captions follow the voice exactly."""

    text: str  # the caption
    step: int
    gap_after: float  # seconds of silence after it (sentence gap, or the step's pause)
    spoken: str = ""  # what the voice says, when it differs from the caption

    @property
    def voice_text(self) -> str:
        return self.spoken or self.text

    @property
    def texts(self) -> tuple[str, ...]:
        return (self.voice_text,)

    def estimate(self) -> float:
        return speech_seconds(self.voice_text) + self.gap_after


@dataclass(frozen=True)
class Silence:
    seconds: float
    step: int

    texts: ClassVar[tuple[str, ...]] = ()

    def estimate(self) -> float:
        return self.seconds


@dataclass(frozen=True)
class BreathPhase:
    phase: Phase
    seconds: float
    cycle: int  # 1-based
    cycles: int
    cue: Cue
    cue_text: str | None  # what to say at the phase start when cue is VOICE
    step: int
    #: How full the lungs are at the phase's start and end (a pattern that breathes in twice);
    #: None: the usual (a breath in fills from empty, a breath out empties from full).
    fill: tuple[float, float] | None = None

    @property
    def texts(self) -> tuple[str, ...]:
        return (self.cue_text,) if self.cue_text else ()

    def estimate(self) -> float:
        return self.seconds


@dataclass(frozen=True)
class BellItem:
    step: int

    texts: ClassVar[tuple[str, ...]] = ()

    def estimate(self) -> float:
        return BELL_STEP_S


@dataclass(frozen=True)
class MemoClip:
    """A safe person's stored voice memo, as a practice plays it."""

    path: str
    seconds: float
    caption: str  # shown while it plays ("A message from Ana")

    @property
    def key(self) -> str:
        """Its name among the clips a session loads (narration texts never start so)."""
        return MEMO_KEY_PREFIX + self.path


MEMO_KEY_PREFIX = "\x00memo:"


@dataclass(frozen=True)
class MemoItem:
    memo: MemoClip
    step: int
    gap_after: float

    texts: ClassVar[tuple[str, ...]] = ()

    @property
    def key(self) -> str:
        return self.memo.key

    def estimate(self) -> float:
        return self.memo.seconds + self.gap_after


Item = Speech | Silence | BreathPhase | BellItem | MemoItem


def plan(
    practice: Practice,
    values: Mapping[str, str | None] | None = None,
    rate: float = 1.0,
    spoken_values: Mapping[str, str | None] | None = None,
    *,
    by_name: bool = True,
    memos: Sequence[MemoClip] = (),
) -> list[Item]:
    """Flatten a practice into timed items; `rate` stretches our own gaps as it does the voice.

    `values` fill the placeholders of captions, `spoken_values` (default: the same) those of
    what the voice says, so a name can be shown as written and said as it is pronounced. A
    line that can also speak to "you" does so when `by_name` is off or no name is given.
    `memos` are the safe person's voice memos in the order they take turns: each memo step
    plays the next one; with none, memo steps are left out.
    This is the one place that knows the kinds of step: everything after it works on items.
    """
    spoken_values = values if spoken_values is None else spoken_values
    named = by_name and bool(((values or {}).get("name") or "").strip())
    gap = SENTENCE_GAP_S / rate
    items: list[Item] = []
    played = 0
    for index, step in enumerate(practice.steps):
        if isinstance(step, Say):
            if step.you is not None and not named:
                shown, spoken = step.you, step.you
            else:
                shown, spoken = step.text, step.speak or step.text
            sentences = split_sentences(fill(shown, values))
            said = split_sentences(fill(spoken, spoken_values))
            if len(said) != len(sentences):
                # A respelled name with a full stop in it, say: keep voice and caption together
                # as one clip rather than pair the wrong sentences.
                sentences = [" ".join(sentences)] if sentences else []
                said = [" ".join(said)] if said else []
            for i, (sentence, spoken) in enumerate(zip(sentences, said, strict=True)):
                last = i == len(sentences) - 1
                after = (step.pause + STEP_GAP_S / rate) if last else gap
                items.append(Speech(sentence, index, after, spoken if spoken != sentence else ""))
            if not sentences and step.pause > 0:
                # Nothing left to say (a line that was only a placeholder): keep its quiet.
                items.append(Silence(step.pause, index))
        elif isinstance(step, Pause):
            items.append(Silence(step.seconds, index))
        elif isinstance(step, Breathe):
            items.extend(breaths(step, index))
        elif isinstance(step, Bell):
            items.append(BellItem(index))
        elif isinstance(step, Memo) and memos:
            memo = memos[played % len(memos)]
            played += 1
            items.append(MemoItem(memo, index, step.pause + STEP_GAP_S / rate))
    return items


def breaths(step: Breathe, index: int = 0) -> list[BreathPhase]:
    """A breathe step's phases, cycle by cycle: a practice's step and a pacer's pattern alike.

    The first cycle's spoken cues are the full ones; later cycles are briefer.
    """
    count = step.cycle_count
    phases = [
        (Phase.INHALE, step.inhale),
        (Phase.HOLD, step.hold),
        (Phase.EXHALE, step.exhale),
        (Phase.REST, step.hold_after),
    ]
    items: list[BreathPhase] = []
    for cycle in range(1, count + 1):
        cues = VOICE_CUES_FIRST if cycle == 1 else VOICE_CUES
        for phase, seconds in phases:
            if seconds <= 0:
                continue
            text = cues[phase] if step.cue is Cue.VOICE else None
            items.append(BreathPhase(phase, seconds, cycle, count, step.cue, text, index))
    return items


def speech_texts(items: Sequence[Item]) -> list[str]:
    """Every distinct text to synthesize, in the order it is first needed."""
    seen: dict[str, None] = {}
    for item in items:
        for text in item.texts:
            seen.setdefault(text, None)
    return list(seen)


def estimate_seconds(items: Sequence[Item]) -> float:
    """The one length estimate, before any clip exists: listings, progress bars, look-ahead."""
    return sum(item.estimate() for item in items) + TAIL_S


def practice_seconds(practice: Practice) -> float:
    """A practice's honest length, as listed, without synthesizing anything."""
    return estimate_seconds(plan(practice))


def practice_minutes(practice: Practice) -> float:
    return round(practice_seconds(practice) / 60.0, 1)


# ----------------------------------------------------------------------------------- timeline


@dataclass(frozen=True)
class Event:
    """A span of the timeline. Spans never overlap; together they tile [0, known_end)."""

    start: int
    end: int
    kind: str  # "speech" | "silence" | "breathe" | "bell" | "memo"
    step: int
    caption: str | None = None
    phase: Phase = Phase.IDLE
    cycle: int = 0
    cycles: int = 0
    fill: tuple[float, float] | None = None


@dataclass(frozen=True)
class Sound:
    """A sound the mixer must play: a narration clip, a cue tone, or the bell."""

    start: int
    bus: str  # "voice" | "tone" | "bell" | "memo"
    key: str  # narration text for voice; tone kind ("inhale"...) for tone; "bell"; a memo's key


@dataclass(frozen=True)
class State:
    """Everything a view needs to draw one moment of a practice."""

    t: float
    total: float
    step: int
    kind: str
    caption: str | None
    phase: Phase
    phase_label: str
    phase_progress: float  # 0..1 within the current phase (or idle cycle)
    phase_remaining: float  # seconds
    cycle: int
    cycles: int
    finished: bool
    fill: tuple[float, float] | None = None  # see BreathPhase.fill

    @property
    def remaining(self) -> float:
        return max(0.0, self.total - self.t)


@dataclass
class Timeline:
    events: list[Event] = field(default_factory=list)
    sounds: list[Sound] = field(default_factory=list)
    known_end: int = 0  # frames laid out so far
    complete: bool = False  # every item is laid out; `total` is final
    total: int = 0  # frames, including the tail; an estimate while incomplete
    _starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._starts = [e.start for e in self.events]

    @property
    def seconds(self) -> float:
        return self.total / SAMPLE_RATE

    def event_at(self, frame: int) -> Event | None:
        i = bisect.bisect_right(self._starts, frame) - 1
        if i < 0:
            return None
        event = self.events[i]
        return event if frame < event.end else None

    def caption_at(self, frame: int) -> str | None:
        """The sentence being spoken (or the memo playing), kept up through the pause after it."""
        i = bisect.bisect_right(self._starts, frame) - 1
        while i >= 0:
            event = self.events[i]
            if event.kind in ("speech", "memo"):
                return event.caption
            if event.kind != "silence":
                return None
            i -= 1
        return None

    def state_at(self, frame: int) -> State:
        frame = max(0, frame)
        t = frame / SAMPLE_RATE
        total = self.total / SAMPLE_RATE
        finished = self.complete and frame >= self.total
        event = self.event_at(frame)
        if event is not None and event.kind == "breathe":
            length = max(1, event.end - event.start)
            progress = (frame - event.start) / length
            return State(
                t=t,
                total=total,
                step=event.step,
                kind="breathe",
                caption=None,
                phase=event.phase,
                phase_label=PHASE_LABELS[event.phase],
                phase_progress=min(1.0, progress),
                phase_remaining=(event.end - frame) / SAMPLE_RATE,
                cycle=event.cycle,
                cycles=event.cycles,
                finished=finished,
                fill=event.fill,
            )
        idle = (t % IDLE_CYCLE_S) / IDLE_CYCLE_S
        return State(
            t=t,
            total=total,
            step=event.step if event else -1,
            kind=event.kind if event else ("end" if finished else "waiting"),
            caption=self.caption_at(frame),
            phase=Phase.IDLE,
            phase_label="",
            phase_progress=idle,
            phase_remaining=IDLE_CYCLE_S * (1.0 - idle),
            cycle=0,
            cycles=0,
            finished=finished,
        )


def compile_timeline(
    items: Sequence[Item],
    clip_frames: Callable[[str], int | None],
    voice_available: bool = True,
    ended: bool = True,
    total_hint_s: float | None = None,
) -> Timeline:
    """Lay items out in frames as far as clip lengths are known.

    `clip_frames(text)` returns a synthesized clip's length, None while it is still being made,
    or FAILED when it could not be made. Without a voice (or for a failed clip), speech still takes
    an estimated time so captions can be read, and spoken breath cues become tones.

    `ended` says that no items will follow these (a source of open length sets it only once it
    has ended); `total_hint_s` is the source's own idea of its whole length, for progress bars.
    """
    bell_frames = seconds_to_frames(BELL_STEP_S)
    events: list[Event] = []
    sounds: list[Sound] = []
    pos = 0
    complete = True
    for item in items:
        if isinstance(item, Speech):
            frames = clip_frames(item.voice_text) if voice_available else FAILED
            if frames is None:
                complete = False
                break
            if frames == FAILED:
                frames = seconds_to_frames(speech_seconds(item.text))
            else:
                sounds.append(Sound(pos, "voice", item.voice_text))
            events.append(Event(pos, pos + frames, "speech", item.step, caption=item.text))
            pos += frames
            gap = seconds_to_frames(item.gap_after)
            if gap > 0:
                events.append(Event(pos, pos + gap, "silence", item.step))
                pos += gap
        elif isinstance(item, Silence):
            frames = seconds_to_frames(item.seconds)
            if frames > 0:
                events.append(Event(pos, pos + frames, "silence", item.step))
                pos += frames
        elif isinstance(item, BreathPhase):
            frames = seconds_to_frames(item.seconds)
            sound = _breath_cue(item, clip_frames, voice_available, frames)
            if sound is _PENDING:
                complete = False
                break
            if sound is not None:
                bus, key = sound
                sounds.append(Sound(pos, bus, key))
            events.append(
                Event(
                    pos,
                    pos + frames,
                    "breathe",
                    item.step,
                    phase=item.phase,
                    cycle=item.cycle,
                    cycles=item.cycles,
                    fill=item.fill,
                )
            )
            pos += frames
        elif isinstance(item, MemoItem):
            frames = clip_frames(item.key)
            if frames is None:
                complete = False
                break
            if frames == FAILED:
                continue  # a memo that cannot be read is left out, as if there were none
            sounds.append(Sound(pos, "memo", item.key))
            events.append(Event(pos, pos + frames, "memo", item.step, caption=item.memo.caption))
            pos += frames
            gap = seconds_to_frames(item.gap_after)
            if gap > 0:
                events.append(Event(pos, pos + gap, "silence", item.step))
                pos += gap
        elif isinstance(item, BellItem):
            sounds.append(Sound(pos, "bell", "bell"))
            events.append(Event(pos, pos + bell_frames, "bell", item.step))
            pos += bell_frames
    complete = complete and ended
    tail = seconds_to_frames(TAIL_S)
    if complete:
        total = pos + tail
    else:
        estimate = max(estimate_seconds(items), total_hint_s or 0.0)
        total = max(pos + tail, seconds_to_frames(estimate))
    return Timeline(events, sounds, known_end=pos, complete=complete, total=total)


_PENDING = ("pending", "pending")
#: What `clip_frames` returns for a sentence that could not be synthesized.
FAILED = -1


def _breath_cue(
    item: BreathPhase,
    clip_frames: Callable[[str], int | None],
    voice_available: bool,
    phase_frames: int,
) -> tuple[str, str] | None:
    if item.cue is Cue.SILENT:
        return None
    if item.cue is Cue.VOICE and voice_available and item.cue_text:
        frames = clip_frames(item.cue_text)
        if frames is None:
            return _PENDING
        if frames != FAILED and frames + seconds_to_frames(CUE_MARGIN_S) <= phase_frames:
            return ("voice", item.cue_text)
        # A spoken cue longer than its phase would talk over the next one: a tone fits anywhere.
    return ("tone", item.phase.value)


def format_clock(seconds: float) -> str:
    seconds = max(0, math.ceil(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"
