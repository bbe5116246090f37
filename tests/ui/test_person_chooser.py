"""Choosing who "A Safe Person" is with, on its library card: only with two people or more, the
last used marked, one click or Enter plays. Real window, real store, real player (NullOutput).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from coreg_desktop.core import Core
from coreg_desktop.practice.timeline import Speech
from coreg_desktop.settings import Settings
from coreg_desktop.sources import PracticeSource, SleepTail
from coreg_desktop.ui.bridge import PlayerBridge
from coreg_desktop.ui.library_view import PracticeCard
from coreg_desktop.ui.main_window import MainWindow

from ..qtkit import layout_problems, open_window, unnamed_controls, without_checkins

pytestmark = pytest.mark.usefixtures("collect_on_the_gui_thread")

SIGNAL_TIMEOUT_MS = 20_000
SHOTS = Path(os.environ.get("COREG_SHOTS", tempfile.gettempdir()))
PRACTICE = "safe-person"


@pytest.fixture
def make_window(
    qtbot: QtBot, bridge: PlayerBridge, settings: Settings, themed: Callable[..., None]
) -> Iterator[Callable[..., MainWindow]]:
    made: list[MainWindow] = []

    def make(dark: bool = False) -> MainWindow:
        themed(dark=dark)
        win = open_window(qtbot, bridge, without_checkins(settings))
        made.append(win)
        return win

    yield make
    bridge.stop(0.0)


def add(core: Core, *names: str) -> None:
    for name in names:
        core.safe_people.add(name, "friend")
    if names and not core.settings.text("safe_person.name"):
        core.settings.set("safe_person.name", names[0])


def card(win: MainWindow, practice_id: str = PRACTICE) -> PracticeCard:
    return win.library_view.cards[practice_id]


def captions_playing(core: Core) -> list[str]:
    session = core.player.session
    assert session is not None
    source = session.source
    if isinstance(source, SleepTail):  # how the core plays every composed practice
        source = source.inner
    assert isinstance(source, PracticeSource)
    return [item.text for item in source.items if isinstance(item, Speech)]


def test_no_choice_with_none_or_one_person(
    qtbot: QtBot, make_window: Callable[..., MainWindow], core: Core
) -> None:
    win = make_window()
    qtbot.wait(50)
    assert card(win).people_row is None
    add(core, "Ana")
    win.refresh_people()
    assert card(win).people_row is None and card(win).person_chips == {}


def test_two_people_are_offered_on_the_card_with_the_last_used_marked(
    qtbot: QtBot, make_window: Callable[..., MainWindow], core: Core
) -> None:
    add(core, "Ana", "Sam")
    core.settings.set("safe_person.name", "Sam")
    win = make_window()
    qtbot.waitUntil(lambda: card(win).people_row is not None)  # read soon after showing
    chips = card(win).person_chips
    assert list(chips) == ["Ana", "Sam"]
    assert chips["Sam"].isChecked() and not chips["Ana"].isChecked()
    assert chips["Ana"].accessibleName() == "Play A Safe Person with Ana"
    assert "It is with Sam" in card(win).accessibleDescription()
    assert card(win, "stay-safe").people_row is None  # a practice about no one
    assert unnamed_controls(win) == []
    assert layout_problems(card(win)) == []
    # Tab goes from the card to its names, and on to the next card.
    assert card(win).nextInFocusChain() is chips["Ana"]
    # Someone added in another window shows once the setting moves or the window is active.
    core.safe_people.add("Zoë")
    core.settings.set("safe_person.name", "Zoë")
    qtbot.waitUntil(lambda: list(card(win).person_chips) == ["Ana", "Sam", "Zoë"])
    assert card(win).person_chips["Zoë"].isChecked()


def test_one_click_on_a_name_plays_with_them_and_they_come_first_next_time(
    qtbot: QtBot, make_window: Callable[..., MainWindow], core: Core, bridge: PlayerBridge
) -> None:
    add(core, "Ana", "Sam")
    win = make_window()
    qtbot.waitUntil(lambda: card(win).people_row is not None)
    assert card(win).person_chips["Ana"].isChecked()
    with qtbot.waitSignal(bridge.practiceStarted, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.mouseClick(card(win).person_chips["Sam"], Qt.MouseButton.LeftButton)
    assert "Now, gently bring to mind Sam, your friend." in captions_playing(core)
    assert win.stack.currentWidget() is win.player_view
    assert core.settings.text("safe_person.name") == "Sam"
    bridge.stop(0.0)
    win.show_library()
    qtbot.waitUntil(lambda: card(win).person_chips["Sam"].isChecked())


def test_the_keyboard_plays_with_the_marked_person_or_the_focused_name(
    qtbot: QtBot, make_window: Callable[..., MainWindow], core: Core, bridge: PlayerBridge
) -> None:
    add(core, "Ana", "Sam")
    win = make_window()
    qtbot.waitUntil(lambda: card(win).people_row is not None)
    card(win).setFocus()
    with qtbot.waitSignal(bridge.practiceStarted, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.keyClick(card(win), Qt.Key.Key_Return)  # Enter on the card: the marked one
    assert "Now, gently bring to mind Ana, your friend." in captions_playing(core)
    bridge.stop(0.0)
    win.show_library()
    chip = card(win).person_chips["Sam"]
    chip.setFocus()
    with qtbot.waitSignal(bridge.practiceStarted, timeout=SIGNAL_TIMEOUT_MS):
        qtbot.keyClick(chip, Qt.Key.Key_Return)  # Enter on a name: that person
    assert "Now, gently bring to mind Sam, your friend." in captions_playing(core)


def test_a_name_removed_meanwhile_is_one_notice_and_nothing_plays(
    qtbot: QtBot, make_window: Callable[..., MainWindow], core: Core, bridge: PlayerBridge
) -> None:
    add(core, "Ana", "Sam")
    win = make_window()
    qtbot.waitUntil(lambda: card(win).people_row is not None)
    core.safe_people.remove("Sam")  # from a terminal, while the window still shows Sam
    with qtbot.assertNotEmitted(bridge.practiceStarted):
        card(win).person_chips["Sam"].click()
    assert win.banner_label.text() == (
        "Sam is no longer one of your safe people; Settings has who is.")
    assert core.player.session is None or not bridge.active


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_screenshot_of_the_chooser(
    qtbot: QtBot, make_window: Callable[..., MainWindow], core: Core, dark: bool
) -> None:
    add(core, "Ana", "Sam", "Biscuit")
    core.settings.set("safe_person.name", "Sam")
    win = make_window(dark=dark)
    qtbot.waitUntil(lambda: card(win).people_row is not None)
    win.library_view.scroll_area.ensureWidgetVisible(card(win))
    card(win).setFocus()
    qtbot.wait(100)
    path = SHOTS / f"person-chooser-{'dark' if dark else 'light'}.png"
    assert win.grab().save(str(path))
    assert layout_problems(win) == []


def test_hidden_in_the_tray_the_window_reads_no_one(
    qtbot: QtBot, make_window: Callable[..., MainWindow], core: Core
) -> None:
    """Changes while the window is hidden wait for it to show: the tray's quick reset never
    shares the event loop with a read of the store."""
    add(core, "Ana", "Sam")
    win = make_window()
    qtbot.waitUntil(lambda: card(win).people_row is not None)
    win.hide()
    core.safe_people.add("Zoë")
    core.settings.set("safe_person.name", "Zoë")
    qtbot.wait(100)
    assert list(card(win).person_chips) == ["Ana", "Sam"]
    win.show()
    qtbot.waitUntil(lambda: list(card(win).person_chips) == ["Ana", "Sam", "Zoë"])


def test_a_focused_name_keeps_the_focus_when_the_people_are_read_again(
    qtbot: QtBot, make_window: Callable[..., MainWindow], core: Core
) -> None:
    add(core, "Ana", "Sam")
    win = make_window()
    qtbot.waitUntil(lambda: card(win).people_row is not None)
    sam = card(win).person_chips["Sam"]
    sam.setFocus()
    qtbot.waitUntil(sam.hasFocus)
    win.refresh_people()  # nothing changed: nothing is rebuilt
    assert card(win).person_chips["Sam"] is sam and sam.hasFocus()
    core.safe_people.add("Zoë")
    win.refresh_people()
    assert list(card(win).person_chips) == ["Ana", "Sam", "Zoë"]
    qtbot.waitUntil(lambda: card(win).person_chips["Sam"].hasFocus())
    core.safe_people.remove("Sam")
    core.safe_people.remove("Zoë")
    win.refresh_people()  # one person left: no names, and the card has the focus
    assert card(win).people_row is None
    qtbot.waitUntil(card(win).hasFocus)
