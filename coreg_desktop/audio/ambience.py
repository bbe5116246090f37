"""Procedural ambience loops, rendered once per machine and cached on disk.

Why procedural: no sound files to license or ship, and every loop is reproducible from a seed.

Why the loops are seamless by construction rather than by crossfade: everything is synthesised
*circularly*. Noise is drawn directly as a spectrum and inverse-FFT'd, which yields a signal whose
period is exactly the loop length; every envelope, pan or tremolo has a whole number of cycles per
loop; every sine sits on an FFT bin (a whole number of cycles per loop); sparse events that run past
the end wrap around to the start. The loop point is then just another pair of neighbouring samples,
statistically indistinguishable from any other, with no crossfade dip or click to hide.

Why every loop is normalised to the same RMS: the mixer's ambience gain should mean the same
loudness whichever soundscape the practice names.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coreg_desktop import files, paths
from coreg_desktop.constants import CHANNELS, SAMPLE_RATE

log = logging.getLogger(__name__)

#: Bump whenever any generator's output changes, so stale caches are regenerated (and removed).
GENERATOR_VERSION = 1

#: Every loop is scaled to this RMS (over both channels) ...
TARGET_RMS_DBFS = -24.0
#: ... and must peak below this, leaving the mixer headroom for voice and bell on top.
PEAK_LIMIT_DBFS = -6.0


def target_levels() -> tuple[float, float]:
    """Every loop's RMS and peak ceiling, as linear gains (for mixes, which must match them)."""
    return _db(TARGET_RMS_DBFS), _db(PEAK_LIMIT_DBFS)


class UnknownAmbience(ValueError):
    """Raised for an id that has no generator (a typo in a practice file, or "none")."""


@dataclass(frozen=True)
class AmbienceInfo:
    id: str
    title: str
    description: str
    seed: int
    #: Long enough that nobody notices the repeat; every generator keeps its cycles whole in it.
    loop_seconds: float = 60.0


AMBIENCES: dict[str, AmbienceInfo] = {
    info.id: info
    for info in (
        AmbienceInfo(
            "rain",
            "Rain",
            "Soft, steady rain with a gentle patter of drops.",
            seed=0x5241494E,
        ),
        AmbienceInfo(
            "ocean",
            "Ocean",
            "Slow waves rolling in and out, about one every ten seconds.",
            seed=0x4F434541,
        ),
        AmbienceInfo(
            "brown-noise",
            "Brown noise",
            "A deep, smooth rumble that covers distracting sounds.",
            seed=0x42524F57,
            loop_seconds=30.0,
        ),
        AmbienceInfo(
            "soft-pad",
            "Soft pad",
            "A warm, slowly shifting chord in D.",
            seed=0x50414421,
        ),
        AmbienceInfo(
            "heartbeat",
            "Heartbeat",
            "A calm heartbeat at sixty beats a minute over a quiet hush.",
            seed=0x48454152,
        ),
        AmbienceInfo(
            "fireplace",
            "Fireplace",
            "A low, warm fire with soft crackles and the odd settling log.",
            seed=0x46495245,
        ),
        AmbienceInfo(
            "night",
            "Summer night",
            "Crickets in the distance over a still, warm night.",
            seed=0x4E494748,
        ),
        AmbienceInfo(
            "wind",
            "Wind",
            "A gentle wind that rises and falls in slow gusts.",
            seed=0x57494E44,
        ),
    )
}

#: A string, so that importing this module does not import np.random (60 ms of a cold start):
#: only generating an ambience needs it, and cached ones are simply loaded.
_Generator = Callable[["np.random.Generator", int, int], np.ndarray]


# --- building blocks ---------------------------------------------------------------------------
#
# Generators work on planar (channels, frames) float32 arrays: each channel is contiguous, which
# keeps FFTs and element-wise maths fast; _finish interleaves once at the end.


def _db(value: float) -> float:
    return float(10.0 ** (value / 20.0))


def _freqs(frames: int, sample_rate: int) -> np.ndarray:
    """FFT bin frequencies with DC replaced by the first bin, so 1/f shapes do not divide by 0."""
    f = np.fft.rfftfreq(frames, 1.0 / sample_rate).astype(np.float32)
    f[0] = f[1]
    return f


