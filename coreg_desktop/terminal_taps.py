"""Enter in the terminal as a tap, for `play breathe-with --no-gui`.

Only a terminal is listened to. Piped or redirected input (a script, `< /dev/null`, a service)
is not someone breathing, so it is left alone and Breathe with Me starts from its default pace
after its quiet wait, as it does when nobody taps. While it listens, the terminal does not echo
what is typed, so each Enter does not scroll the progress line away; the terminal's own settings
come back when playing ends, however it ends.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

log = logging.getLogger(__name__)


class EnterTaps:
    """Calls `tap()` once for each line typed on a terminal `stream` (default: stdin)."""

    def __init__(self, tap: Callable[[], bool], stream: TextIO | None = None) -> None:
        self._tap = tap
        self._stream = stream if stream is not None else sys.stdin
        self._saved: list[Any] | None = None
        self._closed = threading.Event()
        self.taps = 0
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """Listen on a daemon thread; False (and nothing done) when the stream is no terminal."""
        try:
            if self._stream is None or not self._stream.isatty():
                return False
            fd = self._stream.fileno()
        except (OSError, ValueError):
            return False
        self._quiet(fd)
        self._thread = threading.Thread(target=self._read, name="coreg-enter-taps", daemon=True)
        self._thread.start()
        return True

    @property
    def reading(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _quiet(self, fd: int) -> None:
        try:
            import termios

            saved = termios.tcgetattr(fd)
            quiet = termios.tcgetattr(fd)
            quiet[3] &= ~termios.ECHO  # lines still arrive on Enter (canonical mode stays on)
            termios.tcsetattr(fd, termios.TCSANOW, quiet)
            self._saved = saved
        except (ImportError, OSError) as exc:  # termios.error is an OSError subclass
            log.debug("Could not stop the terminal echoing: %s", exc)

    def _read(self) -> None:
        try:
            for _line in self._stream:
                if self._closed.is_set():
                    return
                self.taps += 1
                self._tap()
        except (OSError, ValueError) as exc:  # the terminal went away: no more taps
            log.debug("Stopped reading taps: %s", exc)

    def close(self) -> None:
        """Give the terminal back as it was."""
        self._closed.set()
        if self._saved is None:
            return
        with contextlib.suppress(ImportError, OSError, ValueError):
            import termios

            termios.tcsetattr(self._stream.fileno(), termios.TCSANOW, self._saved)
        self._saved = None
