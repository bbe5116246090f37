"""Enter on a real terminal (a pty) is a tap; piped input never is, and the terminal comes back
as it was."""

from __future__ import annotations

import os
import pty
import termios
import time
from collections.abc import Callable

from coreg_desktop.terminal_taps import EnterTaps


def _wait(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_each_enter_on_a_terminal_is_one_tap_and_is_not_echoed() -> None:
    master, slave = pty.openpty()
    stream = os.fdopen(slave, "r")
    heard: list[float] = []

    def tap() -> bool:
        heard.append(time.monotonic())
        return True

    taps = EnterTaps(tap, stream)
    try:
        echo_before = termios.tcgetattr(slave)[3] & termios.ECHO
        assert echo_before
        assert taps.start()
        assert not termios.tcgetattr(slave)[3] & termios.ECHO
        os.write(master, b"\n")
        os.write(master, b"anything typed\n")
        assert _wait(lambda: len(heard) == 2), heard
        taps.close()
        assert termios.tcgetattr(slave)[3] & termios.ECHO  # given back as it was
    finally:
        taps.close()
        os.close(master)  # the terminal goes away: the reader sees the end and stops ...
        assert _wait(lambda: not taps.reading)
        stream.close()  # ... so its stream can be closed (not while a read holds it)


def test_piped_input_is_not_listened_to() -> None:
    read, write = os.pipe()
    stream = os.fdopen(read, "r")
    heard: list[int] = []

    def tap() -> bool:
        heard.append(1)
        return True

    taps = EnterTaps(tap, stream)
    try:
        assert not taps.start()
        os.write(write, b"\n\n\n")
        time.sleep(0.2)
        assert heard == []
    finally:
        taps.close()
        stream.close()
        os.close(write)
