"""The tray: one click to the quick reset, the menu, the tooltip clock, one-time notices.

Runs headless (offscreen: no tray, so the fallback paths) and under Xvfb with trayer (a real
tray): tests that need a real tray icon skip without one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QAction, QImage
from PySide6.QtWidgets import QSystemTrayIcon
from pytestqt.qtbot import QtBot

from coreg_desktop.audio.mixer import Transport
from coreg_desktop.desktop.tray import (
    FLAG_HIDDEN_NOTICE,
    FLAG_NO_TRAY_NOTICE,
    IDLE_TOOLTIP,
    Tray,
    tooltip_text,
)
from coreg_desktop.flags import OnceFlags
from coreg_desktop.settings import Settings
from coreg_desktop.ui.bridge import PlayerBridge
from coreg_desktop.ui.compact import CompactWindow
from coreg_desktop.ui.main_window import NO_TRAY_NOTICE, MainWindow

from ..qtkit import without_checkins

Trigger = QSystemTrayIcon.ActivationReason.Trigger


@pytest.fixture
def flags(tmp_path: Path) -> OnceFlags:
    return OnceFlags(tmp_path / "state" / "notices.json")


@pytest.fixture
def windows(qtbot: QtBot, bridge: PlayerBridge,
            settings: Settings) -> Iterator[tuple[MainWindow, CompactWindow]]:
    main = MainWindow(bridge, without_checkins(settings))
    compact = CompactWindow(bridge, settings)
    qtbot.addWidget(main)
    qtbot.addWidget(compact)
    yield main, compact
    if bridge.active:
        bridge.stop(fade_s=0.05)
        qtbot.waitUntil(lambda: not bridge.active, timeout=5000)


@pytest.fixture
def tray(bridge: PlayerBridge, settings: Settings, windows: tuple[MainWindow, CompactWindow],
         flags: OnceFlags) -> Iterator[Tray]:
    main, compact = windows
    t = Tray(bridge, settings, main, compact, flags=flags)
    t.show()
    yield t
    t.hide()


def texts(actions: list[QAction]) -> list[str]:
    return [a.text() if not a.isSeparator() else "--" for a in actions]


def wait_playing(qtbot: QtBot, bridge: PlayerBridge) -> None:
    qtbot.waitUntil(lambda: bridge.transport is Transport.PLAYING, timeout=10_000)


# ----------------------------------------------------------------------------- pure parts


def test_tooltip_reads_like_a_sentence() -> None:
    assert tooltip_text(None, None) == IDLE_TOOLTIP == "Coreg"
    assert tooltip_text("Quick Reset", 192.0) == "Quick Reset \u2014 3:12 left"
    assert tooltip_text("Quick Reset", 191.2) == "Quick Reset \u2014 3:12 left"  # rounds up
    assert tooltip_text("Stay Safe", 5.0, paused=True) == "Stay Safe \u2014 paused, 0:05 left"


def test_menu_has_the_promised_items(tray: Tray, bridge: PlayerBridge) -> None:
    assert texts(tray.menu.actions()) == [
        "Quick reset", "Open Coreg", "--", "Practices", "--", "Pause", "Stop", "Sleep timer",
        "--", "Quit"]
    titles = texts(tray.practices_menu.actions())
    assert titles == [p.title for p in bridge.library.all]
    assert "Quick Reset" in titles and "Stay Safe" in titles
    assert not tray.pause_action.isEnabled() and not tray.stop_action.isEnabled()
    assert tray.menu.accessibleName()


def test_the_sleep_timer_is_set_and_changed_from_the_tray_and_shown_in_its_tooltip(
    qtbot: QtBot, tray: Tray, bridge: PlayerBridge
) -> None:
    menu = tray.sleep_menu
    assert texts(menu.actions()) == ["15 minutes", "30 minutes", "60 minutes", "Another time…",
                                     "--", "5 more minutes", "5 fewer minutes", "Turn off"]
    assert not menu.more_action.isEnabled() and not menu.off_action.isEnabled()
    try:
        with qtbot.waitSignal(bridge.sleepChanged, timeout=2000):
            menu.choices[0].trigger()
        left = bridge.sleep_left()
        assert left is not None and 890 < left <= 900
        assert menu.more_action.isEnabled() and menu.title() == "Sleep timer: 15 min left"
        assert "Sleep timer: 15 min left" in tray.icon.toolTip()
        with qtbot.waitSignal(bridge.sleepChanged, timeout=2000):
            menu.more_action.trigger()
        assert menu.title() == "Sleep timer: 20 min left"
        with qtbot.waitSignal(bridge.sleepChanged, timeout=2000):
            menu.fewer_action.trigger()
            menu.fewer_action.trigger()
        assert "Sleep timer: 10 min left" in tray.icon.toolTip()
    finally:
        with qtbot.waitSignal(bridge.sleepChanged, timeout=2000):
            menu.off_action.trigger()
    assert bridge.sleep_left() is None and menu.title() == "Sleep timer"
    assert "Sleep timer" not in tray.icon.toolTip() and not menu.off_action.isEnabled()


def _darkest_in(image: QImage, rect: QRect) -> float:
    """The darkest pixel's lightness in `rect`: the ink of that row's text on a light menu."""
    return min(
        image.pixelColor(x, y).lightnessF()
        for y in range(rect.top(), rect.bottom(), 1)
        for x in range(rect.left(), rect.right(), 2)
    )


def test_items_that_cannot_be_used_now_look_unavailable(
    themed: object, tray: Tray
) -> None:
    """Idle, Pause and Stop do nothing: they must not look as clickable as Quick reset."""
    menu = tray.menu
    menu.ensurePolished()
    menu.adjustSize()
    image = menu.grab().toImage()  # rendered as it would pop up, without grabbing the pointer
    enabled = _darkest_in(image, menu.actionGeometry(tray.quick_action))
    for action in (tray.pause_action, tray.stop_action):
        assert not action.isEnabled()
        faded = _darkest_in(image, menu.actionGeometry(action))
        assert faded > enabled + 0.25, (action.text(), faded, enabled)


def test_quit_asks_the_app_to_quit(qtbot: QtBot, tray: Tray) -> None:
    with qtbot.waitSignal(tray.quitRequested, timeout=1000):
        tray.quit_action.trigger()


def test_pause_resume_label_follows_the_player_and_the_tooltip_ticks_only_while_playing(
    qtbot: QtBot, tray: Tray, bridge: PlayerBridge
) -> None:
    assert not tray.ticking, "an idle tray must run no timer"
    assert tray.icon.toolTip() == "Coreg"
    tray.quick_action.trigger()
    wait_playing(qtbot, bridge)
    qtbot.waitUntil(lambda: tray.ticking, timeout=3000)  # on the bridge's next transport signal
    assert tray.pause_action.text() == "Pause" and tray.pause_action.isEnabled()
    assert tray.stop_action.isEnabled()
    qtbot.waitUntil(lambda: "left" in tray.icon.toolTip(), timeout=3000)
    assert tray.icon.toolTip().startswith("Quick Reset \u2014 ")
    first = tray.icon.toolTip()
    qtbot.waitUntil(lambda: tray.icon.toolTip() != first, timeout=5000)  # the clock moves

    tray.pause_action.trigger()
    qtbot.waitUntil(lambda: bridge.transport is Transport.PAUSED, timeout=5000)
    qtbot.waitUntil(lambda: tray.pause_action.text() == "Resume", timeout=3000)
    assert not tray.ticking
    assert "paused" in tray.icon.toolTip()
    tray.pause_action.trigger()
    wait_playing(qtbot, bridge)
    qtbot.waitUntil(lambda: tray.pause_action.text() == "Pause", timeout=3000)

    tray.stop_action.trigger()
    qtbot.waitUntil(lambda: not bridge.active, timeout=5000)
    qtbot.waitUntil(lambda: tray.icon.toolTip() == "Coreg", timeout=3000)
    assert not tray.ticking
    assert not tray.pause_action.isEnabled()


def test_a_practice_from_the_menu_plays_in_the_main_window(
    qtbot: QtBot, tray: Tray, bridge: PlayerBridge, windows: tuple[MainWindow, CompactWindow]
) -> None:
    main, compact = windows
    action = next(a for a in tray.practices_menu.actions() if a.text() == "Stay Safe")
    with qtbot.waitSignal(bridge.practiceStarted, timeout=10_000) as started:
        action.trigger()
    assert started.args == ["stay-safe"]
    assert main.isVisible() and main.stack.currentWidget() is main.player_view
    assert not compact.isVisible()


# ----------------------------------------------------------------------------- the click


def test_a_click_starts_the_quick_reset_in_the_compact_window(
    qtbot: QtBot, tray: Tray, bridge: PlayerBridge, windows: tuple[MainWindow, CompactWindow]
) -> None:
    main, compact = windows
    with qtbot.waitSignal(bridge.practiceStarted, timeout=10_000) as started:
        tray.icon.activated.emit(Trigger)
    assert started.args == ["quick-reset"]
    assert compact.isVisible() and not main.isVisible()
    wait_playing(qtbot, bridge)
    # A second click does not restart it: the same session keeps playing.
    session = bridge.player.session
    with qtbot.assertNotEmitted(bridge.practiceStarted, wait=200):
        tray.icon.activated.emit(Trigger)
    assert bridge.player.session is session and compact.isVisible()


def test_a_click_shows_the_quick_reset_in_the_main_window_when_it_is_open(
    qtbot: QtBot, tray: Tray, bridge: PlayerBridge, windows: tuple[MainWindow, CompactWindow]
) -> None:
    main, compact = windows
    main.show()
    qtbot.waitExposed(main)
    with qtbot.waitSignal(bridge.practiceStarted, timeout=10_000):
        tray.icon.activated.emit(Trigger)
    assert main.stack.currentWidget() is main.player_view
    assert not compact.isVisible()


def test_the_setting_makes_a_click_open_the_window_instead(
    qtbot: QtBot, tray: Tray, bridge: PlayerBridge, settings: Settings,
    windows: tuple[MainWindow, CompactWindow]
) -> None:
    main, compact = windows
    settings.set("tray.click", "open")
    with qtbot.assertNotEmitted(bridge.practiceStarted, wait=200):
        tray.icon.activated.emit(Trigger)
    assert main.isVisible() and not compact.isVisible()
    assert bridge.practice is None


def test_open_main_from_the_compact_window(
    qtbot: QtBot, tray: Tray, bridge: PlayerBridge, windows: tuple[MainWindow, CompactWindow]
) -> None:
    main, compact = windows
    tray.quick_reset()
    assert compact.isVisible()
    compact.openMainRequested.emit()
    assert main.isVisible() and not compact.isVisible()
    assert main.stack.currentWidget() is main.player_view


def test_the_compact_window_sits_beside_a_real_tray_icon(
    qtbot: QtBot, tray: Tray, windows: tuple[MainWindow, CompactWindow]
) -> None:
    if not tray.available():
        pytest.skip("needs a system tray (run under Xvfb with trayer)")
    _, compact = windows
    qtbot.waitUntil(lambda: tray.anchor() is not None, timeout=5000)
    anchor = tray.anchor()
    assert anchor is not None
    tray.quick_reset()
    qtbot.waitExposed(compact)
    screen = compact.screen().availableGeometry()
    frame = compact.frameGeometry()
    assert screen.contains(frame), f"{frame} leaves {screen}"
    # Beside the icon: the window's nearest edge is within a window's size of it.
    assert abs(frame.center().x() - anchor.center().x()) < frame.width()
    assert abs(frame.center().y() - anchor.center().y()) < frame.height()


# ----------------------------------------------------------------------------- notices


def test_hiding_to_the_tray_is_explained_once(
    tray: Tray, flags: OnceFlags, windows: tuple[MainWindow, CompactWindow]
) -> None:
    main, _ = windows
    main.close_hides_to_tray = True
    main.show()
    main.close()
    assert not main.isVisible()
    assert flags.seen(FLAG_HIDDEN_NOTICE)
    assert flags.first_time(FLAG_HIDDEN_NOTICE) is False


def test_without_a_tray_the_quick_reset_is_explained_once_ever(
    tray: Tray, flags: OnceFlags, windows: tuple[MainWindow, CompactWindow],
    bridge: PlayerBridge, settings: Settings
) -> None:
    main, compact = windows
    assert tray.explain_missing_tray() is True
    assert main.banner_label.text() == NO_TRAY_NOTICE
    assert "--quick-reset" in NO_TRAY_NOTICE
    main.hide_notice()
    again = Tray(bridge, settings, main, compact, flags=OnceFlags(flags.path))
    assert again.explain_missing_tray() is False
    assert not main.banner_holder.isVisibleTo(main)
    assert OnceFlags(flags.path).seen(FLAG_NO_TRAY_NOTICE)


def test_a_practice_from_the_menu_asks_the_before_question_in_the_window_first(
    qtbot: QtBot, bridge: PlayerBridge, settings: Settings, flags: OnceFlags
) -> None:
    """Only the quick reset never waits; a practice chosen from the tray (or `--practice ID`)
    opens in the window, which asks how activated you feel before it plays."""
    main = MainWindow(bridge, settings)  # check-ins on, as they are by default
    compact = CompactWindow(bridge, settings)
    qtbot.addWidget(main)
    qtbot.addWidget(compact)
    tray = Tray(bridge, settings, main, compact, flags=flags)
    try:
        assert tray.play("stay-safe")
        assert main.isVisible() and main.stack.currentWidget() is main.checkin_panel
        assert not bridge.active  # nothing plays before the answer (or a skip)
        assert not tray.play("no-such-practice")
    finally:
        tray.hide()
