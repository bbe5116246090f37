"""One session: a program source being played through the shared mixer, and what it announces.

The session never counts time itself. Its position is the mixer's heard position (the program
frame reaching the listener's ears, via the output's latency), and its state is the timeline's
`state_at` that position.

Streaming: the source's first items are planned at once and the program is loaded with the
playhead held until the first sentence's clip exists. A narration worker synthesizes the rest in
order of need (and asks the source for more when what is laid out runs short), swapping in a
longer program after each clip; so playback starts after one short line, not after the whole
practice, and a source of open length simply keeps growing.

Events: a monitor thread sleeps until the next moment the timeline changes (the next span
boundary, computed from the audio clock) and announces the new phase, and the end once it has
been heard. Controls announce pause, resume and stop as they happen. `Ended` comes exactly once,
whatever ends the session.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeAlias

import numpy as np

from coreg_desktop import priority
from coreg_desktop.audio.bank import SoundBank
from coreg_desktop.audio.mixer import BUS_CUE, BUS_VOICE, Mixer, Program, Scheduled, Transport
from coreg_desktop.constants import SAMPLE_RATE, seconds_to_frames
from coreg_desktop.events import (
    Ended,
    EndReason,
    Event,
    PhaseChanged,
    PlayState,
    PlayStateChanged,
    Started,
)
from coreg_desktop.exit_guard import exiting
from coreg_desktop.practice.timeline import (
    FAILED,
    TAIL_S,
    Item,
    MemoClip,
    MemoItem,
    State,
    Timeline,
    compile_timeline,
    estimate_seconds,
    speech_texts,
)
from coreg_desktop.sources import FollowsTaps, ProgramSource
from coreg_desktop.tts.base import SynthesisError
from coreg_desktop.tts.narrator import Narrator

log = logging.getLogger(__name__)

#: Longest an uncached ambience waits for the first sentence before it is made anyway.
FIRST_WORDS_WAIT_S = 5.0
#: A source of open length is asked for more while less than this lies ahead of the playhead.
LOOKAHEAD_S = 30.0
#: The end counts as heard this close to the last frame (the tail is silence anyway).
END_SLACK_FRAMES = SAMPLE_RATE // 20
#: The monitor never sleeps longer than this while playing: a guard against an audio clock that
#: runs a little slower than the wall clock it is estimated by, not a poll.
MONITOR_MAX_WAIT_S = 2.0
#: Nor shorter than this, so a boundary reached a hair late never spins.
MONITOR_MIN_WAIT_S = 0.005
#: Bounds a source that claims to be finite but never ends, when rendering to a file.
RENDER_MAX_CHUNKS = 10_000

Emit: TypeAlias = Callable[[Event], None]


class Composer:
    """Turns a source's items plus whatever clips exist into a timeline and a mixer program.

    Shared by live playback and offline rendering, which is why the two produce the same samples.
    """

    def __init__(
        self,
        source: ProgramSource,
        narrator: Narrator,
        bank: SoundBank,
        ambience: str | None = None,
    ) -> None:
        self.source = source
        self.narrator = narrator
        self.bank = bank
        self.items: list[Item] = []
        self.ended = False  # the source has no more items
        self._texts: dict[str, None] = {}
        self._needs: dict[str, None] = {}  # texts and memos, first needed first
        self._memos: dict[str, MemoClip] = {}
        self.clips: dict[str, np.ndarray | None] = {}  # None: synthesis (or reading) failed
        self.ambience_id = ambience or source.ambience
        self.ambience: np.ndarray | None = None
        self.ambience_start = 0

    @property
    def texts(self) -> list[str]:
        """Every distinct text to voice so far, in the order it is first needed."""
        return list(self._texts)

    def pending_texts(self) -> list[str]:
        """The narration that still needs a clip, first needed first."""
        return [t for t in self._texts if t not in self.clips]

    def pending_work(self) -> list[str]:
        """Every clip still to make or read (narration, memos), first needed first: the
        narration worker's queue. `prepare` makes one."""
        return [k for k in self._needs if k not in self.clips]

    def prepare(self, key: str) -> None:
        memo = self._memos.get(key)
        if memo is None:
            self.synthesize(key)
        else:
            self.read_memo(memo)

    def read_memo(self, memo: MemoClip) -> None:
        """A memo is read from its file when it is needed; one that is gone or damaged is left
        out of the practice (with a line in the log), never a reason to stop."""
        from coreg_desktop.audio.decode import DecodeError
        from coreg_desktop.audio.memo import load

        try:
            self.clips[memo.key] = load(Path(memo.path))
        except DecodeError as exc:
            if not exiting():
                log.warning("Could not play the memo %s (%s); leaving it out.", memo.path, exc)
            self.clips[memo.key] = None

    def extend(self) -> bool:
        """Ask the source for more; True if anything changed."""
        if self.ended:
            return False
        if isinstance(self.source, FollowsTaps) and self.items and not self.pending_texts():
            laid_out = compile_timeline(self.items, self._frames, self.narrator.available,
                                        ended=False).known_end
            self.source.placed(laid_out / SAMPLE_RATE, self._spoken_seconds)
        chunk = self.source.next_items()
        for item in chunk.items:
            self.items.append(item)
            for text in item.texts:
                self._texts.setdefault(text, None)
                self._needs.setdefault(text, None)
            if isinstance(item, MemoItem):
                self._memos[item.key] = item.memo
                self._needs.setdefault(item.key, None)
        self.ended = chunk.last
        return bool(chunk.items) or chunk.last

    def planned_seconds(self) -> float:
        """How long the items given so far take, tail excluded (more may follow them)."""
        return estimate_seconds(self.items) - TAIL_S

    def synthesize(self, text: str) -> None:
        if not self.narrator.available:
            self.clips[text] = None  # captions and tones, as the listener was told once
            return
        try:
            self.clips[text] = self.narrator.clip(text)
        except SynthesisError as exc:
            if not exiting():  # quitting mid-practice is not a problem worth a line
                log.warning("Could not voice %r: %s; showing it as a caption only.", text, exc)
            self.clips[text] = None

    def _spoken_seconds(self, text: str) -> float | None:
        clip = self.clips.get(text)
        return None if clip is None else len(clip) / SAMPLE_RATE

    def _frames(self, text: str) -> int | None:
        if text not in self.clips:
            return None
        clip = self.clips[text]
        return FAILED if clip is None else len(clip)

    def compose(self) -> tuple[Timeline, Program]:
        timeline = compile_timeline(
            self.items,
            self._frames,
            self.narrator.available,
            ended=self.ended,
            total_hint_s=self.source.estimated_seconds(),
        )
        sounds: list[Scheduled] = []
        for sound in timeline.sounds:
            if sound.bus in ("voice", "memo"):  # a memo ducks the ambience as the voice does
                clip = self.clips.get(sound.key)
                if clip is not None:
                    sounds.append(Scheduled(sound.start, clip, BUS_VOICE))
            else:
                sounds.append(Scheduled(sound.start, self.bank.cue(sound.key), BUS_CUE))
        end = timeline.total if timeline.complete else None
        program = Program.build(
            sounds, self.ambience, timeline.known_end, end, ambience_start=self.ambience_start
        )
        return timeline, program


