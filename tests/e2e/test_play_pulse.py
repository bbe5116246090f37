"""`coreg-desktop play --no-gui` as a user runs it, heard through a real PulseAudio null sink."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .pulse import PulseServer, Recorder

#: Speech from the narrator sits near -20 dBFS RMS; ambience and the hum far below this.
SPEECH_DBFS = -38.0


def _env(server: PulseServer, home: Path) -> dict[str, str]:
    env = dict(server.env)
    for var in ("XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        env[var] = str(home / var.lower())
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _coreg(*args: str, env: dict[str, str], **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "coreg_desktop", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def _warm_cache(env: dict[str, str], tmp: Path) -> None:
    """Render once: the same cache serves `play`, so the test hears narration, not synthesis."""
    done = subprocess.run(
        [sys.executable, "-m", "coreg_desktop", "render", "quick-reset", "-o", str(tmp / "q.wav")],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr


def _interrupt(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=15)
    return proc.returncode, out, err


def test_quick_reset_speaks_promptly_at_a_sane_level_and_ctrl_c_fades_out(
    pulse_server: PulseServer, recorder: Recorder, tmp_path: Path
) -> None:
    env = _env(pulse_server, tmp_path)
    _warm_cache(env, tmp_path)
    t0 = recorder.mark()
    proc = _coreg("play", "quick-reset", "--no-gui", env=env)
    try:
        recorder.wait_until(t0 + 8.0)
        onset = recorder.onset_after(t0, SPEECH_DBFS)
        assert onset is not None, "no speech was heard"
        # Process start, Python imports and the stream opening included; generous for CI.
        assert onset - t0 < 3.0, f"speech began {onset - t0:.2f} s after launch"
        level = recorder.rms_dbfs(onset, onset + 1.0)
        assert -32.0 < level < -8.0, f"speech level {level:.1f} dBFS"
        stop_at = recorder.mark()
        code, out, err = _interrupt(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 0, err
    assert "Traceback" not in err
    assert "I'm here with you." in out  # the first caption line, printed when not a terminal
    recorder.wait_until(stop_at + 3.0)
    # The fade takes about a second; two seconds after Ctrl+C only the hum is left.
    assert recorder.rms_dbfs(stop_at + 2.0, stop_at + 3.0) < -55.0


def test_playback_survives_the_sound_server_crashing_and_coming_back(
    pulse_server: PulseServer, recorder: Recorder, tmp_path: Path
) -> None:
    env = _env(pulse_server, tmp_path)
    _warm_cache(env, tmp_path)
    t0 = recorder.mark()
    proc = _coreg("play", "quick-reset", "--no-gui", env=env)
    try:
        recorder.wait_until(t0 + 5.0)
        assert recorder.onset_after(t0, SPEECH_DBFS) is not None, "no speech before the crash"
        crashed_at = time.monotonic()
        pulse_server.kill()
        time.sleep(1.5)
        assert proc.poll() is None, "the player died with the sound server"
        pulse_server.start()
        recorder.restart()
        back = recorder.mark()
        recorder.wait_until(back + 12.0, timeout=40)
        # The quick reset keeps speaking and breathing on the new server: speech or cue words.
        resumed = recorder.onset_after(back, -45.0)
        assert resumed is not None, "no sound after the server came back"
        assert resumed - back < 8.0, f"sound came back only after {resumed - back:.1f} s"
        assert proc.poll() is None
        code, out, err = _interrupt(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 0, err
    assert "Traceback" not in err
    # The practice clock carried on through the outage instead of starting over: the progress
    # printed after the crash is later than the crash, by at least the outage.
    stamps = [int(m) * 60 + int(s) for m, s in re.findall(r"^\[(\d+):(\d\d)\]", out, re.M)]
    assert stamps and max(stamps) >= (time.monotonic() - crashed_at) * 0.5
    assert os.environ.get("PULSE_SERVER")  # the harness pointed this process at the test server