def _highpass(f: np.ndarray, corner: float, order: int = 2) -> np.ndarray:
    """Butterworth magnitude; zero-phase, which is fine for noise and keeps the loop circular."""
    return np.asarray(1.0 / np.sqrt(1.0 + (corner / f) ** (2 * order)), dtype=np.float32)


def _lowpass(f: np.ndarray, corner: float, order: int = 2) -> np.ndarray:
    return np.asarray(1.0 / np.sqrt(1.0 + (f / corner) ** (2 * order)), dtype=np.float32)


def _rms(x: np.ndarray) -> float:
    flat = np.ascontiguousarray(x).ravel()
    return math.sqrt(float(flat @ flat) / flat.size)


def _noise(rng: np.random.Generator, frames: int, shape: np.ndarray) -> np.ndarray:
    """Periodic noise with magnitude spectrum `shape`, scaled to unit RMS.

    Drawing Gaussian bins and inverse-FFT'ing costs one FFT, and the result is exactly periodic
    in `frames`: that is the whole seamless-loop trick for noise beds.
    """
    bins = shape.size
    spec = np.empty(bins, dtype=np.complex64)
    spec.real = rng.standard_normal(bins, dtype=np.float32)
    spec.imag = rng.standard_normal(bins, dtype=np.float32)
    spec *= shape
    spec[0] = 0.0  # no DC
    if frames % 2 == 0:
        spec[-1] = spec[-1].real  # the Nyquist bin of a real signal is real
    x = np.fft.irfft(spec, n=frames)
    x /= _rms(x)
    return x


def _stereo_noise(
    rng: np.random.Generator, frames: int, shape: np.ndarray, correlation: float
) -> np.ndarray:
    """Two noises mixed to the given inter-channel correlation, unit RMS per channel.

    A little correlation keeps the image stable between the ears; much less than 1 is what makes
    it sound wide and natural instead of a point in the middle of the head.
    """
    left, right = _noise(rng, frames, shape), _noise(rng, frames, shape)
    phi = math.asin(correlation) / 2.0
    c, s = math.cos(phi), math.sin(phi)
    return np.stack([c * left + s * right, s * left + c * right])


def _lfo(frames: int, cycles: int, phase: float = 0.0) -> np.ndarray:
    """A sine with a whole number of cycles per loop, so it repeats seamlessly."""
    n = np.arange(frames, dtype=np.float32)
    return np.sin(n * np.float32(2.0 * np.pi * cycles / frames) + np.float32(phase))


def _pan_gains(position: np.ndarray | float) -> np.ndarray:
    """Equal-power gains (2, ...) for position -1 (left) .. +1 (right); 1 each at the centre."""
    angle = (np.asarray(position, dtype=np.float32) + 1.0) * np.float32(np.pi / 4.0)
    return np.float32(np.sqrt(2.0)) * np.stack([np.cos(angle), np.sin(angle)])


# --- the soundscapes ---------------------------------------------------------------------------


def _rain(rng: np.random.Generator, frames: int, sample_rate: int) -> np.ndarray:
    """A dark, wide rain bed plus sparse soft drops.

    The bed is pink-ish noise low-passed hard enough that it never hisses, with a little distant
    rumble; its intensity breathes slowly. The drops are short rising sine blips (the sound a
    small bubble makes), kept below 3 kHz and well under the bed: patter, not plinks.
    """
    f = _freqs(frames, sample_rate)
    bed = f**-0.5 * _highpass(f, 120.0) * _lowpass(f, 2000.0)
    rumble = f**-1.0 * _highpass(f, 40.0) * _lowpass(f, 300.0)
    bed /= np.sqrt(np.mean(bed**2))
    rumble /= np.sqrt(np.mean(rumble**2))
    shape = np.sqrt(bed**2 + (0.5 * rumble) ** 2)  # independent layers add in power
    x = _stereo_noise(rng, frames, shape, correlation=0.3)
    intensity = 1.0 + 0.12 * _lfo(frames, 2, rng.uniform(0, 2 * np.pi))
    intensity += 0.06 * _lfo(frames, 5, rng.uniform(0, 2 * np.pi))
    x *= intensity

    length = int(0.06 * sample_rate)
    t = np.arange(length) / sample_rate
    offsets = np.arange(length)
    attack = 0.003
    rise = 0.5 - 0.5 * np.cos(np.pi * np.minimum(t / attack, 1.0))
    count = rng.poisson(9.0 * frames / sample_rate)
    for start in rng.integers(0, frames, count):
        # A loop over drops (hundreds), not samples: each drop is one vectorised blip.
        f0 = rng.uniform(700.0, 2000.0)
        glide = rng.uniform(1.1, 1.4)  # bubbles rise in pitch as they shrink
        tau = rng.uniform(0.005, 0.014)
        amp = min(rng.lognormal(mean=0.0, sigma=0.35), 2.0) * 1.6
        phase = 2 * np.pi * f0 * 0.05 / np.log(glide) * (glide ** (t / 0.05) - 1.0)
        blip = amp * rise * np.exp(-np.maximum(t - attack, 0.0) / tau) * np.sin(phase)
        idx = (start + offsets) % frames  # drops near the end wrap round to the start
        x[:, idx] += _pan_gains(rng.uniform(-0.8, 0.8))[:, None] * blip.astype(np.float32)
    return x


