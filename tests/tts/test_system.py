"""System voices (pyttsx3 in a child process), with the real engine installed on this machine."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop import tts
from coreg_desktop.constants import SAMPLE_RATE
from coreg_desktop.tts import system
from coreg_desktop.tts.base import SynthesisError
from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.loudness import integrated_loudness
from coreg_desktop.tts.narrator import (
    PEAK_CEILING_DBFS,
    TARGET_LUFS,
    Narrator,
    peak_dbfs,
)
from coreg_desktop.tts.piper import PiperSynthesizer
from coreg_desktop.tts.system import SystemSynthesizer


@pytest.fixture(scope="module")
def voices() -> list[tts.VoiceInfo]:
    found = system.system_voices()
    if not found:
        pytest.skip("no system voice on this machine (pyttsx3 found no speech backend)")
    return found


@pytest.fixture(scope="module")
def english(voices: list[tts.VoiceInfo]) -> tts.VoiceInfo:
    for preferred in ("system:gmw/en-us", "system:gmw/en"):
        for v in voices:
            if v.id == preferred:
                return v
    for v in voices:
        if v.language.lower().startswith("en"):
            return v
    return voices[0]


def test_voices_are_listed_as_system_voices(voices: list[tts.VoiceInfo]) -> None:
    assert all(v.engine == "system" and v.id.startswith("system:") for v in voices)
    assert all(v.available and v.name for v in voices)
    listed = {v.id for v in tts.list_voices()}
    assert {v.id for v in voices} <= listed
    assert tts.DEFAULT_VOICE_ID in listed


def test_system_voice_speaks(english: tts.VoiceInfo) -> None:
    synth = tts.make_synthesizer(english.id)
    assert isinstance(synth, SystemSynthesizer)
    assert synth.voice == english.id and synth.engine == "system"
    audio, sr = synth.synthesize("You are safe right now.", 1.0)
    assert audio.dtype == np.float32 and sr > 8000
    assert 0.5 < len(audio) / sr < 5.0
    assert float(np.sqrt(np.mean(audio**2))) > 0.01


def test_system_rate_changes_speed(english: tts.VoiceInfo) -> None:
    synth = SystemSynthesizer(english.id.removeprefix("system:"))
    text = "Notice the ground holding you up."
    slow, slow_sr = synth.synthesize(text, 0.7)
    fast, fast_sr = synth.synthesize(text, 1.4)
    assert len(slow) / slow_sr > 1.5 * len(fast) / fast_sr


def test_narrator_over_a_system_voice(english: tts.VoiceInfo, tmp_path: Path) -> None:
    inner = SystemSynthesizer(english.id.removeprefix("system:"))

    class QuietVoice:
        """espeak happens to speak near our target level; a quieter voice proves the levelling."""

        engine, engine_version, voice = inner.engine, inner.engine_version, inner.voice

        def synthesize_batch(self, texts: list[str], rate: float) -> list[tuple[np.ndarray, int]]:
            return [(audio * 0.1, sr) for audio, sr in inner.synthesize_batch(texts, rate)]

        def synthesize(self, text: str, rate: float) -> tuple[np.ndarray, int]:
            raise AssertionError("the narrator should batch sentences for system voices")

    clip = Narrator(QuietVoice(), ClipCache(tmp_path)).clip("Feel your feet. Feel the floor.")
    assert clip.dtype == np.float32
    assert abs(integrated_loudness(clip, SAMPLE_RATE) - TARGET_LUFS) < 1.0
    assert peak_dbfs(clip) <= PEAK_CEILING_DBFS + 0.01
    assert 1.0 < len(clip) / SAMPLE_RATE < 6.0


def test_default_system_voice(voices: list[tts.VoiceInfo]) -> None:
    synth = tts.make_synthesizer("system")
    assert isinstance(synth, SystemSynthesizer) and synth.voice == "system"
    audio, _ = synth.synthesize("Hello.", 1.0)
    assert len(audio) > 0


def test_unknown_system_voice_falls_back_to_piper(
    voices: list[tts.VoiceInfo], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="coreg_desktop.tts"):
        synth = tts.make_synthesizer("system:xx/no-such-voice")
    assert isinstance(synth, PiperSynthesizer)
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


def test_child_failure_is_a_clear_error(voices: list[tts.VoiceInfo]) -> None:
    with pytest.raises(SynthesisError, match="not installed"):
        SystemSynthesizer("xx/no-such-voice").synthesize("Hello.", 1.0)


def test_hung_child_times_out(voices: list[tts.VoiceInfo], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system, "RENDER_TIMEOUT_BASE_S", 0.01)
    monkeypatch.setattr(system, "RENDER_TIMEOUT_PER_CHAR_S", 0.0)
    with pytest.raises(SynthesisError, match="did not answer"):
        SystemSynthesizer().synthesize("Hello.", 1.0)


def test_unusable_pyttsx3_gives_no_voices(
    voices: list[tts.VoiceInfo], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The child sees a pyttsx3 that fails to import, as on a machine without a speech backend.
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "pyttsx3.py").write_text("raise ImportError('no speech backend')\n")
    monkeypatch.setenv("PYTHONPATH", str(shadow))
    assert system.system_voices(refresh=True) == []
    with pytest.raises(SynthesisError, match="no speech backend"):
        SystemSynthesizer().synthesize("Hello.", 1.0)
    monkeypatch.undo()
    assert system.system_voices(refresh=True) == voices


def test_missing_interpreter_is_a_synthesis_error(
    voices: list[tts.VoiceInfo], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(system.sys, "executable", "/nonexistent/python")
    with pytest.raises(SynthesisError, match="could not start"):
        SystemSynthesizer().synthesize("Hello.", 1.0)
