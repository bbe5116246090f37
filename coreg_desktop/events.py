"""What the player announces, and the small bus that carries it to plain-Python subscribers.

Front ends and services learn what happens from these events instead of polling the player:
the terminal's progress line, the desktop's Qt bridge and (later) the history all subscribe.
Events are delivered in order on one dispatch thread (never the audio thread, never inside a
player lock), so a slow or failing subscriber cannot stall playback or the other subscribers.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from coreg_desktop.practice.timeline import State

log = logging.getLogger(__name__)


class EndReason(str, enum.Enum):
    COMPLETED = "completed"  # the end was heard
    STOPPED = "stopped"  # the listener stopped it, another practice replaced it, or Coreg quit
    FAILED = "failed"  # it could not go on (said in a notice)


class PlayState(str, enum.Enum):
    """What the listener can see: a session plays, is paused, or has ended."""

    PLAYING = "playing"
    PAUSED = "paused"
    ENDED = "ended"


@dataclass(frozen=True)
class Started:
    session: int  # counts sessions in this process, so events of two sessions never mix up
    practice_id: str
    title: str


@dataclass(frozen=True)
class PhaseChanged:
    """The timeline moved into another span: a sentence, a pause, a breath phase, the bell."""

    session: int
    practice_id: str
    state: State


@dataclass(frozen=True)
class PlayStateChanged:
    session: int
    practice_id: str
    state: PlayState


@dataclass(frozen=True)
class Ended:
    """Exactly once per session, whatever ended it."""

    session: int
    practice_id: str
    heard_seconds: float
    reason: EndReason


Event = Started | PhaseChanged | PlayStateChanged | Ended
Subscriber = Callable[[Event], None]

_CLOSE = object()


class EventBus:
    """Delivers events to subscribers, in order, on its own thread."""

    def __init__(self, name: str = "coreg-events") -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._idle = threading.Event()
        self._idle.set()
        self._pending = 0
        self._thread.start()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call `subscriber(event)` for every later event; returns a function to unsubscribe."""
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._subscribers.remove(subscriber)

        return unsubscribe

    def emit(self, event: Event) -> None:
        """Queue an event; returns at once (safe from any thread but the audio callback)."""
        with self._lock:
            self._pending += 1
            self._idle.clear()
        self._queue.put(event)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every event emitted so far has been delivered (tests, and quitting)."""
        if threading.current_thread() is self._thread:
            return True
        return self._idle.wait(timeout)

    def close(self, timeout: float = 2.0) -> None:
        self._queue.put(_CLOSE)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is _CLOSE:
                return
            with self._lock:
                subscribers = list(self._subscribers)
            for subscriber in subscribers:
                try:
                    subscriber(event)  # type: ignore[arg-type]
                except Exception:  # one broken subscriber must not silence the others
                    log.exception("An event subscriber failed on %s", type(event).__name__)
            with self._lock:
                self._pending -= 1
                if self._pending == 0:
                    self._idle.set()
