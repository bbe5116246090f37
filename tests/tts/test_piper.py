"""Real Piper synthesis through the narrator: what a listener would notice if it broke."""

from __future__ import annotations

import logging
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop import tts
from coreg_desktop.constants import SAMPLE_RATE
from coreg_desktop.tts import piper as piper_backend
from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.loudness import integrated_loudness
from coreg_desktop.tts.narrator import (
    LEAD_IN_S,
    PEAK_CEILING_DBFS,
    SENTENCE_GAP_S,
    TARGET_LUFS,
    Narrator,
    peak_dbfs,
)
from coreg_desktop.tts.piper import PiperSynthesizer


@pytest.fixture(scope="module")
def synth() -> PiperSynthesizer:
    synth = PiperSynthesizer()
    synth.warm_up()
    return synth


def _frame_db(audio: np.ndarray, sr: int, frame_s: float = 0.02) -> np.ndarray:
    frame = int(sr * frame_s)
    n = len(audio) // frame * frame
    rms = np.sqrt(np.mean(audio[:n].astype(np.float64).reshape(-1, frame) ** 2, axis=1))
    return 20 * np.log10(rms + 1e-12)


def _longest_quiet_run_s(audio: np.ndarray, sr: int, below_db: float = -60.0) -> float:
    """Longest stretch of 20 ms frames quieter than `below_db`, ignoring the clip's edges."""
    db = _frame_db(audio, sr)
    loud = np.flatnonzero(db > below_db)
    inner = db[loud[0] : loud[-1] + 1]
    best = run = 0
    for quiet in inner <= below_db:
        run = run + 1 if quiet else 0
        best = max(best, run)
    return best * 0.02


def test_raw_synthesis_is_plausible_speech(synth: PiperSynthesizer) -> None:
    audio, sr = synth.synthesize("Let your shoulders soften.", 1.0)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert sr == 22050
    assert 0.8 < len(audio) / sr < 4.0
    assert np.all(np.isfinite(audio))
    assert float(np.sqrt(np.mean(audio**2))) > 0.01  # clearly not silence


def test_rate_changes_speaking_speed(synth: PiperSynthesizer) -> None:
    text = "Notice the ground beneath you, holding you up."
    slow = np.mean([len(synth.synthesize(text, 0.8)[0]) for _ in range(2)])
    fast = np.mean([len(synth.synthesize(text, 1.25)[0]) for _ in range(2)])
    # length_scale is BASE/rate, so durations should differ by about 1.25/0.8 = 1.56x.
    assert 1.3 < slow / fast < 1.8


def test_narrator_clip_is_finished_48k_speech(synth: PiperSynthesizer, tmp_path: Path) -> None:
    narrator = Narrator(synth, ClipCache(tmp_path / "clips"))
    text = "You are safe right now. Let your breath slow down."
    clip = narrator.clip(text)

    assert clip.dtype == np.float32 and clip.ndim == 1
    assert narrator.sample_rate == SAMPLE_RATE == 48_000
    duration = len(clip) / SAMPLE_RATE
    words = len(text.split())
    # Calm pace: roughly 100-190 words a minute including our pause.
    assert words / 190 * 60 < duration < words / 100 * 60

    assert abs(integrated_loudness(clip, SAMPLE_RATE) - TARGET_LUFS) < 1.0
    assert peak_dbfs(clip) <= PEAK_CEILING_DBFS + 0.01
    assert peak_dbfs(clip) > PEAK_CEILING_DBFS - 12  # normalised up, not left quiet

    # Lead-in is silent and the clip starts and ends at zero (no click).
    lead = int(LEAD_IN_S * SAMPLE_RATE)
    assert np.max(np.abs(clip[: lead - 1])) == 0.0
    assert clip[0] == 0.0 and clip[-1] == 0.0

    # Our sentence gap is there: a long quiet stretch between the two sentences.
    gap = _longest_quiet_run_s(clip, SAMPLE_RATE)
    assert SENTENCE_GAP_S - 0.05 <= gap <= SENTENCE_GAP_S + 0.2

    # The resampled speech keeps no energy above Piper's 11 kHz band (no imaging).
    spectrum = np.abs(np.fft.rfft(clip)) ** 2
    freqs = np.fft.rfftfreq(len(clip), 1 / SAMPLE_RATE)
    assert spectrum[freqs > 11_100].sum() / spectrum.sum() < 1e-6


def test_single_sentence_has_no_long_pause(synth: PiperSynthesizer, tmp_path: Path) -> None:
    clip = Narrator(synth, ClipCache(tmp_path)).clip("Breathe in slowly.")
    assert _longest_quiet_run_s(clip, SAMPLE_RATE) < SENTENCE_GAP_S - 0.2


