"""Listening to SoundDeviceOutput through a real PulseAudio, including a sound-server crash."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop.audio.output import (
    LOST_DEVICE_NOTICE,
    NO_DEVICE_NOTICE,
    SILENT_DEVICE_NAME,
    SoundDeviceOutput,
)
from coreg_desktop.constants import SAMPLE_RATE

from .pulse import PulseServer, Recorder

TONE_HZ = 440.0
AMPLITUDE = 0.5
#: RMS of a sine of that amplitude; both channels carry it, so the mono monitor does too.
EXPECTED_DBFS = 20 * math.log10(AMPLITUDE / math.sqrt(2))  # -9.03
ONSET_DBFS = -30.0  # the hum is at -66


class Sine:
    """A continuous 440 Hz tone whose phase follows the frames it has been asked for."""

    def __init__(self) -> None:
        self.frames = 0
        self._ramp = np.arange(16384, dtype=np.float64)
        self._phase = np.zeros(16384, dtype=np.float64)

    def __call__(self, out: np.ndarray) -> None:
        n = len(out)
        phase = self._phase[:n]
        np.add(self._ramp[:n], self.frames, out=phase)
        phase *= 2 * math.pi * TONE_HZ / SAMPLE_RATE
        np.sin(phase, out=phase)
        phase *= AMPLITUDE
        out[:] = phase[:, None]
        self.frames += n


def wait_for_tone(recorder: Recorder, since: float, within: float) -> float:
    """When the tone started after `since` (recording seconds); fails after `within` seconds."""
    deadline = time.monotonic() + within + 1.0
    while time.monotonic() < deadline:
        onset = recorder.onset_after(since, ONSET_DBFS)
        if onset is not None:
            return onset
        time.sleep(0.05)
    pytest.fail(f"no tone within {within} s (level after mark: "
                f"{recorder.rms_dbfs(since, recorder.mark()):.1f} dBFS)")


def assert_is_the_tone(recorder: Recorder, a: float, b: float) -> None:
    recorder.wait_until(b)
    level = recorder.rms_dbfs(a, b)
    assert level == pytest.approx(EXPECTED_DBFS, abs=3.0), f"tone level {level:.1f} dBFS"
    assert recorder.dominant_hz(a, b) == pytest.approx(TONE_HZ, abs=5.0)


def test_a_tone_is_heard_promptly_at_the_expected_level(
    pulse_server: PulseServer, recorder: Recorder
) -> None:
    notices: list[str] = []
    out = SoundDeviceOutput(on_notice=notices.append)
    sine = Sine()
    mark = recorder.mark()
    assert recorder.rms_dbfs(max(0.0, mark - 0.3), mark) < -55, "hum too loud or sink not silent"
    out.start(sine)
    try:
        onset = wait_for_tone(recorder, mark, within=1.0)
        assert onset - mark < 1.0, f"tone started {onset - mark:.2f} s after start()"
        assert_is_the_tone(recorder, onset + 0.3, onset + 1.3)
        # The audio clock says what the listener hears: position 0 is the tone's first frame,
        # heard at `onset` in the recording.
        heard = out.position_frames() / SAMPLE_RATE
        now = recorder.mark()
        assert heard == pytest.approx(now - onset, abs=0.15), "the clock disagrees with the ear"
        assert out.device_name != SILENT_DEVICE_NAME
        ours = [name for name in pulse_server.sink_inputs() if name != "coreg-test-hum"]
        assert len(ours) == 1, f"expected our one stream on the test server, got {ours}"
    finally:
        out.close()
    assert notices == []
    assert out.recoveries == 0
    assert out.render_errors == 0
    assert sine.frames == out.frames_rendered()


def test_the_tone_comes_back_after_the_sound_server_is_killed_and_restarted(
    pulse_server: PulseServer, recorder: Recorder
) -> None:
    notices: list[str] = []
    out = SoundDeviceOutput(on_notice=notices.append)
    sine = Sine()
    mark = recorder.mark()
    out.start(sine)
    try:
        onset = wait_for_tone(recorder, mark, within=1.0)
        recorder.wait_until(onset + 0.5)
        wall0, frames0 = time.monotonic(), out.frames_rendered()

        pulse_server.kill()
        t_kill = time.monotonic()
        assert recorder.proc is not None
        recorder.proc.wait(timeout=5)  # its server is gone
        # During the outage the clock carries on in real time.
        time.sleep(1.0)
        assert out.playing_silently
        assert notices == [LOST_DEVICE_NOTICE]
        wall_a, frames_a = time.monotonic(), out.frames_rendered()
        time.sleep(1.0)
        wall_b, frames_b = time.monotonic(), out.frames_rendered()
        outage_rate = (frames_b - frames_a) / (wall_b - wall_a) / SAMPLE_RATE
        assert outage_rate == pytest.approx(1.0, rel=0.1), "clock stalled or raced in the outage"

        pulse_server.start()  # a new daemon on the same socket path
        t_back = time.monotonic()
        recorder.restart()
        back = wait_for_tone(recorder, 0.0, within=5.0)
        reheard = time.monotonic()
        assert reheard - t_back < 5.0
        assert_is_the_tone(recorder, back + 0.3, back + 1.3)
        assert out.recoveries == 1
        assert out.device_name != SILENT_DEVICE_NAME
        assert not out.playing_silently

        wall1, frames1 = time.monotonic(), out.frames_rendered()
        overall = (frames1 - frames0) / (wall1 - wall0) / SAMPLE_RATE
        assert overall == pytest.approx(1.0, rel=0.1), "position did not keep real time"
        assert wall1 - t_kill > 3.0  # the measurement really spans the outage
        assert out._thread is not None and out._thread.is_alive()
    finally:
        out.close()
    assert notices == [LOST_DEVICE_NOTICE], "one gentle notice per outage"
    assert sine.frames == out.frames_rendered(), "frames skipped or rendered twice"
    assert out.render_errors == 0
    assert not any(t.name == "coreg-audio-watchdog" for t in threading.enumerate())


def test_a_sound_server_that_appears_later_is_found(
    pulse_server: PulseServer, tmp_path: Path
) -> None:
    """No device at start, then one appears: only a re-enumerating PortAudio finds it."""
    pulse_server.kill()
    notices: list[str] = []
    out = SoundDeviceOutput(on_notice=notices.append)
    sine = Sine()
    out.start(sine)
    recorder = Recorder(pulse_server, tmp_path / "late.raw")
    try:
        assert out.playing_silently
        assert notices == [NO_DEVICE_NOTICE]
        time.sleep(1.0)
        assert out.frames_rendered() > SAMPLE_RATE // 2  # the practice clock runs meanwhile

        pulse_server.start()
        recorder.start()
        onset = wait_for_tone(recorder, 0.0, within=5.0)
        assert_is_the_tone(recorder, onset + 0.3, onset + 1.3)
        assert not out.playing_silently
        assert out.device_name != SILENT_DEVICE_NAME
    finally:
        recorder.stop()
        out.close()
    assert notices == [NO_DEVICE_NOTICE]
    assert sine.frames == out.frames_rendered()