def _wave_envelope(rng: np.random.Generator, frames: int, sample_rate: int) -> np.ndarray:
    """Swell levels for one loop: whole waves of 8.5-11.5 s that together fill it exactly.

    Each wave rises smoothly, breaks, and washes out more slowly, back to the same quiet floor
    the next starts from (zero slope at every join), so the loop point falls in a calm trough.
    Unequal wave lengths and heights keep the sea from sounding like a metronome.
    """
    floor = 0.25
    waves = max(1, round(frames / sample_rate / 10.0))
    lengths = rng.uniform(8.5, 11.5, waves)
    bounds = np.round(np.concatenate([[0.0], np.cumsum(lengths)]) * frames / lengths.sum())
    edges = bounds.astype(np.int64)
    env = np.empty(frames, dtype=np.float32)
    for i in range(waves):
        a, b = int(edges[i]), int(edges[i + 1])
        peak = rng.uniform(0.75, 1.0)
        up = int((b - a) * rng.uniform(0.45, 0.6))
        u = np.arange(up, dtype=np.float32) * np.float32(np.pi / up)
        env[a : a + up] = floor + (peak - floor) * (0.5 - 0.5 * np.cos(u))
        v = np.arange(b - a - up, dtype=np.float32) * np.float32(np.pi / (b - a - up))
        env[a + up : b] = floor + (peak - floor) * ((0.5 + 0.5 * np.cos(v)) ** np.float32(1.6))
    return env


def _ocean(rng: np.random.Generator, frames: int, sample_rate: int) -> np.ndarray:
    """Waves: a deep brown swell, a pink wash that rises with each wave, and a soft foam tail.

    The wash and foam drift between left and right (three sweeps per loop), so successive waves
    seem to arrive from slightly different places along the shore.
    """
    f = _freqs(frames, sample_rate)
    env = _wave_envelope(rng, frames, sample_rate)
    deep_shape = f**-1.0 * _highpass(f, 35.0) * _lowpass(f, 450.0)
    wash_shape = f**-0.5 * _highpass(f, 150.0) * _lowpass(f, 1600.0)
    foam_shape = f**-0.5 * _highpass(f, 500.0) * _lowpass(f, 2800.0)
    # Foam hisses on a moment after the crest; np.roll keeps the envelope circular.
    foam_env = 0.3 * np.roll(env, int(1.2 * sample_rate)) ** 3
    drift = 0.35 * _lfo(frames, 3, rng.uniform(0, 2 * np.pi))
    x = _stereo_noise(rng, frames, deep_shape, 0.5)
    x *= 0.55 + 0.45 * env
    x += _stereo_noise(rng, frames, wash_shape, 0.2) * (_pan_gains(drift) * env**2)
    x += _stereo_noise(rng, frames, foam_shape, 0.1) * (_pan_gains(-0.5 * drift) * foam_env)
    return x


def _brown_noise(rng: np.random.Generator, frames: int, sample_rate: int) -> np.ndarray:
    """Brown (1/f²) noise, high-passed at 30 Hz so it rumbles without pressing on the ears."""
    f = _freqs(frames, sample_rate)
    # Fourth order: below 30 Hz is felt more than heard and would only eat headroom.
    shape = f**-1.0 * _highpass(f, 30.0, order=4) * _lowpass(f, 3000.0, order=1)
    return _stereo_noise(rng, frames, shape, correlation=0.5)


