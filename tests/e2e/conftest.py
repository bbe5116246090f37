"""Fixtures for tests that listen to what Coreg really plays (see pulse.py for how and why).

Without PulseAudio the tests skip with the install command, except under CI (CI=true), where a
skipped e2e test would be a silent pass, so they fail instead.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .pulse import PulseServer, Recorder, missing_requirements

E2E_DIR = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require(reason: str | None) -> None:
    """Skip for what is missing (`reason`), or fail in CI; nothing when `reason` is None."""
    if reason is None:
        return
    if in_ci():
        pytest.fail(f"CI must not skip e2e tests: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def pulse_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[PulseServer]:
    """A private PulseAudio (null sink `out`, hum playing) that this process's sounddevice uses."""
    require(missing_requirements())
    # Not tmp_path: a unix socket path must stay under 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="coreg-pa-"))
    server = PulseServer(root)
    for name, value in server.client_env.items():
        monkeypatch.setenv(name, value)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def recorder(pulse_server: PulseServer, tmp_path: Path) -> Iterator[Recorder]:
    """A running recording of the null sink's monitor (16 kHz mono; file size = clock)."""
    rec = Recorder(pulse_server, tmp_path / "monitor.raw")
    rec.start()
    try:
        yield rec
    finally:
        rec.stop()
