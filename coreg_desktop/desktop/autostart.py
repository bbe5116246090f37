"""Start at login, minimised to the tray: an XDG autostart entry the setting writes or removes.

The entry lives in `$XDG_CONFIG_HOME/autostart/` (the freedesktop Autostart spec), which GNOME,
KDE, Xfce and most others honour. It starts this install of Coreg with `--minimized`, so logging
in never throws a window at someone; the tray icon is simply there when it is needed.

Qt-free: the app calls `apply` when the `start_at_login` setting changes.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from pathlib import Path

from coreg_desktop import files
from coreg_desktop.desktop.desktop_entry import (
    ENTRY_FILE,
    config_home,
    render_entry,
)

log = logging.getLogger(__name__)

MINIMIZED_ARG = "--minimized"


def autostart_path(config: Path | None = None) -> Path:
    return (config or config_home()) / "autostart" / ENTRY_FILE


def is_enabled(config: Path | None = None) -> bool:
    return autostart_path(config).is_file()


def enable(config: Path | None = None, command: Sequence[str] | None = None) -> Path:
    """Write (or refresh) the autostart entry, pointing at the executable running now."""
    path = autostart_path(config)
    text = render_entry(command, extra_args=[MINIMIZED_ARG],
                        extra_keys=[("X-GNOME-Autostart-enabled", "true")])
    files.atomic_write(path, text.encode("utf-8"))
    log.info("Coreg will start in the tray at login (%s)", path)
    return path


def disable(config: Path | None = None) -> bool:
    """Remove the autostart entry; True if there was one."""
    path = autostart_path(config)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
        log.info("Coreg will no longer start at login (removed %s)", path)
        return True
    return False


def apply(enabled: bool, config: Path | None = None,
          command: Sequence[str] | None = None) -> Path | None:
    """Make the autostart entry match the setting; the entry's path when enabled.

    Raises OSError when the entry cannot be written or removed: the caller says so in its own
    words (one line in a terminal, a notice in the app) instead of pretending it worked.
    """
    if enabled:
        return enable(config, command)
    disable(config)
    return None
