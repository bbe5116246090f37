"""The Progress page on the real display: empty, with ten weeks of sessions, light and dark."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtGui import QPalette, QPixmap
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from coreg_desktop.history import History
from coreg_desktop.progress import EMPTY_TEXT
from coreg_desktop.settings import Settings
from coreg_desktop.ui.bridge import PlayerBridge
from coreg_desktop.ui.progress_view import ProgressView

from ..history_gen import fill
from ..qtkit import layout_problems, unnamed_controls

SHOTS = Path(os.environ.get("COREG_SHOTS", tempfile.gettempdir()))
TODAY = date.today()


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    found = History(tmp_path / "history.sqlite3")
    yield found
    found.close()


def make_view(qtbot: QtBot, history: History | None, settings: Settings) -> ProgressView:
    view = ProgressView(lambda: history, settings)
    qtbot.addWidget(view)
    view.resize(860, 1500)
    view.show()
    qtbot.waitExposed(view)
    view.refresh()
    qtbot.wait(50)
    return view


def shoot(view: ProgressView, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    contents = view.scroll_area.widget()
    assert contents is not None
    shot = QPixmap(contents.size())  # on the window's colour, as the page sits in the window
    shot.fill(view.palette().color(QPalette.ColorRole.Window))
    contents.render(shot)
    shot.save(str(SHOTS / name))


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_empty_reads_kindly(
    qtbot: QtBot, history: History, settings: Settings, themed: Callable[..., None], dark: bool
) -> None:
    themed(dark=dark)
    view = make_view(qtbot, history, settings)
    assert view.empty.isVisible() and view.empty.text() == EMPTY_TEXT
    assert not view.content.isVisible() and not view.delete_button.isVisible()
    assert layout_problems(view) == []
    shoot(view, f"progress-empty-{'dark' if dark else 'light'}.png")


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_forty_sessions_over_ten_weeks(
    qtbot: QtBot, history: History, settings: Settings, themed: Callable[..., None], dark: bool
) -> None:
    themed(dark=dark)
    fill(history, 40, 10, TODAY)
    view = make_view(qtbot, history, settings)
    summary = view.summary
    assert summary is not None and summary.sessions == 40
    assert not view.empty.isVisible() and view.content.isVisible()
    assert view.totals.text().startswith("40 sessions")
    assert not view.streak.isVisible()  # off by default
    weeks = [w.minutes for w in summary.weeks]
    assert len(weeks) == 12 and weeks[0] == 0 and sum(weeks) > 0
    assert len(view.recent_labels) == 8
    texts = [label.text() for label in view.change_labels]
    assert any("on average, over" in t for t in texts)
    everything = " ".join(label.text() for label in view.findChildren(type(view.totals)))
    for word in ("missed", "goal", "score", "failed", "streak lost"):
        assert word not in everything.lower()
    shoot(view, f"progress-40-{'dark' if dark else 'light'}.png")
    assert layout_problems(view) == [] and unnamed_controls(view) == []


def test_streaks_only_when_turned_on(
    qtbot: QtBot, history: History, settings: Settings, themed: Callable[..., None]
) -> None:
    fill(history, 14, 2, TODAY)  # one a day up to today
    view = make_view(qtbot, history, settings)
    assert not view.streak.isVisible()
    settings.set("progress.streaks", True)
    qtbot.waitUntil(view.streak.isVisible)
    assert view.streak.text().endswith("days in a row with a practice.")


def test_a_killed_session_shows_as_not_finished_with_its_time(
    qtbot: QtBot, history: History, settings: Settings, themed: Callable[..., None]
) -> None:
    row = history.start("stay-safe", "Stay Safe", voice=None, ambience="rain", before=7)
    history.progress(row, 185.0)  # then SIGKILL: never ended
    view = make_view(qtbot, history, settings)
    assert view.recent_labels[0].text().endswith("Stay Safe · not finished, 3 min listened · "
                                                 "7 before")


def test_delete_my_data_asks_first(
    qtbot: QtBot, history: History, settings: Settings, themed: Callable[..., None]
) -> None:
    fill(history, 5, 1, TODAY)
    view = make_view(qtbot, history, settings)
    box = view.ask_to_delete()
    qtbot.waitExposed(box)
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert len(history.sessions()) == 5
    box = view.ask_to_delete()
    qtbot.waitExposed(box)
    delete = next(b for b in box.buttons() if b.text() == "Delete")
    with qtbot.waitSignal(view.deleted):
        delete.click()
    assert history.sessions() == []
    assert view.empty.isVisible()


def test_no_history_file_says_so_calmly(
    qtbot: QtBot, settings: Settings, themed: Callable[..., None]
) -> None:
    view = make_view(qtbot, None, settings)
    assert view.empty.isVisible() and "could not open" in view.empty.text()


def test_two_thousand_sessions_open_within_300_ms(
    qtbot: QtBot, history: History, settings: Settings, themed: Callable[..., None]
) -> None:
    fill(history, 2000, 52, TODAY)
    view = make_view(qtbot, history, settings)
    times = []
    for _ in range(3):
        view.refresh()
        times.append(view.last_refresh_ms)
    assert sorted(times)[1] <= 300, times


def test_the_window_opens_it_from_the_header_and_esc_goes_back(
    qtbot: QtBot, bridge: PlayerBridge, settings: Settings, themed: Callable[..., None]
) -> None:
    from PySide6.QtCore import Qt

    from coreg_desktop.ui.main_window import MainWindow

    history = bridge.core.history
    assert history is not None
    fill(history, 40, 10, TODAY)
    win = MainWindow(bridge, settings)
    qtbot.addWidget(win, before_close_func=lambda w: w.prepare_to_quit())
    win.show()
    qtbot.waitExposed(win)
    # Soon after it shows, the page is built in the background (hidden), charts loaded.
    qtbot.waitUntil(lambda: win.progress_view is not None, timeout=10_000)
    assert win.stack.currentWidget() is win.library_view
    qtbot.mouseClick(win.progress_button, Qt.MouseButton.LeftButton)
    view = win.progress_view
    assert view is not None and win.stack.currentWidget() is view
    assert view.summary is not None and view.summary.sessions == 40
    win.grab().save(str(SHOTS / "progress-in-window.png"))
    win.stop_or_back()
    assert win.stack.currentWidget() is win.library_view


def test_the_wheel_over_the_calendar_scrolls_the_page_and_keeps_the_month(
    qtbot: QtBot, history: History, settings: Settings, themed: Callable[..., None]
) -> None:
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication, QTableView

    fill(history, 40, 10, TODAY)
    view = make_view(qtbot, history, settings)
    view.resize(860, 500)  # shorter than the page, so it scrolls
    qtbot.wait(50)
    bar = view.scroll_area.verticalScrollBar()
    assert bar.maximum() > 0
    month = (view.calendar.yearShown(), view.calendar.monthShown())
    grid = view.calendar.findChild(QTableView)
    assert grid is not None
    start = bar.value()
    at = QPointF(grid.rect().center())
    wheel = QWheelEvent(at, QPointF(grid.mapToGlobal(QPoint(int(at.x()), int(at.y())))),
                        QPoint(0, 0), QPoint(0, -120), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(grid.viewport(), wheel)
    assert (view.calendar.yearShown(), view.calendar.monthShown()) == month
    assert bar.value() > start  # the page went down
