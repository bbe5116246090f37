"""Writing a rendered practice to a file any player opens: WAV, FLAC, Ogg Vorbis, Opus, MP3, M4A.

WAV is written directly. Every other format is encoded through pydub with the ffmpeg binary that
the `imageio-ffmpeg` wheel ships, so export works on a machine without a system ffmpeg, and the
encoder is the same build everywhere. Files are tagged (title, artist "Coreg", album "Coreg
practices", a comment naming the voice and soundscape), so a music player lists them sensibly.

A file is encoded beside its destination under a temporary name and renamed into place only when
it is complete: a full disk, a failed encoder or a cancel never leaves half a file behind.
"""

from __future__ import annotations

import logging
import re
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from coreg_desktop import files
from coreg_desktop.audio.wav import to_int16, write_wav
from coreg_desktop.constants import SAMPLE_RATE

log = logging.getLogger(__name__)

ARTIST = "Coreg"
ALBUM = "Coreg practices"
QUALITY_LEVELS = ("low", "standard", "high")
DEFAULT_QUALITY = "standard"
#: A bitrate typed as a number of kilobits per second ("128" or "128k").
_KBPS_RE = re.compile(r"(\d{2,3})k?")
_KBPS_RANGE = (32, 320)


class ExportError(Exception):
    """One line saying what went wrong with which file."""


@dataclass(frozen=True)
class Format:
    """How one extension is written: the ffmpeg muxer and codec, and what each quality means.

    `levels` holds ffmpeg arguments per named quality; `lossless` formats take no quality.
    """

    extension: str
    name: str
    muxer: str
    codec: str
    levels: dict[str, tuple[str, ...]]
    lossless: bool = False

    def arguments(self, quality: str | None) -> list[str]:
        """The encoder arguments for a quality: a named level, or a bitrate in kbps."""
        if self.lossless:
            return []
        quality = (quality or DEFAULT_QUALITY).strip().lower()
        if quality in self.levels:
            return list(self.levels[quality])
        return ["-b:a", f"{parse_kbps(quality)}k"]


FORMATS: dict[str, Format] = {
    f.extension: f
    for f in (
        Format(".wav", "WAV", "wav", "pcm_s16le", {}, lossless=True),
        Format(".flac", "FLAC", "flac", "flac", {}, lossless=True),
        # Vorbis VBR quality: 3 is about 112 kbps, 6 about 192, 8 about 256.
        Format(".ogg", "Ogg Vorbis", "ogg", "libvorbis",
               {"low": ("-q:a", "3"), "standard": ("-q:a", "6"), "high": ("-q:a", "8")}),
        Format(".opus", "Opus", "opus", "libopus",
               {"low": ("-b:a", "64k"), "standard": ("-b:a", "96k"), "high": ("-b:a", "160k")}),
        # LAME VBR: V6 is about 115 kbps, V2 about 190, V0 about 245.
        Format(".mp3", "MP3", "mp3", "libmp3lame",
               {"low": ("-q:a", "6"), "standard": ("-q:a", "2"), "high": ("-q:a", "0")}),
        Format(".m4a", "M4A (AAC)", "ipod", "aac",
               {"low": ("-b:a", "96k"), "standard": ("-b:a", "160k"), "high": ("-b:a", "256k")}),
    )
}


def supported() -> str:
    return ", ".join(FORMATS)


def format_for(path: Path) -> Format:
    """The format a file name asks for, or ExportError naming the file and what is possible."""
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        what = f'"{path.suffix}"' if path.suffix else "no extension"
        raise ExportError(f"{path}: {what} is not a format Coreg can write; use {supported()}")
    return found


def parse_kbps(text: str) -> int:
    match = _KBPS_RE.fullmatch(text.strip().lower())
    value = int(match.group(1)) if match else 0
    lo, hi = _KBPS_RANGE
    if not lo <= value <= hi:
        raise ExportError(f'quality "{text}" is not allowed; use {", ".join(QUALITY_LEVELS)} '
                          f"or a bitrate from {lo} to {hi} kbps, such as 128k")
    return value


def check_quality(fmt: Format, quality: str | None) -> None:
    """Refuse a quality that cannot be used, before minutes of rendering are spent."""
    if quality is not None and not fmt.lossless:
        fmt.arguments(quality)


def export(
    path: Path,
    audio: np.ndarray,
    *,
    title: str,
    comment: str = "",
    quality: str | None = None,
    sample_rate: int = SAMPLE_RATE,
) -> Format:
    """Write (frames, channels) float audio to `path` in the format its extension names."""
    fmt = format_for(path)
    check_quality(fmt, quality)
    try:
        if fmt.extension == ".wav":
            write_wav(path, audio, sample_rate)  # WAV carries no tags worth the trouble
        else:
            _encode(path, audio, fmt, quality, sample_rate, _tags(title, comment))
    except OSError as exc:
        raise ExportError(f"{path}: cannot write ({exc.strerror or exc})") from exc
    return fmt


def _tags(title: str, comment: str) -> dict[str, str]:
    tags = {"title": title, "artist": ARTIST, "album": ALBUM, "album_artist": ARTIST}
    if comment:
        tags["comment"] = comment
    return tags


def _encode(path: Path, audio: np.ndarray, fmt: Format, quality: str | None, sample_rate: int,
            tags: dict[str, str]) -> None:
    pydub = _pydub()
    frames = audio if audio.ndim == 2 else audio[:, None]
    segment = pydub.AudioSegment(
        data=to_int16(frames).tobytes(),
        sample_width=2,
        frame_rate=sample_rate,
        channels=frames.shape[1],
    )
    with files.atomic_writer(path) as fh:
        try:
            segment.export(fh, format=fmt.muxer, codec=fmt.codec,
                           parameters=fmt.arguments(quality), tags=tags)
        except pydub.exceptions.CouldntEncodeError as exc:
            raise ExportError(f"{path}: the {fmt.name} encoder failed ({_last_line(exc)})") \
                from exc
    log.info("Exported %s (%s)", path, fmt.name)


def _last_line(exc: Exception) -> str:
    """ffmpeg's own last word, which names the cause; pydub's message holds the whole log."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    meaningful = [line for line in lines if not line.startswith(("Encoding failed", "Command"))]
    return (meaningful or lines or ["no details"])[-1][:200]


_PYDUB: ModuleType | None = None


def _pydub() -> ModuleType:
    """pydub, pointed at the ffmpeg inside imageio-ffmpeg (its own search would warn and fail
    on a machine without ffmpeg on PATH)."""
    global _PYDUB
    if _PYDUB is None:
        try:
            import imageio_ffmpeg
        except ImportError as exc:
            raise ExportError("exporting needs the imageio-ffmpeg package; reinstall Coreg") \
                from exc
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # "Couldn't find ffmpeg or avconv"
            warnings.simplefilter("ignore", DeprecationWarning)  # its audioop, on Python 3.12
            import pydub
            import pydub.exceptions
        exe = imageio_ffmpeg.get_ffmpeg_exe()
        pydub.AudioSegment.converter = exe
        pydub.AudioSegment.ffmpeg = exe
        _PYDUB = pydub
    return _PYDUB


def ffmpeg_version() -> str:
    """For `doctor`: which ffmpeg export uses."""
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
        done = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, text=True,
                              timeout=10, check=False)
    except (ImportError, OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    first = done.stdout.splitlines()[0] if done.stdout else "unknown"
    return first.removeprefix("ffmpeg version ").split(" Copyright")[0]
