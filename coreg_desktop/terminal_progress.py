"""A one-line progress bar on the terminal, for work that takes more than a moment.

It draws only on an interactive terminal (never into a file or a pipe, where it would be noise),
only once the work has run for `delay_s` (a cached render finishes before it would appear), and
at most ten times a second, so it costs nothing next to the rendering it reports on.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 28
REDRAW_S = 0.1


class ProgressBar:
    def __init__(self, label: str, stream: TextIO | None = None, delay_s: float = 1.0) -> None:
        self.label = label
        self._stream = stream or sys.stderr
        self._enabled = self._stream.isatty()
        self._started = time.monotonic()
        self._delay_s = delay_s
        self._drawn_at = 0.0
        self._shown = False

    def update(self, fraction: float, label: str | None = None) -> None:
        if label is not None:
            self.label = label
        if not self._enabled:
            return
        now = time.monotonic()
        if now - self._started < self._delay_s or now - self._drawn_at < REDRAW_S:
            return
        self._drawn_at = now
        self._shown = True
        fraction = min(1.0, max(0.0, fraction))
        filled = round(fraction * WIDTH)
        bar = "#" * filled + "-" * (WIDTH - filled)
        self._stream.write(f"\r[{bar}] {fraction * 100:3.0f}%  {self.label}\033[K")
        self._stream.flush()

    def close(self) -> None:
        """Clear the line, so the result printed next starts at the left edge."""
        if self._shown:
            self._stream.write("\r\033[K")
            self._stream.flush()
            self._shown = False