#: D, A, d, f#, a, e': an open D major chord with an added ninth, low and warm.
_PAD_NOTES: tuple[tuple[float, float], ...] = (
    (73.42, 1.0),
    (110.00, 0.8),
    (146.83, 0.65),
    (185.00, 0.4),
    (220.00, 0.45),
    (329.63, 0.18),
)
#: A soft, quickly falling harmonic series: warm rather than buzzy.
_PAD_HARMONICS: tuple[float, ...] = (1.0, 0.35, 0.14, 0.06, 0.025)


def _soft_pad(rng: np.random.Generator, frames: int, sample_rate: int) -> np.ndarray:
    """A warm drone: each chord note is three slightly detuned voices that beat slowly.

    Every partial sits on an FFT bin (a whole number of cycles per loop), and each note's slow
    swell (1 + d·sin, whole cycles per loop) is written as the two sidebands it creates, so the
    whole pad is one exactly periodic spectrum per channel and two inverse FFTs. Detuning is
    0.03-0.1 Hz, so the chorus moves over tens of seconds and never wobbles.
    """
    bins = frames // 2 + 1
    hz_per_bin = sample_rate / frames
    spec = np.zeros((CHANNELS, bins), dtype=np.complex128)

    def add(k: int, amp: np.ndarray, phase: np.ndarray) -> None:
        # amp·cos(2πkn/N + phase) in irfft's convention.
        if 0 < k < bins - 1:
            spec[:, k] += amp * (frames / 2.0) * np.exp(1j * phase)

    for note_hz, note_gain in _PAD_NOTES:
        depth = 0.2
        m = int(rng.integers(1, 3))  # swell cycles per loop
        psi = rng.uniform(0, 2 * np.pi)
        # (detune Hz, level, pan): quiet side voices make the beating a shimmer, not a throb.
        voices = (
            (-rng.uniform(0.03, 0.1), 0.15, -0.5),
            (0.0, 1.0, 0.0),
            (rng.uniform(0.03, 0.1), 0.15, 0.5),
        )
        for detune, level, position in voices:
            k = round((note_hz + detune) / hz_per_bin)
            pan = _pan_gains(position).astype(np.float64)
            for h, amp in enumerate(_PAD_HARMONICS, start=1):
                # Random phases keep the many partials from lining up into peaks; a different
                # phase in each ear makes the chord wide without any level beating.
                phi = rng.uniform(0, 2 * np.pi) + np.array([0.0, rng.uniform(-1.2, 1.2)])
                a = note_gain * level * amp * pan
                add(h * k, a, phi)
                # cos(A)·d·sin(B) = d/2·[cos(A+B-π/2) + cos(A-B+π/2)]
                add(h * k + m, a * depth / 2.0, phi + psi - np.pi / 2.0)
                add(h * k - m, a * depth / 2.0, phi - psi + np.pi / 2.0)
    return np.fft.irfft(spec.astype(np.complex64), n=frames, axis=1)


def _thump(
    sample_rate: int, start_hz: float, end_hz: float, attack: float, tau: float
) -> np.ndarray:
    """One soft, low heart sound: a falling sine with a slow (click-free) rise and short decay."""
    length = int(0.4 * sample_rate)
    t = np.arange(length) / sample_rate
    hz = end_hz + (start_hz - end_hz) * np.exp(-t / 0.08)
    phase = 2 * np.pi * np.cumsum(hz) / sample_rate
    phase -= phase[0]
    rise = 0.5 - 0.5 * np.cos(np.pi * np.minimum(t / attack, 1.0))
    decay = np.exp(-np.maximum(t - attack, 0.0) / tau)
    tail = 0.5 + 0.5 * np.cos(np.pi * np.clip((t - 0.3) / 0.1, 0.0, 1.0))  # reach exactly 0
    # A quiet second harmonic lets laptop speakers, which cannot make 50 Hz, still hint at it.
    tone = np.sin(phase) + 0.25 * np.sin(2 * phase)
    return np.asarray(rise * decay * tail * tone)


