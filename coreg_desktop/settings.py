"""User settings: a declarative option table, loaded leniently and saved atomically.

A settings file edited by hand can be wrong. A wrong value costs one clear line naming the file and
the key, and that option alone falls back to its default; the file itself is never overwritten
until the user changes a setting, so nothing they wrote is lost.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coreg_desktop import paths

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Option:
    name: str
    type: type
    default: Any
    doc: str
    check: Callable[[Any], bool] | None = None


def _unit(value: float) -> bool:
    return 0.0 <= value <= 1.0


OPTIONS: tuple[Option, ...] = (
    Option("name", str, "", "Your first name, used gently in some practices. Empty: not used."),
    Option("safe_person", str, "", "Someone who feels safe to you, for 'A Safe Person'."),
    Option("voice", str, "", "Narration voice id; empty means the bundled Piper voice."),
    Option("rate", float, 1.0, "Speaking rate: 1.0 normal, lower is slower.",
           lambda v: 0.6 <= v <= 1.5),
    Option("voice_volume", float, 0.9, "Voice volume, 0 to 1.", _unit),
    Option("ambience_volume", float, 0.7, "Ambience volume, 0 to 1.", _unit),
    Option("ambience", str, "", "Ambience for every practice; empty: each practice's own."),
    Option("captions", bool, True, "Show what is being said."),
    Option("reduced_motion", bool, False, "The orb glows instead of changing size."),
    Option("tray_click_opens_window", bool, False,
           "A click on the tray icon opens Coreg instead of starting a quick reset."),
    Option("start_at_login", bool, False, "Start Coreg in the tray when you log in."),
)
OPTION_NAMES = {o.name: o for o in OPTIONS}


def settings_path() -> Path:
    return paths.config_dir() / "settings.json"


class Settings:
    def __init__(self, values: dict[str, Any] | None = None, path: Path | None = None) -> None:
        self._values: dict[str, Any] = {o.name: o.default for o in OPTIONS}
        self._extra: dict[str, Any] = {}  # keys from a newer version: kept, never dropped
        self.path = path or settings_path()
        self.problems: list[str] = []
        for key, value in (values or {}).items():
            self._set_loaded(key, value)

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def get(self, name: str) -> Any:
        return self._values[name]

    def set(self, name: str, value: Any) -> None:
        option = OPTION_NAMES[name]
        value = _coerce(option, value)
        if value is None:
            raise ValueError(f"{name}: {option.doc}")
        self._values[name] = value

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def _set_loaded(self, key: str, value: Any) -> None:
        option = OPTION_NAMES.get(key)
        if option is None:
            self._extra[key] = value
            return
        coerced = _coerce(option, value)
        if coerced is None:
            self.problems.append(
                f"{self.path}: setting {key!r} has an unusable value {value!r}; "
                f"using {option.default!r} ({option.doc})"
            )
            return
        self._values[key] = coerced

    @classmethod
    def load(
        cls, path: Path | None = None, report: Callable[[str], None] | None = None
    ) -> Settings:
        path = path or settings_path()
        settings = cls(path=path)
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return settings
        except (OSError, UnicodeDecodeError) as exc:
            settings.problems.append(f"{path}: cannot read settings ({exc}); using defaults")
            raw = ""
        if raw.strip():
            try:
                data = json.loads(raw)
                if not isinstance(data, dict):
                    raise ValueError("the file must hold a JSON object")
            except ValueError as exc:
                line = getattr(exc, "lineno", 1)
                settings.problems.append(
                    f"{path}:{line}: settings file is not valid JSON ({exc}); using defaults"
                )
                data = {}
            for key, value in data.items():
                settings._set_loaded(key, value)
        for problem in settings.problems:
            (report or log.warning)(problem)
        return settings

    def save(self) -> None:
        """Write atomically: a crash mid-save leaves the old file, never half of a new one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {**self._extra, **self._values}
        fd, tmp = tempfile.mkstemp(prefix=".settings-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2, sort_keys=True)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def placeholder_values(self) -> dict[str, str | None]:
        return {"name": self["name"] or None, "safe_person": self["safe_person"] or None}


def _coerce(option: Option, value: Any) -> Any:
    """The value as the option's type, or None when it cannot honestly be one."""
    if option.type is bool:
        ok = isinstance(value, bool)
    elif option.type is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
        ok = ok and value == value and abs(value) != float("inf")
    else:
        ok = isinstance(value, option.type)
    if not ok:
        return None
    if option.check is not None and not option.check(value):
        return None
    return value
