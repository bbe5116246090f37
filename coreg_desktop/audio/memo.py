"""Voice memos: a loved one's recording, made ready to play under a practice.

A memo arrives in whatever format a phone or a messenger produced. It is decoded (`decode.py`,
bounded), its leading and trailing silence trimmed, its loudness brought to the narration's
(the same BS.1770 meter and target as every narration clip, so the voice a person knows is
neither a shout nor a whisper next to ours), and stored as mono 16-bit FLAC at the mixer rate, so
playing it later needs no resampling. The file is written atomically, so a memo that fails at any
step leaves nothing behind.
"""

from __future__ import annotations

import logging
import math
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coreg_desktop import files
from coreg_desktop.audio.decode import DecodeError, decode, ffmpeg_exe
from coreg_desktop.constants import SAMPLE_RATE
from coreg_desktop.tts.narrator import db_to_gain, fade_edges, normalise_loudness

log = logging.getLogger(__name__)

#: The formats a memo may come in (by file name: ffmpeg itself decides what the bytes are).
MEMO_SUFFIXES = (".mp3", ".m4a", ".aac", ".mp4", ".ogg", ".oga", ".opus", ".flac", ".wav",
                 ".webm")
MAX_INPUT_BYTES = 50 * 1024 * 1024
MAX_SECONDS = 180.0
#: How much is decoded at most: the limit plus room for silence around it.
DECODE_SECONDS = MAX_SECONDS + 5.0
#: 20 ms windows this far under the loudest one count as silence at the edges ...
TRIM_THRESHOLD_DB = -40.0
#: ... and so does anything under this level, whatever the loudest is.
SILENCE_FLOOR_DBFS = -60.0
#: Kept around the voice, so a soft first word and a breathy ending survive the trim.
TRIM_MARGIN_S = 0.2
#: Shorter than this after trimming is a click, not a memo.
MIN_SECONDS = 0.5
STORED_SUFFIX = ".flac"
ENCODE_TIMEOUT_S = 60.0
_WINDOW = SAMPLE_RATE // 50


class MemoError(Exception):
    """A memo that cannot be used; the message is one plain line naming the file."""


@dataclass(frozen=True)
class PreparedMemo:
    audio: np.ndarray  # mono float32, trimmed and at the narration's loudness

    @property
    def seconds(self) -> float:
        return len(self.audio) / SAMPLE_RATE


def prepare(path: Path) -> PreparedMemo:
    """Decode, check and clean one memo file; MemoError (one line) for anything wrong."""
    try:
        size = files.input_file_size(path)
    except files.InputFileError as exc:
        raise MemoError(str(exc)) from None
    if path.suffix.lower() not in MEMO_SUFFIXES:
        kinds = ", ".join(s.lstrip(".") for s in MEMO_SUFFIXES)
        raise MemoError(f"{path}: not a voice memo Coreg can take; use one of {kinds}")
    if size > MAX_INPUT_BYTES:
        raise MemoError(
            f"{path}: is {size / 1e6:.0f} MB; a memo can be at most "
            f"{MAX_INPUT_BYTES // (1024 * 1024)} MB"
        )
    if size == 0:
        raise MemoError(f"{path}: is empty")
    try:
        decoded = decode(path, DECODE_SECONDS)
    except DecodeError as exc:
        raise MemoError(f"{path}: {exc}") from None
    return prepare_audio(decoded.audio, str(path), decoded.capped)


def prepare_audio(raw: np.ndarray, what: str, capped: bool = False) -> PreparedMemo:
    """Trim, check and level mono audio at the mixer rate (a decoded file, or a recording);
    `what` names it in the one-line MemoError."""
    audio = trim(raw)
    if len(audio) == 0:
        raise MemoError(f"{what}: has no sound in it (it is empty or silent)")
    seconds = len(audio) / SAMPLE_RATE
    if capped and _reaches_end(raw, audio):
        raise MemoError(f"{what}: is longer than {_minutes(MAX_SECONDS)}; trim it to at most "
                        f"{_minutes(MAX_SECONDS)} and import it again")
    if seconds > MAX_SECONDS:
        raise MemoError(f"{what}: lasts {_clock(seconds)} without its silent edges; a memo can "
                        f"be at most {_minutes(MAX_SECONDS)}")
    if seconds < MIN_SECONDS:
        raise MemoError(f"{what}: is too short to be a memo ({seconds:.1f} s of sound)")
    cleaned = fade_edges(normalise_loudness(audio, SAMPLE_RATE), SAMPLE_RATE, 0.02)
    return PreparedMemo(cleaned.astype(np.float32))


def trim(audio: np.ndarray) -> np.ndarray:
    """`audio` without its silent start and end (a margin of quiet is kept around the voice)."""
    n = len(audio) // _WINDOW
    if n == 0:
        return audio[:0]
    windows = audio[: n * _WINDOW].astype(np.float64).reshape(n, _WINDOW)
    rms = np.sqrt(np.mean(windows * windows, axis=1))
    loudest = float(rms.max())
    floor = max(loudest * db_to_gain(TRIM_THRESHOLD_DB), db_to_gain(SILENCE_FLOOR_DBFS))
    if loudest < floor:
        return audio[:0]
    sound = np.flatnonzero(rms >= floor)
    margin = int(TRIM_MARGIN_S * SAMPLE_RATE)
    start = max(0, int(sound[0]) * _WINDOW - margin)
    end = min(len(audio), (int(sound[-1]) + 1) * _WINDOW + margin)
    return audio[start:end]


def _reaches_end(decoded: np.ndarray, trimmed: np.ndarray) -> bool:
    """True when the sound goes on to the last second that was decoded (so past it, too)."""
    tail = decoded[-SAMPLE_RATE:]
    return len(trim(tail)) > 0 and len(trimmed) > 0


def encode_flac(audio: np.ndarray, dest: Path) -> None:
    """Write mono float32 as 16-bit FLAC at `dest`, private to the user, atomically."""
    cmd = [
        ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error",
        "-f", "f32le", "-ac", "1", "-ar", str(SAMPLE_RATE), "-i", "pipe:0",
        "-c:a", "flac", "-sample_fmt", "s16", "-f", "flac", "pipe:1",
    ]
    pcm = np.clip(audio, -1.0, 1.0).astype("<f4").tobytes()
    try:
        done = subprocess.run(cmd, input=pcm, capture_output=True, timeout=ENCODE_TIMEOUT_S,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MemoError(f"{dest}: the memo could not be stored ({exc})") from None
    if done.returncode != 0 or not done.stdout:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise MemoError(f"{dest}: the memo could not be stored ({why[-1] if why else 'no reason'})")
    try:
        files.atomic_write(dest, done.stdout, mode=files.PRIVATE_FILE)
    except OSError as exc:
        raise MemoError(f"{dest}: the memo could not be stored ({exc.strerror or exc})") from None


def load(path: Path) -> np.ndarray:
    """A stored memo as mono float32 at the mixer rate (for playing); DecodeError if it is gone
    or damaged."""
    if not path.is_file():
        raise DecodeError("the memo file is missing")
    return decode(path, DECODE_SECONDS).audio


def _clock(seconds: float) -> str:
    whole = max(0, math.ceil(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:g} minute{'s' if minutes != 1 else ''}"
