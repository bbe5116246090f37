"""The sleep timer: everything fades out over the last minute, and playback stops at the set time.

It counts on the wall clock from when it is set, like a bedside radio's, whatever plays or pauses
meanwhile, and it can be lengthened or shortened while it runs (the tray's +5 / -5 minutes). One
thread sleeps until the fade is due (no polling), then asks for a fade of exactly the time left,
so the sound is gone at the set time and never cut off early. Nothing here imports Qt: the
terminal's `play --sleep` and the desktop's player, tray and MPRIS all use one timer.

While it runs, a practice that ends does not end the sound: its soundscape keeps looping
(`SleepTail`) until the timer runs out, which is what falling asleep to Sleep Wind-Down needs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

#: Everything fades out over the timer's last minute.
FADE_S = 60.0
CHOICES_MIN = (15, 30, 60)
STEP_MIN = 5
RANGE_MIN = (1.0, 600.0)

Listener = Callable[[float | None], None]


class SleepTimerError(ValueError):
    """One line saying what is wrong with a sleep time."""


def check_minutes(minutes: float) -> float:
    lo, hi = RANGE_MIN
    if not (lo <= minutes <= hi):
        raise SleepTimerError(f"a sleep timer of {minutes:g} minutes is out of range; use "
                              f"{lo:g} to {hi:g}")
    return float(minutes)


class SleepTimer:
    """Calls `fade(seconds)` when the fade is due, with the seconds left until the set time.

    `clock` is the time source (monotonic seconds), replaceable so tests can run an hour-long
    timer in no time; listeners hear the seconds left whenever the timer is set, changed,
    cancelled (None) or runs out (None).
    """

    def __init__(
        self,
        fade: Callable[[float], None],
        clock: Callable[[], float] = time.monotonic,
        fade_s: float = FADE_S,
    ) -> None:
        self._fade = fade
        self._clock = clock
        self.fade_s = fade_s
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._deadline: float | None = None
        self._faded = False
        self._listeners: list[Listener] = []
        self._thread: threading.Thread | None = None
        self._closed = False

    # ------------------------------------------------------------------ queries

    @property
    def active(self) -> bool:
        return self._deadline is not None

    def remaining(self) -> float | None:
        """Seconds until everything stops, or None when no timer is set."""
        deadline = self._deadline
        return None if deadline is None else max(0.0, deadline - self._clock())

    # ------------------------------------------------------------------ changes

    def set(self, minutes: float) -> None:
        """Start (or restart) the timer; what a listener types is checked by `check_minutes`."""
        if not minutes > 0:
            raise SleepTimerError(f"a sleep timer of {minutes:g} minutes is not possible")
        with self._lock:
            self._deadline = self._clock() + minutes * 60.0
            self._faded = False
            self._ensure_thread()
            self._changed.notify_all()
        log.info("Sleep timer set for %g minutes", minutes)
        self._tell()

    def extend(self, minutes: float) -> None:
        """Lengthen (or, negative, shorten) a running timer; shortening stops at one minute left
        (or at what is left, if that is less already)."""
        with self._lock:
            if self._deadline is None:
                return
            now = self._clock()
            self._deadline = max(now + min(60.0, self._deadline - now),
                                 self._deadline + minutes * 60.0)
            self._faded = self._faded and self._deadline - now <= self.fade_s
            self._changed.notify_all()
        self._tell()

    def cancel(self) -> None:
        with self._lock:
            if self._deadline is None:
                return
            self._deadline = None
            self._changed.notify_all()
        log.info("Sleep timer cancelled")
        self._tell()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._deadline = None
            self._changed.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)

    # ------------------------------------------------------------------ the thread

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="coreg-sleep-timer",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._closed and (self._deadline is None or self._faded):
                    if self._deadline is not None and self._clock() >= self._deadline:
                        break
                    self._changed.wait(None if self._deadline is None else
                                       max(0.05, self._deadline - self._clock()))
                if self._closed:
                    return
                assert self._deadline is not None
                left = self._deadline - self._clock()
                if left <= 0 and self._faded:
                    self._deadline = None  # ran out: the fade ended the sound
                    ran_out = True
                elif left > self.fade_s:
                    self._changed.wait(left - self.fade_s)
                    continue
                else:
                    self._faded = True
                    ran_out = False
            if ran_out:
                log.info("Sleep timer ran out")
                self._tell()
                continue
            try:
                self._fade(max(0.0, left))
            except Exception:  # a failing player must not take the timer's thread with it
                log.exception("The sleep timer could not fade out")

    def _tell(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        left = self.remaining()
        for listener in listeners:
            try:
                listener(left)
            except Exception:
                log.exception("A sleep timer listener failed")


def format_left(seconds: float | None) -> str:
    """ "23 min left" for the tray and the player ("under a minute left" at the end)."""
    if seconds is None:
        return ""
    if seconds < 60:
        return "under a minute left"
    return f"{int((seconds + 59) // 60)} min left"
