"""One way to write a file: a temporary file beside it, fsync, then rename over it.

Every file Coreg writes (settings, narration and ambience caches, rendered audio, the launcher
entry, autostart, notice flags) goes through here. A crash, a full disk or a second process reading
at the wrong moment then sees the old file or the new one, never half of one, and a failed write
leaves no stray temporary file behind.

Files the user hands us to import (a photo, a voice memo) are checked here too, so each importer
names a missing or unreadable file the same way, in one line.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

#: Temporary files start with this, so a cache or a folder listing can tell them from real files.
TMP_PREFIX = ".coreg-tmp-"
#: Private user data (settings, history, safe people) is readable by its owner only.
PRIVATE_FILE = 0o600
#: Everything else (caches, launcher entries, rendered audio): readable by others, like `open()`.
PUBLIC_FILE = 0o644


@contextlib.contextmanager
def atomic_writer(path: Path, mode: int | None = None) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces `path` when the block ends without an exception.

    `mode` sets the permission bits (for example PRIVATE_FILE); None gives PUBLIC_FILE, as a plain
    `open()` would under the usual umask (mkstemp alone would make every file private).
    The parent folder is created if it is missing.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f"{TMP_PREFIX}{path.name}.")
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, PUBLIC_FILE if mode is None else mode)
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _sync_dir(path.parent)


def atomic_write(path: Path, data: bytes | str, mode: int | None = None) -> None:
    """Replace `path` with `data` (text is written as UTF-8)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_writer(path, mode) as fh:
        fh.write(payload)


def is_temporary(path: Path) -> bool:
    """True for a leftover of an interrupted write (safe to delete)."""
    return path.name.startswith(TMP_PREFIX)


def _sync_dir(directory: Path) -> None:
    """Make the rename itself durable; some filesystems cannot open a folder, which is fine."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


class InputFileError(Exception):
    """A file handed to an import cannot be used; the message is one line naming it."""


def input_file_size(path: Path) -> int:
    """The size of a regular file the user gave, or InputFileError saying why it cannot be read."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not path.is_file():
        raise InputFileError(f"{path}: is not a file")
    return size
