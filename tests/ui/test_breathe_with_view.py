"""Breathe with Me in the window: Space, Enter and a click on the orb tap; the orb then breathes
at the tapped pace; Space still pauses everywhere else. Real playback (Piper, the mixer) into
a NullOutput, so the taps are timestamped on a running audio clock."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from coreg_desktop import breathe_with
from coreg_desktop.audio.mixer import Transport
from coreg_desktop.breathe_with import FOUND_PACE, BreatheWithSource
from coreg_desktop.constants import QUICK_RESET_ID
from coreg_desktop.practice.loader import Library
from coreg_desktop.practice.model import Phase
from coreg_desktop.settings import Settings
from coreg_desktop.ui import theme
from coreg_desktop.ui.bridge import PlayerBridge
from coreg_desktop.ui.main_window import MainWindow
from coreg_desktop.ui.player_view import PAUSED_TAP_HINT, TAP_HINT

from ..qtkit import layout_problems, open_window, unnamed_controls, without_checkins

SHOTS = Path(os.environ.get("COREG_SHOTS", tempfile.gettempdir()))
#: The person taps a quick breath, one every two seconds (30 a minute).
TAP_EVERY_MS = 2000

pytestmark = pytest.mark.usefixtures("collect_on_the_gui_thread")


@pytest.fixture
def window(
    qtbot: QtBot, bridge: PlayerBridge, settings: Settings, library: Library,
    themed: Callable[..., None],
) -> Iterator[MainWindow]:
    library.practices[breathe_with.PRACTICE_ID] = breathe_with.practice()  # as the core lists it
    win = open_window(qtbot, bridge, without_checkins(settings), size=(760, 720))
    yield win
    bridge.stop(0.0)


def _source(bridge: PlayerBridge) -> BreatheWithSource:
    session = bridge.player.session
    assert session is not None and isinstance(session.source, BreatheWithSource)
    return session.source


def test_taps_set_the_pace_the_orb_follows_and_space_still_pauses_elsewhere(
    qtbot: QtBot, qapp: QApplication, window: MainWindow, bridge: PlayerBridge
) -> None:
    view = window.player_view
    with qtbot.waitSignal(bridge.practiceStarted):
        window.library_view.playRequested.emit(breathe_with.PRACTICE_ID)
    qtbot.waitUntil(lambda: bridge.transport is Transport.PLAYING)
    assert window.stack.currentWidget() is view
    # The rule is on screen, and Space goes to the orb, not to the pause button.
    assert view.tap_hint.isVisible() and view.tap_hint.text() == TAP_HINT
    assert view.orb.hasFocus() and view.orb.takes_taps
    assert not unnamed_controls(view) and not layout_problems(window)

    # They tap while the welcome is being said (the audio clock is running by then: it waits
    # for the first words).
    qtbot.waitUntil(lambda: (s := bridge.state()) is not None and s.kind == "speech",
                    timeout=30_000)
    # Space, Enter, a click and Space again, a breath apart: four taps.
    presses: list[Callable[[], None]] = [
        lambda: qtbot.keyClick(view.orb, Qt.Key.Key_Space),
        lambda: qtbot.keyClick(view.orb, Qt.Key.Key_Return),
        lambda: qtbot.mouseClick(view.orb, Qt.MouseButton.LeftButton),
        lambda: qtbot.keyClick(window, Qt.Key.Key_Space),  # reaching the window, too
    ]
    pressed: list[float] = []
    for k, press in enumerate(presses):
        if k:
            qtbot.wait(TAP_EVERY_MS)
        pressed.append(time.monotonic())
        press()
        if k < 3:
            assert view.tap_hint.text().endswith(f"{k + 1} of 4 taps")
    assert bridge.transport is Transport.PLAYING  # none of them paused it
    assert view.tap_hint.text().endswith(FOUND_PACE)
    source = _source(bridge)
    measure = source.meter.measure
    # Their pace, as the audio clock heard it: a silent test device's clock on a busy machine
    # runs a little unevenly against the wall clock the presses were timed by.
    tapped = 60.0 / ((pressed[-1] - pressed[0]) / 3)
    assert measure is not None and measure.rate == pytest.approx(tapped, rel=0.1)

    # The orb breathes at that pace once the welcome has been said.
    qtbot.waitUntil(lambda: bool(source.breaths), timeout=30_000)
    assert source.breaths[0][1] == pytest.approx(measure.rate)
    qtbot.waitUntil(lambda: (s := bridge.state()) is not None and s.phase is Phase.INHALE
                    and s.phase_progress > 0.6, timeout=30_000)
    assert view.orb.look().label == "Breathe in"
    light = window.grab()
    light.save(str(SHOTS / "breathe-with-light.png"))
    theme.apply_theme(qapp, dark=True, follow=False)  # as when the desktop turns dark
    dark_tones = theme.colors(True)
    qtbot.waitUntil(lambda: dark_tones.accent.name() in view.play_button.styleSheet())
    qtbot.waitUntil(lambda: (s := bridge.state()) is not None and s.phase is Phase.EXHALE,
                    timeout=10_000)
    dark = window.grab()
    dark.save(str(SHOTS / "breathe-with-dark.png"))
    def corner(shot: QPixmap) -> QColor:
        return shot.toImage().pixelColor(5, shot.height() - 5)

    assert corner(dark).lightness() < corner(light).lightness()

    # The pause button pauses; then Space resumes (taps count only while it plays).
    view.play_button.click()
    qtbot.waitUntil(lambda: bridge.transport is Transport.PAUSED)
    assert view.tap_hint.text() == PAUSED_TAP_HINT and not view.orb.takes_taps
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: bridge.transport is Transport.PLAYING)
    assert view.orb.takes_taps

    # Any other practice: no hint, and Space pauses it as always.
    with qtbot.waitSignal(bridge.practiceStarted):
        window.play(QUICK_RESET_ID)
    qtbot.waitUntil(lambda: bridge.transport is Transport.PLAYING)
    assert not view.tap_hint.isVisible() and not view.orb.takes_taps
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: bridge.transport is Transport.PAUSED)
    assert not bridge.tap()
