"""The Pacer page on a real (virtual) display: patterns, length, cues, a pattern of one's own,
and the pacer playing in the player through the real core, mixer and audio clock."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtGui import QPixmap
from pytestqt.qtbot import QtBot

from coreg_desktop.audio.mixer import Transport
from coreg_desktop.practice.model import Phase
from coreg_desktop.settings import Settings
from coreg_desktop.ui.bridge import PlayerBridge
from coreg_desktop.ui.main_window import MainWindow
from coreg_desktop.ui.pacer_view import WHY_TEXT, PacerView

from ..qtkit import layout_problems, unnamed_controls, without_checkins

SHOTS = Path(os.environ.get("COREG_SHOTS", tempfile.gettempdir())) / "pacer"
pytestmark = pytest.mark.usefixtures("collect_on_the_gui_thread")


def make_view(qtbot: QtBot, bridge: PlayerBridge) -> PacerView:
    view = PacerView(bridge)
    qtbot.addWidget(view)
    view.resize(760, 820)
    view.show()
    qtbot.waitExposed(view)
    return view


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_page_offers_the_patterns_with_the_default_first_and_says_why(
    qtbot: QtBot, bridge: PlayerBridge, themed: Callable[..., None], dark: bool
) -> None:
    themed(dark=dark)
    view = make_view(qtbot, bridge)
    ids = [view.pattern_combo.itemData(i) for i in range(view.pattern_combo.count())]
    assert ids[:5] == ["extended-exhale", "coherent", "box", "4-7-8", "cyclic-sighing"]
    assert view.pattern_combo.currentData() == "extended-exhale"
    assert view.why.text() == WHY_TEXT and "longer" in WHY_TEXT
    assert "4 s in, 6 s out" in view.pattern_combo.currentText()
    view.pattern_combo.setCurrentIndex(ids.index("4-7-8"))
    assert "too much" in view.pattern_summary.text()  # the gentle note on the hold
    qtbot.waitUntil(lambda: layout_problems(view) == [], timeout=2000)
    assert unnamed_controls(view) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    view.grab().save(str(SHOTS / f"pacer-{'dark' if dark else 'light'}.png"))


def test_start_plays_the_chosen_pattern_for_the_chosen_length(
    qtbot: QtBot, bridge: PlayerBridge
) -> None:
    view = make_view(qtbot, bridge)
    view.pattern_combo.setCurrentIndex(view.pattern_combo.findData("box"))
    view.minutes_combo.setCurrentIndex(view.minutes_combo.findData(2))
    with qtbot.waitSignal(view.started, timeout=5000):
        view.start_button.click()
    try:
        assert bridge.practice is not None and bridge.practice.id == "pacer:box"
        qtbot.waitUntil(lambda: bridge.transport is Transport.PLAYING, timeout=5000)
        state = bridge.state()
        assert state is not None and abs(state.total - 120.0) < 0.5
        qtbot.waitUntil(lambda: (s := bridge.state()) is not None and s.phase is Phase.INHALE,
                        timeout=5000)
        history = bridge.core.history
        assert history is not None
    finally:
        bridge.stop(fade_s=0.05)
        qtbot.waitUntil(lambda: not bridge.active, timeout=5000)
    assert bridge.play("pacer:box")  # play again, as the player's button does
    bridge.stop(fade_s=0.05)
    qtbot.waitUntil(lambda: not bridge.active, timeout=5000)


def test_a_pattern_of_ones_own_is_saved_or_refused_in_one_line(
    qtbot: QtBot, bridge: PlayerBridge
) -> None:
    view = make_view(qtbot, bridge)
    assert not view.save_own()
    assert view.own_error.text() == "Give your pattern a name first."
    view.name_edit.setText("Slow evening")
    view.phase_spins["inhale"].setCurrentIndex(0)
    assert not view.save_own() and "a breath in and a breath out" in view.own_error.text()
    assert "\n" not in view.own_error.text()
    view.phase_spins["inhale"].setCurrentIndex(view.phase_spins["inhale"].findData(4.5))
    view.phase_spins["exhale"].setCurrentIndex(view.phase_spins["exhale"].findData(7.5))
    assert view.save_own(), view.own_error.text()
    assert view.pattern_combo.currentData() == "slow-evening"
    assert "(yours)" in view.pattern_combo.currentText()
    assert bridge.core.patterns.get("slow-evening").describe() == "4.5 s in, 7.5 s out"
    again = PacerView(bridge)  # a new page reads the file again
    qtbot.addWidget(again)
    assert again.pattern_combo.findData("slow-evening") >= 0


def test_the_window_opens_the_pacer_from_its_header_and_esc_goes_back(
    qtbot: QtBot, bridge: PlayerBridge, settings: Settings
) -> None:
    win = MainWindow(bridge, without_checkins(settings))
    qtbot.addWidget(win)
    win.resize(900, 760)
    win.show()
    qtbot.waitExposed(win)
    win.pacer_button.click()
    assert win.pacer_view is not None and win.stack.currentWidget() is win.pacer_view
    shot = QPixmap(win.size())
    win.render(shot)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot.save(str(SHOTS / "pacer-in-window.png"))
    win.stop_or_back()
    assert win.stack.currentWidget() is win.library_view
