"""Recording a memo for real: the default input is a PulseAudio null sink's monitor, and a known
tone is played into the sink, so the recording (and the meter) must show that tone."""

from __future__ import annotations

import os
import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pytestqt.qtbot import QtBot

from coreg_desktop.audio.memo import load
from coreg_desktop.audio.record import MemoRecorder
from coreg_desktop.constants import SAMPLE_RATE
from coreg_desktop.safe_people import SafePeople
from coreg_desktop.ui.record_dialog import RecordDialog
from tests.conftest import OFFSCREEN_NOISE

from .pulse import PulseServer

TONE_HZ = 440.0


@pytest.fixture
def tone_into_the_sink(pulse_server: PulseServer, tmp_path: Path) -> Iterator[None]:
    """The monitor of `out` as the default input, with a 440 Hz tone playing into `out`."""
    import sounddevice

    from coreg_desktop.audio.output import _reinit_portaudio

    pulse_server.pactl("set-default-source", "out.monitor")
    # PortAudio reads the ALSA setup once: make it see this test's sound server (as a Coreg
    # started on that server does from the beginning).
    _reinit_portaudio(sounddevice)
    path = tmp_path / "tone.wav"
    t = np.arange(SAMPLE_RATE * 30) / SAMPLE_RATE
    pcm = (0.25 * np.sin(2 * np.pi * TONE_HZ * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())
    player = subprocess.Popen(["paplay", "-d", "out", str(path)], env=pulse_server.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        player.terminate()
        player.wait(timeout=5)


def dominant_hz(audio: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    return float(np.argmax(spectrum) * SAMPLE_RATE / len(audio))


def test_the_recorder_hears_the_default_input(tone_into_the_sink: None) -> None:
    recorder = MemoRecorder(max_seconds=2.0)
    recorder.start()
    deadline = 10.0
    while not recorder.full and deadline > 0:
        subprocess.run(["sleep", "0.1"], check=True)
        deadline -= 0.1
    level = recorder.level_db()
    audio = recorder.stop()
    assert recorder.full and len(audio) == 2 * SAMPLE_RATE  # it stopped by itself at the limit
    assert abs(dominant_hz(audio[SAMPLE_RATE // 2 :]) - TONE_HZ) < 5
    assert -30 < level < -3, level  # 0.25 full scale: about -15 dBFS


@pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)
def test_record_a_memo_in_the_dialog_with_a_moving_meter(
    qtbot: QtBot, tone_into_the_sink: None
) -> None:
    store = SafePeople()
    store.add("Ana", "grandmother")
    dialog = RecordDialog(store, "Ana")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.start(), dialog.status_label.text()
    qtbot.waitUntil(lambda: dialog.meter.value() > 30, timeout=5000)  # above -30 dBFS
    qtbot.wait(2500)
    dialog.stop()
    assert dialog.keep_button.isEnabled()
    with qtbot.waitSignal(dialog.saved, timeout=30_000) as saved:
        dialog.keep()
    assert saved.args[0] == "Ana" and "Added" in saved.args[1]
    [memo] = store.require("Ana").memos
    assert memo.label.startswith("Recorded ") and 2.0 < memo.seconds < 4.5
    audio = load(store.require("Ana").memo_path(memo))
    assert abs(dominant_hz(audio) - TONE_HZ) < 5
