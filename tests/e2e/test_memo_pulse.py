"""A safe person's voice memo as a user hears it: imported with the terminal command (no system
ffmpeg), played in a practice through a real PulseAudio null sink, and found in the recording
with the soundscape lower under it.

The memo is a pure 1 kHz tone, so it can be told apart from the voice and the rain in the
recording: its own band shows where it plays, and everything outside that band is the rest of
the mix.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from coreg_desktop.audio.mixer import DUCK_DB
from coreg_desktop.audio.wav import read_wav
from tests.memo_inputs import encode, with_silence

from .pulse import REC_RATE, PulseServer, Recorder
from .test_play_pulse import _coreg, _env

MEMO_HZ = 1000.0
MEMO_S = 4.0
PRACTICE = """\
id = "memo-check"
title = "Memo check"
ambience = "rain"

[[steps]]
pause = 7.0

[[steps]]
say = "Here is a message for you."
pause = 0.5

[[steps]]
memo = true
pause = 6.0

[[steps]]
say = "That was {safe_person}, {relationship}."
"""


def band_levels(x: np.ndarray, rate: int, frame_s: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: the power in the memo's band, and the power everywhere else."""
    n = int(frame_s * rate)
    frames = x[: len(x) // n * n].astype(np.float64).reshape(-1, n) * np.hanning(n)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    hz = np.fft.rfftfreq(n, 1.0 / rate)
    band = (hz > MEMO_HZ - 60) & (hz < MEMO_HZ + 60)
    return power[:, band].sum(axis=1), power[:, ~band & (hz > 40)].sum(axis=1)


def memo_span(x: np.ndarray, rate: int, frame_s: float = 0.25) -> tuple[float, float]:
    """Where the tone plays: frames whose memo band holds nearly all the power."""
    tone, rest = band_levels(x, rate, frame_s)
    loud = tone > 20 * rest
    frames = np.flatnonzero(loud)
    assert len(frames), "the memo was not found"
    return frames[0] * frame_s, (frames[-1] + 1) * frame_s


def rest_db_under_and_after(x: np.ndarray, rate: int) -> tuple[float, float]:
    """The level of everything but the memo: under the memo, and in the quiet after it."""
    start, end = memo_span(x, rate)
    frame_s = 0.25
    _, rest = band_levels(x, rate, frame_s)
    under = rest[int((start + 0.75) / frame_s) : int((end - 0.75) / frame_s)]
    after = rest[int((end + 1.5) / frame_s) : int((end + 5.0) / frame_s)]
    return float(10 * np.log10(np.mean(under))), float(10 * np.log10(np.mean(after)))


def test_the_memo_plays_in_the_practice_with_the_rain_ducked_under_it(
    pulse_server: PulseServer, recorder: Recorder, tmp_path: Path
) -> None:
    env = _env(pulse_server, tmp_path)
    env["PATH"] = str(tmp_path / "no-ffmpeg-here")  # only the bundled ffmpeg can decode
    t = np.arange(int(MEMO_S * 44_100)) / 44_100
    tone = (0.3 * np.sin(2 * np.pi * MEMO_HZ * t)).astype(np.float32)
    memo = encode(with_silence(tone, 1.0, 1.0), tmp_path / "hello from grandma.mp3")

    def coreg(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "coreg_desktop", *args], env=env,
                              capture_output=True, text=True, timeout=300, check=False)

    added = coreg("safe-person", "add", "Ana", "--relationship", "grandmother", "--memo",
                  str(memo))
    assert added.returncode == 0, added.stderr
    memo.unlink()  # the user deletes the original: Coreg has its own copy
    practices = tmp_path / "xdg_data_home" / "coreg-desktop" / "practices"
    practices.mkdir(parents=True)
    (practices / "memo-check.toml").write_text(PRACTICE)

    # `render` has the memo in it, ducking the rain (and this warms the narration cache).
    rendered = coreg("render", "memo-check", "-o", str(tmp_path / "memo-check.wav"))
    assert rendered.returncode == 0, rendered.stderr
    audio, rate = read_wav(tmp_path / "memo-check.wav")
    start, end = memo_span(audio[:, 0], rate)
    assert abs((end - start) - MEMO_S) < 0.75, (start, end)
    under, after = rest_db_under_and_after(audio[:, 0], rate)
    assert DUCK_DB - 2.5 < after - under < DUCK_DB + 2.5, (under, after)

    t0 = recorder.mark()
    proc = _coreg("play", "memo-check", "--no-gui", env=env)
    try:
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "A message from Ana" in out and "That was Ana, your grandmother." in out
    recorder.wait_until(recorder.mark() + 0.5)
    heard = recorder.samples()[int(t0 * REC_RATE) :]
    start, end = memo_span(heard, REC_RATE)
    assert abs((end - start) - MEMO_S) < 0.75, (start, end)
    assert start > 7.0  # after the opening quiet and the first line, as written
    under, after = rest_db_under_and_after(heard, REC_RATE)
    print(f"heard the memo at {start:.2f}-{end:.2f} s; the rest of the mix is "
          f"{after - under:.1f} dB lower under it")
    assert DUCK_DB - 2.5 < after - under < DUCK_DB + 2.5, (under, after)
