"""Records every session into the history, from the player's events, for both front ends.

The core attaches one recorder to the player's EventBus, so the terminal and the desktop record
the same way and neither records anything itself. Three rules shape it:

* **Never in the way of the sound.** The event subscriber only queues work; one small thread
  of the recorder's own does every write. The audio thread never writes, and the event thread
  never waits on the disk (a write can wait up to the busy timeout while another process writes,
  and the terminal's progress line and the Qt bridge must not wait with it).
* **A kill loses at most a few seconds.** The row is written when the session starts, and while
  it plays the heard time is written every PROGRESS_EVERY_S (under the 5 s the history promises,
  leaving room for a slow write). A SIGKILL leaves the row with `ended_by` NULL, not completed,
  with about the time heard.
* **History failures never stop playback.** A full disk or a locked file is logged once (until
  a write succeeds again) and the practice goes on.
"""

from __future__ import annotations

import itertools
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from coreg_desktop.checkin import CheckIn
from coreg_desktop.events import Ended, Event, PlayState, PlayStateChanged, Started
from coreg_desktop.history import History, HistoryError, check_rating, check_state

log = logging.getLogger(__name__)

#: How often a playing session's heard time is written (seconds of wall time).
PROGRESS_EVERY_S = 4.0
#: A write smaller than this changes nothing worth a disk write (a paused session).
MIN_PROGRESS_S = 0.5
#: How long `row_for` waits for the writes queued before it (a view asking right after play).
ROW_WAIT_S = 1.0

Job = Callable[[], object]  # returns True when it wrote to the history
_CLOSE = object()


@dataclass(frozen=True)
class _Expected:
    """What `Core.play` knows of a session about to start, and its Started event does not."""

    token: int
    practice_id: str
    checkin: CheckIn | None
    voice: str | None
    ambience: str | None


