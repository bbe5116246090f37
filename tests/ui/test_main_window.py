"""The main window: views, shortcuts, close-to-tray and the no-tray fallback, settings, theme.

Playback here is real: the bridge drives a real Player (Piper narration, the mixer) into a
NullOutput, so "playing" and "paused" are the transport's own states, not mocks.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot, SignalBlocker

from coreg_desktop.audio.mixer import Transport
from coreg_desktop.core import PREVIEW_ID
from coreg_desktop.settings import Settings
from coreg_desktop.tts.base import VoiceInfo
from coreg_desktop.ui.bridge import PlayerBridge
from coreg_desktop.ui.crisis import CRISIS_TEXT, CrisisDialog
from coreg_desktop.ui.main_window import NO_TRAY_NOTICE, MainWindow
from coreg_desktop.ui.player_view import PlayerView
from coreg_desktop.ui.theme import (
    _ThemeKeeper,
    accent,
    apply_theme,
    colors,
    make_palette,
    palette_is_dark,
    system_is_dark,
)

from ..qtkit import (
    contrast,
    layout_problems,
    open_window,
    unnamed_controls,
    without_checkins,
)

SIGNAL_TIMEOUT_MS = 10_000
SHOTS = Path(os.environ.get("COREG_SHOTS", tempfile.gettempdir()))


@pytest.fixture
def window(
    qtbot: QtBot, bridge: PlayerBridge, settings: Settings, themed: Callable[..., None]
) -> Iterator[MainWindow]:
    win = open_window(qtbot, bridge, without_checkins(settings))
    yield win
    bridge.stop(0.0)


def until_playing(qtbot: QtBot, bridge: PlayerBridge) -> SignalBlocker:
    """Waits for the bridge to *announce* playing (the mixer may be there a tick earlier)."""
    return qtbot.waitSignal(
        bridge.transportChanged,
        timeout=SIGNAL_TIMEOUT_MS,
        check_params_cb=lambda value: value == Transport.PLAYING.value,
    )


def test_window_basics(window: MainWindow) -> None:
    assert window.windowTitle() == "Coreg"
    screen = window.screen().availableGeometry().size()
    assert window.size() == QSize(860, 600).boundedTo(screen)  # offscreen's screen is 800x600
    assert window.minimumWidth() >= 420 and window.minimumHeight() >= 380
    assert isinstance(window.player_view, PlayerView)
    assert window.stack.indexOf(window.library_view) >= 0
    assert window.stack.indexOf(window.player_view) >= 0
    assert window.stack.currentWidget() is window.library_view
    assert unnamed_controls(window) == []


def test_playing_from_the_library_switches_to_the_player(
    qtbot: QtBot, window: MainWindow, bridge: PlayerBridge
) -> None:
    card = window.library_view.cards["quick-reset"]
    with qtbot.waitSignal(bridge.practiceStarted, timeout=SIGNAL_TIMEOUT_MS) as started:
        qtbot.mouseClick(card.play_button, Qt.MouseButton.LeftButton)
    assert started.args == ["quick-reset"]
    assert window.stack.currentWidget() is window.player_view
    assert bridge.practice is not None and bridge.practice.id == "quick-reset"
    # Back to the library from the player's own button.
    window.player_view.backRequested.emit()
    assert window.stack.currentWidget() is window.library_view


def test_a_practice_started_elsewhere_also_shows_the_player(
    qtbot: QtBot, window: MainWindow, bridge: PlayerBridge
) -> None:
    with qtbot.waitSignal(bridge.practiceStarted, timeout=SIGNAL_TIMEOUT_MS):
        bridge.play("quick-reset")  # as the tray or a second launch would
    assert window.stack.currentWidget() is window.player_view


def test_space_starts_the_chosen_practice_then_pauses_and_resumes(
    qtbot: QtBot, window: MainWindow, bridge: PlayerBridge
) -> None:
    window.library_view.set_current("quick-reset")
    started: list[str] = []
    bridge.practiceStarted.connect(started.append)
    with until_playing(qtbot, bridge):
        qtbot.keyClick(window, Qt.Key.Key_Space)
    assert started == ["quick-reset"]

    with qtbot.waitSignal(bridge.transportChanged, timeout=SIGNAL_TIMEOUT_MS) as changed:
        qtbot.keyClick(window, Qt.Key.Key_Space)
    assert changed.args == ["paused"]
    with qtbot.waitSignal(bridge.transportChanged, timeout=SIGNAL_TIMEOUT_MS) as changed:
        qtbot.keyClick(window, Qt.Key.Key_Space)
    assert changed.args == ["playing"]


def test_space_on_a_focused_card_bubbles_up_to_play_it(
    qtbot: QtBot, window: MainWindow, bridge: PlayerBridge
) -> None:
    card = window.library_view.cards["quick-reset"]
    card.setFocus()
    qtbot.waitUntil(card.hasFocus)
    with qtbot.waitSignal(bridge.practiceStarted, timeout=SIGNAL_TIMEOUT_MS) as started:
        qtbot.keyClick(card, Qt.Key.Key_Space)
    assert started.args == ["quick-reset"]


def test_space_on_a_focused_button_presses_that_button_instead(
    qtbot: QtBot, window: MainWindow, bridge: PlayerBridge
) -> None:
    chip = window.library_view.chips["quick"]
    chip.setFocus()
    qtbot.waitUntil(chip.hasFocus)
    with qtbot.assertNotEmitted(bridge.practiceStarted):
        qtbot.keyClick(chip, Qt.Key.Key_Space)
    assert window.library_view.tag_filter == "quick"


def test_esc_stops_then_goes_back_to_the_library(
    qtbot: QtBot, window: MainWindow, bridge: PlayerBridge
) -> None:
    with until_playing(qtbot, bridge):
        bridge.play("quick-reset")
    with qtbot.waitSignal(bridge.stopped, timeout=SIGNAL_TIMEOUT_MS) as stopped:
        qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert stopped.args == ["quick-reset"]
    assert window.stack.currentWidget() is window.player_view  # the stop is seen, not hidden
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert window.stack.currentWidget() is window.library_view


def test_ctrl_w_and_close_hide_to_the_tray(qtbot: QtBot, window: MainWindow) -> None:
    window.close_hides_to_tray = True
    with qtbot.waitSignal(window.hiddenToTray):
        qtbot.keyClick(window, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()

    window.bring_to_front()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.hiddenToTray), qtbot.assertNotEmitted(window.quitRequested):
        window.close()
    assert not window.isVisible()
    assert not window.banner_holder.isVisibleTo(window)  # no no-tray notice with a tray


def test_without_a_tray_closing_minimises_instead(qtbot: QtBot, window: MainWindow) -> None:
    window.close_hides_to_tray = False
    with (
        qtbot.waitSignal(window.minimizedWithoutTray),
        qtbot.assertNotEmitted(window.hiddenToTray),
    ):
        assert not window.close()  # the close is refused ...
    assert window.isVisible()  # ... and the window stays, minimised
    assert window.windowState() & Qt.WindowState.WindowMinimized

    window.bring_to_front()
    assert not window.windowState() & Qt.WindowState.WindowMinimized
    with qtbot.waitSignal(window.minimizedWithoutTray):
        qtbot.keyClick(window, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert window.windowState() & Qt.WindowState.WindowMinimized


def test_the_no_tray_explanation_fits_the_banner(qtbot: QtBot, window: MainWindow) -> None:
    window.show_notice(NO_TRAY_NOTICE)
    qtbot.wait(20)
    assert window.banner_holder.isVisibleTo(window)
    assert "--quick-reset" in window.banner_label.text()
    assert layout_problems(window.banner) == []


def test_ctrl_q_requests_quit_and_lets_the_window_close(qtbot: QtBot, window: MainWindow) -> None:
    window.close_hides_to_tray = False
    with qtbot.waitSignal(window.quitRequested):
        qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    with qtbot.assertNotEmitted(window.minimizedWithoutTray):
        assert window.close()
    assert not window.isVisible()


def test_settings_changes_are_applied_and_announced(
    qtbot: QtBot, window: MainWindow, settings: Settings
) -> None:
    window.voices = []  # no child process for system voices in this test
    assert window.player_view.caption.isVisibleTo(window.player_view)
    qtbot.mouseClick(window.settings_button, Qt.MouseButton.LeftButton)
    dialog = window.settings_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    dialog.captions_check.click()
    dialog.name_edit.setText("Sam")
    heard: list[list[str]] = []
    settings.subscribe(heard.append)
    with qtbot.waitSignal(dialog.accepted):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert heard == [["name", "captions"]]
    assert settings["captions"] is False and settings.path.exists()
    assert not window.player_view.caption.isVisibleTo(window.player_view)


def test_settings_cancel_or_no_change_announces_nothing(
    qtbot: QtBot, window: MainWindow, settings: Settings
) -> None:
    window.voices = []
    heard: list[list[str]] = []
    settings.subscribe(heard.append)
    saved = settings.path.stat().st_mtime_ns, settings.path.read_bytes()
    dialog = window.open_settings()
    dialog.name_edit.setText("Sam")
    dialog.reject()
    dialog = window.open_settings()
    dialog.accept()
    assert heard == []
    assert (settings.path.stat().st_mtime_ns, settings.path.read_bytes()) == saved


def test_help_menu_shows_the_crisis_note(qtbot: QtBot, window: MainWindow) -> None:
    assert window.help_button.menu() is window.help_menu
    window.crisis_action.trigger()
    dialog = window.crisis_dialog
    assert isinstance(dialog, CrisisDialog)
    qtbot.waitExposed(dialog)
    assert "\n\n".join(p.text() for p in dialog.paragraphs) == CRISIS_TEXT
    dialog.reject()


def test_notices_from_the_audio_layer_appear_inline(
    qtbot: QtBot, window: MainWindow, bridge: PlayerBridge
) -> None:
    bridge.noticeRaised.emit("No sound device found; playing silently with captions.")
    assert window.banner_holder.isVisibleTo(window)
    assert "No sound device" in window.banner_label.text()
    qtbot.mouseClick(window.banner_close, Qt.MouseButton.LeftButton)
    assert not window.banner_holder.isVisibleTo(window)


def test_large_font_nothing_clipped_in_either_view(
    qtbot: QtBot,
    bridge: PlayerBridge,
    settings: Settings,
    themed: Callable[..., None],
    tmp_path: object,
) -> None:
    themed(font_scale=1.5)
    win = MainWindow(bridge, without_checkins(settings))
    qtbot.addWidget(win, before_close_func=lambda w: w.prepare_to_quit())
    win.show()
    qtbot.waitExposed(win)
    qtbot.wait(50)
    assert layout_problems(win) == []
    win.grab().save(f"{tmp_path}/main-library-150.png")
    win.resize(win.minimumSize())
    qtbot.wait(50)
    assert layout_problems(win.header) == []
    assert layout_problems(win.library_view) == []


def test_dark_palette(
    qtbot: QtBot,
    bridge: PlayerBridge,
    settings: Settings,
    themed: Callable[..., None],
    tmp_path: object,
) -> None:
    themed(dark=True)
    win = MainWindow(bridge, without_checkins(settings))
    qtbot.addWidget(win, before_close_func=lambda w: w.prepare_to_quit())
    win.show()
    qtbot.waitExposed(win)
    image = win.grab().toImage()
    image.save(f"{tmp_path}/main-dark.png")
    corner = QColor(image.pixel(5, image.height() - 5))
    assert corner.lightnessF() < 0.2
    wordmark = win.wordmark.palette().color(win.wordmark.foregroundRole())
    assert wordmark.lightnessF() > 0.6
    assert QApplication.palette().color(QApplication.palette().ColorRole.Window).lightnessF() < 0.2


# ---------------------------------------------------------------------------------- the theme


@pytest.mark.parametrize("dark", [False, True])
def test_soft_colours_stay_readable(dark: bool) -> None:
    c = colors(dark)
    for text in (c.text, c.muted):
        for ground in (c.window, c.surface, c.surface_alt):
            assert contrast(text, ground) >= 4.5  # WCAG AA for body text
    assert contrast(c.accent_text, c.accent) >= 4.5  # the primary button's label
    assert contrast(c.text, c.accent_soft) >= 4.5  # chips, pills, banners
    assert contrast(c.focus, c.window) >= 3.0  # a focus ring you can see
    assert contrast(c.border, c.window) < 1.5  # and borders that stay quiet


def test_accent_follows_the_palette() -> None:
    light, dark = make_palette(colors(False)), make_palette(colors(True))
    assert not palette_is_dark(light) and palette_is_dark(dark)
    assert accent(light) == colors(False).accent
    assert accent(dark) == colors(True).accent
    assert accent(dark).lightnessF() > accent(light).lightnessF()


def test_system_dark_palette_is_detected(qapp: QApplication, themed: Callable[..., None]) -> None:
    qapp.setPalette(make_palette(colors(True)))
    scheme = qapp.styleHints().colorScheme()
    expect_dark = scheme == Qt.ColorScheme.Dark or (
        scheme == Qt.ColorScheme.Unknown  # bare X servers: the palette is the evidence
    )
    assert system_is_dark(qapp) == expect_dark
    apply_theme(qapp, follow=False)  # dark=None: follow the system
    assert qapp.palette().color(QPalette.ColorRole.Window) == colors(expect_dark).window


def test_type_scales_with_the_system_font(
    qtbot: QtBot,
    bridge: PlayerBridge,
    settings: Settings,
    qapp: QApplication,
    themed: Callable[..., None],
) -> None:
    sizes = []
    for scale in (1.0, 1.5):
        themed(font_scale=scale)
        win = MainWindow(bridge, without_checkins(settings))
        qtbot.addWidget(win, before_close_func=lambda w: w.prepare_to_quit())
        win.show()
        qtbot.waitExposed(win)
        title = win.library_view.title
        assert title.font().pointSizeF() == pytest.approx(qapp.font().pointSizeF() * 1.75, 0.05)
        sizes.append((title.font().pointSizeF(), win.library_view.cards["stay-safe"].height()))
    assert sizes[1][0] == pytest.approx(sizes[0][0] * 1.5, 0.05)
    assert sizes[1][1] > sizes[0][1] * 1.3  # spacing grew with the text, not just the glyphs


def test_the_theme_keeps_following_the_system_font(
    qapp: QApplication, themed: Callable[..., None]
) -> None:
    apply_theme(qapp, dark=False)
    apply_theme(qapp, dark=False)
    keepers = qapp.findChildren(_ThemeKeeper)
    assert len(keepers) == 1  # one follower, however often the theme is applied
    try:
        bigger = QFont(qapp.font())
        bigger.setPointSizeF(qapp.font().pointSizeF() * 1.5)
        qapp.setFont(bigger)
        assert f"font-size: {bigger.pointSizeF() * 1.75:.1f}pt" in qapp.styleSheet()
    finally:
        shiboken6.delete(keepers[0])  # later tests set fonts of their own


# ------------------------------------------------------------------------------ voice card

CARD_VOICES = [
    VoiceInfo("en_US-joe-medium", "piper", "Joe (US English, bundled)", "en_US", True,
              "Piper neural voice, included with Coreg", "MIT"),
    VoiceInfo("system", "system", "Your system's voice", "en", True, "espeak-ng", "GPL-3.0"),
]


def test_the_voice_card_previews_and_a_choice_is_saved_once(
    qtbot: QtBot, window: MainWindow, settings: Settings, bridge: PlayerBridge
) -> None:
    answered: list[bool] = []
    card = window.offer_voice_choice(CARD_VOICES, on_done=lambda: answered.append(True))
    qtbot.waitUntil(card.isVisible)
    assert window.library_view.top_card is card
    qtbot.waitUntil(lambda: layout_problems(window) == [])
    assert unnamed_controls(card) == []
    window.grab().save(str(SHOTS / "library-voice-card.png"))
    qtbot.mouseClick(card.preview_buttons["en_US-joe-medium"], Qt.MouseButton.LeftButton)
    session = bridge.player.session
    assert session is not None and session.id == PREVIEW_ID
    assert window.stack.currentWidget() is window.library_view  # the library stays in view
    qtbot.mouseClick(card.choose_buttons["en_US-joe-medium"], Qt.MouseButton.LeftButton)
    assert settings.text("voice") == "en_US-joe-medium"
    assert json.loads(settings.path.read_text())["voice"] == "en_US-joe-medium"
    assert answered == [True]
    assert window.library_view.top_card is None
    assert "Joe (US English, bundled) will guide your practices" in window.banner_label.text()
    session.stop(fade_s=0.1)


def test_the_voice_card_can_be_dismissed(qtbot: QtBot, window: MainWindow,
                                         settings: Settings) -> None:
    answered: list[bool] = []
    card = window.offer_voice_choice(CARD_VOICES, on_done=lambda: answered.append(True))
    qtbot.mouseClick(card.dismiss_button, Qt.MouseButton.LeftButton)
    assert answered == [True] and window.library_view.top_card is None
    assert settings.text("voice") == ""
