"""The sound bank: each sound made once per process, and a broken cache never stops a practice."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop.audio.bank import SoundBank
from coreg_desktop.constants import CHANNELS


def test_cues_are_made_once_as_contiguous_float32(tmp_path: Path) -> None:
    bank = SoundBank(tmp_path / "amb")
    for key in ("bell", "inhale", "hold", "exhale", "rest"):
        sound = bank.cue(key)
        assert sound.dtype == np.float32 and sound.ndim == 1 and sound.flags.c_contiguous
        assert 0.0 < float(np.abs(sound).max()) <= 1.0
        assert bank.cue(key) is sound  # the mixer may keep a reference: never remade
    assert len(bank.cue("bell")) > len(bank.cue("inhale"))  # the bell rings on


def test_ambience_is_only_made_when_asked_and_then_kept(tmp_path: Path) -> None:
    bank = SoundBank(tmp_path / "amb")
    assert bank.ambience_if_ready("soft-pad") is None  # never generates on the caller's thread
    loop = bank.ambience("soft-pad")
    assert loop is not None and loop.dtype == np.float32 and loop.shape[1] == CHANNELS
    assert bank.ambience_if_ready("soft-pad") is loop
    assert bank.ambience("soft-pad") is loop
    assert list((tmp_path / "amb").glob("*soft-pad*"))  # cached on disk for the next run
    # A new process (a new bank) reads the cache instead of generating again.
    again = SoundBank(tmp_path / "amb").ambience("soft-pad")
    assert again is not None and np.array_equal(again, loop)


def test_none_is_silence(tmp_path: Path) -> None:
    bank = SoundBank(tmp_path / "amb")
    assert bank.ambience("none") is None
    assert bank.ambience_if_ready("none") is None


def test_an_unusable_cache_folder_still_gives_the_loop(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "amb"
    blocker.write_text("a file where the cache folder should be")
    loop = SoundBank(blocker).ambience("brown-noise")
    assert loop is not None and len(loop) > 0
    assert "Could not cache ambience" in caplog.text


def test_an_unknown_ambience_is_logged_and_plays_as_silence(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bank = SoundBank(tmp_path / "amb")
    assert bank.ambience("thunder") is None
    assert "Ambience 'thunder' is unavailable" in caplog.text
    assert bank.ambience_if_ready("thunder") is None


def test_two_threads_asking_at_once_get_usable_loops(tmp_path: Path) -> None:
    bank = SoundBank(tmp_path / "amb")
    got: list[np.ndarray | None] = []
    threads = [threading.Thread(target=lambda: got.append(bank.ambience("rain"))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(got) == 2 and all(loop is not None for loop in got)
    kept = bank.ambience_if_ready("rain")
    assert kept is not None and any(loop is kept for loop in got)