def test_gap_scales_with_rate(synth: PiperSynthesizer, tmp_path: Path) -> None:
    text = "Feel your feet. Feel the floor."
    fast = Narrator(synth, ClipCache(tmp_path), rate=1.6).clip(text)
    gap = _longest_quiet_run_s(fast, SAMPLE_RATE)
    assert SENTENCE_GAP_S / 1.6 - 0.05 <= gap <= SENTENCE_GAP_S / 1.6 + 0.2


def test_voice_loads_once_per_process(synth: PiperSynthesizer) -> None:
    model = synth.model_path
    first = piper_backend.get_voice(model)
    other = PiperSynthesizer()  # a second synthesizer for the same model shares the voice
    other.warm_up()
    assert piper_backend.get_voice(other.model_path) is first
    assert piper_backend.voice_loaded(model)


def test_engine_version_names_package_and_pipeline(synth: PiperSynthesizer) -> None:
    assert synth.engine == "piper"
    assert synth.voice == tts.DEFAULT_VOICE_ID == piper_backend.DEFAULT_VOICE_ID
    assert synth.engine_version.startswith(piper_backend.piper_version())
    # The quick read of the version (from the dist-info name) agrees with the metadata.
    assert piper_backend.piper_version() == metadata.version("piper-tts")
    assert f"p{tts.NARRATION_PIPELINE_VERSION}" in synth.engine_version
    assert isinstance(synth, tts.Synthesizer)


def test_empty_text_is_a_synthesis_error(synth: PiperSynthesizer) -> None:
    with pytest.raises(tts.SynthesisError):
        synth.synthesize("   ", 1.0)


def test_make_synthesizer_defaults_to_bundled_joe() -> None:
    for request in (None, "", "en_US-joe-medium", "piper:en_US-joe-medium"):
        synth = tts.make_synthesizer(request)
        assert isinstance(synth, PiperSynthesizer)
        assert synth.voice == "en_US-joe-medium"


def test_unknown_voice_falls_back_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="coreg_desktop.tts"):
        synth = tts.make_synthesizer("en_GB-nobody-low")
    assert isinstance(synth, PiperSynthesizer) and synth.voice == "en_US-joe-medium"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "en_GB-nobody-low" in warnings[0].getMessage()


def test_no_loadable_voice_returns_none(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(piper_backend, "bundled_model_path", lambda: None)
    with caplog.at_level(logging.WARNING, logger="coreg_desktop.tts"):
        assert tts.make_synthesizer(None) is None
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    assert not Narrator(None, ClipCache(Path("unused"))).available


def test_list_voices_has_bundled_and_user_piper_voices(synth: PiperSynthesizer) -> None:
    voices_dir = tts.piper_voices_dir()
    voices_dir.mkdir(parents=True)
    # A user voice: a copy-free stand-in pointing at the bundled model, plus a broken one.
    (voices_dir / "en_GB-test-medium.onnx").symlink_to(synth.model_path)
    (voices_dir / "en_GB-test-medium.onnx.json").symlink_to(f"{synth.model_path}.json")
    (voices_dir / "de_DE-broken-low.onnx").write_bytes(b"")

    voices = {v.id: v for v in tts.list_voices()}
    joe = voices["en_US-joe-medium"]
    assert joe.engine == "piper" and joe.available and joe.language == "en_US"
    user = voices["en_GB-test-medium"]
    assert user.available and user.language == "en_US"  # language comes from the model config
    broken = voices["de_DE-broken-low"]
    assert not broken.available and "json" in broken.detail

    made = tts.make_synthesizer("en_GB-test-medium")
    assert isinstance(made, PiperSynthesizer) and made.voice == "en_GB-test-medium"
    audio, sr = made.synthesize("Hello.", 1.0)
    assert sr == 22050 and len(audio) > 0


QUIT_WHILE_SPEAKING = """
import sys, threading, time
from coreg_desktop.tts.piper import PiperSynthesizer
synth = PiperSynthesizer()
synth.warm_up()
started = threading.Event()
def speak():
    started.set()
    while True:
        synth.synthesize("Let your breath slow down, and let your shoulders soften.", 1.0)
threading.Thread(target=speak, daemon=True).start()
started.wait()
time.sleep(float(sys.argv[1]))
sys.exit(0)  # as when the app quits while a practice is still being voiced
"""


def test_quitting_while_a_line_is_spoken_exits_cleanly() -> None:
    """A daemon thread inside onnxruntime at interpreter exit used to abort the process."""
    import subprocess
    import sys

    for delay in ("0.2", "0.45", "0.7", "1.1"):  # so that some exits land inside a run
        proc = subprocess.run([sys.executable, "-c", QUIT_WHILE_SPEAKING, delay],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "terminate called" not in proc.stderr
