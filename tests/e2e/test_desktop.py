"""Coreg as a person meets it: a tray icon on a real X server, clicked, heard through PulseAudio.

Each test gets its own Xvfb with a tray (see desktop.py), its own PulseAudio null sink with a
recorder (pulse.py), and its own user folders; only the narration cache is shared, so the quick
reset is synthesized once per run. Screenshots are kept as artifacts in `artifacts/desktop/`
(git-ignored; `COREG_ARTIFACTS` moves it), so they outlive pytest's rotating tmp folders.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .conftest import require
from .desktop import SCREEN, CoregApp, Rect, XSession, missing_requirements, wait_until
from .pulse import PulseServer, Recorder

#: The quietest thing we count as "sound started": far above the -66 dBFS hum, below the ambience
#: fading in and the first syllable.
AUDIBLE_DBFS = -50.0
#: Narration sits near -20 dBFS RMS.
SPEECH_DBFS = -38.0
#: The spec's ceiling for tray click -> first audible sample (the target, 150 ms, is for the bench).
CLICK_TO_SOUND_MAX_S = 0.6
#: A second launch is a Python start plus one message: well under this even on a busy machine.
HANDOVER_MAX_S = 3.0
MAIN_TITLE = "^Coreg$"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    root = Path(os.environ.get("COREG_ARTIFACTS", REPO / "artifacts")) / "desktop"
    folder = root / request.node.name[:60]
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def xsession() -> Iterator[XSession]:
    require(missing_requirements())
    session = XSession()
    session.start()
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture(scope="session")
def app_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("desktop-cache")


@pytest.fixture
def app(xsession: XSession, pulse_server: PulseServer, tmp_path: Path,
        app_cache: Path) -> Iterator[CoregApp]:
    coreg = CoregApp(tmp_path / "home", {**pulse_server.env, **xsession.env}, app_cache)
    try:
        yield coreg
    finally:
        coreg.stop()


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    if not wait_until(condition, timeout):
        pytest.fail(f"timed out after {timeout} s waiting for {what}")


def wait_for_icon(xsession: XSession, app: CoregApp) -> Rect:
    icon: list[Rect] = []

    def docked() -> bool:
        assert app.proc is not None and app.proc.poll() is None, app.report()
        found = xsession.tray_icon()
        if found is not None:
            icon.append(found)
        return found is not None

    wait_for(docked, 60, "Coreg's tray icon")
    return icon[-1]


def main_window(xsession: XSession) -> tuple[int, Rect] | None:
    for wid, rect in xsession.visible_windows(MAIN_TITLE).items():
        if rect.width >= 500:
            return wid, rect
    return None


def compact_window(xsession: XSession) -> Rect | None:
    for rect in xsession.visible_windows(MAIN_TITLE).values():
        if rect.width < 500:
            return rect
    return None


def test_tray_click_starts_the_quick_reset_at_once_and_the_orb_breathes(
    xsession: XSession, app: CoregApp, recorder: Recorder, artifacts: Path
) -> None:
    app.start("--minimized")
    icon = wait_for_icon(xsession, app)
    app.wait_ready()
    assert main_window(xsession) is None, "--minimized must start in the tray"
    assert compact_window(xsession) is None

    x, y = icon.center
    xsession.move(x, y)
    time.sleep(0.3)
    clicked = recorder.mark()
    xsession.click(1)
    recorder.wait_until(clicked + 3.0)

    onset = recorder.onset_after(clicked, AUDIBLE_DBFS)
    assert onset is not None, "nothing was heard after the click"
    latency = onset - clicked
    assert latency < CLICK_TO_SOUND_MAX_S, f"first sound {latency * 1000:.0f} ms after the click"
    speech = recorder.onset_after(clicked, SPEECH_DBFS)
    assert speech is not None and speech - clicked < 1.0, "the voice did not start promptly"
    level = recorder.rms_dbfs(speech, speech + 1.0)
    assert -32.0 < level < -8.0, f"speech level {level:.1f} dBFS"

    # The compact orb window opened beside the tray icon (top right), not the main window.
    wait_for(lambda: compact_window(xsession) is not None, 5, "the compact window")
    compact = compact_window(xsession)
    assert compact is not None
    assert main_window(xsession) is None
    assert compact.y < icon.y + icon.height + 80, f"compact window at {compact}, icon at {icon}"
    assert compact.x + compact.width > SCREEN[0] - 120
    assert compact.x >= 0 and compact.y >= 0
    assert compact.x + compact.width <= SCREEN[0] and compact.y + compact.height <= SCREEN[1]

    # Two screenshots half a second apart: the orb is breathing, so its area differs.
    first = xsession.screenshot(artifacts / "orb-breathing-1.png")
    time.sleep(0.5)
    second = xsession.screenshot(artifacts / "orb-breathing-2.png")
    top = compact.y + compact.height // 5
    orb = f"{compact.width}x{compact.height * 2 // 5}+{compact.x}+{top}"
    changed = xsession.differing_pixels(Path(f"{first}[{orb}]"), Path(f"{second}[{orb}]"))
    assert changed > 50, f"the orb did not move between {first} and {second}"
    print(f"click -> first sound {latency * 1000:.0f} ms; screenshots: {first}, {second}")


def test_a_second_launch_hands_over_quick_reset_then_quit_ends_the_app(
    xsession: XSession, app: CoregApp, recorder: Recorder
) -> None:
    app.start("--minimized")
    wait_for_icon(xsession, app)
    app.wait_ready()
    assert app.proc is not None

    before = recorder.mark()
    assert recorder.onset_after(max(0.0, before - 1.0), AUDIBLE_DBFS) is None, "not silent"
    done, wall = app.second("--quick-reset")
    assert done.returncode == 0, done.stderr
    # A sanity ceiling (it hands over, it does not start a second app or wait for one); the
    # figure itself is measured in scripts/bench_desktop.py, beside a reference.
    assert wall < HANDOVER_MAX_S, f"the second launch took {wall:.2f} s to hand over"
    recorder.wait_until(before + 3.0)
    onset = recorder.onset_after(before, AUDIBLE_DBFS)
    assert onset is not None, "the handed-over quick reset was not heard"
    assert onset - before < HANDOVER_MAX_S + 0.5, \
        f"sound {onset - before:.2f} s after the second launch began"
    assert recorder.onset_after(before, SPEECH_DBFS) is not None
    assert app.proc.poll() is None

    done, wall = app.second("--quit")
    assert done.returncode == 0, done.stderr
    assert wall < HANDOVER_MAX_S, f"--quit took {wall:.2f} s"
    assert app.proc.wait(timeout=20) == 0, app.report()
    assert "Traceback" not in app.stderr()
    gone = recorder.mark()
    recorder.wait_until(gone + 2.5)
    assert recorder.rms_dbfs(gone + 1.5, gone + 2.5) < -55.0, "still sounding after quit"
    # The next launch finds nobody and says so.
    done, _ = app.second("--quit")
    assert done.returncode == 0 and "not running" in done.stderr


def test_closing_the_window_hides_it_to_the_tray_and_the_menu_quits(
    xsession: XSession, app: CoregApp, artifacts: Path
) -> None:
    app.start()
    icon = wait_for_icon(xsession, app)
    wait_for(lambda: main_window(xsession) is not None, 30, "the main window")
    found = main_window(xsession)
    assert found is not None
    wid, _ = found
    xsession.screenshot(artifacts / "main-window.png")

    xsession.close_window(wid)  # the title bar's close button, as a window manager sends it
    wait_for(lambda: main_window(xsession) is None, 10, "the window to hide")
    time.sleep(0.5)
    assert app.proc is not None and app.proc.poll() is None, "closing the window ended Coreg"
    notices = app.home / "state" / "coreg-desktop" / "notices.json"
    wait_for(notices.exists, 5, "the first-hide notice to be remembered")
    assert json.loads(notices.read_text())["hidden-to-tray-notice"] is True
    xsession.screenshot(artifacts / "hidden-to-tray.png")

    # A second plain launch brings the window back instead of starting another Coreg.
    done, _ = app.second()
    assert done.returncode == 0, done.stderr
    wait_for(lambda: main_window(xsession) is not None, 10, "the window to come back")

    # Quit from the tray menu: right click, then the last item.
    x, y = icon.center
    xsession.move_and_click(x, y, button=3)
    time.sleep(0.8)
    xsession.screenshot(artifacts / "tray-menu.png")
    xsession.key("Up")
    time.sleep(0.2)
    xsession.key("Return")
    assert app.proc.wait(timeout=20) == 0, app.report()
    assert "Traceback" not in app.stderr()
    assert xsession.tray_icon() is None


def test_without_a_tray_closing_minimises_and_explains_once(
    pulse_server: PulseServer, tmp_path: Path, app_cache: Path
) -> None:
    require(missing_requirements())  # in CI a missing tool fails, as for every e2e test
    session = XSession()
    session.start(tray=False)
    coreg = CoregApp(tmp_path / "home", {**pulse_server.env, **session.env}, app_cache)
    try:
        coreg.start()
        wait_for(lambda: main_window(session) is not None, 30, "the main window")
        found = main_window(session)
        assert found is not None
        session.close_window(found[0])
        # No window manager runs here to act on the minimise request, so ask the app's log.
        wait_for(lambda: "minimised (no system tray)" in coreg.log(), 10, "the window to minimise")
        assert coreg.proc is not None and coreg.proc.poll() is None
        notices = coreg.home / "state" / "coreg-desktop" / "notices.json"
        assert json.loads(notices.read_text())["no-tray-notice"] is True
        done, _ = coreg.second("--quit")
        assert done.returncode == 0
        assert coreg.proc.wait(timeout=20) == 0, coreg.report()
    finally:
        coreg.stop()
        session.stop()
    assert os.environ.get("PULSE_SERVER")
