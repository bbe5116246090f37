"""The sleep timer: everything fades out over the last minute, and playback stops at the set time.

It counts on the wall clock from when it is set, like a bedside radio's, whatever plays or pauses
meanwhile, and it can be lengthened, shortened or turned off while it runs (the tray's +5 / -5
minutes), even during the fade: the fade is a level the player follows (`level(f)`, f from 1 down
to 0 on a smooth curve), not a stop already under way, so "5 more minutes" in the last minute
brings the sound back up (`restore()`). Only at the set time does the session end (`finish()`),
so the history records the time really heard. One thread sleeps until the fade is due, then
steps the level four times a second (the player glides between steps, so nothing zips). Nothing
here imports Qt: the terminal's `play --sleep`, the player, the tray and MPRIS share one timer.

While it runs, a practice that ends does not end the sound: its soundscape keeps looping
(`SleepTail`) until the timer runs out, which is what falling asleep to Sleep Wind-Down needs.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

#: Everything fades out over the timer's last minute.
FADE_S = 60.0
#: How often the level steps during the fade (the mixer glides between steps).
STEP_S = 0.25
#: A session that ends this soon after the timer ran out was ended by it.
JUST_ENDED_S = 5.0
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


def fade_level(left_s: float, fade_s: float = FADE_S) -> float:
    """The level `left_s` before the set time: 1 until the fade, then a cosine down to 0, so
    the sound leaves slowly at first and gently at the very end."""
    if left_s >= fade_s:
        return 1.0
    if left_s <= 0:
        return 0.0
    return 0.5 - 0.5 * math.cos(math.pi * left_s / fade_s)


class SleepTimer:
    """Drives a player through its last `fade_s`: `level(f)` as it fades, `finish()` at the set
    time, `restore()` when a fade under way is called off (lengthened past it, or turned off).

    `clock` is the time source (monotonic seconds). Listeners hear the seconds left whenever the
    timer is set, changed, turned off (None) or runs out (None).
    """

    def __init__(
        self,
        level: Callable[[float], None],
        finish: Callable[[], None],
        restore: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
        fade_s: float = FADE_S,
    ) -> None:
        self._level = level
        self._finish = finish
        self._restore = restore
        self._clock = clock
        self.fade_s = fade_s
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._deadline: float | None = None
        self._fading = False
        self._ran_out_at = -math.inf
        self._listeners: list[Listener] = []
        self._thread: threading.Thread | None = None
        self._closed = False

    # ------------------------------------------------------------------ queries

    @property
    def active(self) -> bool:
        return self._deadline is not None

    @property
    def fading(self) -> bool:
        return self._fading

    def remaining(self) -> float | None:
        """Seconds until everything stops, or None when no timer is set."""
        deadline = self._deadline
        return None if deadline is None else max(0.0, deadline - self._clock())

    def just_ran_out(self) -> bool:
        """True for a few seconds after the timer ended the sound (no after question then)."""
        return self._clock() - self._ran_out_at < JUST_ENDED_S

    # ------------------------------------------------------------------ changes

    def set(self, minutes: float) -> None:
        """Start (or restart) the timer; what a listener types is checked by `check_minutes`."""
        if not minutes > 0:
            raise SleepTimerError(f"a sleep timer of {minutes:g} minutes is not possible")
        with self._lock:
            self._deadline = self._clock() + minutes * 60.0
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
            self._changed.notify_all()
        self._tell()

    def cancel(self) -> None:
        with self._lock:
            if self._deadline is None:
                return
            self._deadline = None
            self._changed.notify_all()
        log.info("Sleep timer turned off")
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
                if self._closed:
                    return
                deadline = self._deadline
                left = None if deadline is None else deadline - self._clock()
                if left is None or left > self.fade_s:
                    was_fading, self._fading = self._fading, False
                    if not was_fading:
                        self._changed.wait(None if left is None else left - self.fade_s)
                        continue
                    action = "restore"
                elif left > 0:
                    self._fading = True
                    action = "level"
                else:
                    self._deadline = None
                    self._fading = False
                    self._ran_out_at = self._clock()
                    action = "finish"
            self._act(action, left)
            if action == "level":
                with self._lock:
                    if not self._closed:
                        self._changed.wait(STEP_S)
            elif action == "finish":
                log.info("Sleep timer ran out")
                self._tell()

    def _act(self, action: str, left: float | None) -> None:
        try:
            if action == "level":
                self._level(fade_level(left or 0.0, self.fade_s))
            elif action == "finish":
                self._finish()
            else:
                self._restore()
        except Exception:  # a failing player must not take the timer's thread with it
            log.exception("The sleep timer could not %s", action)

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
