"""The Qt fixtures (see tests/qtkit.py), and a private session bus, for the tests of this
package."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator

import pytest

from ..qtkit import (  # noqa: F401  (fixtures are found by name)
    bridge,
    collect_on_the_gui_thread,
    core,
    library,
    player,
    settings,
    themed,
)


@pytest.fixture
def bus_address() -> Iterator[str]:
    """A private session bus, so the tests never meet a real desktop's media controls or
    notifications."""
    if shutil.which("dbus-daemon") is None or shutil.which("dbus-send") is None:
        pytest.skip("needs dbus-daemon and dbus-send (apt-get install -y dbus dbus-bin)")
    out = subprocess.run(
        ["dbus-daemon", "--session", "--print-address=1", "--print-pid=1", "--fork"],
        capture_output=True, text=True, check=True, timeout=10,
    ).stdout.split()
    address, pid = out[0], int(out[1])
    yield address
    os.kill(pid, signal.SIGTERM)
