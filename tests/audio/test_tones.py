"""Cue tones and the bell: quiet, click-free, gentle to start, and distinct from each other."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from coreg_desktop.audio import tones
from coreg_desktop.audio.tones import CUE_KINDS, bell, cue_tone
from coreg_desktop.constants import SAMPLE_RATE
from coreg_desktop.practice.model import Phase


def db(x: float) -> float:
    return float(20.0 * np.log10(x))


def peak(x: np.ndarray) -> float:
    return float(np.max(np.abs(x)))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def dominant_hz(x: np.ndarray, sample_rate: int = SAMPLE_RATE) -> float:
    """Strongest frequency, interpolated between FFT bins (zero-padded for resolution)."""
    n = 1 << 18
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size), n=n))
    return float(np.argmax(spec) * sample_rate / n)


def settled_hz(x: np.ndarray) -> float:
    return dominant_hz(x[-(x.size // 3) :])


def semitones(a: float, b: float) -> float:
    return float(12.0 * np.log2(a / b))


def test_every_breathing_phase_has_a_cue() -> None:
    assert set(CUE_KINDS) == {p.value for p in Phase} - {"idle"}


@pytest.mark.parametrize("kind", CUE_KINDS)
def test_cue_is_a_short_quiet_mono_chime(kind: str) -> None:
    x = cue_tone(kind)
    assert x.dtype == np.float32 and x.ndim == 1
    assert 0.35 <= x.size / SAMPLE_RATE <= 0.6
    assert db(peak(x)) == pytest.approx(tones.CUE_PEAK_DBFS, abs=0.1)
    assert np.isfinite(x).all()
    assert abs(float(x.mean(dtype=np.float64))) < 0.01 * peak(x)


@pytest.mark.parametrize("kind", CUE_KINDS)
def test_cue_fades_in_gently_and_ends_at_silence(kind: str) -> None:
    x = cue_tone(kind)
    ms = SAMPLE_RATE // 1000
    assert abs(x[0]) < 1e-6 and abs(x[-1]) < 1e-6  # no click at either end
    assert peak(x[: 5 * ms]) < 0.25 * peak(x)  # no sharp strike
    assert int(np.argmax(np.abs(x))) > 15 * ms
    assert peak(x[-10 * ms :]) < 0.05 * peak(x)
    steps = np.abs(np.diff(x))
    assert steps.max() < 0.1 * peak(x)  # smooth everywhere: no internal clicks


def test_cues_have_distinct_pitches_in_the_pads_key() -> None:
    """Judged on where each tone settles (its last third), the note the ear takes away."""
    pitches = {kind: settled_hz(cue_tone(kind)) for kind in CUE_KINDS}
    values = sorted(pitches.values())
    for low, high in itertools.pairwise(values):
        assert semitones(high, low) > 1.5  # tell-apart-able, not a near-unison
    assert pitches["inhale"] > pitches["exhale"]
    d_major = {5, 7, 9, 10, 0, 2, 4}  # D E F# G A B C#, as semitones above A
    for hz in pitches.values():
        assert 150.0 < hz < 900.0  # soft middle register, nothing shrill
        assert round(semitones(hz, 440.0)) % 12 in d_major


def glide(x: np.ndarray) -> float:
    """Pitch change in semitones between the first and last thirds of a tone."""
    return semitones(settled_hz(x), dominant_hz(x[: x.size // 3]))


def test_inhale_rises_and_exhale_falls() -> None:
    assert glide(cue_tone("inhale")) > 1.0
    assert glide(cue_tone("exhale")) < -1.0
    assert abs(glide(cue_tone("hold"))) < 0.3


def test_unknown_cue_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="idle"):
        cue_tone("idle")


def test_cues_are_reproducible_and_follow_the_sample_rate() -> None:
    assert np.array_equal(cue_tone("inhale"), cue_tone("inhale"))
    low = cue_tone("exhale", sample_rate=16_000)
    assert low.size / 16_000 == pytest.approx(cue_tone("exhale").size / SAMPLE_RATE, abs=1e-3)
    assert dominant_hz(low, 16_000) == pytest.approx(dominant_hz(cue_tone("exhale")), rel=0.02)


def test_bell_is_a_soft_long_ring() -> None:
    x = bell()
    assert x.dtype == np.float32 and x.ndim == 1
    assert 5.0 <= x.size / SAMPLE_RATE <= 7.0
    assert db(peak(x)) == pytest.approx(tones.BELL_PEAK_DBFS, abs=0.1)
    ms = SAMPLE_RATE // 1000
    assert abs(x[0]) < 1e-6 and abs(x[-1]) < 1e-6
    assert peak(x[: 5 * ms]) < 0.3 * peak(x)  # a soft mallet, not a clang
    assert np.abs(np.diff(x)).max() < 0.2 * peak(x)


def test_bell_decays_slowly_and_steadily() -> None:
    x = bell()
    second = SAMPLE_RATE
    levels = [db(rms(x[i : i + second // 2])) for i in range(0, x.size, second // 2)]
    assert levels[0] - levels[-1] > 20.0  # it dies away ...
    assert levels[0] - levels[3] < 12.0  # ... but not quickly: still ringing after 2 s
    # Beating may make the level sway a little, but it never swells back up.
    assert all(b < a + 1.0 for a, b in itertools.pairwise(levels))


def test_bell_partials_are_inharmonic() -> None:
    """A bowl, not an organ pipe: the overtones are not whole multiples of the fundamental."""
    x = bell().astype(np.float64)
    n = 1 << 20
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size), n=n))
    freqs = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
    fundamental = freqs[np.argmax(spec)]
    assert 150.0 < fundamental < 400.0
    upper = spec.copy()
    upper[freqs < fundamental * 1.5] = 0.0
    overtone = freqs[np.argmax(upper)]
    ratio = overtone / fundamental
    assert abs(ratio - round(ratio)) > 0.15
    assert upper.max() > 0.1 * spec.max()  # and there is an overtone worth the name
