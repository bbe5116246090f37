"""The loudness meter is ITU-R BS.1770: checked against the standard's numbers and pyloudnorm."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coreg_desktop.tts import loudness

#: The standard's own K-weighting coefficients at 48 kHz (BS.1770-4, Tables 1 and 2).
SHELF_B = (1.53512485958697, -2.69169618940638, 1.19839281085285)
SHELF_A = (1.0, -1.69065929318241, 0.73248077421585)
HIGHPASS_B = (1.0, -2.0, 1.0)
HIGHPASS_A = (1.0, -1.99004745483398, 0.99007225036621)


def test_the_filter_has_the_standards_coefficients_at_48_khz() -> None:
    b1, a1, b2, a2 = loudness.k_weighting(48_000)
    for got, want in ((b1, SHELF_B), (a1, SHELF_A), (b2, HIGHPASS_B), (a2, HIGHPASS_A)):
        assert got == pytest.approx(want, abs=1e-9)


def test_a_full_scale_1_khz_sine_reads_as_the_standard_says() -> None:
    """BS.1770: a 0 dBFS 997 Hz sine in one channel reads -3.01 LUFS."""
    sr = 48_000
    t = np.arange(sr * 5) / sr
    sine = np.sin(2 * np.pi * 997 * t)
    assert loudness.integrated_loudness(sine, sr) == pytest.approx(-3.01, abs=0.02)


def test_frequency_domain_filtering_matches_a_time_domain_biquad() -> None:
    scipy_signal = pytest.importorskip("scipy.signal")
    sr = 48_000
    rng = np.random.default_rng(3)
    x = rng.standard_normal(sr * 2) * np.repeat(rng.uniform(0.01, 0.3, 20), sr // 10)
    reference = scipy_signal.lfilter(HIGHPASS_B, HIGHPASS_A,
                                     scipy_signal.lfilter(SHELF_B, SHELF_A, x))
    ours = loudness.k_weighted(x, sr)
    assert np.max(np.abs(ours - reference)) < 1e-6 * np.max(np.abs(reference)) * 1e3


@pytest.mark.parametrize("sr", [48_000, 24_000, 22_050])
def test_it_agrees_with_pyloudnorm(sr: int) -> None:
    """pyloudnorm's filters are cookbook approximations of the same curve, so they read a few
    hundredths of a LU apart on speech-like signals."""
    pyln = pytest.importorskip("pyloudnorm")
    rng = np.random.default_rng(1)
    t = np.arange(sr * 4) / sr
    x = (rng.standard_normal(len(t)) * 0.05 + 0.2 * np.sin(2 * np.pi * 180 * t)) * (t % 1 < 0.6)
    ours = loudness.integrated_loudness(x, sr)
    theirs = pyln.Meter(sr).integrated_loudness(x)
    assert ours == pytest.approx(theirs, abs=0.15)


def test_silence_and_short_cues() -> None:
    sr = 48_000
    assert loudness.integrated_loudness(np.zeros(sr), sr) == -math.inf
    assert loudness.integrated_loudness(np.zeros(0), sr) == -math.inf
    cue = 0.1 * np.sin(2 * np.pi * 440 * np.arange(sr // 5) / sr)  # 200 ms, under one block
    assert math.isfinite(loudness.integrated_loudness(cue, sr))


def test_a_long_signal_is_filtered_in_blocks_with_the_same_result() -> None:
    """Voice memos last minutes: block filtering must equal the one-FFT filter, only faster."""
    scipy_signal = pytest.importorskip("scipy.signal")
    sr = 48_000
    rng = np.random.default_rng(5)
    x = rng.standard_normal(loudness.LONG_SIGNAL + 12_345) * np.repeat(
        rng.uniform(0.01, 0.3, 100), (loudness.LONG_SIGNAL + 12_345) // 100 + 1
    )[: loudness.LONG_SIGNAL + 12_345]
    reference = scipy_signal.lfilter(HIGHPASS_B, HIGHPASS_A,
                                     scipy_signal.lfilter(SHELF_B, SHELF_A, x))
    ours = loudness.k_weighted(x, sr)
    assert len(ours) == len(x)
    assert float(np.max(np.abs(ours - reference))) < 1e-4 * float(np.max(np.abs(reference)))
    pyloudnorm = pytest.importorskip("pyloudnorm")
    expected = pyloudnorm.Meter(sr).integrated_loudness(x)
    assert loudness.integrated_loudness(x, sr) == pytest.approx(expected, abs=0.15)  # as above
