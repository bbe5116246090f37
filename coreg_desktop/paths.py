"""Where Coreg keeps user files. Tests monkeypatch these functions (or XDG_* variables)."""

from __future__ import annotations

from pathlib import Path

import platformdirs

from coreg_desktop import APP_NAME


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME))


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME))


def state_dir() -> Path:
    return Path(platformdirs.user_state_dir(APP_NAME))


def user_practices_dir() -> Path:
    return data_dir() / "practices"


def narration_cache_dir() -> Path:
    return cache_dir() / "narration"


def ambience_cache_dir() -> Path:
    return cache_dir() / "ambience"


def log_dir() -> Path:
    return state_dir() / "logs"


def user_patterns_file() -> Path:
    return data_dir() / "patterns.toml"


def user_mixes_file() -> Path:
    return data_dir() / "mixes.toml"
