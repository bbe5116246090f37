"""Native work that the interpreter's exit must wait for, instead of cutting it off.

Synthesis and sound-device work run on daemon threads (a practice or a stream must never keep the
process alive). But a daemon thread still inside native code while the interpreter tears down
brings the process down with it: onnxruntime aborts ("terminate called without an active
exception"), PortAudio initialising segfaults. Such work runs inside `native_work()`; at exit new
work is refused and the work in progress is waited for.
"""

from __future__ import annotations

import atexit
import threading

#: How long the exit waits for work in progress (a sentence takes well under a second here, and
#: PortAudio's device scan a fraction of one).
EXIT_WAIT_S = 5.0


class ExitingError(RuntimeError):
    """Raised instead of starting native work once the interpreter is exiting."""


class _Guard:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._count = 0
        self.closed = False

    def __enter__(self) -> None:
        with self._cond:
            if self.closed:
                raise ExitingError("Coreg is quitting")
            self._count += 1

    def __exit__(self, *_exc: object) -> None:
        with self._cond:
            self._count -= 1
            self._cond.notify_all()

    def close(self, timeout: float = EXIT_WAIT_S) -> bool:
        """Refuse new work and wait for the current; False if it outlasts `timeout`."""
        with self._cond:
            self.closed = True
            return self._cond.wait_for(lambda: self._count == 0, timeout)


_GUARD = _Guard()
atexit.register(_GUARD.close)


def exiting() -> bool:
    """True once the interpreter has begun to exit: background work should just stop."""
    return _GUARD.closed


def native_work() -> _Guard:
    """`with native_work(): ...` around native calls that must finish before the process exits."""
    return _GUARD
