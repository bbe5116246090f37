"""Thread priorities: the sound first, the voice being made next, preparing ahead last.

On a two-core laptop a neural voice can take both cores. The audio callback must never wait for
it, so every thread that synthesizes speech or generates a soundscape lowers its own priority
when it starts, and the threads that prepare narration ahead of time (nobody is waiting for it)
run only when the machine has nothing else to do. Linux gives each thread its own nice value and
scheduling class, and threads an engine creates later (onnxruntime's pool) inherit them.

Everything here is best effort: a system that refuses is logged once and otherwise ignored.
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)

#: Nice value of threads making what is about to play: below the audio and the GUI (0), well
#: above the idle work.
BACKGROUND_NICE = 10

_warned = False


def background() -> None:
    """Lower the calling thread: it makes narration or sound that a session will play soon."""
    _set_nice(BACKGROUND_NICE)


def idle() -> None:
    """Run the calling thread only when nothing else wants the CPU (preparing ahead of time)."""
    sched_idle = getattr(os, "SCHED_IDLE", None)
    setscheduler = getattr(os, "sched_setscheduler", None)
    if sched_idle is not None and setscheduler is not None:
        try:
            setscheduler(0, sched_idle, os.sched_param(0))  # 0: this thread, on Linux
            return
        except OSError as exc:
            _warn(f"idle scheduling refused ({exc})")
    _set_nice(19)


def nice_of_this_thread() -> int:
    """The calling thread's nice value (for tests and `doctor`)."""
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def _set_nice(value: int) -> None:
    try:
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        if current < value:
            os.setpriority(os.PRIO_PROCESS, tid, value)
    except (OSError, AttributeError) as exc:
        _warn(f"could not lower a thread's priority ({exc})")


def _warn(message: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        log.info("Thread priorities: %s; synthesis shares the CPU evenly", message)
