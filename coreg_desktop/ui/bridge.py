"""The one place where the Qt-free core meets Qt: the player, exposed as signals on the GUI thread.

Views never poll the core on their own schedule for anything but drawing: the orb reads
`state()` (the timeline at the audio clock) when it paints, and everything else reacts to the
signals here. The watch timer runs only while a practice is loaded, so an idle app in the tray
wakes up for nothing.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from coreg_desktop.audio.mixer import Transport
from coreg_desktop.player import Player
from coreg_desktop.practice.loader import Library
from coreg_desktop.practice.model import Practice
from coreg_desktop.practice.timeline import State
from coreg_desktop.session import SessionOptions
from coreg_desktop.settings import Settings

log = logging.getLogger(__name__)

#: How often the bridge looks at the transport and caption while a practice is loaded. Captions
#: change on sentence boundaries, so 20 Hz keeps them within one frame-ish of the voice.
WATCH_MS = 50


class PlayerBridge(QObject):
    practiceStarted = Signal(str)  # practice id
    transportChanged = Signal(str)  # Transport value: "playing", "paused", "stopped", ...
    finished = Signal(str)  # practice id, when it ends by itself
    stopped = Signal(str)  # practice id, when the user stopped it
    captionChanged = Signal(str)  # "" when nothing is being said
    noticeRaised = Signal(str)  # plain sentences from the audio layer, on the GUI thread
    libraryChanged = Signal()

    def __init__(
        self,
        player: Player,
        library: Library,
        settings: Settings,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.player = player
        self.library = library
        self.settings = settings
        self._practice: Practice | None = None
        self._last_transport = Transport.IDLE
        self._last_caption = ""
        self._timer = QTimer(self)
        self._timer.setInterval(WATCH_MS)
        self._timer.timeout.connect(self._watch)

    # ------------------------------------------------------------------ commands

    def options(self, ambience: str | None = None) -> SessionOptions:
        chosen = ambience or self.settings["ambience"] or None
        return SessionOptions(
            self.settings.placeholder_values(), chosen, float(self.settings["rate"])
        )

    def play(self, practice_id: str) -> bool:
        """Start a practice by id; False (and a notice) if there is no such practice."""
        practice = self.library.get(practice_id)
        if practice is None:
            self.noticeRaised.emit(f'There is no practice called "{practice_id}".')
            return False
        self._practice = practice
        self.player.play(practice, self.options())
        self._last_caption = ""
        self.practiceStarted.emit(practice.id)
        self._timer.start()
        self._watch()
        return True

    def toggle(self) -> None:
        self.player.toggle()
        self._watch()

    def pause(self) -> None:
        self.player.pause()

    def resume(self) -> None:
        self.player.resume()

    def stop(self, fade_s: float = 0.8) -> None:
        self.player.stop(fade_s)

    def seek(self, seconds: float) -> None:
        self.player.seek(seconds)

    def set_volumes(self, voice: float | None = None, ambience: float | None = None) -> None:
        self.player.set_volumes(voice, ambience)

    def set_ambience(self, ambience_id: str) -> None:
        session = self.player.session
        if session is not None and self.transport in (Transport.PLAYING, Transport.PAUSED):
            session.set_ambience(ambience_id)

    # ------------------------------------------------------------------ queries

    def state(self) -> State | None:
        return self.player.state()

    @property
    def practice(self) -> Practice | None:
        return self._practice

    @property
    def transport(self) -> Transport:
        return self.player.transport

    @property
    def active(self) -> bool:
        """A practice is playing or paused (not finished or stopped)."""
        return self._practice is not None and self.transport in (
            Transport.PLAYING,
            Transport.PAUSED,
        )

    @property
    def current_ambience(self) -> str | None:
        session = self.player.session
        return session.ambience_id if session is not None else None

    # ------------------------------------------------------------------ watching

    def _watch(self) -> None:
        transport = self.player.transport
        session = self.player.session
        if session is not None and transport is Transport.FINISHED and not session.finished:
            transport = Transport.PLAYING  # the last samples are still on their way to the ears
        if session is not None and transport is Transport.STOPPED and not session.finished:
            transport = self._last_transport  # still fading out
        state = self.state()
        caption = (state.caption or "") if state is not None else ""
        if caption != self._last_caption:
            self._last_caption = caption
            self.captionChanged.emit(caption)
        if transport is not self._last_transport:
            self._last_transport = transport
            self.transportChanged.emit(transport.value)
            practice_id = self._practice.id if self._practice else ""
            if transport is Transport.FINISHED:
                self._timer.stop()
                self.finished.emit(practice_id)
            elif transport is Transport.STOPPED:
                self._timer.stop()
                self.stopped.emit(practice_id)
