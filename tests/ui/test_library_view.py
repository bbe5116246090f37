"""The library: cards for the built-in practices, the tag filter, activation, the crisis note."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from coreg_desktop import paths
from coreg_desktop.practice.loader import Library, load_library
from coreg_desktop.practice.model import Practice, Say
from coreg_desktop.practice.timeline import practice_minutes
from coreg_desktop.ui.crisis import CRISIS_TEXT, CrisisDialog
from coreg_desktop.ui.library_view import ALL_TAGS, LibraryView, length_text

from ..qtkit import layout_problems, unnamed_controls


def make_view(qtbot: QtBot, library: Library, width: int = 860, height: int = 600) -> LibraryView:
    view = LibraryView(library)
    qtbot.addWidget(view)
    view.resize(width, height)
    view.show()
    qtbot.waitExposed(view)
    return view


def activate(qtbot: QtBot, view: LibraryView) -> None:
    """Keyboard focus needs an active window; activation is asynchronous on every platform."""
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)


def mean_lightness(image: QImage) -> float:
    total, count = 0.0, 0
    for y in range(0, image.height(), 7):
        for x in range(0, image.width(), 7):
            total += QColor(image.pixel(x, y)).lightnessF()
            count += 1
    return total / count


def test_every_practice_has_a_card_with_title_length_and_summary(
    qtbot: QtBot, library: Library, themed: Callable[..., None]
) -> None:
    view = make_view(qtbot, library)
    assert list(view.cards) == [p.id for p in library.all]
    assert len(view.cards) >= 4
    for practice in library.all:
        card = view.cards[practice.id]
        assert card.title.text() == practice.title
        assert card.summary.text() == practice.summary
        assert card.length.text() == f"{max(1, round(practice_minutes(practice)))} min"
        assert card.isVisible()


@pytest.mark.parametrize(("seconds", "text"), [(20, "1 min"), (100, "2 min"), (455, "8 min")])
def test_length_is_whole_minutes_never_zero(seconds: float, text: str) -> None:
    practice = Practice("p", "P", steps=(Say("", pause=seconds),))
    assert length_text(practice) == text


def test_tag_filter_offers_every_tag_and_shows_only_matching_cards(
    qtbot: QtBot, library: Library, themed: Callable[..., None]
) -> None:
    view = make_view(qtbot, library)
    all_tags = sorted({t for p in library.all for t in p.tags}, key=str.casefold)
    assert view.tags() == all_tags
    assert list(view.chips) == [ALL_TAGS, *all_tags]
    assert view.chips[ALL_TAGS].isChecked()

    qtbot.mouseClick(view.chips["quick"], Qt.MouseButton.LeftButton)
    assert view.tag_filter == "quick"
    shown = {pid for pid, card in view.cards.items() if card.isVisible()}
    assert shown == {p.id for p in library.all if "quick" in p.tags}
    assert "quick-reset" in shown and "safe-person" not in shown
    assert view.visible_ids() == sorted(shown, key=lambda i: list(view.cards).index(i))
    assert view.chips["quick"].isChecked() and not view.chips[ALL_TAGS].isChecked()

    qtbot.mouseClick(view.chips[ALL_TAGS], Qt.MouseButton.LeftButton)
    assert view.tag_filter is None
    assert all(card.isVisible() for card in view.cards.values())

    with pytest.raises(ValueError):
        view.set_tag_filter("no-such-tag")


def test_play_button_double_click_and_enter_each_request_play(
    qtbot: QtBot, library: Library, themed: Callable[..., None]
) -> None:
    view = make_view(qtbot, library)
    card = view.cards["stay-safe"]
    with qtbot.waitSignal(view.playRequested) as blocker:
        qtbot.mouseClick(card.play_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["stay-safe"]

    with qtbot.waitSignal(view.playRequested) as blocker:
        qtbot.mouseDClick(view.cards["safe-person"], Qt.MouseButton.LeftButton)
    assert blocker.args == ["safe-person"]

    activate(qtbot, view)
    view.cards["quick-reset"].setFocus()
    qtbot.waitUntil(view.cards["quick-reset"].hasFocus)
    assert view.selected_id() == "quick-reset"
    with qtbot.waitSignal(view.playRequested) as blocker:
        qtbot.keyClick(view.cards["quick-reset"], Qt.Key.Key_Return)
    assert blocker.args == ["quick-reset"]

    with qtbot.assertNotEmitted(view.playRequested):
        qtbot.mouseClick(view.cards["stay-safe"], Qt.MouseButton.LeftButton)
    assert view.selected_id() == "stay-safe"


def test_arrow_keys_move_between_visible_cards(
    qtbot: QtBot, library: Library, themed: Callable[..., None]
) -> None:
    view = make_view(qtbot, library)
    activate(qtbot, view)
    ids = view.visible_ids()
    view.focus_first()
    qtbot.waitUntil(view.cards[ids[0]].hasFocus)
    assert view.selected_id() == ids[0]
    qtbot.keyClick(view.cards[ids[0]], Qt.Key.Key_Down)
    assert view.cards[ids[1]].hasFocus() and view.selected_id() == ids[1]
    qtbot.keyClick(view.cards[ids[1]], Qt.Key.Key_End)
    assert view.selected_id() == ids[-1]
    qtbot.keyClick(view.cards[ids[-1]], Qt.Key.Key_Down)  # stays at the end
    assert view.selected_id() == ids[-1]
    qtbot.keyClick(view.cards[ids[-1]], Qt.Key.Key_Up)
    assert view.selected_id() == ids[-2]
    qtbot.keyClick(view.cards[ids[-2]], Qt.Key.Key_Home)
    assert view.selected_id() == ids[0]

    # Filtered out cards are skipped.
    view.set_tag_filter("panic")
    panic = view.visible_ids()
    assert 1 < len(panic) < len(ids)
    view.cards[panic[0]].setFocus()
    qtbot.waitUntil(view.cards[panic[0]].hasFocus)
    qtbot.keyClick(view.cards[panic[0]], Qt.Key.Key_Down)
    assert view.selected_id() == panic[1]


def test_filtering_out_the_selected_card_clears_the_selection(
    qtbot: QtBot, library: Library, themed: Callable[..., None]
) -> None:
    view = make_view(qtbot, library)
    view.set_current("safe-person")
    view.set_tag_filter("quick")
    assert view.selected_id() is None


def test_every_control_has_an_accessible_name(
    qtbot: QtBot, library: Library, themed: Callable[..., None]
) -> None:
    view = make_view(qtbot, library)
    assert unnamed_controls(view) == []
    card = view.cards["stay-safe"]
    assert card.accessibleName().startswith("Stay Safe, about ")
    assert card.play_button.accessibleName() == "Play Stay Safe"
    assert view.chips["panic"].accessibleName() == "Show practices tagged panic"


def test_crisis_link_opens_the_offline_note(
    qtbot: QtBot, library: Library, themed: Callable[..., None]
) -> None:
    view = make_view(qtbot, library)
    assert view.crisis_link.isVisible()
    qtbot.mouseClick(view.crisis_link, Qt.MouseButton.LeftButton)
    dialog = view.crisis_dialog
    assert isinstance(dialog, CrisisDialog)
    qtbot.waitExposed(dialog)
    shown = "\n\n".join(label.text() for label in dialog.paragraphs)
    assert shown == CRISIS_TEXT
    for number in ("112", "911", "999", "000", "988"):
        assert number in shown
    assert "not an emergency service" in shown
    assert layout_problems(dialog) == []
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible())


def test_library_with_a_broken_user_file_says_so_quietly(
    qtbot: QtBot, themed: Callable[..., None], tmp_path: Path
) -> None:
    folder = paths.user_practices_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "broken.toml").write_text('id = "broken"\ntitle = \n', encoding="utf-8")
    reports: list[str] = []
    library = load_library(report=reports.append)
    assert reports
    view = make_view(qtbot, library)
    assert view.issues.isVisible()
    assert view.issues.text() == "One practice file has a problem and could not be loaded."
    assert "broken.toml" in view.issues.toolTip()
    assert "broken" not in view.cards


def test_set_library_rebuilds_cards_and_chips(
    qtbot: QtBot, library: Library, themed: Callable[..., None]
) -> None:
    view = make_view(qtbot, library)
    view.set_tag_filter("panic")
    extra = Practice("evening", "Evening Wind-Down", "Let the day go.", ("sleep", "panic"))
    bigger = Library(practices={**library.practices, "evening": extra})
    view.set_library(bigger)
    assert "evening" in view.cards and "sleep" in view.chips
    assert view.tag_filter == "panic"  # the filter survives a reload
    assert view.cards["evening"].isVisible()
    assert view.cards["evening"].length.text() == "1 min"

    view.set_library(Library())
    assert view.cards == {} and view.empty.isVisible()
    assert view.tag_filter is None


def test_large_font_nothing_clipped(
    qtbot: QtBot, library: Library, themed: Callable[..., None], tmp_path: Path
) -> None:
    themed(font_scale=1.5)
    view = make_view(qtbot, library, 860, 600)
    qtbot.wait(50)
    assert layout_problems(view) == []
    # Chips wrap onto more rows instead of widening the view.
    narrow = make_view(qtbot, library, 520, 600)
    qtbot.wait(50)
    assert layout_problems(narrow) == []
    chip_rows = {chip.y() for chip in narrow.chips.values()}
    assert len(chip_rows) >= 2
    assert all(c.geometry().right() <= narrow.filter_row.width() for c in narrow.chips.values())
    view.grab().save(str(tmp_path / "library-150.png"))


def test_dark_palette_gives_a_dark_view_with_light_text(
    qtbot: QtBot, library: Library, themed: Callable[..., None], tmp_path: Path
) -> None:
    themed(dark=True)
    view = make_view(qtbot, library)
    image = view.grab().toImage()
    image.save(str(tmp_path / "library-dark.png"))
    assert mean_lightness(image) < 0.3
    card = view.cards["stay-safe"]
    assert card.palette().color(card.foregroundRole()).lightnessF() > 0.75
    themed(dark=False)
    light = LibraryView(library)
    qtbot.addWidget(light)
    light.resize(860, 600)
    assert mean_lightness(light.grab().toImage()) > 0.8


def test_tab_walks_filter_then_cards_then_the_crisis_link(
    qtbot: QtBot, library: Library, themed: Callable[..., None]
) -> None:
    """The chips are one radio-like group: one Tab stop (the checked chip), arrows inside it."""
    view = make_view(qtbot, library)
    activate(qtbot, view)
    chip = view.chips[ALL_TAGS]
    chip.setFocus()
    qtbot.waitUntil(chip.hasFocus)
    visited = [QApplication.focusWidget()]
    for _ in range(len(view.cards) + 1):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        visited.append(QApplication.focusWidget())
    cards = [view.cards[pid] for pid in view.visible_ids()]
    assert visited == [chip, *cards, view.crisis_link]

    chip.setFocus()
    qtbot.waitUntil(chip.hasFocus)
    qtbot.keyClick(chip, Qt.Key.Key_Right)
    second = view.chips[view.tags()[0]]
    assert second.hasFocus()
    qtbot.keyClick(second, Qt.Key.Key_Space)
    assert view.tag_filter == view.tags()[0]
