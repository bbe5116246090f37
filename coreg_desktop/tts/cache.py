"""Content-addressed narration cache on disk.

A practice replays the same lines every day, and synthesis is the slowest thing the app does, so
every finished clip is kept. The key hashes everything that changes the sound (engine, its
version, voice, rate, sample rate, text), so a stale clip can never be served: a change simply
misses and re-renders. Clips are float32 `.npy` (exactly what the mixer consumes, no decode
step, bit-exact round trip); at 48 kHz that is ~190 kB per second of speech, a few tens of MB for
every built-in practice, which the cache directory is allowed to cost.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
from pathlib import Path

import numpy as np

from coreg_desktop import files

log = logging.getLogger(__name__)

_SUFFIX = ".npy"


class ClipCache:
    """Finished narration clips, one file per key, written atomically."""

    def __init__(self, directory: Path | None = None) -> None:
        if directory is None:
            from coreg_desktop.paths import narration_cache_dir

            directory = narration_cache_dir()
        self.directory = Path(directory)
        self._warned: set[str] = set()
        self._warned_lock = threading.Lock()

    @staticmethod
    def key_for(
        engine: str,
        engine_version: str,
        voice: str,
        rate: float,
        sample_rate: int,
        text: str,
    ) -> str:
        """A stable hex key; JSON framing keeps ("a b", "c") and ("a", "b c") apart."""
        payload = json.dumps(
            [engine, engine_version, voice, repr(float(rate)), int(sample_rate), text],
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def path_for(self, key: str) -> Path:
        if not key or any(c not in "0123456789abcdef" for c in key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.directory / f"{key}{_SUFFIX}"

    def contains(self, key: str) -> bool:
        """Cheap existence check (no read); a corrupt file still misses later in `get`."""
        return self.path_for(key).is_file()

    def get(self, key: str) -> np.ndarray | None:
        """The clip, or None on a miss. A damaged entry is a miss (logged once), then removed."""
        path = self.path_for(key)
        try:
            audio = np.load(path, allow_pickle=False)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except (OSError, ValueError, EOFError) as exc:
            self._discard(path, key, f"unreadable ({exc})")
            return None
        if audio.ndim != 1 or audio.dtype != np.float32 or not np.all(np.isfinite(audio)):
            self._discard(path, key, f"malformed ({audio.dtype}, shape {audio.shape})")
            return None
        return audio

    def put(self, key: str, audio: np.ndarray) -> None:
        """Store atomically (temp file + fsync + rename). A full disk only costs the caching."""
        path = self.path_for(key)
        data = np.ascontiguousarray(audio, dtype=np.float32)
        if data.ndim != 1:
            raise ValueError(f"clips are mono, got shape {data.shape}")
        try:
            with files.atomic_writer(path) as fh:
                np.save(fh, data, allow_pickle=False)
        except OSError as exc:
            self._warn_once("write", f"narration cache not writable ({exc}); clips are not kept")

    def size_bytes(self) -> int:
        total = 0
        for path in self._entries():
            try:
                total += path.stat().st_size
            except OSError:
                continue
        return total

    def clear(self) -> None:
        """Remove clips and any temp files a crash left behind; other files are not ours."""
        if not self.directory.is_dir():
            return
        for path in self.directory.iterdir():
            if (path.suffix == _SUFFIX or files.is_temporary(path)) and path.is_file():
                try:
                    path.unlink()
                except OSError as exc:
                    log.warning("could not remove %s: %s", path, exc)

    def __len__(self) -> int:
        return sum(1 for _ in self._entries())

    def _entries(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return [p for p in self.directory.glob(f"*{_SUFFIX}") if p.is_file()]

    def _discard(self, path: Path, key: str, why: str) -> None:
        self._warn_once(key, f"narration cache entry {path.name} is {why}; re-rendering")
        with contextlib.suppress(OSError):
            path.unlink()

    def _warn_once(self, topic: str, message: str) -> None:
        with self._warned_lock:
            if topic in self._warned:
                return
            self._warned.add(topic)
        log.warning(message)