def _heartbeat(rng: np.random.Generator, frames: int, sample_rate: int) -> np.ndarray:
    """A resting heart: lub-dub once a second, centred, over a very quiet warm hush.

    The beat sits early in each one-second cell, so the loop point (a cell boundary) falls in
    the still gap between beats. Beat strength varies by a few percent, like a real heart.
    """
    beats = max(1, round(frames / sample_rate))
    cell_len = frames // beats
    cell = np.zeros(cell_len)
    lub = _thump(sample_rate, 60.0, 46.0, attack=0.015, tau=0.09)
    dub = _thump(sample_rate, 68.0, 55.0, attack=0.01, tau=0.07)
    lub_at, dub_at = int(0.15 * sample_rate), int(0.45 * sample_rate)
    cell[lub_at : lub_at + lub.size] += lub
    cell[dub_at : dub_at + dub.size] += 0.6 * dub
    strength = rng.uniform(0.92, 1.0, beats)
    beat = np.zeros(frames, dtype=np.float32)
    beat[: beats * cell_len] = (cell[None, :] * strength[:, None]).ravel()

    f = _freqs(frames, sample_rate)
    hush_shape = f**-1.0 * _highpass(f, 40.0) * _lowpass(f, 600.0)
    hush = _stereo_noise(rng, frames, hush_shape, correlation=0.6)
    hush *= 0.12 * _rms(beat)  # about 18 dB under the beat
    hush += beat
    return hush


def _periodic_envelope(rng: np.random.Generator, frames: int, cycles: tuple[int, ...],
                       depth: float) -> np.ndarray:
    """A slow, irregular-sounding level around 1: a few sines of whole cycles per loop with
    random phases and falling weights, so it wanders without ever repeating within the loop
    and still joins itself seamlessly."""
    env = np.zeros(frames, dtype=np.float32)
    weights = np.array([1.0 / (i + 1) for i in range(len(cycles))])
    weights /= weights.sum()
    for cycle, weight in zip(cycles, weights, strict=True):
        env += np.float32(weight) * _lfo(frames, cycle, rng.uniform(0, 2 * np.pi))
    return np.float32(1.0) + np.float32(depth) * env


def _scatter(x: np.ndarray, rng: np.random.Generator, starts: np.ndarray,
             make: Callable[[], np.ndarray], spread: float) -> None:
    """Add one short event per start (wrapping round the loop's end), each panned at random."""
    for start in starts:
        event = make().astype(np.float32)
        idx = (int(start) + np.arange(event.size)) % x.shape[1]
        x[:, idx] += _pan_gains(rng.uniform(-spread, spread))[:, None] * event


def _fireplace(rng: np.random.Generator, frames: int, sample_rate: int) -> np.ndarray:
    """A fire: a dark roar that breathes, small dry crackles, and now and then a soft pop.

    Crackles are a few milliseconds of high-passed noise with a sharp rise and a quick decay;
    pops are lower, rounder thumps (a log settling). Both come in loose clusters, as a real fire's
    do, and are kept well under the roar, so the fire is heard as warmth rather than as clicks.
    """
    f = _freqs(frames, sample_rate)
    roar_shape = f**-1.0 * _highpass(f, 45.0) * _lowpass(f, 500.0)
    x = _stereo_noise(rng, frames, roar_shape, correlation=0.6)
    x *= _periodic_envelope(rng, frames, (3, 7), depth=0.2)

    def crackle() -> np.ndarray:
        n = int(rng.uniform(0.002, 0.008) * sample_rate)
        t = np.arange(n) / n
        amp = min(rng.lognormal(0.0, 0.6), 4.0)
        return np.asarray(amp * rng.standard_normal(n) * np.exp(-6.0 * t)
                          * np.minimum(t * 20, 1.0))

    def pop() -> np.ndarray:
        n = int(0.12 * sample_rate)
        t = np.arange(n) / sample_rate
        hz = rng.uniform(90.0, 160.0)
        body = np.sin(2 * np.pi * hz * t) * np.exp(-t / 0.03) * np.minimum(t / 0.004, 1.0)
        return np.asarray(rng.uniform(0.15, 0.25) * body)

    clusters = rng.integers(0, frames, rng.poisson(2.0 * frames / sample_rate))
    starts = np.concatenate([c + rng.integers(0, int(0.4 * sample_rate), rng.integers(1, 6))
                             for c in clusters]) if clusters.size else np.zeros(0, dtype=np.int64)
    sparks = np.zeros_like(x)
    _scatter(sparks, rng, starts, crackle, spread=0.7)
    # Filtered over the whole loop at once (circularly, so the loop stays seamless): a dry
    # snap between 1 and 4 kHz, nothing of the hiss above.
    spectrum = np.fft.rfft(sparks, axis=1)
    spectrum *= _highpass(f, 1000.0, order=2) * _lowpass(f, 3500.0, order=3)
    sparks = np.fft.irfft(spectrum, n=frames, axis=1).astype(np.float32)
    # The loudest snap stands a little above the roar's level, never far: warmth, not clicks.
    x += np.float32(2.2 * _rms(x) / max(float(np.max(np.abs(sparks))), 1e-9)) * sparks
    _scatter(x, rng, rng.integers(0, frames, rng.poisson(0.12 * frames / sample_rate)), pop,
             spread=0.4)
    return x


