"""Prepared, reusable sounds: cue tones, the bell and ambience loops, each made once per process.

The mixer must never wait for a sound to be generated, so sessions ask the bank ahead of time and
the bank keeps what it made for the next practice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from coreg_desktop.audio import ambience as ambience_mod
from coreg_desktop.audio import mixes as mixes_mod
from coreg_desktop.audio import tones

log = logging.getLogger(__name__)


class SoundBank:
    """`mix_of` finds a saved mix by its `mix:<name>` id (raising MixError when there is none);
    without it, mixes are unavailable and play as silence, with a line in the log."""

    def __init__(
        self,
        ambience_cache: Path | None = None,
        mix_of: Callable[[str], mixes_mod.Mix] | None = None,
    ) -> None:
        self._ambience_cache = ambience_cache
        self._mix_of = mix_of
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
        if ambience_id.startswith(mixes_mod.PREFIX):
            return self._mix(ambience_id)
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

    def _mix(self, ambience_id: str) -> np.ndarray | None:
        """A saved mix, pre-rendered to one loop (kept under its id and its layers, so a mix
        changed under the same name is rendered again). Its layers are not kept: only the mix
        plays."""
        try:
            if self._mix_of is None:
                raise mixes_mod.MixError("mixes are not available here")
            mix = self._mix_of(ambience_id)
        except mixes_mod.MixError as exc:
            log.warning("Soundscape %r is unavailable: %s", ambience_id, exc)
            return None
        key = f"{ambience_id}|{mix.describe()}"
        with self._lock:
            if key in self._ambience:
                return self._ambience[key]
        try:
            loop: np.ndarray | None = mixes_mod.render(
                mix,
                lambda layer: ambience_mod.load_ambience(layer, self._ambience_cache),
                *ambience_mod.target_levels(),
            )
        except Exception as exc:  # not kept: a mix fixed later plays the next time
            log.warning("Mix %r is unavailable: %s", ambience_id, exc)
            return None
        with self._lock:
            self._ambience[key] = loop
            self._ambience[ambience_id] = loop  # what ambience_if_ready finds
        return loop
