"""`coreg-desktop play breathe-with --no-gui` with a person tapping Enter on a terminal, heard
through a real PulseAudio null sink: the tones follow the tapped rhythm, then slow down."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

from ..cues import assert_follows_then_leads, breath_rates, find_cues
from .pulse import REC_RATE, PulseServer, Recorder

SPEECH_DBFS = -38.0
#: The person taps a fast breath: 20 a minute.
TAP_EVERY_S = 3.0
TAPS = 5
#: Listened to after the last tap: its three breaths at their pace, the line that says it will
#: slow down, and the first slower breaths.
#: How far it leads them down, breath by breath, is heard in test_breathe_with_desktop.py;
#: this one is about the terminal's taps.
LISTEN_AFTER_TAPS_S = 34.0


def _env(server: PulseServer, home: Path) -> dict[str, str]:
    env = dict(server.env)
    for var in ("XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        env[var] = str(home / var.lower())
    env["PYTHONUNBUFFERED"] = "1"
    return env


def test_tapping_a_fast_rhythm_is_followed_then_led_down(
    pulse_server: PulseServer, recorder: Recorder, tmp_path: Path
) -> None:
    env = _env(pulse_server, tmp_path)
    # Render once, so `play` hears its lines from the cache rather than waiting on synthesis.
    warm = subprocess.run(
        [sys.executable, "-m", "coreg_desktop", "render", "breathe-with", "--minutes", "1",
         "--no-ambient", "-o", str(tmp_path / "warm.wav")],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert warm.returncode == 0, warm.stderr
    master, slave = pty.openpty()  # a terminal, as a person has: Enter is a tap
    t0 = recorder.mark()
    proc = subprocess.Popen(
        [sys.executable, "-m", "coreg_desktop", "play", "breathe-with", "--no-gui",
         "--no-ambient", "--minutes", "3"],
        env=env, stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    os.close(slave)
    taps: list[float] = []
    try:
        recorder.wait_until(t0 + 6.0)
        onset = recorder.onset_after(t0, SPEECH_DBFS)
        assert onset is not None, "the welcome was not heard"
        # They start tapping while the welcome is still being spoken, as people do.
        recorder.wait_until(onset + 4.0)
        start = time.monotonic()
        for k in range(TAPS):
            time.sleep(max(0.0, start + k * TAP_EVERY_S - time.monotonic()))
            os.write(master, b"\n")
            taps.append(recorder.mark())
        recorder.wait_until(taps[-1] + LISTEN_AFTER_TAPS_S, timeout=120)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    cues = [(t, kind) for t, kind in find_cues(recorder.samples(), REC_RATE) if t > t0]
    breaths = breath_rates(cues)
    assert len(breaths) >= 6, cues
    # No cue before the taps were measured: it listened first.
    assert cues[0][0] > taps[3]
    # It followed them: their rate, in step with their taps (the next breath in they would
    # take), within what a sound server's latency and a terminal's echo can blur.
    # Then it began to lead them down: slower breath by breath, never by more than about 0.5
    # a minute.
    assert_follows_then_leads(breaths, taps, in_step_s=0.35, slower_by=0.5)