def _night(rng: np.random.Generator, frames: int, sample_rate: int) -> np.ndarray:
    """A warm night: a near-still hush of air, and crickets chirping far off.

    Each cricket has its own pitch (4-5 kHz, where real field crickets sing), its own steady
    chirp rate and place in the stereo field; a chirp is three or four soft pulses. They are
    quiet over the hush and low-passed a little, as distance does, so they never pierce.
    """
    f = _freqs(frames, sample_rate)
    hush_shape = f**-0.8 * _highpass(f, 60.0) * _lowpass(f, 1200.0)
    x = _stereo_noise(rng, frames, hush_shape, correlation=0.4)
    x *= _periodic_envelope(rng, frames, (2, 5), depth=0.2)
    seconds = frames / sample_rate
    for _ in range(4):
        carrier = rng.uniform(4000.0, 5000.0)
        rate = rng.uniform(1.1, 1.8)  # chirps a second
        level = rng.uniform(1.2, 2.0)
        pan = _pan_gains(rng.uniform(-0.9, 0.9))[:, None]
        pulses = int(rng.integers(3, 5))
        pulse_n = int(0.014 * sample_rate)
        gap_n = int(0.022 * sample_rate)
        t = np.arange(pulse_n) / sample_rate
        window = np.sin(np.pi * np.arange(pulse_n) / pulse_n) ** 2
        chirp = np.zeros(pulses * (pulse_n + gap_n))
        for k in range(pulses):
            at = k * (pulse_n + gap_n)
            chirp[at : at + pulse_n] = window * np.sin(2 * np.pi * carrier * t) * (1 - 0.1 * k)
        # Whole chirps per loop, so the loop point falls between two of them.
        count = max(1, round(seconds * rate))
        spacing = frames / count
        swell = 0.75 + 0.25 * np.sin(np.linspace(0, 2 * np.pi, count, endpoint=False)
                                     + rng.uniform(0, 2 * np.pi))
        for i in range(count):
            start = int(i * spacing + rng.uniform(0.0, 0.05) * sample_rate)
            idx = (start + np.arange(chirp.size)) % frames
            x[:, idx] += (pan * (level * swell[i]) * chirp).astype(np.float32)
    return x


def _wind(rng: np.random.Generator, frames: int, sample_rate: int) -> np.ndarray:
    """Wind: three bands of noise, each with its own slow gusts, drifting across the field.

    Low air moves the most and sets the pace; the higher bands gust on their own schedules, so
    the wind seems to pass through trees rather than pulse. Everything is a whole number of
    cycles per loop.
    """
    f = _freqs(frames, sample_rate)
    x = np.zeros((CHANNELS, frames), dtype=np.float32)
    bands = ((80.0, 400.0, 1.0, (2, 3, 7)), (250.0, 900.0, 0.6, (3, 5, 11)),
             (700.0, 2200.0, 0.25, (4, 9, 14)))
    for low, high, level, cycles in bands:
        shape = f**-0.5 * _highpass(f, low, order=2) * _lowpass(f, high, order=2)
        gusts = np.maximum(_periodic_envelope(rng, frames, cycles, depth=0.7), 0.1) ** 1.5
        drift = 0.5 * _lfo(frames, int(rng.integers(1, 3)), rng.uniform(0, 2 * np.pi))
        x += _stereo_noise(rng, frames, shape, 0.3) * (_pan_gains(drift) * (level * gusts))
    return x


_GENERATORS: dict[str, _Generator] = {
    "rain": _rain,
    "ocean": _ocean,
    "brown-noise": _brown_noise,
    "soft-pad": _soft_pad,
    "heartbeat": _heartbeat,
    "fireplace": _fireplace,
    "night": _night,
    "wind": _wind,
}