def render_source(
    source: ProgramSource,
    narrator: Narrator,
    bank: SoundBank,
    ambience: str | None = None,
    voice_gain: float = 1.0,
    ambience_gain: float = 1.0,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """The whole program as (frames, 2) float32: exactly what `play` plays, sample for sample,
    when the player's volumes are `voice_gain` and `ambience_gain`.

    `progress` hears the fraction done (the voice is most of the time: 0 to 0.85 as lines are
    made, then the soundscape and the mix); an exception it raises cancels the render, which is
    how an export dialog's Cancel button stops it between two lines.
    """
    if source.estimated_seconds() is None:
        raise ValueError(f"{source.id} has no end, so it cannot be written to a file")
    report = progress or (lambda _fraction: None)
    report(0.0)
    composer = Composer(source, narrator, bank, ambience)
    if isinstance(source, FollowsTaps):
        # Its lines first, so it knows how long they really take and ends when it should.
        for text in speech_texts(source.items):
            composer.synthesize(text)
    for _ in range(RENDER_MAX_CHUNKS):
        for text in composer.pending_texts():  # so a source that follows is placed exactly
            composer.synthesize(text)
        composer.extend()
        if composer.ended:
            break
    else:
        raise ValueError(f"{source.id} did not end")
    work = composer.pending_work()
    for done, key in enumerate(work, 1):
        composer.prepare(key)
        report(0.85 * done / len(work))
    composer.ambience = bank.ambience(composer.ambience_id)
    report(0.95)
    _, program = composer.compose()
    audio = Mixer(voice_gain, ambience_gain).render_program(program)
    report(1.0)
    return audio


class Session:
    """Plays one program source through a shared mixer, and announces what happens.

    It needs only the output's latency (to know what is being heard), asked for lazily, so a
    session can be loaded before the stream has finished opening and its first block is the voice.
    """

    def __init__(
        self,
        source: ProgramSource,
        narrator: Narrator,
        bank: SoundBank,
        mixer: Mixer,
        latency_frames: Callable[[], int],
        ambience: str | None = None,
        emit: Emit | None = None,
        number: int = 0,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        self.source = source
        self.number = number
        self.mixer = mixer
        self._latency_frames = latency_frames
        self._composer = Composer(source, narrator, bank, ambience)
        self._emit = emit or (lambda _event: None)
        self._on_notice = on_notice
        self._stop = threading.Event()
        self._first_words = threading.Event()  # the first sentence is in the mixer (or none)
        self._narrated = threading.Event()  # the narration worker has nothing more to do
        self._lock = threading.Lock()  # worker threads only; the audio thread never takes it
        self._wake = threading.Condition(threading.Lock())  # monitor and worker wake-ups
        self._extend_wanted = False
        self._token = 0  # the mixer's token for this session's program
        self._play_state = PlayState.PLAYING
        self._ended = False
        self.end_reason: EndReason | None = None
        self.heard_seconds = 0.0  # final once ended
        self.timeline: Timeline = compile_timeline([], lambda _t: None)
        self._lookahead_frames = seconds_to_frames(
            source.lookahead_s if isinstance(source, FollowsTaps) else LOOKAHEAD_S
        )

    @property
    def id(self) -> str:
        return self.source.id

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Begin at once; narration and ambience arrive as they are ready.

        A first sentence already in the cache is read now (a few milliseconds), so the very
        first block plays it: the playhead never waits, and playing gives exactly the samples
        that `render` writes.
        """
        self._emit(Started(self.number, self.id, self.source.title))
        try:
            composer = self._composer
            self.source.attach(self.source_ready)
            composer.extend()
            pending = composer.pending_texts()
            if pending and composer.narrator.cached(pending[0]):
                composer.synthesize(pending[0])
            composer.ambience = composer.bank.ambience_if_ready(composer.ambience_id)
            self.timeline, program = composer.compose()
            self._token = self.mixer.load(program)
            threading.Thread(target=self._narrate, name="coreg-narration", daemon=True).start()
            threading.Thread(target=self._monitor, name="coreg-session", daemon=True).start()
            if composer.ambience is None and composer.ambience_id != "none":
                threading.Thread(
                    target=self._load_late_ambience, name="coreg-ambience", daemon=True
                ).start()
        except Exception:  # a source that cannot start still ends, with a notice
            log.exception("Starting %s failed", self.id)
            self.fail("This practice could not start. Another one may work.")

    def _narrate(self) -> None:
        """Voice what is planned, in order; ask the source for more when the monitor says so."""
        priority.background()
        composer = self._composer
        try:
            while not self._stop.is_set() and not exiting():
                pending = composer.pending_work()
                if pending:
                    composer.prepare(pending[0])
                    self._publish()
                    self._first_words.set()
                    continue
                self._first_words.set()
                if composer.ended:
                    if not composer.items or self.timeline.complete:
                        return
                    self._publish()  # laid out in full now: the program learns its end
                    return
                self._narrated.set()  # nothing to make now (a source may still give more)
                with self._wake:
                    while not self._stop.is_set():
                        if self._extend_wanted:
                            self._extend_wanted = False
                            if self._more_still_wanted():
                                break
                            continue
                        self._wake.wait()
                if self._stop.is_set():
                    return
                with self._lock:
                    changed = composer.extend()
                if changed:
                    self._publish()
        except Exception:  # the worker must never take the app down with it
            log.exception("Preparing %s failed", self.id)
            self.fail("Something went wrong while preparing this practice, so it has stopped.")
        finally:
            self._first_words.set()
            self._narrated.set()

    def wait_narrated(self, timeout: float | None = None) -> bool:
        """Block until every clip the source will need is made (or the session stopped)."""
        return self._narrated.wait(timeout)

    def _load_late_ambience(self) -> None:
        """Ambience made on first use joins with its own fade-in, wherever the session is.

        Making it waits for the first sentence: on two cores, generating a soundscape beside a
        voice that is still loading would delay the first words, which matter more.
        """
        priority.background()
        composer = self._composer
        self._first_words.wait(timeout=FIRST_WORDS_WAIT_S)
        if self._stop.is_set():
            return
        loop = composer.bank.ambience(composer.ambience_id)
        if loop is None or self._stop.is_set():
            return
        with self._lock:
            composer.ambience_start = self.mixer.ambience_clock + seconds_to_frames(0.05)
            composer.ambience = loop
        self._publish()

    def _publish(self) -> None:
        with self._lock:
            if self._stop.is_set():
                return  # ended: what it still made is not wanted (another may be playing)
            timeline, program = self._composer.compose()
            self.mixer.update(program, self._token)
            self.timeline = timeline
        self._poke()

    def source_ready(self) -> None:
        """The source has more to give (a listener's tap arrived): ask it again now."""
        with self._wake:
            if not self._composer.ended:
                self._extend_wanted = True
                self._wake.notify_all()

    # ------------------------------------------------------------------ the monitor

    def _monitor(self) -> None:
        """Announce each new span and the heard end, sleeping until the next one is due."""
        last_span: tuple[int, int] | None = None
        while True:
            with self._wake:
                if self._ended:
                    return
                pos = self.position_frames
                timeline = self.timeline
                state = timeline.state_at(pos)
                span = _span_key(timeline, pos)
                if span != last_span:
                    last_span = span
                    self._emit(PhaseChanged(self.number, self.id, state))
                if self._heard_end(timeline, pos):
                    break
                self._want_more_if_short(timeline, pos)
                self._wake.wait(self._next_wait(timeline, pos))
        self._end(EndReason.COMPLETED)

    def _heard_end(self, timeline: Timeline, pos: int) -> bool:
        # Until the audio thread takes up this session's program, FINISHED is the last one's.
        return (
            timeline.complete
            and self.mixer.loaded == self._token
            and self.mixer.transport is Transport.FINISHED
            and pos >= timeline.total - END_SLACK_FRAMES
        )

    def _ask_at(self, timeline: Timeline) -> int | None:
        """The frame from which the source should be asked for more; None once it has ended.

        Counted back from what is laid out (or, if less, from what is planned), so a playhead
        held at the end of the laid-out part is always past it.
        """
        if self._composer.ended:
            return None
        planned = seconds_to_frames(self._composer.planned_seconds())
        return min(planned, timeline.known_end) - self._lookahead_frames

    def _more_still_wanted(self) -> bool:
        """Whether to ask the source now. The monitor asks from the timeline it last saw, which
        while clips are still being made ends early; by the time the worker is free, what is
        laid out may reach far ahead (a sleep tail must be asked near the end, not at the
        start). A source that follows taps asked for itself, so it is always asked."""
        if isinstance(self.source, FollowsTaps):
            return True
        ask_at = self._ask_at(self.timeline)
        return ask_at is None or self.position_frames >= ask_at

    def _want_more_if_short(self, timeline: Timeline, pos: int) -> None:
        ask_at = self._ask_at(timeline)
        if ask_at is None or self._extend_wanted or pos < ask_at:
            return
        self._extend_wanted = True
        self._wake.notify_all()

    def _next_wait(self, timeline: Timeline, pos: int) -> float | None:
        """Seconds until the timeline next changes at this position; None: until poked."""
        if self._play_state is not PlayState.PLAYING:
            return None
        boundary = _next_boundary(timeline, pos)
        ask_at = self._ask_at(timeline)  # wake in time to ask an open-ended source for more
        if ask_at is not None and ask_at > pos:
            boundary = ask_at if boundary is None else min(boundary, ask_at)
        if boundary is None:
            return MONITOR_MAX_WAIT_S if pos < timeline.known_end else None
        seconds = (boundary - pos) / SAMPLE_RATE
        return min(MONITOR_MAX_WAIT_S, max(MONITOR_MIN_WAIT_S, seconds))

    def _poke(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def _end(self, reason: EndReason, fade_s: float | None = None) -> bool:
        """Record and announce the end, once; False if it had already ended.

        The fade-out (`fade_s`) is queued before anyone hears of the end, so a listener that
        closes the stream on `Ended` finds the fade already under way and can wait for it.
        """
        with self._wake:
            if self._ended:
                return False
            self._ended = True
            self._play_state = PlayState.ENDED
            self.end_reason = reason
            self.heard_seconds = self.position_frames / SAMPLE_RATE
            if fade_s is not None:
                self.mixer.stop(fade_s)
            self._emit(PlayStateChanged(self.number, self.id, PlayState.ENDED))
            self._emit(Ended(self.number, self.id, self.heard_seconds, reason))
            self._wake.notify_all()
        return True

    # ------------------------------------------------------------------ controls

    def set_ambience(self, ambience_id: str) -> None:
        """Switch the soundscape mid-session: the old one fades out as the new one fades in."""
        composer = self._composer

        def work() -> None:
            priority.background()
            loop = composer.bank.ambience(ambience_id)
            if self._stop.is_set():
                return
            with self._lock:
                composer.ambience_id = ambience_id
                composer.ambience = loop
                composer.ambience_start = self.mixer.ambience_clock
            self._publish()

        threading.Thread(target=work, name="coreg-ambience-switch", daemon=True).start()

    @property
    def ambience_id(self) -> str:
        return self._composer.ambience_id

    def pause(self) -> None:
        self._set_play_state(PlayState.PLAYING, PlayState.PAUSED, self.mixer.pause)

    def resume(self) -> None:
        self._set_play_state(PlayState.PAUSED, PlayState.PLAYING, self.mixer.resume)

    def _set_play_state(
        self, before: PlayState, after: PlayState, command: Callable[[], None]
    ) -> None:
        with self._wake:  # emitted under the lock, so it can never follow this session's end
            if self._play_state is not before:
                return
            self._play_state = after
            command()
            self._emit(PlayStateChanged(self.number, self.id, after))
            self._wake.notify_all()

    def toggle(self) -> None:
        """Space and the tray's middle click: one key for both."""
        if self._play_state is PlayState.PAUSED:
            self.resume()
        else:
            self.pause()

    @property
    def takes_taps(self) -> bool:
        """True while a tap would be heard: a source that follows taps, playing."""
        return isinstance(self.source, FollowsTaps) and self._play_state is PlayState.PLAYING

    def tap(self) -> bool:
        """The listener marked the start of a breath in: timestamped on the audio clock (the
        position they hear now), never the wall clock. False when nothing here takes taps, or
        the source ignored it as wildly off."""
        if not self.takes_taps:
            return False
        assert isinstance(self.source, FollowsTaps)
        return self.source.tap(self.position_frames / SAMPLE_RATE)

    def tap_status(self) -> str:
        return self.source.tap_status() if isinstance(self.source, FollowsTaps) else ""

    def seek(self, seconds: float) -> None:
        """Move the playhead; the monitor is woken, since the next boundary has moved too."""
        self.mixer.seek(seconds_to_frames(max(0.0, seconds)))
        self._poke()

    def stop(self, fade_s: float = 1.0, reason: EndReason = EndReason.STOPPED) -> None:
        """Fade out and end (reason: stopped, unless the sleep timer ends a practice that was
        heard to its end); nothing happens if it has already ended."""
        self._stop.set()
        self._first_words.set()  # release a waiting ambience loader, which then gives up
        self._end(reason, fade_s)

    def release_audio(self) -> None:
        """An ended session lets its clips and soundscape go (resting in the tray); its
        timeline stays, so what the views show of it does not change."""
        if not self.ended:
            return
        with self._lock:
            self._composer.clips.clear()
            self._composer.ambience = None

    def fail(self, notice: str) -> None:
        """It cannot go on: fade out, say so once, end (reason: failed)."""
        self._stop.set()
        self._first_words.set()
        if self._end(EndReason.FAILED, 1.0) and self._on_notice is not None:
            self._on_notice(notice)

    def wait_stopped(self, timeout: float = 3.0) -> bool:
        """Block until a stop's fade has played out, so closing the stream never clicks."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = self.mixer.transport in (Transport.FINISHED, Transport.IDLE)
            if done or (self.mixer.transport is Transport.STOPPED and not self.mixer.busy):
                return True
            time.sleep(0.02)
        return False

    # ------------------------------------------------------------------ queries

    @property
    def position_frames(self) -> int:
        if self.mixer.loaded < self._token:
            return 0  # not taken up yet: the clock still counts what played before
        return self.mixer.heard_position(self._latency_frames())

    def state(self) -> State:
        return self.timeline.state_at(self.position_frames)

    @property
    def transport(self) -> Transport:
        return self.mixer.transport

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def finished(self) -> bool:
        """True once the session has ended and its last sound has been heard (or faded)."""
        if not self._ended:
            return False
        if self.end_reason is EndReason.COMPLETED:
            return True
        playing = self.mixer.transport in (Transport.PLAYING, Transport.PAUSED)
        return not self.mixer.busy and not playing


def _span_key(timeline: Timeline, pos: int) -> tuple[int, int]:
    """Identifies the span being heard (its start), so the monitor can tell when it changes."""
    event = timeline.event_at(pos)
    if event is None:
        return (-1, 1 if timeline.complete and pos >= timeline.known_end else 0)
    return (event.start, 0)


def _next_boundary(timeline: Timeline, pos: int) -> int | None:
    """The first frame after `pos` where another span starts or the end is heard."""
    event = timeline.event_at(pos)
    inside = event is not None and event.end <= timeline.known_end
    if event is not None and inside and (event.end < timeline.known_end or timeline.complete):
        return event.end
    if timeline.complete:
        return timeline.total if pos < timeline.total else None
    return None
