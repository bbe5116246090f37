"""The check-in: one key or click answers, Esc skips, the change said gently, in the window."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from coreg_desktop.checkin import QUESTION
from coreg_desktop.constants import QUICK_RESET_ID
from coreg_desktop.settings import Settings
from coreg_desktop.ui.bridge import PlayerBridge
from coreg_desktop.ui.checkin_view import AFTER, BEFORE, CheckInPanel, result_text
from coreg_desktop.ui.main_window import MainWindow

from ..qtkit import layout_problems, open_window, unnamed_controls

SHOTS = Path(os.environ.get("COREG_SHOTS", tempfile.gettempdir()))
pytestmark = pytest.mark.usefixtures("collect_on_the_gui_thread")


@pytest.fixture
def panel(qtbot: QtBot, themed: Callable[..., None]) -> CheckInPanel:
    view = CheckInPanel()
    qtbot.addWidget(view)
    view.resize(760, 520)
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    view.focus_scale()
    return view


@pytest.fixture
def window(
    qtbot: QtBot, bridge: PlayerBridge, settings: Settings, themed: Callable[..., None]
) -> Iterator[MainWindow]:
    win = open_window(qtbot, bridge, settings)
    yield win
    bridge.stop(0.0)


@pytest.mark.parametrize(("key", "value"), [
    (Qt.Key.Key_0, 0), (Qt.Key.Key_7, 7), (Qt.Key.Key_9, 9), (Qt.Key.Key_End, 10),
    (Qt.Key.Key_Home, 0),
])
def test_one_key_answers(qtbot: QtBot, panel: CheckInPanel, key: Qt.Key, value: int) -> None:
    with qtbot.waitSignal(panel.answered) as blocker:
        qtbot.keyClick(QApplication.focusWidget() or panel, key)
    assert blocker.args == [value, None]


def test_a_digit_on_a_focused_number_still_answers_with_the_word_picked(
    qtbot: QtBot, panel: CheckInPanel
) -> None:
    panel.state_chips["on edge"].click()
    panel.state_chips["overwhelmed"].click()  # one word at most: the last one picked
    assert panel.state == "overwhelmed"
    panel.numbers[3].setFocus()
    with qtbot.waitSignal(panel.answered) as blocker:
        qtbot.keyClick(panel.numbers[3], Qt.Key.Key_8)
    assert blocker.args == [8, "overwhelmed"]
    panel.state_chips["overwhelmed"].click()  # a second click takes it back
    assert panel.state is None


def test_one_click_answers_and_esc_or_skip_skips(qtbot: QtBot, panel: CheckInPanel) -> None:
    with qtbot.waitSignal(panel.answered) as blocker:
        qtbot.mouseClick(panel.numbers[10], Qt.MouseButton.LeftButton)
    assert blocker.args == [10, None]
    with qtbot.waitSignal(panel.skipped):
        qtbot.keyClick(panel, Qt.Key.Key_Escape)
    with qtbot.waitSignal(panel.skipped):
        qtbot.mouseClick(panel.skip_button, Qt.MouseButton.LeftButton)
    with qtbot.assertNotEmitted(panel.answered):
        qtbot.keyClick(panel, Qt.Key.Key_A)  # other keys do nothing


def test_the_scale_is_labelled_and_everything_is_named(panel: CheckInPanel) -> None:
    assert panel.question.text() == QUESTION
    assert [label.text() for label in panel.anchor_labels] == [
        "0 calm, settled", "5 on edge", "10 as bad as it gets"]
    assert panel.numbers[5].accessibleName() == "5, on edge"
    assert list(panel.state_chips) == ["shut down", "on edge", "settled", "overwhelmed"]
    assert unnamed_controls(panel) == []
    assert layout_problems(panel) == []


def test_the_result_is_a_change_never_a_score(qtbot: QtBot, panel: CheckInPanel) -> None:
    assert result_text(7, 4) == "From 7 to 4."
    assert result_text(5, 5) == "Still 5."
    assert result_text(None, 3) == "Now 3."
    panel.ask(AFTER, "Stay Safe has ended.")
    assert not panel.states.isVisible()
    panel.show_result(result_text(7, 4))
    assert panel.result.isVisible() and panel.done_button.hasFocus()
    for word in ("score", "better", "worse", "great", "%"):
        assert word not in panel.result.text().lower() + panel.thanks.text().lower()
    with qtbot.waitSignal(panel.closed):
        qtbot.keyClick(panel.done_button, Qt.Key.Key_Return)


def test_screenshots_light_and_dark(
    qtbot: QtBot, panel: CheckInPanel, themed: Callable[..., None]
) -> None:
    for dark in (False, True):
        themed(dark=dark)
        look = "dark" if dark else "light"
        panel.ask(BEFORE, "Before Stay Safe")
        panel.state_chips["on edge"].setChecked(True)
        qtbot.wait(50)
        assert layout_problems(panel) == []
        panel.grab().save(str(SHOTS / f"checkin-before-{look}.png"))
        panel.ask(AFTER, "Stay Safe has ended.")
        panel.show_result(result_text(7, 4))
        qtbot.wait(50)
        panel.grab().save(str(SHOTS / f"checkin-after-result-{look}.png"))


# ------------------------------------------------------------------ in the window


def test_a_library_practice_asks_first_and_the_answer_starts_it(
    qtbot: QtBot, window: MainWindow, bridge: PlayerBridge
) -> None:
    window.library_view.playRequested.emit("self-compassion")
    assert window.stack.currentWidget() is window.checkin_panel
    assert window.checkin_panel.context.text() == "Before Self-Compassion"
    assert not bridge.active  # nothing plays until it is answered or skipped
    window.grab().save(str(SHOTS / "checkin-in-window.png"))
    with qtbot.waitSignal(bridge.practiceStarted, timeout=10_000):
        qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_8)
    assert window.stack.currentWidget() is window.player_view
    assert bridge.before == 8
    # 8 is high: the practice for a hard moment is suggested, and nothing else changes.
    view = window.player_view
    assert view.suggestion.isVisible()
    assert view.suggestion_label.text().startswith("Stay Safe may suit this moment.")
    assert bridge.practice is not None and bridge.practice.id == "self-compassion"
    qtbot.wait(50)
    assert layout_problems(view.suggestion) == []
    window.grab().save(str(SHOTS / "checkin-suggestion-in-player.png"))
    with qtbot.waitSignal(bridge.practiceStarted, timeout=10_000):
        qtbot.mouseClick(view.suggestion_button, Qt.MouseButton.LeftButton)
    assert bridge.practice is not None and bridge.practice.id == "stay-safe"
    assert bridge.before == 8 and not view.suggestion.isVisible()


def test_esc_skips_and_plays_at_once(
    qtbot: QtBot, window: MainWindow, bridge: PlayerBridge
) -> None:
    window.library_view.playRequested.emit("stay-safe")
    with qtbot.waitSignal(bridge.practiceStarted, timeout=10_000):
        qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Escape)
    assert bridge.before is None and bridge.active


def test_turned_off_it_plays_at_once(
    qtbot: QtBot, window: MainWindow, bridge: PlayerBridge, settings: Settings
) -> None:
    settings.set("checkin.before", False)
    with qtbot.waitSignal(bridge.practiceStarted, timeout=10_000):
        window.library_view.playRequested.emit("stay-safe")
    assert window.stack.currentWidget() is window.player_view


def test_after_a_practice_the_same_scale_and_the_change(
    qtbot: QtBot, window: MainWindow, bridge: PlayerBridge
) -> None:
    core = bridge.core
    window.library_view.playRequested.emit(QUICK_RESET_ID)
    with qtbot.waitSignal(bridge.practiceStarted, timeout=10_000):
        qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_7)
    session = bridge.session_number
    qtbot.waitUntil(lambda: core.history_row(session) is not None, timeout=10_000)
    qtbot.wait(1500)  # heard for a moment
    with qtbot.waitSignal(bridge.ended, timeout=10_000):
        window.stop_or_back()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.checkin_panel)
    panel = window.checkin_panel
    assert panel.kind == AFTER and panel.context.text() == "Quick Reset stopped."
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_4)
    assert panel.result.text() == "From 7 to 4."
    window.grab().save(str(SHOTS / "checkin-after-in-window.png"))
    history = core.history
    assert history is not None
    row = core.history_row(session)

    def kept() -> bool:
        found = [r for r in history.sessions() if r.id == row]
        return bool(found) and found[0].after == 4 and found[0].before == 7

    qtbot.waitUntil(kept, timeout=10_000)
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Return)
    assert window.stack.currentWidget() is window.library_view


def test_the_quick_reset_in_the_compact_window_asks_only_afterwards(
    qtbot: QtBot, bridge: PlayerBridge, settings: Settings, themed: Callable[..., None]
) -> None:
    from coreg_desktop.ui.compact import CompactWindow

    compact = CompactWindow(bridge, settings)
    qtbot.addWidget(compact)
    with qtbot.waitSignal(bridge.practiceStarted, timeout=10_000):
        assert bridge.play(QUICK_RESET_ID)  # as the tray does: nothing is asked first
    compact.show_near(None)
    qtbot.waitExposed(compact)
    assert not compact.asking and compact.orb.isVisible()
    session = bridge.session_number
    qtbot.wait(1000)
    with qtbot.waitSignal(bridge.ended, timeout=10_000):
        bridge.stop(0.05)
    qtbot.waitUntil(lambda: compact.asking, timeout=5000)
    assert not compact.orb.isVisible()
    qtbot.wait(50)
    compact.grab().save(str(SHOTS / "checkin-compact-after.png"))
    assert layout_problems(compact.checkin_panel) == []
    qtbot.keyClick(compact, Qt.Key.Key_3)
    assert compact.checkin_panel.result.text() == "Now 3."
    compact.grab().save(str(SHOTS / "checkin-compact-result.png"))
    history = bridge.core.history
    row = bridge.core.history_row(session)
    assert history is not None and row is not None
    qtbot.waitUntil(lambda: any(r.id == row and r.after == 3 for r in history.sessions()),
                    timeout=10_000)
    qtbot.keyClick(compact, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not compact.isVisible(), timeout=5000)
