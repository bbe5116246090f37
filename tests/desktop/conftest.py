"""The Qt fixtures (see tests/qtkit.py), for the tests of this package."""

from __future__ import annotations

from ..qtkit import (  # noqa: F401  (fixtures are found by name)
    bridge,
    collect_on_the_gui_thread,
    core,
    library,
    player,
    settings,
    themed,
)
