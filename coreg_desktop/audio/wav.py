"""WAV writing for `render`: 16-bit PCM, which every player and editor opens."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from coreg_desktop import files
from coreg_desktop.constants import SAMPLE_RATE


def to_int16(audio: np.ndarray) -> np.ndarray:
    return np.round(np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")


def write_wav(path: Path, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Write (frames, channels) float audio; written to a side file first, so a failed render
    never leaves half a file where a good one was."""
    frames = audio if audio.ndim == 2 else audio[:, None]
    with files.atomic_writer(path) as fh, wave.open(fh, "wb") as wav:
        wav.setnchannels(frames.shape[1])
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(to_int16(frames).tobytes())


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """(frames, channels) float32 and the sample rate; used by tests and benchmarks."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit WAV is supported")
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        channels = wav.getnchannels()
        rate = wav.getframerate()
    return (data.reshape(-1, channels).astype(np.float32) / 32767.0), rate