def _finish(ambience_id: str, planar: np.ndarray) -> np.ndarray:
    """Remove DC, scale to the shared loudness, refuse to clip, and interleave for the mixer."""
    x = planar.astype(np.float32, copy=False)
    x -= x.mean(axis=1, dtype=np.float64, keepdims=True).astype(np.float32)
    gain = _db(TARGET_RMS_DBFS) / _rms(x)
    peak = float(np.max(np.abs(x))) * gain
    if peak > _db(PEAK_LIMIT_DBFS):
        # A generator design slip, not a runtime condition; quieter is better than distorted.
        log.warning(
            "Ambience %r peaks too high; lowering it below the target loudness", ambience_id
        )
        gain *= _db(PEAK_LIMIT_DBFS) / peak
    x *= np.float32(gain)
    return np.ascontiguousarray(x.T)


def _info(ambience_id: str) -> AmbienceInfo:
    try:
        return AMBIENCES[ambience_id]
    except KeyError:
        raise UnknownAmbience(
            f"unknown ambience {ambience_id!r}; known: {', '.join(AMBIENCES)}"
        ) from None


def generate_ambience(ambience_id: str, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Render one loop: (frames, 2) float32, identical on every call for the same id and rate."""
    info = _info(ambience_id)
    frames = round(info.loop_seconds * sample_rate)
    rng = np.random.default_rng(info.seed)
    return _finish(ambience_id, _GENERATORS[ambience_id](rng, frames, sample_rate))


def _cache_name(ambience_id: str, version: int | str = GENERATOR_VERSION) -> str:
    return f"{ambience_id}-v{version}-{SAMPLE_RATE}.npy"


def _read_cache(path: Path, expected_frames: int) -> np.ndarray | None:
    """The cached loop, or None if it is missing, unreadable or not what we would generate."""
    try:
        loop = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, EOFError) as exc:
        log.warning("Ambience cache %s is unreadable (%s); regenerating", path, exc)
        return None
    if not isinstance(loop, np.ndarray):  # e.g. a stray .npz archive under our name
        log.warning("Ambience cache %s is not a plain array; regenerating", path)
        return None
    if loop.dtype != np.float32 or loop.shape != (expected_frames, CHANNELS):
        log.warning("Ambience cache %s has shape %s %s; regenerating", path, loop.shape, loop.dtype)
        return None
    return np.ascontiguousarray(loop)


def _write_cache(path: Path, loop: np.ndarray) -> None:
    """Atomically, so a reader (another Coreg starting) never sees half a file."""
    with files.atomic_writer(path) as fh:
        np.save(fh, loop, allow_pickle=False)


def is_cached(ambience_id: str, cache_dir: Path | None = None) -> bool:
    """True when the loop can be read from disk instead of generated (a quick load)."""
    if ambience_id not in AMBIENCES:
        return False
    directory = paths.ambience_cache_dir() if cache_dir is None else cache_dir
    return (directory / _cache_name(ambience_id)).is_file()


def _remove_stale(cache_dir: Path, ambience_id: str, keep: Path) -> None:
    """Old generator versions are 20+ MB each and will never be read again."""
    for old in cache_dir.glob(_cache_name(ambience_id, "*")):
        if old != keep:
            try:
                old.unlink()
            except OSError as exc:
                log.debug("Could not remove stale ambience cache %s: %s", old, exc)


def load_ambience(ambience_id: str, cache_dir: Path | None = None) -> np.ndarray:
    """The loop for `ambience_id` at SAMPLE_RATE: from the disk cache, or generated and cached.

    A broken or unwritable cache never stops playback: the loop is regenerated and returned
    anyway, and the problem is logged.
    """
    info = _info(ambience_id)
    directory = paths.ambience_cache_dir() if cache_dir is None else cache_dir
    path = directory / _cache_name(ambience_id)
    frames = round(info.loop_seconds * SAMPLE_RATE)
    loop = _read_cache(path, frames)
    if loop is not None:
        return loop
    loop = generate_ambience(ambience_id)
    try:
        _write_cache(path, loop)
        _remove_stale(directory, ambience_id, keep=path)
    except OSError as exc:
        log.warning("Could not cache ambience %r in %s: %s", ambience_id, directory, exc)
    return loop
