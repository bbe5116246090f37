"""The compact orb window: where it appears, what it offers, and that it goes away by itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel
from pytestqt.qtbot import QtBot

from coreg_desktop.audio.mixer import Transport
from coreg_desktop.practice.loader import Library
from coreg_desktop.practice.model import Breathe, Cue, Practice
from coreg_desktop.settings import Settings
from coreg_desktop.ui import compact as compact_module
from coreg_desktop.ui.bridge import PlayerBridge
from coreg_desktop.ui.compact import MARGIN, CompactWindow

from ..qtkit import without_checkins

LONG = Practice(
    id="compact-long",
    title="Compact Test",
    steps=(Breathe(inhale=2, exhale=3, cycles=20, cue=Cue.TONE),),
)
SHORT = Practice(
    id="compact-short",
    title="Compact Short",
    steps=(Breathe(inhale=1, exhale=1, cycles=1, cue=Cue.TONE),),
)


pytestmark = pytest.mark.usefixtures("collect_on_the_gui_thread")


@pytest.fixture
def live(bridge: PlayerBridge, library: Library) -> PlayerBridge:
    library.practices[LONG.id] = LONG
    library.practices[SHORT.id] = SHORT
    bridge.player.open()
    return bridge


@pytest.fixture
def window(qtbot: QtBot, bridge: PlayerBridge, settings: Settings) -> CompactWindow:
    window = CompactWindow(bridge, without_checkins(settings))
    qtbot.addWidget(window)
    return window


def _area() -> QRect:
    screen = QGuiApplication.primaryScreen()
    assert screen is not None
    return screen.availableGeometry()


def _inside(rect: QRect, area: QRect) -> bool:
    return area.contains(rect.topLeft()) and area.contains(rect.bottomRight())


# ------------------------------------------------------------------------------ placement


def test_a_small_calm_tool_window_that_stays_on_top(window: CompactWindow) -> None:
    flags = window.windowFlags()
    assert flags & Qt.WindowType.Tool
    assert flags & Qt.WindowType.WindowStaysOnTopHint
    assert flags & Qt.WindowType.FramelessWindowHint
    window.show_near(None)
    assert 260 <= window.width() <= 420 and 320 <= window.height() <= 480


def test_it_opens_below_a_tray_icon_at_the_top_right(qtbot: QtBot, window: CompactWindow) -> None:
    area = _area()
    icon = QRect(area.right() - 30, area.top(), 24, 24)
    window.show_near(icon)
    qtbot.waitExposed(window)
    frame = window.geometry()
    assert _inside(frame, area)
    assert frame.top() == icon.bottom() + MARGIN
    assert frame.right() <= area.right() - MARGIN + 1


def test_it_opens_above_a_tray_icon_at_the_bottom(window: CompactWindow) -> None:
    area = _area()
    icon = QRect(area.center().x(), area.bottom() - 24, 24, 24)
    window.show_near(icon)
    frame = window.geometry()
    assert _inside(frame, area)
    assert frame.bottom() == icon.top() - MARGIN - 1
    assert abs(frame.center().x() - icon.center().x()) <= 1


def test_without_an_anchor_it_sits_at_the_bottom_right(window: CompactWindow) -> None:
    area = _area()
    window.show_near(None)
    frame = window.geometry()
    assert _inside(frame, area)
    assert area.right() - frame.right() <= 3 * MARGIN
    assert area.bottom() - frame.bottom() <= 3 * MARGIN


@pytest.mark.parametrize(
    "icon",
    [QRect(-5000, -5000, 24, 24), QRect(90000, 90000, 24, 24), QRect(0, 0, 0, 0), QRect()],
)
def test_never_off_screen_whatever_the_tray_reports(window: CompactWindow, icon: QRect) -> None:
    window.show_near(icon)
    assert _inside(window.geometry(), _area())


# ------------------------------------------------------------------------------ behaviour


def test_it_shows_the_practice_and_its_orb_animates_only_while_shown(
    qtbot: QtBot, window: CompactWindow, live: PlayerBridge, tmp_path: Path
) -> None:
    live.play(LONG.id)
    window.show_near(None)
    qtbot.waitExposed(window)
    assert window.title.text() == "Compact Test"
    assert window.orb.animating
    qtbot.waitUntil(lambda: window.time_left.text().endswith(" left"), timeout=5000)
    window.grab().save(str(tmp_path / "compact.png"))
    window.hide()
    assert not window.orb.animating


def test_pause_and_stop_work_from_the_compact_window(
    qtbot: QtBot, window: CompactWindow, live: PlayerBridge
) -> None:
    live.play(LONG.id)
    window.show_near(None)
    qtbot.waitUntil(lambda: live.transport is Transport.PLAYING, timeout=5000)
    qtbot.mouseClick(window.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: live.transport is Transport.PAUSED)
    with qtbot.waitSignal(live.stopped, timeout=5000):
        qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)


def test_escape_stops_the_practice_and_the_window_then_goes(
    qtbot: QtBot, window: CompactWindow, live: PlayerBridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compact_module, "HIDE_AFTER_STOP_MS", 200)
    live.play(LONG.id)
    window.show_near(None)
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: live.transport is Transport.PLAYING, timeout=5000)
    with qtbot.waitSignal(live.stopped, timeout=5000):
        qtbot.keyClick(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=3000)


def test_it_hides_itself_a_little_after_the_practice_ends(
    qtbot: QtBot, window: CompactWindow, live: PlayerBridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compact_module, "HIDE_AFTER_FINISH_MS", 400)
    window.show_near(None)
    with qtbot.waitSignal(live.finished, timeout=20000):
        live.play(SHORT.id)
    assert window.isVisible(), "it lingers for a moment after the end"
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=3000)


def test_a_new_practice_keeps_it_open(
    qtbot: QtBot, window: CompactWindow, live: PlayerBridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compact_module, "HIDE_AFTER_FINISH_MS", 400)
    window.show_near(None)
    with qtbot.waitSignal(live.finished, timeout=20000):
        live.play(SHORT.id)
    live.play(LONG.id)
    qtbot.wait(800)
    assert window.isVisible()


def test_open_coreg_asks_for_the_main_window(qtbot: QtBot, window: CompactWindow) -> None:
    window.show_near(None)
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.openMainRequested):
        qtbot.mouseClick(window.open_button, Qt.MouseButton.LeftButton)
    assert not window.isVisible(), "the main window takes over"


def test_controls_are_named_and_fit_a_150_percent_font(
    qtbot: QtBot, qapp: QApplication, bridge: PlayerBridge, settings: Settings, library: Library
) -> None:
    library.practices[LONG.id] = LONG
    original = qapp.font()
    font = QFont(original)
    font.setPointSizeF(font.pointSizeF() * 1.5)
    qapp.setFont(font)
    try:
        window = CompactWindow(bridge, settings)
        qtbot.addWidget(window)
        bridge.play(LONG.id)
        window.show_near(None)
        qtbot.waitExposed(window)
        assert _inside(window.geometry(), _area())
        for button in window.findChildren(QAbstractButton):
            assert button.accessibleName(), button
            if button.text() and button.isVisible():  # a hidden one is not laid out
                assert button.sizeHint().width() <= button.width() + 1, button.text()
        for label in window.findChildren(QLabel):
            if label.isVisible() and label.text() and not label.wordWrap():
                assert label.sizeHint().width() <= label.width(), label.text()
        assert window.orb.width() >= 120 and window.orb.height() >= 120
    finally:
        qapp.setFont(original)
