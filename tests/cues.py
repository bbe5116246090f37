"""Finding the breath cue tones in what was rendered or recorded, by ear as it were.

Each cue tone is a known waveform (`audio.tones.cue_tone`), so a matched filter finds it: the
sound is correlated with the tone, normalised by the sound's own energy under the tone, and a
cue is wherever that is close to 1. Speech correlates with a gliding chime far less, so the
narration between breaths is not mistaken for a cue. Inhale and exhale glide in opposite
directions, which tells them apart.
"""

from __future__ import annotations

import itertools
import statistics

import numpy as np
import pytest

from coreg_desktop.audio.tones import cue_tone

#: A cue is where the sound matches the tone's shape this well (1.0: the tone alone).
MATCH = 0.8
#: Two cues are never closer than this.
MIN_APART_S = 0.8


def _match(x: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Normalised cross-correlation of `x` with `template` at every lag (FFT, float64)."""
    n = len(x) + len(template)
    size = 1 << (n - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(x, size) * np.conj(np.fft.rfft(template, size)), size)
    corr = corr[: len(x) - len(template) + 1]
    energy = np.cumsum(np.concatenate(([0.0], x * x)))
    window = energy[len(template) :] - energy[: len(x) - len(template) + 1]
    norm = np.sqrt(np.maximum(window, 1e-12) * float(np.dot(template, template)))
    return np.asarray(corr / norm)


def find_cues(samples: np.ndarray, rate: int) -> list[tuple[float, str]]:
    """(seconds, "inhale" or "exhale") of every cue tone in mono or stereo `samples`."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    scores = {kind: _match(x, cue_tone(kind, rate).astype(np.float64))
              for kind in ("inhale", "exhale")}
    length = min(len(s) for s in scores.values())
    best = np.maximum(scores["inhale"][:length], scores["exhale"][:length])
    apart = int(MIN_APART_S * rate)
    found: list[tuple[float, str]] = []
    i = 0
    candidates = np.flatnonzero(best > MATCH)
    while i < len(candidates):
        start = candidates[i]
        group_end = start + apart
        j = i
        while j < len(candidates) and candidates[j] < group_end:
            j += 1
        span = candidates[i:j]
        peak = int(span[np.argmax(best[span])])
        kind = "inhale" if scores["inhale"][peak] >= scores["exhale"][peak] else "exhale"
        found.append((peak / rate, kind))
        i = j
    return found


def breath_rates(cues: list[tuple[float, str]]) -> list[tuple[float, float, float]]:
    """(start, breaths a minute, share of the breath spent breathing in) of each whole breath:
    an inhale cue, its exhale cue and the next inhale cue. A breath with anything else between
    (a spoken line, a pause) has a breath out far longer than its in, and is left out."""
    out: list[tuple[float, float, float]] = []
    for k in range(len(cues) - 2):
        (t0, a), (t1, b), (t2, c) = cues[k], cues[k + 1], cues[k + 2]
        if (a, b, c) != ("inhale", "exhale", "inhale"):
            continue
        share = (t1 - t0) / (t2 - t0)
        if share < 0.3:
            continue  # something longer than a breath out came before the next breath
        out.append((t0, 60.0 / (t2 - t0), share))
    return out


def assert_follows_then_leads(
    breaths: list[tuple[float, float, float]], taps: list[float], in_step_s: float,
    slower_by: float = 4.0,
) -> None:
    """Breathe with Me, heard: its first breath is at the tapped rate and in step with the taps
    (within `in_step_s`, what the input path and the sound server may blur), then it slows
    breath by breath, never by more than about 0.5 a minute, and ends up more than `slower_by`
    a minute below where it began."""
    first_start, first_rate, _ = breaths[0]
    # What they really tapped (a busy machine delays a press a little), not what was meant.
    tapped = statistics.median(b - a for a, b in itertools.pairwise(taps[:4]))
    assert first_rate == pytest.approx(60.0 / tapped, abs=0.6), taps
    beats = (first_start - taps[3]) / tapped
    assert abs(beats - round(beats)) * tapped < in_step_s, (first_start, taps)
    rates = [rate for _, rate, _ in breaths]
    steps = [a - b for a, b in itertools.pairwise(rates)]
    assert all(-0.3 <= step <= 0.5 + 0.3 for step in steps), rates
    assert rates[-1] < rates[0] - slower_by, rates
