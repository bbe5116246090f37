"""Turns a line of practice text into a finished clip: the voice, our pauses, one loudness.

Engines differ in sample rate, level and how much silence they leave around speech, and none of
them pause long enough between sentences for someone trying to slow their breathing. So the
narrator speaks sentence by sentence, trims each one, joins them with a calm gap, brings every
clip to the same speech loudness, limits peaks, and resamples to the mixer rate. The result is
cached on disk, so a practice replayed tomorrow costs no synthesis at all.

The signal helpers are plain numpy (no scipy) and are reused by the bench script.
"""

from __future__ import annotations

import logging
import math
import threading
import unicodedata
from collections.abc import Sequence

import numpy as np

from coreg_desktop.constants import SAMPLE_RATE, SENTENCE_GAP_S
from coreg_desktop.practice.text import split_sentences
from coreg_desktop.tts.base import SynthesisError, Synthesizer
from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.loudness import integrated_loudness

log = logging.getLogger(__name__)

#: Silence before and after every clip so that consecutive clips never butt together or click.
LEAD_IN_S = 0.04
TAIL_S = 0.06
#: Raised-cosine ramp at each trimmed sentence edge; short enough to keep consonant onsets.
EDGE_FADE_S = 0.006
#: Speech kept around the detected voice so soft onsets and breathy endings survive trimming.
TRIM_MARGIN_BEFORE_S = 0.015
TRIM_MARGIN_AFTER_S = 0.05
#: Frames this far below the loudest frame of a sentence count as silence when trimming.
TRIM_THRESHOLD_DB = -45.0

#: Every clip's programme loudness (ITU-R BS.1770, see `loudness.py`), and the ceiling for its
#: peaks. -21 LUFS keeps speech where the mix was balanced around it, well above the ambience.
TARGET_LUFS = -21.0
PEAK_CEILING_DBFS = -3.0
#: After the limiter, a clip more than this under the target gets one more, smaller, lift.
LOUDNESS_TOLERANCE_LU = 0.3
#: Limiter hold/smoothing half-window: ~2 pitch periods, so gain does not wobble at the pitch.
LIMITER_WINDOW_S = 0.01

_EPS = 1e-12


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def gain_to_db(gain: float) -> float:
    return float(20.0 * math.log10(max(gain, _EPS)))


# --- resampling -------------------------------------------------------------------------------


def _next_fast_len(n: int) -> int:
    """Smallest 2^a·3^b·5^c·7^d >= n, so the FFTs never hit a large prime factor."""
    best = 1 << max(0, (n - 1).bit_length())
    p7 = 1
    while p7 < best:
        p5 = p7
        while p5 < best:
            p3 = p5
            while p3 < best:
                p2 = p3
                while p2 < n:
                    p2 *= 2
                best = min(best, p2)
                p3 *= 3
            p5 *= 5
        p7 *= 7
    return best


