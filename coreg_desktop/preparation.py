"""Preparing narration ahead of time, so that what a person reaches for plays at once.

A neural voice makes a practice's lines several times faster than they are spoken, but not
instantly, and the first click on the tray must never wait for it. So the desktop app, at every
start, makes the narration of the built-in practices in the background: the quick reset first,
then the others. Lines already in the cache cost a file check, so after the first start this
finishes in a moment; after a change of voice, pace or name it makes what is new.

It never competes with the sound: its lines are made by a synthesis process in the idle
scheduling class (tts/remote.py; the thread here only shapes and caches them, at a lowered but
not idle priority, see `priority.ahead`), and while a practice is playing lines that are still
being made it waits for that session's narration to finish.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from coreg_desktop import priority
from coreg_desktop.constants import QUICK_RESET_ID

if TYPE_CHECKING:
    from coreg_desktop.core import Core
    from coreg_desktop.practice.model import Practice

log = logging.getLogger(__name__)

#: How often a paused preparation looks up from the session it waits for, to notice a quit.
YIELD_CHECK_S = 0.5
#: Cue sounds every practice may use, made with the first practice.
CUE_KEYS = ("bell", "inhale", "hold", "exhale", "rest")


@dataclass(frozen=True)
class Progress:
    done: int  # practices whose every line is ready
    total: int
    working_on: str | None = None  # the practice being prepared, or None when finished

    @property
    def finished(self) -> bool:
        return self.done >= self.total

    def sentence(self) -> str:
        """What Settings and `doctor` say about it."""
        if self.finished:
            return "The voice is ready for every practice."
        unit = "practice" if self.total == 1 else "practices"
        return f"Preparing the voice: {self.done} of {self.total} {unit} ready."


def builtin_order(core: Core) -> list[Practice]:
    """The quick reset first (a tray click plays it), then the other built-in practices."""
    practices = [p for p in core.library.all if p.builtin]
    practices.sort(key=lambda p: p.id != QUICK_RESET_ID)
    return practices


def readiness(core: Core) -> Progress:
    """How many built-in practices have every line in the cache, for this voice and settings.

    Reads the cache only, so `doctor` can ask it while the desktop app is preparing.
    """
    practices = builtin_order(core)
    narrator = core.narrator
    if not narrator.available:
        return Progress(len(practices), len(practices))
    done = sum(all(narrator.cached(t) for t in core.texts_of(p)) for p in practices)
    return Progress(done, len(practices))


class Preparer:
    """Makes the built-in practices' narration in the background, one at a time.

    `on_progress` is called (on the worker thread) after each practice; `on_first` once the
    first practice (the quick reset) is ready. Starting again cancels a preparation under way:
    a new voice makes the old one's lines pointless.
    """

    def __init__(
        self,
        core: Core,
        on_progress: Callable[[Progress], None] | None = None,
        on_first: Callable[[], None] | None = None,
    ) -> None:
        self._core = core
        self._on_progress = on_progress
        self._on_first = on_first
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._progress = Progress(0, 0)

    @property
    def progress(self) -> Progress:
        return self._progress

    @property
    def busy(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self) -> None:
        with self._lock:
            self._cancel.set()
            cancel = threading.Event()
            self._cancel = cancel
            thread = threading.Thread(
                target=self._run, args=(cancel,), name="coreg-prepare", daemon=True
            )
            self._thread = thread
            thread.start()

    def cancel(self) -> None:
        """Stop at the next line (quitting never waits for a whole practice)."""
        self._cancel.set()

    def join(self, timeout: float | None = None) -> bool:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.busy

    def _run(self, cancel: threading.Event) -> None:
        priority.ahead()  # its lines are made by an idle-class synthesis process
        core = self._core
        try:
            practices = builtin_order(core)
            self._report(Progress(0, len(practices)), cancel)
            narrator = core.player.narrator
            if self._anything_to_make(practices):
                narrator.warm_up()  # the model loads while the cue sounds are made
            for key in CUE_KEYS:
                core.bank.cue(key)
            for done, practice in enumerate(practices):
                self._report(Progress(done, len(practices), practice.id), cancel)
                if not self._prepare(practice, cancel):
                    return
                if done == 0 and self._on_first is not None:
                    self._on_first()
            self._report(Progress(len(practices), len(practices)), cancel)
        except Exception:  # a voice that fails here fails visibly (and gently) when played
            if cancel.is_set():  # quitting: the synthesis process was stopped under the line
                log.debug("Preparation stopped mid-line", exc_info=True)
            else:
                log.exception("Preparing the narration in the background failed")

    def _anything_to_make(self, practices: list[Practice]) -> bool:
        """Whether any line is missing from the cache: when none is, no voice is loaded (and
        no synthesis process started) at all."""
        narrator = self._core.player.narrator
        return narrator.available and any(
            not narrator.cached(text) for p in practices for text in self._core.texts_of(p)
        )

    def _prepare(self, practice: Practice, cancel: threading.Event) -> bool:
        """Every line and the soundscape of one practice; False if cancelled."""
        core = self._core
        for text in core.texts_of(practice):
            if not self._wait_for_playback(cancel):
                return False
            narrator = core.player.narrator  # a new voice may have arrived: then we are cancelled
            if narrator.available and not narrator.cached(text):
                narrator.clip(text)
        if cancel.is_set():
            return False
        core.bank.ambience(core.ambience_for(practice))
        return not cancel.is_set()

    def _wait_for_playback(self, cancel: threading.Event) -> bool:
        """Yield to a session still making its own lines; False if cancelled meanwhile."""
        while not cancel.is_set():
            session = self._core.player.session
            if session is None or session.ended or session.wait_narrated(YIELD_CHECK_S):
                return True
        return False

    def _report(self, progress: Progress, cancel: threading.Event) -> None:
        if cancel.is_set():
            return
        self._progress = progress
        if self._on_progress is not None:
            try:
                self._on_progress(progress)
            except Exception:
                log.exception("A preparation progress listener failed")
