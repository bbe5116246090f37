"""Thread priorities: the sound first, the voice being made next, preparing ahead last.

On a two-core laptop a neural voice can take both cores. The audio callback must never wait for
it, so every thread that synthesizes speech or generates a soundscape lowers its own priority
when it starts, and the threads that prepare narration ahead of time (nobody is waiting for it)
run only when the machine has nothing else to do. Linux gives each thread its own nice value and
scheduling class, and threads an engine creates later (onnxruntime's pool) inherit them.

Speech synthesis itself runs in child processes (tts/remote.py), and each thread here also
records what it is for (`intent`): the synthesizer asks it to pick the child of the right class.
A thread in the app's own process shares the interpreter lock with the GUI and the audio
callback, so it must never sit in the idle class while holding that lock (descheduled under load,
it kept the callback waiting 13 s): `ahead` lowers such a thread only moderately and leaves the
idle class to the child that does the heavy work.

Everything here is best effort: a system that refuses is logged once and otherwise ignored.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Literal

log = logging.getLogger(__name__)

#: Nice value of threads making what is about to play: below the audio and the GUI (0), well
#: above the idle work.
BACKGROUND_NICE = 10

#: What a thread's work is for: "now" (someone waits: the GUI, a preview, the terminal), "soon"
#: (a session will play it), "ahead" (preparing for later; nobody waits).
Intent = Literal["now", "soon", "ahead"]

_warned = False
_local = threading.local()


def intent() -> Intent:
    """What the calling thread said its work is for ("now" if it said nothing)."""
    value: Intent = getattr(_local, "intent", "now")
    return value


def background() -> None:
    """Lower the calling thread: it makes narration or sound that a session will play soon."""
    _local.intent = "soon"
    _set_nice(BACKGROUND_NICE)


def ahead() -> None:
    """The calling thread prepares ahead of time, in the app's own process.

    Its synthesis goes to an idle-class child; the thread itself keeps a share of the CPU
    (BACKGROUND_NICE, not the idle class), because it takes the interpreter lock that the audio
    callback and the GUI need, and an idle-class holder of that lock stalls them under load.
    """
    _local.intent = "ahead"
    _set_nice(BACKGROUND_NICE)


def idle() -> None:
    """Run the calling thread only when nothing else wants the CPU (preparing ahead of time).

    For threads that share no lock with the sound: the synthesis child's, and work that only
    waits on native code.
    """
    _local.intent = "ahead"
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