def resample(audio: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Band-limited resampling by zero-padded FFT, with a raised-cosine roll-off.

    The clip is padded with silence (so the FFT's circular wrap only ever touches zeros) to a
    length that is a multiple of src/gcd, which makes the output length exact. The spectrum is
    rolled off over the top 8% below the lower Nyquist, which removes imaging/aliasing without
    the ringing a brick-wall cut would add. Speech has almost nothing up there anyway.
    """
    src_rate, dst_rate = int(src_rate), int(dst_rate)
    if src_rate <= 0 or dst_rate <= 0:
        raise ValueError("sample rates must be positive")
    x = np.asarray(audio, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError("resample takes mono audio")
    if src_rate == dst_rate:
        return x.astype(np.float32)
    n = len(x)
    out_n = round(n * dst_rate / src_rate)
    if n == 0:
        return np.zeros(0, dtype=np.float32)

    g = math.gcd(src_rate, dst_rate)
    up, down = dst_rate // g, src_rate // g
    pad = max(1024, src_rate // 50)
    m = _next_fast_len(math.ceil((n + 2 * pad) / down))
    total = m * down
    left = ((total - n) // 2 // down) * down
    padded = np.zeros(total)
    padded[left : left + n] = x

    spectrum = np.fft.rfft(padded)
    out_total = m * up
    kept = min(len(spectrum), out_total // 2 + 1)
    freqs = np.arange(kept) * (src_rate / total)
    cutoff = min(src_rate, dst_rate) / 2.0
    start = 0.92 * cutoff
    taper = np.ones(kept)
    band = freqs >= start
    taper[band] = 0.5 * (
        1.0 + np.cos(np.pi * np.clip((freqs[band] - start) / (cutoff - start), 0, 1))
    )
    out_spectrum = np.zeros(out_total // 2 + 1, dtype=np.complex128)
    out_spectrum[:kept] = spectrum[:kept] * taper
    y = np.fft.irfft(out_spectrum, n=out_total) * (out_total / total)
    first = left // down * up
    return y[first : first + out_n].astype(np.float32)


# --- levels -----------------------------------------------------------------------------------


def _frame_rms(audio: np.ndarray, frame: int) -> np.ndarray:
    n = len(audio) // frame * frame
    if n == 0:
        return np.sqrt(np.mean(np.square(audio, dtype=np.float64), keepdims=True))
    frames = audio[:n].astype(np.float64).reshape(-1, frame)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    if n < len(audio):
        tail = audio[n:].astype(np.float64)
        rms = np.append(rms, math.sqrt(float(np.mean(tail * tail))))
    return rms


def peak_dbfs(audio: np.ndarray) -> float:
    return gain_to_db(float(np.max(np.abs(audio)))) if len(audio) else -math.inf


def _sliding_min(x: np.ndarray, width: int) -> np.ndarray:
    """out[j] = min(x[j:j+width]) in O(n) (van Herk / Gil-Werman); len(out) = len(x)-width+1."""
    n = len(x)
    blocks = math.ceil(n / width)
    padded = np.full(blocks * width, np.inf)
    padded[:n] = x
    b = padded.reshape(blocks, width)
    prefix = np.minimum.accumulate(b, axis=1).ravel()
    suffix = np.minimum.accumulate(b[:, ::-1], axis=1)[:, ::-1].ravel()
    j = np.arange(n - width + 1)
    return np.minimum(suffix[j], prefix[j + width - 1])


def limit_peaks(audio: np.ndarray, ceiling: float, sample_rate: int) -> np.ndarray:
    """Look-ahead peak limiter: no sample ends above `ceiling`, and the gain moves smoothly.

    The gain each sample needs is held (sliding minimum) over ±h samples and then averaged over
    the same ±h. Every sample in the averaging window of a peak has that peak inside its hold
    window, so the averaged gain at a peak can never exceed what the peak needs.
    """
    x = np.asarray(audio, dtype=np.float32)
    magnitude = np.abs(x).astype(np.float64)
    if len(x) == 0 or float(magnitude.max()) <= ceiling:
        return x.copy()
    need = np.minimum(1.0, ceiling / np.maximum(magnitude, _EPS))
    h = max(1, int(LIMITER_WINDOW_S * sample_rate))
    width = 2 * h + 1
    padded = np.concatenate([np.ones(2 * h), need, np.ones(2 * h)])
    held = _sliding_min(padded, width)  # held[j] is centred on padded[j + h]
    csum = np.concatenate([[0.0], np.cumsum(held)])
    n = len(x)
    gain = (csum[width : width + n] - csum[:n]) / width
    y = x * gain.astype(np.float32)
    return np.clip(y, -ceiling, ceiling).astype(np.float32)


def normalise_loudness(
    audio: np.ndarray, sample_rate: int, speech: np.ndarray | None = None
) -> np.ndarray:
    """One gain for the whole clip (so sentences keep their natural relative level), then limit.

    The loudness is measured on `speech` (the sentences without our pauses between them) when
    given: BS.1770's gate lets part of a long pause into the measure, and a line with pauses
    would then be lifted louder than one without. The limiter takes a little loudness off a
    peaky voice; one corrective lift brings it back within LOUDNESS_TOLERANCE_LU, so every
    engine and voice lands on the same loudness.
    """
    x = np.asarray(audio, dtype=np.float32)
    measured = x if speech is None else np.asarray(speech, dtype=np.float32)
    ceiling = db_to_gain(PEAK_CEILING_DBFS)
    level = integrated_loudness(measured, sample_rate)
    if not math.isfinite(level):
        return x.copy()
    gain = db_to_gain(TARGET_LUFS - level)
    out = limit_peaks(x * gain, ceiling, sample_rate)
    limited = limit_peaks(measured * gain, ceiling, sample_rate) if speech is not None else out
    short = TARGET_LUFS - integrated_loudness(limited, sample_rate)
    if short > LOUDNESS_TOLERANCE_LU:
        out = limit_peaks(out * db_to_gain(short), ceiling, sample_rate)
    return out


# --- shaping ----------------------------------------------------------------------------------


def trim_silence(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Cut the engine's own leading/trailing silence so that our gaps are the only gaps."""
    if len(audio) == 0:
        return audio
    frame = max(1, int(0.005 * sample_rate))
    rms = _frame_rms(audio, frame)
    loudest = float(rms.max())
    if loudest <= 1e-5:
        return audio[:0]
    voiced = np.flatnonzero(rms >= max(loudest * db_to_gain(TRIM_THRESHOLD_DB), 1e-5))
    start = max(0, int(voiced[0]) * frame - int(TRIM_MARGIN_BEFORE_S * sample_rate))
    end = min(len(audio), (int(voiced[-1]) + 1) * frame + int(TRIM_MARGIN_AFTER_S * sample_rate))
    return audio[start:end]


def fade_edges(audio: np.ndarray, sample_rate: int, seconds: float = EDGE_FADE_S) -> np.ndarray:
    """Raised-cosine fade in and out, so a cut edge never clicks."""
    y = np.array(audio, dtype=np.float32, copy=True)
    n = min(len(y) // 2, int(seconds * sample_rate))
    if n > 0:
        ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)).astype(np.float32)
        y[:n] *= ramp
        y[len(y) - n :] *= ramp[::-1]
    return y


def _as_mono(audio: object) -> np.ndarray:
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim == 2:
        a = a.mean(axis=1 if a.shape[1] <= a.shape[0] else 0).astype(np.float32)
    if a.ndim != 1:
        raise SynthesisError(f"voice returned audio of shape {a.shape}")
    return np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)


