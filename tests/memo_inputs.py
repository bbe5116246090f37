"""Audio and photo files for the safe-people tests, made at test time with the bundled ffmpeg.

The memos are a voice-like tone (a harmonic stack whose loudness moves like syllables) with
silence around it, encoded to each format a phone might give us; the photos are drawn with Pillow.
Nothing here is a stand-in for the code under test: these are real files in real formats.
"""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np

from coreg_desktop.audio.decode import ffmpeg_exe

RATE = 44_100
CODECS = {
    ".mp3": ["-c:a", "libmp3lame", "-b:a", "96k"],
    ".m4a": ["-c:a", "aac", "-b:a", "96k"],
    ".aac": ["-c:a", "aac", "-b:a", "96k", "-f", "adts"],
    ".ogg": ["-c:a", "libvorbis"],
    ".opus": ["-c:a", "libopus", "-b:a", "48k"],
    ".flac": ["-c:a", "flac"],
    ".wav": ["-c:a", "pcm_s16le"],
}


def voice_like(seconds: float, level_db: float = -12.0, rate: int = RATE) -> np.ndarray:
    """A harmonic tone at 180 Hz whose loudness rises and falls four times a second."""
    t = np.arange(int(seconds * rate)) / rate
    tone = sum(np.sin(2 * np.pi * 180 * k * t) / k for k in range(1, 6))
    syllables = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * t) ** 2
    x = tone * syllables
    x = x / np.max(np.abs(x)) * 10 ** (level_db / 20)
    return x.astype(np.float32)


def with_silence(audio: np.ndarray, before: float, after: float, rate: int = RATE) -> np.ndarray:
    return np.concatenate([np.zeros(int(before * rate), np.float32), audio,
                           np.zeros(int(after * rate), np.float32)])


def write_wav(path: Path, audio: np.ndarray, rate: int = RATE, channels: int = 1) -> Path:
    data = np.repeat(audio[:, None], channels, axis=1) if channels > 1 else audio
    pcm = (np.clip(data, -1, 1) * 32767).astype("<i2").tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return path


def encode(audio: np.ndarray, dest: Path, rate: int = RATE, stereo: bool = True) -> Path:
    """`audio` in the format `dest`'s suffix names (stereo, as phones record)."""
    wav = write_wav(dest.with_name(dest.name + ".src.wav"), audio, rate, 2 if stereo else 1)
    cmd = [ffmpeg_exe(), "-y", "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(wav),
           *CODECS[dest.suffix], str(dest)]
    subprocess.run(cmd, check=True, capture_output=True)
    wav.unlink()
    return dest


def memo_file(tmp: Path, suffix: str, seconds: float = 3.0, before: float = 1.0,
              after: float = 1.5, level_db: float = -12.0) -> Path:
    audio = with_silence(voice_like(seconds, level_db), before, after)
    return encode(audio, tmp / f"memo from grandma{suffix}")


def photo_file(path: Path, size: tuple[int, int] = (2400, 1600), fmt: str = "JPEG",
               orientation: int | None = None) -> Path:
    """A photo with a bright block in its top-left corner (to see which way up it ends)."""
    from PIL import Image

    image = Image.new("RGB", size, (40, 60, 90))
    w, h = size
    image.paste((250, 240, 200), (0, 0, w // 4, h // 4))
    kwargs: dict[str, object] = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation  # Orientation
        exif[0x010F] = "PhoneMaker"  # Make
        exif[0x9003] = "2026:05:04 10:00:00"  # DateTimeOriginal
        kwargs["exif"] = exif.tobytes()
    image.save(path, fmt, **kwargs)
    return path
