"""An idle app stops pulling silence from the device, and wakes without a sound being lost."""

from __future__ import annotations

import os
import time

from coreg_desktop.audio.output import SoundDeviceOutput

from .pulse import PulseServer, Recorder
from .test_output_pulse import Sine, wait_for_tone


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def test_standby_stops_the_stream_and_wake_brings_sound_back_at_once(
    pulse_server: PulseServer, recorder: Recorder
) -> None:
    output = SoundDeviceOutput()
    sine = Sine()
    output.start(sine)
    try:
        wait_for_tone(recorder, recorder.mark(), within=3.0)
        output.standby()
        assert output.in_standby
        time.sleep(0.5)
        quiet_from = recorder.mark()
        frames = sine.frames
        cpu0 = _cpu()
        time.sleep(3.0)
        idle_cpu = _cpu() - cpu0
        # Nothing is pulled, nothing is heard, and the watchdog does not call it a failure.
        assert sine.frames == frames
        assert recorder.rms_dbfs(quiet_from, recorder.mark()) < -55.0
        assert output.recoveries == 0
        assert idle_cpu < 0.1, f"{idle_cpu:.3f} s of CPU in 3 s of standby"
        woke = recorder.mark()
        output.wake()
        onset = wait_for_tone(recorder, woke, within=1.0)
        assert onset - woke < 0.4
        time.sleep(1.0)
        assert not output.in_standby and output.recoveries == 0
    finally:
        output.close()
