"""One practice being played: plan it, keep narration ahead of the playhead, drive the mixer.

The session never counts time itself. Its position is the mixer's heard position (the practice
frame reaching the listener's ears, via the output's latency), and its state is the timeline's
`state_at` that position.

Streaming: the first sentence is synthesized first and the program is loaded at once, with the
playhead held until that clip exists. A worker thread synthesizes the rest in order of need and
swaps in a longer program after each clip, so playback starts after one short line, not after the
whole practice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from coreg_desktop.audio.bank import SoundBank
from coreg_desktop.audio.mixer import BUS_CUE, BUS_VOICE, Mixer, Program, Scheduled, Transport
from coreg_desktop.constants import SAMPLE_RATE, seconds_to_frames
from coreg_desktop.practice.model import Practice
from coreg_desktop.practice.timeline import (
    FAILED,
    Item,
    State,
    Timeline,
    compile_timeline,
    plan,
    speech_texts,
)
from coreg_desktop.tts.base import SynthesisError
from coreg_desktop.tts.narrator import Narrator

log = logging.getLogger(__name__)

#: Longest an uncached ambience waits for the first sentence before it is made anyway.
FIRST_WORDS_WAIT_S = 5.0


@dataclass(frozen=True)
class SessionOptions:
    values: Mapping[str, str | None] | None = None  # placeholder values: name, safe_person
    ambience: str | None = None  # None: the practice's own; "none": silence
    rate: float = 1.0


class Composer:
    """Turns a practice plus whatever clips exist into a timeline and a mixer program.

    Shared by live playback and offline rendering, which is why the two produce the same samples.
    """

    def __init__(
        self,
        practice: Practice,
        narrator: Narrator,
        bank: SoundBank,
        options: SessionOptions,
    ) -> None:
        self.practice = practice
        self.narrator = narrator
        self.bank = bank
        self.options = options
        self.items: list[Item] = plan(practice, options.values, options.rate)
        self.texts = speech_texts(self.items)
        self.clips: dict[str, np.ndarray | None] = {}  # None: synthesis failed
        self.ambience_id = options.ambience or practice.ambience
        self.ambience: np.ndarray | None = None
        self.ambience_start = 0

    def synthesize(self, text: str) -> None:
        try:
            self.clips[text] = self.narrator.clip(text)
        except SynthesisError as exc:
            log.warning("Could not voice %r: %s; showing it as a caption only.", text, exc)
            self.clips[text] = None

    def _frames(self, text: str) -> int | None:
        if text not in self.clips:
            return None
        clip = self.clips[text]
        return FAILED if clip is None else len(clip)

    def compose(self) -> tuple[Timeline, Program]:
        timeline = compile_timeline(self.items, self._frames, self.narrator.available)
        sounds: list[Scheduled] = []
        for sound in timeline.sounds:
            if sound.bus == "voice":
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

    def synthesize_all(self) -> None:
        for text in self.texts:
            if text not in self.clips:
                self.synthesize(text)


def render_practice(
    practice: Practice, narrator: Narrator, bank: SoundBank, options: SessionOptions
) -> np.ndarray:
    """The whole practice as (frames, 2) float32: exactly what `play` plays, sample for sample."""
    composer = Composer(practice, narrator, bank, options)
    composer.ambience = bank.ambience(composer.ambience_id)
    composer.synthesize_all()
    _, program = composer.compose()
    return Mixer().render_program(program)


class Session:
    """Plays one practice through a shared mixer.

    It needs only the output's latency (to know what is being heard), asked for lazily, so a
    session can be loaded before the stream has finished opening and its first block is the voice.
    """

    def __init__(
        self,
        practice: Practice,
        narrator: Narrator,
        bank: SoundBank,
        mixer: Mixer,
        latency_frames: Callable[[], int],
        options: SessionOptions | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.practice = practice
        self.mixer = mixer
        self._latency_frames = latency_frames
        self._composer = Composer(practice, narrator, bank, options or SessionOptions())
        self._on_change = on_change
        self._stop = threading.Event()
        self._first_words = threading.Event()  # the first sentence is in the mixer (or none)
        self._lock = threading.Lock()  # worker threads only; the audio thread never takes it
        self._worker: threading.Thread | None = None
        self.timeline: Timeline = compile_timeline([], lambda _t: None)
        self.started_at = 0.0

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Begin at once; narration and ambience arrive as they are ready."""
        self.started_at = time.monotonic()
        composer = self._composer
        composer.ambience = composer.bank.ambience_if_ready(composer.ambience_id)
        self.timeline, program = composer.compose()
        self.mixer.load(program)
        self._worker = threading.Thread(target=self._prepare, name="coreg-narration", daemon=True)
        self._worker.start()
        if composer.ambience is None and composer.ambience_id != "none":
            threading.Thread(
                target=self._load_late_ambience, name="coreg-ambience", daemon=True
            ).start()

    def _prepare(self) -> None:
        composer = self._composer
        try:
            for text in composer.texts:
                if self._stop.is_set():
                    return
                composer.synthesize(text)
                self._publish()
                self._first_words.set()
        except Exception:  # the worker must never take the practice down with it
            log.exception("Preparing %s failed", self.practice.id)
        finally:
            self._first_words.set()

    def _load_late_ambience(self) -> None:
        """Ambience made on first use joins with its own fade-in, wherever the practice is.

        Making it waits for the first sentence: on two cores, generating a soundscape beside a
        voice that is still loading would delay the first words, which matter more.
        """
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
            timeline, program = self._composer.compose()
            self.mixer.update(program)
            self.timeline = timeline
        if self._on_change is not None:
            self._on_change()

    # ------------------------------------------------------------------ controls

    def set_ambience(self, ambience_id: str) -> None:
        """Switch the soundscape mid-practice: the old one fades out as the new one fades in."""
        composer = self._composer

        def work() -> None:
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
        self.mixer.pause()

    def resume(self) -> None:
        self.mixer.resume()

    def toggle(self) -> None:
        if self.mixer.transport is Transport.PAUSED:
            self.resume()
        else:
            self.pause()

    def seek(self, seconds: float) -> None:
        self.mixer.seek(seconds_to_frames(max(0.0, seconds)))

    def stop(self, fade_s: float = 1.0) -> None:
        self._stop.set()
        self._first_words.set()  # release a waiting ambience loader, which then gives up
        self.mixer.stop(fade_s)

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
        return self.mixer.heard_position(self._latency_frames())

    def state(self) -> State:
        return self.timeline.state_at(self.position_frames)

    @property
    def transport(self) -> Transport:
        return self.mixer.transport

    @property
    def finished(self) -> bool:
        """True once the end has been heard (not merely rendered)."""
        if self.mixer.transport is Transport.STOPPED:
            return not self.mixer.busy
        if self.mixer.transport is not Transport.FINISHED:
            return False
        return self.position_frames >= self.timeline.total - SAMPLE_RATE // 20
