"""The playback service: one output stream, one mixer, and the session playing through them.

Both front ends use it, through the core: `play --no-gui` in the terminal and the desktop app. It
keeps a single stream open across practices (a Bluetooth or HDMI sink that wakes up late would
otherwise clip the first syllable) and can prepare a practice's narration ahead of time, so the
tray's quick reset needs no synthesis when it is clicked. Its sessions announce what happens on
`events`. It knows nothing of Qt.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from coreg_desktop.audio.bank import SoundBank
from coreg_desktop.audio.mixer import Mixer, Transport
from coreg_desktop.audio.output import Output, open_output
from coreg_desktop.events import EventBus
from coreg_desktop.practice.timeline import State
from coreg_desktop.session import Session
from coreg_desktop.sources import ProgramSource
from coreg_desktop.tts.narrator import Narrator

log = logging.getLogger(__name__)

#: How long a running practice fades when another one replaces it.
SWITCH_FADE_S = 0.25
#: After this long with nothing playing the stream is stopped (not closed). An open stream pulling
#: silence costs about 1 % of a core, which an app resting in the tray should not spend; and it
#: is slower to start from: a running stream has a whole latency of silence queued ahead of the
#: first word (160 ms from play() to sound on PulseAudio), a stopped one that is started again
#: plays the first word first (50 ms; measured by scripts/bench_desktop.py). So stand by soon.
STANDBY_AFTER_S = 2.0
#: After this long with nothing playing (and the core's other work quiet, see `on_rest`), the
#: voice model and soundscapes are let go: the app rests in the tray all day, and a tray click
#: still sounds at once because the quick reset's lines come from the disk cache.
REST_AFTER_S = 60.0
#: A block or two beyond the stream's latency: how much silence must be queued, at least, before
#: it is safe to assume that nothing else is.
BLOCK_MARGIN_FRAMES = 2048


class Player:
    def __init__(
        self,
        narrator: Narrator,
        bank: SoundBank,
        output: Output | None = None,
        voice_volume: float = 0.9,
        ambience_volume: float = 0.7,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        self.narrator = narrator
        self.bank = bank
        self.mixer = Mixer(voice_volume, ambience_volume)
        self._output = output
        self._output_lock = threading.Lock()
        self._on_notice = on_notice
        self.events = EventBus()
        self._play_lock = threading.Lock()  # one play() at a time: the GUI, MPRIS, a request
        self.session: Session | None = None
        self._sessions = 0
        #: Called (on the standby thread) once nothing has played for REST_AFTER_S; returns
        #: False to be asked again later (something else is still busy).
        self.on_rest: Callable[[], bool] | None = None
        self._started = False
        self._closed = threading.Event()
        self._standby_lock = threading.Lock()

    # ------------------------------------------------------------------ stream

    @property
    def output(self) -> Output:
        with self._output_lock:
            if self._output is None:
                self._output = open_output(on_notice=self._on_notice)
            return self._output

    def open(self) -> None:
        """Open the stream now (it plays silence), so the first practice starts instantly.

        Safe to run on a worker thread while a practice is being loaded: whatever the mixer holds
        when the first block is pulled is what plays first.
        """
        with self._output_lock:
            if self._output is None:
                self._output = open_output(on_notice=self._on_notice)
            if not self._started:
                self._output.start(self.mixer.render)
                self._started = True
                threading.Thread(
                    target=self._standby_loop, name="coreg-standby", daemon=True
                ).start()

    def _standby_loop(self) -> None:
        """Put the stream to sleep once nothing has played for a while, and rest after longer."""
        idle_since: float | None = None
        rested = False
        while not self._closed.wait(1.0):
            output = self._output
            if output is None:
                continue
            if self._busy():
                idle_since = None
                rested = False
                continue
            now = time.monotonic()
            if idle_since is None:
                idle_since = now
                continue
            if now - idle_since >= STANDBY_AFTER_S:
                with self._standby_lock:  # never between a play()'s load and its wake
                    if not self._busy():
                        output.standby()
            if not rested and now - idle_since >= REST_AFTER_S and self.on_rest is not None:
                try:
                    rested = self.on_rest()
                except Exception:
                    log.exception("Letting the voice rest failed")
                    rested = True  # not again until something has played

    def _only_silence_queued(self, output: Output) -> bool:
        """True when everything the device still holds is silence (so dropping it is safe)."""
        queued = output.latency_frames() + BLOCK_MARGIN_FRAMES
        return not self._busy() and self.mixer.quiet_frames > queued

    def _busy(self) -> bool:
        return self.mixer.transport in (Transport.PLAYING, Transport.PAUSED) or self.mixer.busy

    def latency_frames(self) -> int:
        """The stream's latency, or 0 while it is still opening (nothing is heard yet anyway)."""
        output = self._output
        return output.latency_frames() if output is not None and self._started else 0

    def close(self) -> None:
        """Fade out what plays, close the stream, and deliver the last events."""
        self._closed.set()
        session = self.session
        if session is not None:
            session.stop(fade_s=0.3)  # nothing, if it has ended already ...
            session.wait_stopped(timeout=1.0)  # ... but a fade under way still plays out
        if self._output is not None:
            self._output.close()
        self.events.flush()
        self.events.close()

    # ------------------------------------------------------------------ transport

    def play(
        self,
        source: ProgramSource,
        ambience: str | None = None,
        narrator: Narrator | None = None,
    ) -> Session:
        """Play a source now (fading out whatever plays); `ambience` overrides its own, and
        `narrator` the player's voice (a voice being previewed before it is chosen)."""
        with self._play_lock:
            return self._play(source, ambience, narrator or self.narrator)

    def _play(self, source: ProgramSource, ambience: str | None, narrator: Narrator) -> Session:
        previous = self.session
        if previous is not None and not previous.ended:
            previous.stop(fade_s=SWITCH_FADE_S)
            previous.wait_stopped(timeout=SWITCH_FADE_S + 0.5)
        self._sessions += 1
        session = Session(
            source,
            narrator,
            self.bank,
            self.mixer,
            self.latency_frames,
            ambience=ambience,
            emit=self.events.emit,
            number=self._sessions,
            on_notice=self._on_notice,
        )
        self.session = session
        with self._standby_lock:
            output = self._output
            if output is not None and self._only_silence_queued(output):
                # A running stream has a whole latency of silence queued ahead of anything new
                # (160 ms to the first word instead of 50): drop it by standing by for an instant.
                output.standby()
            session.start()  # the program is queued first ...
            if output is not None:
                output.wake()  # ... so the first block a woken stream pulls is the voice
        return session

    def forget_ended(self) -> None:
        """Resting: what an ended session still holds (clips, its soundscape) is let go, by it
        and by the mixer; nothing happens while a session plays or is paused."""
        with self._play_lock:  # never between a play()'s new session and its load
            session = self.session
            if session is not None and session.ended:
                session.release_audio()
                self.mixer.forget()

    def toggle(self) -> None:
        if self.session is not None:
            self.session.toggle()

    def pause(self) -> None:
        if self.session is not None:
            self.session.pause()

    def resume(self) -> None:
        if self.session is not None:
            self.session.resume()

    def stop(self, fade_s: float = 1.0) -> None:
        if self.session is not None:
            self.session.stop(fade_s)

    def tap(self) -> bool:
        """A tap for a source that follows the listener's breath; False if nothing took it."""
        session = self.session
        return session is not None and not session.ended and session.tap()

    def seek(self, seconds: float) -> None:
        if self.session is not None:
            self.session.seek(seconds)

    def set_volumes(self, voice: float | None = None, ambience: float | None = None) -> None:
        self.mixer.set_gains(voice, ambience)

    # ------------------------------------------------------------------ queries

    @property
    def transport(self) -> Transport:
        return self.mixer.transport

    def state(self) -> State | None:
        """The current session at the audio clock's position, or None when nothing is loaded."""
        if self.session is None:
            return None
        return self.session.state()
