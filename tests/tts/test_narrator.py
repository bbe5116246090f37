"""Narrator plumbing and its numpy signal helpers (resampling, loudness, limiting, trimming)."""

from __future__ import annotations

import threading
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop.constants import SAMPLE_RATE
from coreg_desktop.tts.base import SynthesisError
from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.loudness import integrated_loudness
from coreg_desktop.tts.narrator import (
    LEAD_IN_S,
    PEAK_CEILING_DBFS,
    TAIL_S,
    TARGET_LUFS,
    Narrator,
    _next_fast_len,
    _sliding_min,
    db_to_gain,
    fade_edges,
    limit_peaks,
    normalise_loudness,
    peak_dbfs,
    resample,
    trim_silence,
)
from coreg_desktop.tts.piper import PiperSynthesizer


def _tone(freq: float, sr: int, seconds: float, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _spectrum(x: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    power = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    return np.fft.rfftfreq(len(x), 1 / sr), power


# --- resampling -----------------------------------------------------------------------------


@pytest.mark.parametrize("src", [22050, 16000, 24000, 44100])
def test_resample_keeps_a_1khz_sine(src: int) -> None:
    x = _tone(1000, src, 1.0)
    y = resample(x, src, SAMPLE_RATE)
    assert y.dtype == np.float32
    assert len(y) == round(len(x) * SAMPLE_RATE / src)
    mid = y[SAMPLE_RATE // 10 : -SAMPLE_RATE // 10]  # away from the abrupt start/stop
    freqs, power = _spectrum(mid, SAMPLE_RATE)
    assert abs(freqs[np.argmax(power)] - 1000) < 2
    assert abs(np.sqrt(np.mean(mid**2)) - 0.5 / np.sqrt(2)) < 1e-3  # level kept
    # Everything that is not the tone (images, aliases, ringing) is > 100 dB down.
    off = (freqs < 900) | (freqs > 1100)
    assert 10 * np.log10(power[off].sum() / power.sum()) < -100
    # Sample-accurate against the ideal 48 kHz sine.
    t = np.arange(len(y)) / SAMPLE_RATE
    ideal = 0.5 * np.sin(2 * np.pi * 1000 * t)
    assert np.max(np.abs(y - ideal)[SAMPLE_RATE // 10 : -SAMPLE_RATE // 10]) < 1e-4


def test_downsampling_removes_tones_above_the_new_nyquist() -> None:
    # 15 kHz cannot exist at 22.05 kHz; a naive resampler would alias it to 7.05 kHz.
    x = _tone(15_000, SAMPLE_RATE, 1.0) + _tone(1000, SAMPLE_RATE, 1.0)
    y = resample(x, SAMPLE_RATE, 22050)
    freqs, power = _spectrum(y[2205:-2205], 22050)
    alias = power[(freqs > 6500) & (freqs < 7600)].sum()
    assert 10 * np.log10(alias / power.sum()) < -90
    assert abs(freqs[np.argmax(power)] - 1000) < 3


def test_resample_identity_and_empty() -> None:
    x = _tone(440, SAMPLE_RATE, 0.1)
    np.testing.assert_array_equal(resample(x, SAMPLE_RATE, SAMPLE_RATE), x)
    assert len(resample(np.zeros(0, np.float32), 22050, SAMPLE_RATE)) == 0
    with pytest.raises(ValueError):
        resample(x, 0, SAMPLE_RATE)


def test_fast_len_has_only_small_factors() -> None:
    for n in (1, 7, 97, 1031, 123_457, 2_000_003):
        m = _next_fast_len(n)
        assert m >= n and m < n * 1.15 + 8
        for p in (2, 3, 5, 7):
            while m % p == 0:
                m //= p
        assert m == 1


def test_sliding_min_matches_brute_force() -> None:
    x = np.random.default_rng(3).normal(size=500)
    for width in (1, 2, 7, 64):
        want = np.array([x[j : j + width].min() for j in range(len(x) - width + 1)])
        np.testing.assert_array_equal(_sliding_min(x, width), want)


# --- levels ---------------------------------------------------------------------------------


def _speechlike(sr: int) -> np.ndarray:
    """Tone bursts of varied level with silences between them, like words and pauses."""
    rng = np.random.default_rng(7)
    parts = []
    for i in range(8):
        burst = _tone(180 + 40 * i, sr, 0.3, amp=float(rng.uniform(0.05, 0.3)))
        burst[::97] *= 3.0  # sparse sharp peaks, as plosives have
        parts += [burst, np.zeros(int(0.25 * sr), np.float32)]
    return np.concatenate(parts)


def test_loudness_is_normalised_regardless_of_input_level() -> None:
    base = _speechlike(SAMPLE_RATE)
    levels = []
    for gain in (0.05, 1.0, 3.0):
        out = normalise_loudness(base * gain, SAMPLE_RATE)
        levels.append(integrated_loudness(out, SAMPLE_RATE))
        assert peak_dbfs(out) <= PEAK_CEILING_DBFS + 1e-3
    assert all(abs(level - TARGET_LUFS) < 1.0 for level in levels)
    assert max(levels) - min(levels) < 0.05


def test_pauses_do_not_make_a_line_louder() -> None:
    """Measured on the sentences alone, a line with long pauses between them gets the same gain
    as the sentences said back to back."""
    speech = _speechlike(SAMPLE_RATE)
    gap = np.zeros(3 * SAMPLE_RATE, np.float32)
    paused = np.concatenate([speech, gap, speech])
    joined = np.concatenate([speech, speech])
    out = normalise_loudness(paused, SAMPLE_RATE, speech=joined)
    ref = normalise_loudness(joined, SAMPLE_RATE)
    n = len(speech)
    np.testing.assert_allclose(out[:n], ref[:n], atol=1e-6)
    # Measured with the pauses, BS.1770 would have read a steady voice quieter, and lifted it.
    tone = _tone(200, SAMPLE_RATE, 1.0, amp=0.1)
    with_pause = np.concatenate([tone, gap, tone])
    without = np.concatenate([tone, tone])
    steady = integrated_loudness(without, SAMPLE_RATE)
    assert integrated_loudness(with_pause, SAMPLE_RATE) < steady - 0.3


def test_limiter_caps_peaks_and_leaves_quiet_audio_alone() -> None:
    rng = np.random.default_rng(5)
    x = (rng.normal(size=SAMPLE_RATE) * 0.05).astype(np.float32)
    x[1000] = 0.99
    x[30_000:30_050] = -1.4
    ceiling = db_to_gain(-3.0)
    y = limit_peaks(x, ceiling, SAMPLE_RATE)
    assert np.max(np.abs(y)) <= ceiling + 1e-7
    assert abs(y[1000]) > 0.6 * ceiling  # limited, not crushed
    # Far from the peaks nothing changes.
    np.testing.assert_allclose(y[10_000:25_000], x[10_000:25_000], atol=1e-7)
    # The gain moves smoothly: no sample-to-sample jumps in the gain around a peak.
    gain = y[900:1100] / np.where(np.abs(x[900:1100]) > 1e-6, x[900:1100], 1)
    assert np.max(np.abs(np.diff(gain))) < 0.05
    # Under the ceiling: untouched.
    np.testing.assert_array_equal(limit_peaks(x * 0.3, ceiling, SAMPLE_RATE), x * 0.3)


def test_trim_and_fade() -> None:
    sr = 22050
    speech = _tone(300, sr, 0.5, amp=0.3)
    x = np.concatenate([np.zeros(sr // 2, np.float32), speech, np.zeros(sr, np.float32)])
    trimmed = trim_silence(x, sr)
    assert 0.5 * sr <= len(trimmed) <= 0.5 * sr + 0.08 * sr
    assert len(trim_silence(np.zeros(sr, np.float32), sr)) == 0
    faded = fade_edges(speech, sr)
    assert abs(faded[0]) < 1e-3 and abs(faded[-1]) < 1e-3
    np.testing.assert_array_equal(faded[sr // 10 : -sr // 10], speech[sr // 10 : -sr // 10])


# --- narrator -------------------------------------------------------------------------------


def test_without_a_voice_the_narrator_is_unavailable(tmp_path: Path) -> None:
    narrator = Narrator(None, ClipCache(tmp_path))
    assert narrator.available is False
    assert narrator.cached("Hello.") is False
    narrator.warm_up()  # harmless
    with pytest.raises(SynthesisError):
        narrator.clip("Hello.")


class BrokenSynth:
    engine = "broken"
    engine_version = "0"
    voice = "none"

    def synthesize(self, text: str, rate: float) -> tuple[np.ndarray, int]:
        raise RuntimeError("device on fire")


class SilentSynth(BrokenSynth):
    def synthesize(self, text: str, rate: float) -> tuple[np.ndarray, int]:
        return np.zeros(22050, np.float32), 22050


def test_engine_failures_become_synthesis_errors(tmp_path: Path) -> None:
    with pytest.raises(SynthesisError, match="device on fire"):
        Narrator(BrokenSynth(), ClipCache(tmp_path)).clip("Hello.")
    with pytest.raises(SynthesisError, match="silence"):
        Narrator(SilentSynth(), ClipCache(tmp_path)).clip("Hello.")
    assert len(ClipCache(tmp_path)) == 0  # failures are never cached


def test_blank_text_is_a_short_silence(tmp_path: Path) -> None:
    narrator = Narrator(BrokenSynth(), ClipCache(tmp_path))
    for text in ("", "   ", "..."):
        clip = narrator.clip(text)
        assert len(clip) == round((LEAD_IN_S + TAIL_S) * SAMPLE_RATE) and not clip.any()


@pytest.fixture(scope="module")
def piper() -> PiperSynthesizer:
    return PiperSynthesizer()


def test_concurrent_requests_synthesize_once(piper: PiperSynthesizer, tmp_path: Path) -> None:
    calls: list[str] = []
    lock = threading.Lock()

    class Counting:
        engine, engine_version, voice = piper.engine, piper.engine_version, piper.voice

        def synthesize(self, text: str, rate: float) -> tuple[np.ndarray, int]:
            with lock:
                calls.append(text)
            return piper.synthesize(text, rate)

    narrator = Narrator(Counting(), ClipCache(tmp_path))
    narrator.warm_up()
    results: list[np.ndarray] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(narrator.clip("Stay with me. You are doing well."))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(results) == 3
    assert calls == ["Stay with me.", "You are doing well."]
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_warm_up_loads_the_voice(piper: PiperSynthesizer, tmp_path: Path) -> None:
    from coreg_desktop.tts import piper as backend

    Narrator(piper, ClipCache(tmp_path)).warm_up()
    assert backend.voice_loaded(piper.model_path)


# --- what the front end is given ------------------------------------------------------------

#: espeak-ng (the front end of Piper and Kokoro alike) reads a letter it has no rule for as its
#: code point: "Nguyễn" as "N G U Y letter 1 E C 5 N". In its phonemes, "letter" is "lˈɛɾɚ".
_LETTER = ("lˈɛɾɚ", "lˌɛɾɚ")


def _phonemes(text: str) -> str:
    from coreg_desktop.tts.piper import bundled_model_path, get_voice

    model = bundled_model_path()
    assert model is not None
    return "".join(p for sentence in get_voice(model).phonemize(text) for p in sentence)


@pytest.mark.parametrize(
    ("written", "given"),
    [
        ("It's okay, Nguyễn.", "It's okay, Nguyen."),
        ("Phạm Đỗ Hồ", "Pham Đo Ho"),
        ("Zoë, José, Siobhán, Łukasz, Dvořák", "Zoë, José, Siobhán, Łukasz, Dvořák"),
        ("Ελένη", "Ελένη"),  # another script: for the respelling, not for a guess
    ],
)
def test_letters_the_front_end_would_spell_out_are_given_bare(written: str, given: str) -> None:
    from coreg_desktop.tts.narrator import clean_text

    assert clean_text(written) == given
    assert clean_text(unicodedata.normalize("NFD", written)) == given  # however it was typed


def test_the_front_end_says_a_vietnamese_name_as_a_name() -> None:
    from coreg_desktop.tts.narrator import clean_text

    assert any(mark in _phonemes("Nguyễn") for mark in _LETTER)  # the problem is real
    for name in ("Nguyễn", "Phạm", "Trần Thị Ngọc"):
        said = _phonemes(clean_text(name))
        assert not any(mark in said for mark in _LETTER), (name, said)
