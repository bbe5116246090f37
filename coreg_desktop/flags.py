"""One-time notices: which gentle explanations were already shown, remembered across runs.

A person told once that closing the window keeps Coreg in the tray does not need telling every
day; nagging is the opposite of calm. A damaged file costs at most a repeated notice.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from coreg_desktop import files, paths

log = logging.getLogger(__name__)


class OnceFlags:
    """Remembers which one-time notices were shown, in a small JSON file in the state folder."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.state_dir() / "notices.json"

    def _load(self) -> dict[str, bool]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): bool(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def seen(self, key: str) -> bool:
        return self._load().get(key, False)

    def mark(self, key: str) -> None:
        data = self._load()
        data[key] = True
        try:
            text = json.dumps(data, indent=2, sort_keys=True) + "\n"
            files.atomic_write(self.path, text.encode("utf-8"))
        except OSError as exc:  # worst case the notice shows again next time
            log.warning("Could not remember a shown notice in %s: %s", self.path, exc)

    def first_time(self, key: str) -> bool:
        """True exactly once per key (and marks it)."""
        if self.seen(key):
            return False
        self.mark(key)
        return True
