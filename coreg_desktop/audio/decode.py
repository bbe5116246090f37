"""Decode any audio file with the ffmpeg binary that `imageio-ffmpeg` installs: bounded, streamed.

Most machines have no system ffmpeg, and pydub's `from_file` asks `ffprobe` (which imageio-ffmpeg
does not ship) about every input that is not WAV, then reads the whole decoded file into memory.
So the bundled ffmpeg is run directly: it writes mono float32 at the mixer rate to a pipe, at most
`max_seconds` of it (`-t`), and no more than that many bytes are ever read, so a huge or endless
input costs no more than a long one.

ffmpeg decodes what it can of a damaged file and still exits with 0. A voice memo that is cut
short is not something to keep quietly, so what ffmpeg says about the input is read too: the
length its header promises, and the messages it gives for corrupt or truncated data.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import re
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coreg_desktop.constants import SAMPLE_RATE

log = logging.getLogger(__name__)

#: A decoder that has not finished in this long is stuck (a 3-minute mp3 takes well under 1 s).
DECODE_TIMEOUT_S = 60.0
#: A file that decodes this much shorter than its header promises was cut short.
SHORT_BY_S = 0.25
_BYTES_PER_SECOND = SAMPLE_RATE * 4  # mono float32
_STDERR_LINES = 200
#: What ffmpeg says about a damaged or truncated input (it decodes what it can and exits 0).
_DAMAGE_RE = re.compile(
    r"corrupt|invalid data|do not match|decoding error|header missing|invalid pcm packet"
    r"|invalid residual|error while decoding|truncat|partial file|overread|not enough data",
    re.IGNORECASE,
)
_DURATION_RE = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")


class DecodeError(Exception):
    """The file cannot be used as audio; the message is one plain line, without the path."""


@dataclass(frozen=True)
class Decoded:
    audio: np.ndarray  # mono float32 at SAMPLE_RATE
    #: True when `max_seconds` cut the decoding: the file goes on beyond what was read.
    capped: bool


def ffmpeg_exe() -> str:
    """The bundled ffmpeg binary; DecodeError if the package is missing or broken."""
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except Exception as exc:  # ImportError, or its own RuntimeError when the binary is gone
        raise DecodeError(f"the audio decoder is not installed ({exc})") from None


def decode(path: Path, max_seconds: float) -> Decoded:
    """At most `max_seconds` of `path` as mono float32 at the mixer rate.

    Raises DecodeError when ffmpeg cannot read it, or when it reads as damaged or cut short.
    """
    wanted = int(max_seconds * _BYTES_PER_SECOND)
    cap = wanted + _BYTES_PER_SECOND  # -t stops ffmpeg first; this guards against one that won't
    cmd = [
        ffmpeg_exe(), "-nostdin", "-hide_banner", "-nostats", "-loglevel", "info",
        "-i", str(path), "-map", "0:a:0", "-vn", "-t", f"{max_seconds:.3f}",
        "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le", "pipe:1",
    ]
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    except OSError as exc:
        raise DecodeError(f"the audio decoder could not start ({exc.strerror or exc})") from None
    lines: collections.deque[str] = collections.deque(maxlen=_STDERR_LINES)
    damaged: list[str] = []
    reader = threading.Thread(target=_drain, args=(proc, str(path), lines, damaged), daemon=True,
                              name="coreg-decode-stderr")
    reader.start()
    killer = threading.Timer(DECODE_TIMEOUT_S, proc.kill)
    killer.daemon = True
    killer.start()
    started = time.monotonic()
    try:
        data, overran = _read_bounded(proc, cap)
        proc.wait(timeout=5.0)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise DecodeError("the audio decoder did not finish") from None
    finally:
        killer.cancel()
        reader.join(timeout=5.0)
    if time.monotonic() - started >= DECODE_TIMEOUT_S:
        raise DecodeError("reading it took too long, so it was given up")
    text = "\n".join(lines)
    if proc.returncode != 0 and not overran:
        raise DecodeError(f"it could not be read as audio ({_reason(lines)})")
    audio = np.frombuffer(data[: min(len(data), wanted) // 4 * 4], dtype="<f4").astype(np.float32)
    audio = np.nan_to_num(audio, nan=0.0, posinf=0.0, neginf=0.0)
    capped = len(data) >= wanted - _BYTES_PER_SECOND // 10
    if damaged:
        raise DecodeError(f"it seems damaged or cut short ({_clean(damaged[0])})")
    promised = _promised_seconds(text)
    got = len(audio) / SAMPLE_RATE
    if promised is not None and got < min(promised, max_seconds) - SHORT_BY_S:
        raise DecodeError(
            f"it seems cut short: it should last {_clock(promised)}, but only {_clock(got)} "
            "could be read"
        )
    return Decoded(audio, capped)


def _read_bounded(proc: subprocess.Popen[bytes], cap: int) -> tuple[bytes, bool]:
    """Read the pipe until ffmpeg ends it or `cap` bytes have come, whichever is first; True
    with the bytes when the cap was reached (and ffmpeg was stopped)."""
    assert proc.stdout is not None
    chunks: list[bytes] = []
    size = 0
    while size < cap:
        chunk = proc.stdout.read(min(1 << 20, cap - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size >= cap:
        proc.kill()  # more than was asked for: it may never end (a stream, a huge file)
    with contextlib.suppress(OSError):
        proc.stdout.close()
    return b"".join(chunks), size >= cap


def _drain(proc: subprocess.Popen[bytes], name: str, lines: collections.deque[str],
           damaged: list[str]) -> None:
    """Keep ffmpeg's last lines (without the file's own name, which may say anything) and the
    first that tells of damage."""
    assert proc.stderr is not None
    for raw in proc.stderr:
        line = raw.decode("utf-8", "replace").rstrip().replace(name, "FILE")
        lines.append(line)
        if _DAMAGE_RE.search(line) and not damaged:
            damaged.append(line)


def _promised_seconds(text: str) -> float | None:
    """The length the container's header gives, unless ffmpeg only guessed it from the bitrate
    (then a short file is no sign of damage)."""
    if "Estimating duration from bitrate" in text:
        return None
    match = _DURATION_RE.search(text)
    if match is None:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _reason(lines: collections.deque[str]) -> str:
    """The last thing ffmpeg said that explains the failure, in a few plain words."""
    for line in reversed(lines):
        if line.strip() and not line.startswith(" "):
            return _clean(line)
    return "the decoder gave no reason"


def _clean(line: str) -> str:
    """ffmpeg's line without its `[module @ 0x…]` prefixes and the file's path."""
    out = re.sub(r"\[[^\]]*@ 0x[0-9a-f]+\]\s*", "", line).strip()
    out = re.sub(r"^Error opening input file .*", "not an audio file ffmpeg knows", out)
    out = out.rstrip(".")
    return out[:120] or "no details"


def _clock(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"
