"""The narration cache: right key, no stale clips, and damage that never reaches the listener."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.narrator import Narrator
from coreg_desktop.tts.piper import PiperSynthesizer


class CountingSynth:
    """The real Piper voice, counting how often it is asked to speak."""

    def __init__(self, inner: PiperSynthesizer) -> None:
        self.inner = inner
        self.engine = inner.engine
        self.engine_version = inner.engine_version
        self.voice = inner.voice
        self.calls = 0

    def synthesize(self, text: str, rate: float) -> tuple[np.ndarray, int]:
        self.calls += 1
        return self.inner.synthesize(text, rate)


@pytest.fixture(scope="module")
def piper() -> PiperSynthesizer:
    return PiperSynthesizer()


BASE = dict(
    engine="piper",
    engine_version="1.8.0+p1",
    voice="en_US-joe-medium",
    rate=1.0,
    sample_rate=48000,
    text="You are safe.",
)


def test_key_changes_with_every_input() -> None:
    base = ClipCache.key_for(**BASE)  # type: ignore[arg-type]
    assert base == ClipCache.key_for(**BASE)  # type: ignore[arg-type]
    assert len(base) == 64 and int(base, 16) >= 0
    changes = {
        "engine": "system",
        "engine_version": "1.8.0+p2",
        "voice": "en_GB-alba-medium",
        "rate": 1.1,
        "sample_rate": 44100,
        "text": "You are safe now.",
    }
    keys = {base}
    for field, value in changes.items():
        key = ClipCache.key_for(**{**BASE, field: value})  # type: ignore[arg-type]
        assert key not in keys, field
        keys.add(key)
    # Field boundaries matter: moving text between fields must not collide.
    a = ClipCache.key_for("piper", "1", "a b", 1.0, 48000, "c")
    b = ClipCache.key_for("piper", "1", "a", 1.0, 48000, "b c")
    assert a != b
    # 1 and 1.0 are the same rate.
    assert ClipCache.key_for(**{**BASE, "rate": 1}) == base  # type: ignore[arg-type]


def test_round_trip_is_exact(tmp_path: Path) -> None:
    cache = ClipCache(tmp_path / "c")
    audio = np.random.default_rng(1).uniform(-0.7, 0.7, 48000).astype(np.float32)
    key = ClipCache.key_for(**BASE)  # type: ignore[arg-type]
    assert cache.get(key) is None and not cache.contains(key)
    cache.put(key, audio)
    assert cache.contains(key) and len(cache) == 1
    got = cache.get(key)
    assert got is not None and got.dtype == np.float32
    np.testing.assert_array_equal(got, audio)
    assert cache.size_bytes() >= audio.nbytes
    cache.clear()
    assert cache.get(key) is None and cache.size_bytes() == 0


def test_default_directory_is_the_narration_cache(tmp_path: Path) -> None:
    cache = ClipCache()
    assert cache.directory == tmp_path / "xdg_cache_home" / "coreg-desktop" / "narration"


@pytest.mark.parametrize(
    "damage",
    [
        b"",  # crash right after creating the file
        b"\x93NUMPY garbage",  # truncated header
        b"not a numpy file at all",
    ],
)
def test_corrupt_entry_is_a_miss_logged_once(
    tmp_path: Path, damage: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    cache = ClipCache(tmp_path)
    key = ClipCache.key_for(**BASE)  # type: ignore[arg-type]
    cache.path_for(key).write_bytes(damage)
    with caplog.at_level(logging.WARNING, logger="coreg_desktop.tts.cache"):
        assert cache.get(key) is None
        cache.path_for(key).write_bytes(damage)
        assert cache.get(key) is None
    assert len(caplog.records) == 1
    assert not cache.path_for(key).exists()  # removed, so the next put rewrites it


def test_truncated_clip_and_wrong_dtype_are_misses(tmp_path: Path) -> None:
    cache = ClipCache(tmp_path)
    key = ClipCache.key_for(**BASE)  # type: ignore[arg-type]
    cache.put(key, np.ones(10_000, np.float32) * 0.1)
    path = cache.path_for(key)
    path.write_bytes(path.read_bytes()[:-4000])
    assert cache.get(key) is None
    np.save(path, np.ones((2, 10), np.float64))
    assert cache.get(key) is None


def test_crash_during_write_leaves_no_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = ClipCache(tmp_path)
    key = ClipCache.key_for(**BASE)  # type: ignore[arg-type]
    old = np.full(1000, 0.25, np.float32)
    cache.put(key, old)

    def exploding_replace(src: str, dst: str) -> None:
        raise KeyboardInterrupt("power cut")  # not an OSError: must not be swallowed

    monkeypatch.setattr(os, "replace", exploding_replace)
    with pytest.raises(KeyboardInterrupt):
        cache.put(key, np.zeros(5, np.float32))
    monkeypatch.undo()
    got = cache.get(key)
    assert got is not None
    np.testing.assert_array_equal(got, old)  # the old clip is intact, never half-written
    assert [p.name for p in tmp_path.iterdir()] == [cache.path_for(key).name]  # no temp left


def test_unwritable_cache_does_not_raise(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = ClipCache(blocker / "clips")
    key = ClipCache.key_for(**BASE)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING):
        cache.put(key, np.zeros(10, np.float32))
        cache.put(key, np.zeros(10, np.float32))
    assert cache.get(key) is None
    assert len(caplog.records) == 1


def test_bad_keys_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        ClipCache(tmp_path).path_for("../../etc/passwd")


def test_cache_hit_avoids_synthesis(piper: PiperSynthesizer, tmp_path: Path) -> None:
    synth = CountingSynth(piper)
    narrator = Narrator(synth, ClipCache(tmp_path))
    text = "Feel the floor. It holds you."
    assert not narrator.cached(text)
    first = narrator.clip(text)
    assert synth.calls == 2  # one per sentence
    assert narrator.cached(text)
    second = narrator.clip(text)
    assert synth.calls == 2
    np.testing.assert_array_equal(first, second)

    # A new narrator (think: next app start) with the same cache directory still hits.
    again = Narrator(synth, ClipCache(tmp_path)).clip("  Feel the floor.\n It holds you. ")
    assert synth.calls == 2
    np.testing.assert_array_equal(first, again)

    # A different rate is a different clip.
    Narrator(synth, ClipCache(tmp_path), rate=1.2).clip(text)
    assert synth.calls == 4


def test_corrupt_cached_clip_is_resynthesized(piper: PiperSynthesizer, tmp_path: Path) -> None:
    synth = CountingSynth(piper)
    narrator = Narrator(synth, ClipCache(tmp_path))
    text = "Breathe out."
    narrator.clip(text)
    narrator.cache.path_for(narrator.key(text)).write_bytes(b"junk")
    clip = narrator.clip(text)
    assert synth.calls == 2
    assert float(np.max(np.abs(clip))) > 0.1
    assert narrator.cache.get(narrator.key(text)) is not None


def test_removing_the_whole_cache_while_running_only_costs_new_synthesis(
    piper: PiperSynthesizer, tmp_path: Path
) -> None:
    """`rm -rf ~/.cache/coreg-desktop` while the app runs: lines are simply made again."""
    import shutil

    folder = tmp_path / "cache" / "narration"
    synth = CountingSynth(piper)
    narrator = Narrator(synth, ClipCache(folder))
    first = narrator.clip("Steady now.")
    shutil.rmtree(tmp_path / "cache")
    assert not narrator.cached("Steady now.")
    again = narrator.clip("Steady now.")
    assert synth.calls == 2 and len(again) > 0 and len(first) > 0
    assert narrator.cached("Steady now.") and folder.is_dir()