#: The Latin letters every engine's front end (espeak-ng, for Piper and Kokoro alike) reads as
#: letters: ASCII, Latin-1, Extended-A and -B. Beyond them, in Latin Extended Additional
#: (Vietnamese "ễ", "ặ", the dotted letters of transliterations), espeak-ng reads the code point
#: aloud: "Nguyễn" came out as "N G U Y letter 1 E C 5 N".
_KNOWN_LATIN_END = 0x024F


def _speakable_letter(ch: str) -> str:
    """`ch`, or its bare letter where the front end would spell out the code point: "ễ" -> "e".

    All the marks go, not only the last: English espeak-ng reads "Nguyen" as "New-yen" (the
    usual English way), but "Nguyên" as "ng-GUY-ern".
    """
    if ord(ch) <= _KNOWN_LATIN_END or not ch.isalpha():
        return ch
    decomposed = unicodedata.normalize("NFD", ch)
    base, marks = decomposed[0], decomposed[1:]
    if ord(base) > _KNOWN_LATIN_END or not marks:
        return ch  # another script (Greek, Cyrillic, Han): not ours to guess
    return base


def clean_text(text: str) -> str:
    """The text as the engine gets it (and as the cache is keyed): composed Unicode, single
    spaces, and letters the front end would spell out as code points folded to ones it reads."""
    composed = unicodedata.normalize("NFC", text)
    if any(ord(c) > _KNOWN_LATIN_END for c in composed):
        composed = "".join(_speakable_letter(c) for c in composed)
    return " ".join(composed.split())


