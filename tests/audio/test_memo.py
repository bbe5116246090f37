"""Voice memos: any common format, on a machine with no system ffmpeg, trimmed and levelled.

The system's ffmpeg and ffprobe are replaced on PATH by scripts that only note that they were
called, so a test passes only if the import uses the bundled binary and never asks ffprobe.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop.audio import memo as memo_mod
from coreg_desktop.audio.decode import decode
from coreg_desktop.constants import SAMPLE_RATE
from coreg_desktop.safe_people import SafePeople, SafePersonError
from coreg_desktop.tts.loudness import integrated_loudness
from coreg_desktop.tts.narrator import TARGET_LUFS
from tests.memo_inputs import CODECS, encode, memo_file, voice_like, with_silence, write_wav


@pytest.fixture
def no_system_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """PATH where `ffmpeg` and `ffprobe` are traps; yields the file a trap writes when run."""
    bin_dir = tmp_path / "trap-bin"
    bin_dir.mkdir()
    called = tmp_path / "system-ffmpeg-called"
    for name in ("ffmpeg", "ffprobe"):
        trap = bin_dir / name
        trap.write_text(f"#!/bin/sh\necho {name} >> '{called}'\nexit 1\n")
        trap.chmod(trap.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.delenv("IMAGEIO_FFMPEG_EXE", raising=False)
    yield called
    assert not called.exists(), f"the system's {called.read_text().split()} was called"


@pytest.fixture
def ana() -> SafePeople:
    store = SafePeople()
    store.add("Ana", "grandmother")
    return store


@pytest.mark.parametrize("suffix", sorted(CODECS))
def test_every_common_format_imports_trimmed_and_at_the_narrations_loudness(
    tmp_path: Path, suffix: str, ana: SafePeople, no_system_ffmpeg: Path
) -> None:
    source = memo_file(tmp_path, suffix, seconds=3.0, before=1.2, after=2.0, level_db=-30.0)
    person, memo = ana.add_memo("Ana", source)
    assert memo.label == source.name
    path = person.memo_path(memo)
    assert path.suffix == ".flac" and stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = memo_mod.load(path)
    # 3 s of sound; the 1.2 s before and 2 s after are trimmed down to the kept margins.
    assert 3.0 <= len(stored) / SAMPLE_RATE <= 3.0 + 2 * memo_mod.TRIM_MARGIN_S + 0.1
    assert abs(memo.seconds - len(stored) / SAMPLE_RATE) < 0.05
    assert integrated_loudness(stored, SAMPLE_RATE) == pytest.approx(TARGET_LUFS, abs=1.0)
    assert float(np.max(np.abs(stored))) < 0.99
    assert [m.label for m in ana.require("Ana").memos] == [source.name]


def test_the_source_can_go_once_it_is_imported(tmp_path: Path, ana: SafePeople) -> None:
    source = memo_file(tmp_path, ".mp3")
    person, memo = ana.add_memo("Ana", source)
    source.unlink()
    assert len(memo_mod.load(person.memo_path(memo))) > SAMPLE_RATE


def limits_line(store: SafePeople, path: Path) -> str:
    with pytest.raises(SafePersonError) as info:
        store.add_memo("Ana", path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    return message


def no_memo_files(store: SafePeople) -> None:
    person = store.require("Ana")
    assert person.memos == ()
    memos = person.folder / "memos"
    assert not memos.exists() or list(memos.iterdir()) == []


def test_fake_truncated_and_empty_files_are_one_line_and_leave_nothing(
    tmp_path: Path, ana: SafePeople, no_system_ffmpeg: Path
) -> None:
    fake = tmp_path / "song.mp3"
    fake.write_text("this is a shopping list, not a song\n" * 20)
    empty_wav = write_wav(tmp_path / "empty.wav", np.zeros(0, np.float32))
    silent = write_wav(tmp_path / "silent.wav", np.zeros(44_100 * 3, np.float32))
    whole = memo_file(tmp_path, ".mp3", seconds=10.0)
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    whole_flac = memo_file(tmp_path, ".flac", seconds=10.0)
    cut_flac = tmp_path / "cut.flac"
    cut_flac.write_bytes(whole_flac.read_bytes()[: whole_flac.stat().st_size // 2])
    whole_wav = memo_file(tmp_path, ".wav", seconds=10.0)
    cut_wav = tmp_path / "cut.wav"
    cut_wav.write_bytes(whole_wav.read_bytes()[: whole_wav.stat().st_size // 2 + 1])
    nothing = tmp_path / "nothing.m4a"
    nothing.write_bytes(b"")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    expected = {
        fake: "could not be read as audio",
        empty_wav: "no sound",
        silent: "no sound",
        cut: "cut short",
        cut_flac: "cut short",
        cut_wav: "cut short",
        nothing: "empty",
        text: "not a voice memo",
        tmp_path / "missing.mp3": "no such file",
    }
    for path, words in expected.items():
        message = limits_line(ana, path)
        assert words in message, message
    no_memo_files(ana)
    # ... and the next good one still imports.
    _, memo = ana.add_memo("Ana", memo_file(tmp_path, ".ogg"))
    assert memo.seconds > 2.5


def test_limits_are_one_line(tmp_path: Path, ana: SafePeople,
                             monkeypatch: pytest.MonkeyPatch, no_system_ffmpeg: Path) -> None:
    # Four minutes of speech: over the 3-minute limit, found without decoding the whole file.
    long = encode(voice_like(240.0), tmp_path / "long talk.opus")
    started = time.perf_counter()
    assert "longer than 3 minutes" in limits_line(ana, long)
    assert time.perf_counter() - started < 20
    # 3:02 of speech with 10 s of silence around it: the silence does not count ...
    padded = encode(with_silence(voice_like(170.0), 10.0, 10.0), tmp_path / "padded.mp3")
    _, memo = ana.add_memo("Ana", padded)
    assert 170.0 <= memo.seconds <= 171.0
    ana.remove_memo("Ana", memo.label)
    # ... but 3:05 of speech is too long even when the file is shorter than the decode cap.
    over = encode(voice_like(183.0), tmp_path / "over.ogg")
    assert "longer than 3 minutes" in limits_line(ana, over) or "lasts 3:0" in limits_line(
        ana, over)
    monkeypatch.setattr(memo_mod, "MAX_INPUT_BYTES", 1000)
    assert "at most 0 MB" in limits_line(ana, memo_file(tmp_path, ".wav"))
    no_memo_files(ana)


def test_decoding_reads_no_more_than_it_is_allowed(tmp_path: Path) -> None:
    long = write_wav(tmp_path / "long.wav", voice_like(20.0))
    decoded = decode(long, max_seconds=2.0)
    assert decoded.capped and len(decoded.audio) == pytest.approx(2 * SAMPLE_RATE, abs=480)
    whole = decode(long, max_seconds=30.0)
    assert not whole.capped and len(whole.audio) == pytest.approx(20 * SAMPLE_RATE, abs=480)
