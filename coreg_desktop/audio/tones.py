"""Breathing cue tones and the singing-bowl bell, synthesised rather than shipped as files.

The listener may be mid-panic, so nothing here may startle: every sound fades in over tens of
milliseconds, decays smoothly and ends exactly at zero (no click), and stays quiet relative to the
voice. Pitches are drawn from the soft pad's D major chord so cues never clash with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coreg_desktop.constants import SAMPLE_RATE

#: Phase names that have a cue tone; matches practice.model.Phase minus "idle".
CUE_KINDS: tuple[str, ...] = ("inhale", "hold", "exhale", "rest")

#: Cue tones sit well under narration; the bell is a deliberate marker and may be louder.
CUE_PEAK_DBFS = -18.0
BELL_PEAK_DBFS = -10.0


@dataclass(frozen=True)
class _Cue:
    start_hz: float
    end_hz: float  # a glide makes the direction audible: up to breathe in, down to breathe out
    seconds: float
    attack: float
    brightness: float  # level of the upper partials; a little colour, never buzz


_CUES: dict[str, _Cue] = {
    "inhale": _Cue(start_hz=369.99, end_hz=440.0, seconds=0.55, attack=0.04, brightness=1.0),
    "hold": _Cue(start_hz=493.88, end_hz=493.88, seconds=0.4, attack=0.03, brightness=0.6),
    "exhale": _Cue(start_hz=369.99, end_hz=293.66, seconds=0.6, attack=0.045, brightness=0.9),
    "rest": _Cue(start_hz=220.0, end_hz=220.0, seconds=0.45, attack=0.035, brightness=0.5),
}


def _db(value: float) -> float:
    return float(10.0 ** (value / 20.0))


def _fade_in(t: np.ndarray, seconds: float) -> np.ndarray:
    """Raised-cosine rise from exactly 0: no step for the ear to hear as a click."""
    return np.asarray(0.5 - 0.5 * np.cos(np.pi * np.minimum(t / seconds, 1.0)))


def _fade_out(t: np.ndarray, total: float, seconds: float) -> np.ndarray:
    """Raised-cosine fall that reaches exactly 0 on the last sample."""
    u = np.clip((t - (total - seconds)) / seconds, 0.0, 1.0)
    return np.asarray(0.5 + 0.5 * np.cos(np.pi * u))


def _to_peak(x: np.ndarray, peak_dbfs: float) -> np.ndarray:
    return np.asarray(x * (_db(peak_dbfs) / np.max(np.abs(x))), dtype=np.float32)


def cue_tone(kind: str, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A soft chime marking the start of a breathing phase: mono float32, about half a second.

    Inhale rises F#→A, exhale falls F#→D, hold is a steady, suspended B above them, rest a
    low, mellow A.
    """
    try:
        cue = _CUES[kind]
    except KeyError:
        raise ValueError(f"unknown cue kind {kind!r}; expected one of {CUE_KINDS}") from None
    frames = round(cue.seconds * sample_rate)
    t = np.arange(frames) / sample_rate
    # The glide eases in and out over the first 70 %, then the tone rests on its target pitch.
    progress = _fade_in(t, 0.7 * cue.seconds)
    hz = cue.start_hz * (cue.end_hz / cue.start_hz) ** progress
    phase = 2.0 * np.pi * np.cumsum(hz) / sample_rate
    phase -= phase[0]
    tone = np.sin(phase)
    tone += cue.brightness * (0.12 * np.sin(2.0 * phase) + 0.035 * np.sin(3.0 * phase))
    # An inharmonic, fast-fading partial gives the "struck" quality of a small chime.
    tone += cue.brightness * 0.06 * np.sin(2.76 * phase) * np.exp(-t / 0.08)
    envelope = _fade_in(t, cue.attack)
    envelope *= np.exp(-np.maximum(t - cue.attack, 0.0) / (cue.seconds / 3.0))
    envelope *= _fade_out(t, cue.seconds, 0.08)
    return _to_peak(tone * envelope, CUE_PEAK_DBFS)


#: Singing-bowl modes: (frequency ratio, level, decay time constant s, beat Hz). Bowl modes are
#: inharmonic, and each is a close doublet (the bowl is never perfectly round), which gives the
#: slow "wah" of a real bowl. Higher modes die faster, so the tone mellows as it rings.
_BOWL_MODES: tuple[tuple[float, float, float, float], ...] = (
    (1.0, 1.0, 2.2, 0.5),
    (2.81, 0.42, 1.4, 1.1),
    (5.17, 0.16, 0.8, 1.7),
    (8.13, 0.06, 0.45, 2.3),
)
_BELL_HZ = 220.0  # A3, a note of the soft pad's chord
_BELL_SECONDS = 6.0


def bell(sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A gentle singing bowl that opens and closes a practice: mono float32, six seconds.

    Struck softly (30 ms rise, no sharp transient), rings with slow beating, and is faded to
    exactly zero at the end, so it can be mixed anywhere without a click.
    """
    frames = round(_BELL_SECONDS * sample_rate)
    t = np.arange(frames) / sample_rate
    out = np.zeros(frames)
    for ratio, level, tau, beat in _BOWL_MODES:
        hz = _BELL_HZ * ratio
        # Unequal doublet levels: the level sways by a few dB, a shimmer rather than a pulse.
        doublet = 0.82 * np.sin(2 * np.pi * (hz - beat / 2) * t)
        doublet += 0.18 * np.sin(2 * np.pi * (hz + beat / 2) * t + 0.5)
        out += level * doublet * np.exp(-t / tau)
    out *= _fade_in(t, 0.03)
    out *= _fade_out(t, _BELL_SECONDS, 1.5)
    return _to_peak(out, BELL_PEAK_DBFS)
