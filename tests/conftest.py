"""Shared fixtures. No test ever touches the real user folders: every XDG dir is redirected.

In CI (CI=true) a skipped test fails the run: a test that silently does not run there proves
nothing, and the CI machine is set up (scripts/bootstrap.sh) to run every one of them.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.e2e.desktop import XSession


_worker_display: list[XSession] = []


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist, each worker gets an X server of its own, with a tray host.

    Windows of two workers on one display take activation and focus from each other, so a key
    a test presses lands in the other worker's window. The display the run was given is then
    only the fallback, when Xvfb or trayer is missing.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER") or not os.environ.get("DISPLAY"):
        return
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        return
    if shutil.which("Xvfb") is None or shutil.which("trayer") is None:
        warnings.warn("parallel workers share one display (no Xvfb or trayer): keyboard focus "
                      "may go astray", stacklevel=1)
        return
    from tests.e2e.desktop import XSession

    session = XSession()
    session.start()
    os.environ["DISPLAY"] = session.display
    _worker_display.append(session)


def pytest_unconfigure(config: pytest.Config) -> None:
    while _worker_display:
        _worker_display.pop().stop()


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    return tmp_path


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One narration/ambience cache for the whole run, so real synthesis happens once per text."""
    return tmp_path_factory.mktemp("shared-cache")


#: The offscreen platform has no window system to pass a minimum size or a raise to, and says so
#: on every top-level with a layout; that is a fact about the plugin, not a problem.
OFFSCREEN_NOISE = r"This plugin does not support (propagateSizeHints|raise)\(\)"
QT_TEST_DIRS = (Path(__file__).parent / "ui", Path(__file__).parent / "desktop")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the Qt tests so the offscreen plugin's notices do not fail them."""
    if os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        return
    for item in items:
        parents = Path(str(item.path)).parents
        if any(d in parents for d in QT_TEST_DIRS):
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


_skipped: list[str] = []


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not (_in_ci() and _skipped):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"CI must not skip tests; {len(_skipped)} skipped:", red=True)
        for nodeid in _skipped:
            reporter.write_line(f"  {nodeid}", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
