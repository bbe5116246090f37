"""Prepared, reusable sounds: cue tones, the bell and ambience loops, each made once per process.

The mixer must never wait for a sound to be generated, so sessions ask the bank ahead of time and
the bank keeps what it made for the next practice.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

from coreg_desktop.audio import ambience as ambience_mod
from coreg_desktop.audio import tones

log = logging.getLogger(__name__)


class SoundBank:
    def __init__(self, ambience_cache: Path | None = None) -> None:
        self._ambience_cache = ambience_cache
        self.cache_dir = ambience_cache
        self._lock = threading.Lock()
        self._tones: dict[str, np.ndarray] = {}
        self._ambience: dict[str, np.ndarray | None] = {}

    def cue(self, key: str) -> np.ndarray:
        """A cue tone by phase name, or the bell."""
        with self._lock:
            sound = self._tones.get(key)
            if sound is None:
                sound = tones.bell() if key == "bell" else tones.cue_tone(key)
                self._tones[key] = np.ascontiguousarray(sound, dtype=np.float32)
                sound = self._tones[key]
            return sound

    def release(self) -> None:
        """Let the soundscapes go (tens of MB each); they load again from the disk cache."""
        with self._lock:
            self._ambience.clear()

    def ambience_if_ready(self, ambience_id: str) -> np.ndarray | None:
        """The loop if it was already made in this process; never generates."""
        with self._lock:
            return self._ambience.get(ambience_id)

    def ambience(self, ambience_id: str) -> np.ndarray | None:
        """The loop for `ambience_id`; None for "none" or when it cannot be made (logged)."""
        if ambience_id == "none":
            return None
        with self._lock:
            if ambience_id in self._ambience:
                return self._ambience[ambience_id]
        try:
            loop: np.ndarray | None = ambience_mod.load_ambience(ambience_id, self._ambience_cache)
        except Exception as exc:  # a broken cache dir must not stop the practice
            log.warning("Ambience %r is unavailable: %s", ambience_id, exc)
            loop = None
        with self._lock:
            self._ambience[ambience_id] = loop
        return loop