class Narrator:
    """Speaks practice lines through one synthesizer, with a disk cache in front of it.

    `clip` is called from the session's look-ahead worker while the GUI may ask too (e.g. a
    preview); synthesis is serialised by a lock (two syntheses at once would only fight over the
    two cores), cache reads are not, so a cached line never waits behind a long synthesis.
    """

    def __init__(
        self,
        synth: Synthesizer | None,
        cache: ClipCache,
        rate: float = 1.0,
        sample_rate: int = SAMPLE_RATE,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._synth = synth
        self.cache = cache
        self.rate = float(rate)
        self.sample_rate = int(sample_rate)
        self._synth_lock = threading.Lock()

    @property
    def available(self) -> bool:
        return self._synth is not None

    @property
    def voice_label(self) -> str:
        """Which voice speaks, as an exported file names it ("piper: en_US-joe-medium")."""
        synth = self._synth
        return "no voice (captions only)" if synth is None else f"{synth.engine}: {synth.voice}"

    def key(self, text: str) -> str:
        synth = self._require()
        return self.cache.key_for(
            synth.engine,
            synth.engine_version,
            synth.voice,
            self.rate,
            self.sample_rate,
            clean_text(text),
        )

    def cached(self, text: str) -> bool:
        if self._synth is None:
            return False
        if not clean_text(text):
            return True
        return self.cache.contains(self.key(text))

    def unload(self) -> None:
        """Let the voice model go (it loads again for the next line that is not cached)."""
        unload = getattr(self._synth, "unload", None)
        if callable(unload):
            with self._synth_lock:  # never in the middle of a line
                unload()

    def warm_up(self) -> None:
        """Load the voice model now (e.g. at app start, off the GUI thread)."""
        warm = getattr(self._synth, "warm_up", None)
        if not callable(warm):
            return
        try:
            warm()
        except SynthesisError as exc:
            log.warning("voice failed to load: %s", exc)

    def clip(self, text: str) -> np.ndarray:
        """The finished clip for `text` (mono float32 at `sample_rate`). Raises SynthesisError."""
        self._require()
        text = clean_text(text)
        if not text:
            return self._silence()
        key = self.key(text)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        with self._synth_lock:
            hit = self.cache.get(key)  # another thread may have rendered it while we waited
            if hit is not None:
                return hit
            audio = self.render(text)
            # Keyed again: a voice that fell back to another engine while making this line
            # has changed its engine and version, and the clip is that engine's.
            self.cache.put(self.key(text), audio)
            return audio

    def render(self, text: str) -> np.ndarray:
        """Synthesize and shape `text` without touching the cache."""
        synth = self._require()
        sentences = split_sentences(clean_text(text))
        if not sentences:
            return self._silence()
        parts = self._speak(synth, sentences)
        gap = np.zeros(round(SENTENCE_GAP_S / self.rate * self.sample_rate), np.float32)
        pieces: list[np.ndarray] = []
        for audio, rate in parts:
            trimmed = trim_silence(audio, rate)  # `_speak` made it mono already
            if len(trimmed) == 0:
                continue
            shaped = fade_edges(resample(trimmed, rate, self.sample_rate), self.sample_rate)
            if pieces:
                pieces.append(gap)
            pieces.append(shaped)
        if not pieces:
            raise SynthesisError(f"the voice produced only silence for {text[:40]!r}")
        spoken = [p for p in pieces if p is not gap]
        speech = normalise_loudness(np.concatenate(pieces), self.sample_rate,
                                    speech=np.concatenate(spoken))
        lead = np.zeros(round(LEAD_IN_S * self.sample_rate), np.float32)
        tail = np.zeros(round(TAIL_S * self.sample_rate), np.float32)
        return np.concatenate([lead, speech, tail]).astype(np.float32)

    def _speak(self, synth: Synthesizer, sentences: Sequence[str]) -> list[tuple[np.ndarray, int]]:
        """One engine call per sentence, or one batch where the engine offers it (child process)."""
        batch = getattr(synth, "synthesize_batch", None)
        try:
            if callable(batch):
                results = list(batch(list(sentences), self.rate))
            else:
                results = [synth.synthesize(s, self.rate) for s in sentences]
        except SynthesisError:
            raise
        except Exception as exc:  # a third-party engine must not take the session down
            raise SynthesisError(f"{synth.engine} failed: {exc}") from exc
        out: list[tuple[np.ndarray, int]] = []
        for audio, rate in results:
            if int(rate) <= 0:
                raise SynthesisError(f"{synth.engine} reported sample rate {rate}")
            out.append((_as_mono(audio), int(rate)))
        return out

    def _silence(self) -> np.ndarray:
        return np.zeros(round((LEAD_IN_S + TAIL_S) * self.sample_rate), np.float32)

    def _require(self) -> Synthesizer:
        if self._synth is None:
            raise SynthesisError("no voice is available")
        return self._synth
