"""The one atomic writer: the old file or the new one, never half; no leftovers; modes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from coreg_desktop import files


def test_a_write_replaces_the_file_and_leaves_nothing_behind(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "file.txt"
    files.atomic_write(path, "first")
    files.atomic_write(path, b"second")
    assert path.read_bytes() == b"second"
    assert [p.name for p in path.parent.iterdir()] == ["file.txt"]
    assert stat.S_IMODE(path.stat().st_mode) == files.PUBLIC_FILE


def test_private_files_are_for_their_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    files.atomic_write(path, "{}", mode=files.PRIVATE_FILE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_write_that_fails_half_way_keeps_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "clip.npy"
    files.atomic_write(path, b"old")
    with pytest.raises(RuntimeError), files.atomic_writer(path) as fh:
        fh.write(b"half of the new")
        raise RuntimeError("the disk filled up")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["clip.npy"]


def test_a_folder_that_cannot_be_made_raises_oserror(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(OSError):
        files.atomic_write(blocker / "x.npy", b"data")


def test_leftovers_of_an_interrupted_write_are_recognisable(tmp_path: Path) -> None:
    path = tmp_path / "x.npy"
    with pytest.raises(KeyboardInterrupt), files.atomic_writer(path) as fh:
        fh.write(b"partial")
        temp = Path(os.readlink(f"/proc/self/fd/{fh.fileno()}"))
        assert files.is_temporary(temp) and temp.parent == tmp_path
        raise KeyboardInterrupt
    assert not temp.exists() and not path.exists()
    assert not files.is_temporary(path)
