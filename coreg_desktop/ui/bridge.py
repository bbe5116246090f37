"""The one place where the Qt-free core meets Qt: core events, as signals on the GUI thread.

The player announces what happens (a session started, paused, moved to another phase, ended) on
its event bus, from its own dispatch thread. The bridge turns each event into a signal; Qt queues
a signal emitted off the GUI thread, so views are always called on the GUI thread. Nothing here
polls: the orb reads `state()` (the timeline at the audio clock) only when it paints.

Settings reach views the same way: `follow_settings` calls a view back on its own thread when
the settings owner announces a change, and forgets the view when it is destroyed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QThread, QTimer, Signal

from coreg_desktop.audio.mixer import Transport
from coreg_desktop.checkin import CheckIn
from coreg_desktop.core import PREVIEW_LINE, Core, UnknownPractice
from coreg_desktop.events import Ended, EndReason, Event, PhaseChanged, PlayState, PlayStateChanged
from coreg_desktop.practice.loader import Library
from coreg_desktop.practice.model import Cue, Practice
from coreg_desktop.practice.timeline import State
from coreg_desktop.preparation import Progress
from coreg_desktop.safe_people import SafePersonError
from coreg_desktop.settings import Settings

log = logging.getLogger(__name__)


def follow_settings(
    owner: QObject, settings: Settings, callback: Callable[[list[str]], None]
) -> Callable[[], None]:
    """Call `callback(keys)` on `owner`'s thread after each settings change, while it lives;
    returns a function that stops it sooner."""

    def changed(keys: list[str]) -> None:
        if QThread.currentThread() is owner.thread():
            callback(keys)
        else:
            QTimer.singleShot(0, owner, lambda: callback(keys))

    unsubscribe = settings.subscribe(changed)
    owner.destroyed.connect(lambda *_: unsubscribe())
    return unsubscribe


#: Session ids of the pacer ("pacer:<pattern>"), which is not a library practice.
PACER_PREFIX = "pacer:"


class PlayerBridge(QObject):
    practiceStarted = Signal(str)  # practice id
    transportChanged = Signal(str)  # Transport value: "playing", "paused", "stopped", ...
    finished = Signal(str)  # practice id, when its end was heard
    stopped = Signal(str)  # practice id, when the user stopped it (or it failed)
    ended = Signal(str, float, str)  # practice id, seconds heard, reason (events.EndReason)
    captionChanged = Signal(str)  # "" when nothing is being said
    noticeRaised = Signal(str)  # plain sentences from the audio layer, on the GUI thread
    preparationChanged = Signal(object)  # preparation.Progress, from the background preparer
    #: The sleep timer's seconds left (None: off), when set, changed or run out, and once a
    #: minute while it runs (for the tray's tooltip and MPRIS).
    sleepChanged = Signal(object)
    _event = Signal(object)  # a core event, carried to the GUI thread
    _sleep_event = Signal(object)

    def __init__(self, core: Core, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.core = core
        self.player = core.player
        self.settings = core.settings
        self._practice: Practice | None = None
        self._session = 0  # the number of the session the views show
        self._checkin: CheckIn | None = None  # what was answered before it, if anything
        self._pacer_request: tuple[str, float, Cue] | None = None  # the pacer last started
        self._transport = Transport.IDLE
        self._caption = ""
        self._event.connect(self._on_event)
        self.preparation: Progress | None = None  # the last progress heard, for new views
        self.preparationChanged.connect(self._remember_preparation)
        self._unsubscribe = self.player.events.subscribe(self._event.emit)
        self.destroyed.connect(lambda *_: self._unsubscribe())
        self._sleep_minute = QTimer(self)
        self._sleep_minute.setInterval(60_000)
        self._sleep_minute.timeout.connect(lambda: self.sleepChanged.emit(self.sleep_left()))
        self._sleep_event.connect(self._sleep_heard)
        self._unsubscribe_sleep = core.sleep.subscribe(self._sleep_event.emit)
        self.destroyed.connect(lambda *_: self._unsubscribe_sleep())

    @property
    def library(self) -> Library:
        return self.core.library

    # ------------------------------------------------------------------ commands

    def play(
        self, practice_id: str, person: str | None = None, checkin: CheckIn | None = None
    ) -> bool:
        """Start a practice by id, with `person` as its safe person for this session (None: the
        default) and `checkin` what the listener answered before it (recorded with it); False
        (and a notice) if there is no such practice, or no such person any more (removed in a
        terminal, say): then nothing plays."""
        if practice_id.startswith(PACER_PREFIX) and self._pacer_request is not None:
            return self.play_pacer(*self._pacer_request)  # play again, from the player
        try:
            practice = self.core.practice(practice_id)
        except UnknownPractice:
            self.noticeRaised.emit(f'There is no practice called "{practice_id}".')
            return False
        try:
            session = self.core.play(practice, person=person, checkin=checkin)
        except SafePersonError:
            self.noticeRaised.emit(f"{person} is no longer one of your safe people; "
                                   "Settings has who is.")
            return False
        self._started(practice, session.number, checkin)
        return True

    def _started(self, practice: Practice, session: int, checkin: CheckIn | None) -> None:
        """The views follow a start at once; the session's own events for it then change
        nothing."""
        self._practice = practice
        self._session = session
        self._checkin = checkin
        self._set_caption("")
        self._set_transport(Transport.PLAYING)
        self.practiceStarted.emit(practice.id)

    def play_pacer(self, pattern: str, minutes: float, cue: Cue = Cue.TONE) -> bool:
        """Start the breathing pacer; False (and a notice) for a pattern or length that cannot
        be (a pattern removed in a terminal meanwhile, say)."""
        from coreg_desktop.practice.patterns import PatternError

        try:
            source = self.core.pacer(pattern, minutes, cue)
        except (PatternError, ValueError) as exc:
            self.noticeRaised.emit(f"{exc}.")
            return False
        session = self.core.play_pacer(source)
        self._pacer_request = (pattern, minutes, cue)
        # What the views show: the pattern as a practice would be (title, summary, length).
        self._started(Practice(id=source.id, title=source.title, summary=source.pattern.summary,
                               ambience=source.ambience), session.number, None)
        return True

    def preview(
        self,
        voice: str,
        line: str = PREVIEW_LINE,
        name: str | None = None,
        name_spoken: str | None = None,
    ) -> None:
        """Say a preview line in `voice` (with a name not yet saved, if given). The views do
        not follow it: it is not a practice, and whatever the views showed has simply stopped."""
        if self.active and self._practice is not None:
            self._set_transport(Transport.STOPPED)
            self.stopped.emit(self._practice.id)
        self._session = -1
        self.core.preview(voice, line, name=name, name_spoken=name_spoken)

    def photo(self) -> Path | None:
        """The safe person's photo while a practice about them is the current one."""
        return self.core.photo_for(self._practice)

    def play_memo(self, person: str, memo_file: str) -> None:
        """Play a safe person's memo on its own; like a preview, the views do not follow it."""
        if self.active and self._practice is not None:
            self._set_transport(Transport.STOPPED)
            self.stopped.emit(self._practice.id)
        self._session = -1
        self.core.play_memo(person, memo_file)

    # ------------------------------------------------------------------ check-ins

    @property
    def session_number(self) -> int:
        """The session the views show (-1 after a preview or a memo, which are not practices)."""
        return self._session

    @property
    def before(self) -> int | None:
        """The before answer given for the session the views show."""
        return self._checkin.before if self._checkin is not None else None

    @property
    def keeps_history(self) -> bool:
        """Whether answers can be kept (a history that could not be opened keeps nothing)."""
        return self.core.history is not None

    def record_after(self, session: int, after: int | None) -> None:
        """Keep the after answer with `session`'s row in the history."""
        self.core.record_after(session, after)

    def record_before(self, session: int, before: int | None, state: str | None) -> None:
        """Keep a before answer given late (the tray's quick reset asks only afterwards)."""
        self.core.record_before(session, before, state)

    def toggle(self) -> None:
        self.player.toggle()

    def pause(self) -> None:
        self.player.pause()

    def resume(self) -> None:
        self.player.resume()

    def stop(self, fade_s: float = 0.8) -> None:
        self.player.stop(fade_s)

    def seek(self, seconds: float) -> None:
        self.player.seek(seconds)

    def tap(self) -> bool:
        """A tap at the start of a breath in (Breathe with Me), on the audio clock; False if
        nothing playing takes taps, or the tap was too far off to be a breath."""
        return self.core.tap()

    @property
    def takes_taps(self) -> bool:
        """True while the practice on screen is playing and follows taps."""
        session = self.player.session
        return (
            self.active
            and self.transport is Transport.PLAYING
            and session is not None
            and session.number == self._session
            and session.takes_taps
        )

    def tap_status(self) -> str:
        session = self.player.session
        return session.tap_status() if session is not None else ""

    # ------------------------------------------------------------------ the sleep timer

    def set_sleep(self, minutes: float) -> None:
        self.core.sleep.set(minutes)

    def extend_sleep(self, minutes: float) -> None:
        self.core.sleep.extend(minutes)

    def cancel_sleep(self) -> None:
        self.core.sleep.cancel()

    def sleep_left(self) -> float | None:
        return self.core.sleep.remaining()

    @property
    def pacer_request(self) -> tuple[str, float, Cue] | None:
        """The pattern, minutes and cues of the pacer last started (to play or export it)."""
        return self._pacer_request

    def sleep_ending(self) -> bool:
        """The sleep timer runs, or has just ended what played: no after question now."""
        return self.core.sleep.active or self.core.sleep.just_ran_out()

    def _sleep_heard(self, left: float | None) -> None:
        if left is None:
            self._sleep_minute.stop()
        elif not self._sleep_minute.isActive():
            self._sleep_minute.start()
        self.sleepChanged.emit(left)

    def set_ambience(self, ambience_id: str) -> None:
        session = self.player.session
        if session is not None and self.active:
            session.set_ambience(ambience_id)

    # ------------------------------------------------------------------ queries

    def state(self) -> State | None:
        return self.player.state()

    @property
    def practice(self) -> Practice | None:
        return self._practice

    @property
    def transport(self) -> Transport:
        """What the listener hears: playing, paused, finished (heard to the end) or stopped."""
        return self._transport

    @property
    def active(self) -> bool:
        """A practice is playing or paused (not finished or stopped)."""
        return self._practice is not None and self._transport in (
            Transport.PLAYING,
            Transport.PAUSED,
        )

    @property
    def current_ambience(self) -> str | None:
        session = self.player.session
        return session.ambience_id if session is not None else None

    def _remember_preparation(self, progress: Progress) -> None:
        self.preparation = progress

    # ------------------------------------------------------------------ events (GUI thread)

    def _on_event(self, event: Event) -> None:
        if event.session != self._session:
            return  # a session replaced before its events arrived, or one started elsewhere
        if isinstance(event, PhaseChanged):
            self._set_caption(event.state.caption or "")
        elif isinstance(event, PlayStateChanged):
            if event.state is PlayState.PAUSED:
                self._set_transport(Transport.PAUSED)
            elif event.state is PlayState.PLAYING:
                self._set_transport(Transport.PLAYING)
        elif isinstance(event, Ended):
            done = event.reason is EndReason.COMPLETED
            self._set_transport(Transport.FINISHED if done else Transport.STOPPED)
            self.ended.emit(event.practice_id, event.heard_seconds, event.reason.value)
            (self.finished if done else self.stopped).emit(event.practice_id)

    def _set_transport(self, transport: Transport) -> None:
        if transport is not self._transport:
            self._transport = transport
            self.transportChanged.emit(transport.value)

    def _set_caption(self, caption: str) -> None:
        if caption != self._caption:
            self._caption = caption
            self.captionChanged.emit(caption)