class HistoryRecorder:
    """Turns Started / PlayStateChanged / Ended into rows of `history`.

    `position(session)` is the heard time of that session (from the audio clock), or None once
    it is no longer the one playing; it is asked on the recorder's thread only. `skip` are the
    practice ids never recorded (voice and memo previews).
    """

    def __init__(
        self,
        history: History,
        position: Callable[[int], float | None],
        skip: frozenset[str] = frozenset(),
    ) -> None:
        self.history = history
        self._position = position
        self._skip = skip
        self._jobs: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._expected: list[_Expected] = []
        self._tokens = itertools.count(1)
        self._rows: dict[int, int] = {}  # session number -> row id (recorder thread writes)
        self._playing: dict[int, float] = {}  # session number -> heard seconds last written
        self._failing = False
        self._thread = threading.Thread(target=self._run, name="coreg-history", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ from the core

    def expect(
        self,
        practice_id: str,
        checkin: CheckIn | None,
        voice: str | None,
        ambience: str | None,
    ) -> int:
        """Say what the next Started of `practice_id` is (its check-in, voice and ambience);
        returns a token for `cancel`, in case the session never starts."""
        token = next(self._tokens)
        with self._lock:
            self._expected.append(_Expected(token, practice_id, checkin, voice, ambience))
        return token

    def cancel(self, token: int) -> None:
        with self._lock:
            self._expected = [e for e in self._expected if e.token != token]

    def record_before(self, session: int, before: int | None, state: str | None) -> None:
        """The check-in before `session`, given after it started (the tray's quick reset).

        BadCheckIn at once for a value out of range. The write is queued behind the session's
        own, and waited for up to ROW_WAIT_S, so a view that reads the history next sees it;
        a slower disk only delays it (the caller, often the GUI thread, never waits longer)."""
        check_rating(before, "before")
        check_state(state)
        self._update(session, lambda row: self.history.set_before(row, before, state))
        self.flush(ROW_WAIT_S)

    def record_after(self, session: int, after: int | None) -> None:
        """The rating after `session`; checked and written as `record_before`."""
        check_rating(after, "after")
        self._update(session, lambda row: self.history.set_after(row, after))
        self.flush(ROW_WAIT_S)

    def row_for(self, session: int) -> int | None:
        """The history row of `session`, once its start has been written (waits briefly)."""
        self.flush(ROW_WAIT_S)
        return self._rows.get(session)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far is written (tests, and quitting)."""
        if threading.current_thread() is self._thread:
            return True
        done = threading.Event()
        self._jobs.put(done.set)
        return done.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (the last session's end), then stop the thread."""
        self._jobs.put(_CLOSE)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    # ------------------------------------------------------------------ from the events

    def on_event(self, event: Event) -> None:
        """The EventBus subscriber: queue the work, never wait for the disk here."""
        if isinstance(event, Started):
            if event.practice_id in self._skip:
                return
            with self._lock:
                expected = next((e for e in self._expected
                                 if e.practice_id == event.practice_id), None)
                if expected is not None:
                    self._expected.remove(expected)
            self._jobs.put(lambda: self._started(event, expected))
        elif isinstance(event, PlayStateChanged) and event.state is PlayState.PAUSED:
            self._jobs.put(lambda: self._progress(event.session))
        elif isinstance(event, Ended):
            self._jobs.put(lambda: self._ended(event))

    # ------------------------------------------------------------------ on the recorder thread

    def _run(self) -> None:
        next_tick = time.monotonic() + PROGRESS_EVERY_S
        while True:
            timeout = max(0.0, next_tick - time.monotonic()) if self._playing else None
            try:
                job = self._jobs.get(timeout=timeout)
            except queue.Empty:
                job = None
            if job is _CLOSE:
                return
            if job is not None:
                had_playing = bool(self._playing)
                self._safely(job)  # type: ignore[arg-type]
                if not had_playing and self._playing:
                    next_tick = time.monotonic() + PROGRESS_EVERY_S
            if self._playing and time.monotonic() >= next_tick:
                for session in list(self._playing):
                    self._safely(lambda s=session: self._progress(s))  # type: ignore[misc]
                next_tick = time.monotonic() + PROGRESS_EVERY_S

    def _safely(self, job: Job) -> None:
        try:
            wrote = job()
        except (HistoryError, sqlite3.Error, OSError) as exc:
            if not self._failing:
                log.warning("The session could not be written to the history (%s); the "
                            "practice goes on", exc)
            else:
                log.debug("History write failed again: %s", exc)
            self._failing = True
            return
        except Exception:
            log.exception("Recording the history failed")
            return
        if wrote is True and self._failing:  # not a flush marker, nor a row that is not there
            log.info("The history is being written again")
            self._failing = False

    def _started(self, event: Started, expected: _Expected | None) -> bool:
        checkin = expected.checkin if expected is not None else None
        row = self.history.start(
            event.practice_id,
            event.title,
            voice=expected.voice if expected is not None else None,
            ambience=expected.ambience if expected is not None else None,
            before=checkin.before if checkin is not None else None,
            state=checkin.state if checkin is not None else None,
        )
        self._rows[event.session] = row
        self._playing[event.session] = 0.0
        return True

    def _progress(self, session: int) -> bool:
        row = self._rows.get(session)
        if row is None or session not in self._playing:
            return False
        heard = self._position(session)
        if heard is None or abs(heard - self._playing[session]) < MIN_PROGRESS_S:
            return False
        self.history.progress(row, heard)
        self._playing[session] = heard
        return True

    def _ended(self, event: Ended) -> bool:
        self._playing.pop(event.session, None)
        row = self._rows.get(event.session)
        if row is None:
            return False
        self.history.end(row, event.heard_seconds, event.reason.value)
        return True

    def _update(self, session: int, write: Callable[[int], None]) -> None:
        def job() -> bool:
            row = self._rows.get(session)
            if row is None:
                log.info("No history row for session %d; its check-in is not kept", session)
                return False
            write(row)
            return True

        self._jobs.put(job)
