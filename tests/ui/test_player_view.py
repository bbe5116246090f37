"""The player view: captions, progress, transport, volumes and ambience over a real player."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QApplication,
    QComboBox,
    QLabel,
    QProgressBar,
    QWidget,
)
from pytestqt.qtbot import QtBot

from coreg_desktop.audio.ambience import AMBIENCES
from coreg_desktop.audio.mixer import Transport
from coreg_desktop.practice.loader import Library
from coreg_desktop.practice.model import Breathe, Cue, Phase, Practice, Say
from coreg_desktop.practice.timeline import format_clock
from coreg_desktop.settings import Settings
from coreg_desktop.ui import theme
from coreg_desktop.ui.bridge import PlayerBridge
from coreg_desktop.ui.player_view import FINISHED_CAPTION, PlayerView
from coreg_desktop.ui.volume import gain_to_slider, slider_to_gain

SENTENCE = "Feel your feet on the floor."
# One short sentence (real synthesis, cached for the run), then slow breaths with tone cues, so a
# practice is playing for as long as a test needs it.
PRACTICE = Practice(
    id="player-test",
    title="Player Test",
    summary="A sentence and some breaths.",
    ambience="brown-noise",
    steps=(
        Say(SENTENCE, pause=0.3),
        Breathe(inhale=2, exhale=3, cycles=20, cue=Cue.TONE),
    ),
)


pytestmark = pytest.mark.usefixtures("collect_on_the_gui_thread")


@pytest.fixture
def live(bridge: PlayerBridge, library: Library) -> PlayerBridge:
    """The real bridge with the test practice in its library and the audio clock running."""
    library.practices[PRACTICE.id] = PRACTICE
    bridge.player.open()
    return bridge


@pytest.fixture
def view(
    qtbot: QtBot, themed: Callable[..., None], bridge: PlayerBridge, settings: Settings
) -> PlayerView:
    view = PlayerView(bridge, settings)
    qtbot.addWidget(view)
    view.resize(760, 720)
    return view


def _start(qtbot: QtBot, bridge: PlayerBridge) -> None:
    with qtbot.waitSignal(bridge.practiceStarted):
        assert bridge.play(PRACTICE.id)
    qtbot.waitUntil(lambda: bridge.transport is Transport.PLAYING, timeout=5000)


# ------------------------------------------------------------------------------ volume curve


def test_volume_slider_is_perceptual_and_round_trips() -> None:
    assert slider_to_gain(0) == 0.0
    assert slider_to_gain(100) == 1.0
    assert slider_to_gain(50) == pytest.approx(0.125)
    assert slider_to_gain(-5) == 0.0 and slider_to_gain(140) == 1.0
    gains = [slider_to_gain(v) for v in range(101)]
    assert all(b > a for a, b in itertools.pairwise(gains))
    assert all(gain_to_slider(slider_to_gain(v)) == v for v in range(101))
    assert gain_to_slider(0.0) == 0 and gain_to_slider(1.0) == 100
    assert gain_to_slider(float("nan")) == 0 and gain_to_slider(7.0) == 100


# ------------------------------------------------------------------------------ controls


def test_sliders_show_saved_gains_and_changes_reach_the_mixer_and_the_file(
    qtbot: QtBot, themed: Callable[..., None], live: PlayerBridge, settings: Settings
) -> None:
    """The view only changes the settings; the core, which owns the player, follows them."""
    settings.update({"volume.voice": 0.216, "volume.ambience": 0.064})
    view = PlayerView(live, settings)
    qtbot.addWidget(view)
    assert view.voice_slider.value() == 60
    assert view.ambience_slider.value() == 40
    mixer = live.player.mixer
    qtbot.waitUntil(lambda: mixer._voice_target == pytest.approx(0.216), timeout=3000)

    view.voice_slider.setFocus()
    view.voice_slider.setValue(80)
    qtbot.waitUntil(lambda: mixer._voice_target == pytest.approx(0.512), timeout=3000)
    saved = json.loads(settings.path.read_text())
    assert saved["volume.voice"] == pytest.approx(0.512)

    view.ambience_slider.setValue(100)
    qtbot.waitUntil(lambda: mixer._amb_target == pytest.approx(1.0), timeout=3000)
    assert json.loads(settings.path.read_text())["volume.ambience"] == 1.0


def test_ambience_picker_offers_every_soundscape_and_switches_it(
    qtbot: QtBot, view: PlayerView, live: PlayerBridge
) -> None:
    picker = view.ambience_picker
    titles = [picker.itemText(i) for i in range(picker.count())]
    assert titles == [info.title for info in AMBIENCES.values()] + ["Silence"]
    assert not picker.isEnabled(), "nothing to switch before a practice plays"

    # A mix added in a terminal while the window is open is offered with the next practice.
    from coreg_desktop.audio.mixes import Layer, Mix
    from coreg_desktop.core import mix_book

    mix_book().add(Mix("evening", "Evening", (Layer("rain", 0.7), Layer("soft-pad", 0.4))))
    _start(qtbot, live)
    qtbot.waitUntil(picker.isEnabled)
    assert picker.findData("mix:evening") >= 0, "the new mix is not offered"
    assert picker.currentData() == "brown-noise"
    rain = picker.findData("rain")
    picker.setCurrentIndex(rain)
    picker.activated.emit(rain)
    qtbot.waitUntil(lambda: live.current_ambience == "rain", timeout=20000)


def test_caption_shows_the_sentence_being_spoken_and_can_be_hidden(
    qtbot: QtBot, view: PlayerView, live: PlayerBridge
) -> None:
    view.show()
    _start(qtbot, live)
    qtbot.waitUntil(lambda: view.caption.text() == SENTENCE, timeout=20000)
    assert view.caption.isVisible()
    view.set_captions_visible(False)
    assert not view.caption.isVisible()
    view.set_captions_visible(True)
    assert view.caption.isVisible()
    # Into the breathing: nothing is being said, so the caption line empties.
    qtbot.waitUntil(lambda: view.caption.text() == "", timeout=20000)


def test_captions_setting_off_hides_the_caption(
    qtbot: QtBot, themed: Callable[..., None], bridge: PlayerBridge, tmp_path: Path
) -> None:
    view = PlayerView(bridge, Settings({"captions": False}, path=tmp_path / "s.json"))
    qtbot.addWidget(view)
    view.show()
    assert not view.caption.isVisible()


def test_play_pause_stop_and_play_again(qtbot: QtBot, view: PlayerView, live: PlayerBridge) -> None:
    view.show()
    assert not view.play_button.isEnabled() and not view.stop_button.isEnabled()
    _start(qtbot, live)
    qtbot.waitUntil(view.stop_button.isEnabled)
    assert view.play_button.accessibleName() == "Pause"
    assert view.title.text() == "Player Test"

    qtbot.mouseClick(view.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: live.transport is Transport.PAUSED)
    qtbot.waitUntil(lambda: view.play_button.accessibleName() == "Resume")
    qtbot.mouseClick(view.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: live.transport is Transport.PLAYING)
    qtbot.waitUntil(lambda: view.play_button.accessibleName() == "Pause")

    with qtbot.waitSignal(live.stopped, timeout=5000):
        qtbot.mouseClick(view.stop_button, Qt.MouseButton.LeftButton)
    assert not view.stop_button.isEnabled()
    assert view.play_button.isEnabled() and view.play_button.accessibleName() == "Play"
    with qtbot.waitSignal(live.practiceStarted, timeout=5000):
        qtbot.mouseClick(view.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: live.transport is Transport.PLAYING, timeout=5000)


def test_progress_follows_the_audio_clock_and_the_orb_breathes_on_screen(
    qtbot: QtBot, view: PlayerView, live: PlayerBridge, tmp_path: Path
) -> None:
    view.show()
    qtbot.waitExposed(view)
    _start(qtbot, live)

    def in_phase(phase: Phase, past: float) -> bool:
        state = live.state()
        return state is not None and state.phase is phase and state.phase_progress > past

    qtbot.waitUntil(lambda: in_phase(Phase.INHALE, 0.6), timeout=20000)
    inhale = view.grab()
    inhale.save(str(tmp_path / "player-inhale.png"))
    state = live.state()
    assert state is not None
    qtbot.waitUntil(lambda: view.progress.value() > 0)
    assert view.remaining_label.text().endswith(" left")
    assert view.elapsed_label.text() in {format_clock(state.t), format_clock(state.t + 1)}
    qtbot.waitUntil(lambda: in_phase(Phase.EXHALE, 0.7), timeout=10000)
    exhale = view.grab()
    exhale.save(str(tmp_path / "player-exhale.png"))

    orb_box = QRect(view.orb.mapTo(view, QPoint(0, 0)), view.orb.size())
    a = inhale.toImage().copy(orb_box)
    b = exhale.toImage().copy(orb_box)
    assert _opaque_width(a) > _opaque_width(b) + 10, "fuller at the end of an inhale"


def _opaque_width(image: QImage) -> int:
    """Width of the orb's body on the middle row: pixels far from the window background."""
    y = image.height() // 2
    bg = image.pixelColor(2, y)
    return sum(1 for x in range(image.width()) if _distance(image.pixelColor(x, y), bg) > 60)


def _distance(a: QColor, b: QColor) -> int:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue())


def test_the_end_of_a_practice_is_said_gently(
    qtbot: QtBot, view: PlayerView, bridge: PlayerBridge, library: Library
) -> None:
    short = Practice(id="tiny", title="Tiny", steps=(Breathe(inhale=1, exhale=1, cycles=1),))
    library.practices[short.id] = short
    bridge.player.open()
    view.show()
    with qtbot.waitSignal(bridge.finished, timeout=20000):
        bridge.play(short.id)
    assert view.caption.text() == FINISHED_CAPTION
    assert view.remaining_label.text() == "Finished"
    assert view.progress.value() == 1000


def test_back_button_asks_to_go_back(qtbot: QtBot, view: PlayerView) -> None:
    view.show()
    with qtbot.waitSignal(view.backRequested):
        qtbot.mouseClick(view.back_button, Qt.MouseButton.LeftButton)


# ------------------------------------------------------------------------------ accessibility


def test_every_control_is_named_and_tab_order_is_sensible(qtbot: QtBot, view: PlayerView) -> None:
    view.show()
    controls = [
        w
        for w in view.findChildren(QWidget)
        if isinstance(w, QAbstractButton | QAbstractSlider | QComboBox | QProgressBar)
        and w.window() is view  # not the parts of the ambience list's popup
    ]
    assert len(controls) >= 7
    for control in controls:
        assert control.accessibleName(), f"{control!r} has no accessible name"
    assert view.orb.accessibleName()
    assert view.caption.accessibleName()

    expected = [
        view.back_button,
        view.play_button,
        view.stop_button,
        view.voice_slider,
        view.ambience_slider,
        view.ambience_picker,
    ]
    order: list[QWidget] = []
    widget: QWidget | None = view.back_button
    for _ in range(len(expected)):
        assert widget is not None
        order.append(widget)
        widget = widget.nextInFocusChain()
        while widget is not None and (
            not (widget.focusPolicy() & Qt.FocusPolicy.TabFocus) or widget is view
        ):
            widget = widget.nextInFocusChain()
    assert order == expected


def _clipped(view: QWidget) -> list[str]:
    problems = []
    for label in view.findChildren(QLabel):
        if not label.isVisible() or not label.text():
            continue
        if label.wordWrap():
            if label.heightForWidth(label.width()) > label.height() + 1:
                problems.append(f"{label.text()!r} needs more height")
        elif label.sizeHint().width() > label.width():
            problems.append(
                f"{label.text()!r} is cut ({label.sizeHint().width()} > {label.width()})"
            )
    for button in view.findChildren(QAbstractButton):
        if not button.isVisible():
            continue
        if button.text():
            if button.sizeHint().width() > button.width() + 1:
                problems.append(f"button {button.text()!r} is cut")
        elif button.iconSize().width() > button.width() - 8:
            problems.append(f"the icon of {button.accessibleName()!r} has no room")
    return problems


def test_layout_survives_a_150_percent_font(
    qtbot: QtBot, themed: Callable[..., None], live: PlayerBridge, settings: Settings
) -> None:
    themed(font_scale=1.5)  # the stylesheet scales with the font
    view = PlayerView(live, settings)
    qtbot.addWidget(view)
    _start(qtbot, live)
    minimum = view.minimumSizeHint()
    assert minimum.width() <= 900 and minimum.height() <= 760, minimum
    view.resize(minimum)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.remaining_label.text() != "")
    assert _clipped(view) == []
    view.resize(QSize(1000, 800))
    assert _clipped(view) == []


def test_the_view_follows_a_switch_to_the_dark_palette(
    qtbot: QtBot, qapp: QApplication, themed: Callable[..., None], bridge: PlayerBridge,
    settings: Settings,
) -> None:
    view = PlayerView(bridge, settings)
    qtbot.addWidget(view)
    view.resize(760, 720)
    view.show()
    qtbot.waitExposed(view)
    light, dark = theme.colors(False), theme.colors(True)
    assert light.accent.name() in view.play_button.styleSheet()

    theme.apply_theme(qapp, dark=True, follow=False)  # as when the desktop turns dark
    qtbot.waitUntil(lambda: dark.accent.name() in view.play_button.styleSheet())
    assert light.accent.name() not in view.play_button.styleSheet()
    image = view.grab().toImage()
    assert image.pixelColor(5, 5).lightnessF() < 0.25
    # Captions are light text on the dark window.
    assert view.caption.palette().color(view.caption.foregroundRole()).lightnessF() > 0.6 or (
        "color: #" in view.caption.styleSheet()
        and QColor(view.caption.styleSheet().split("color: ")[1][:7]).lightnessF() > 0.6
    )


def test_caption_follows_a_change_of_the_desktop_font(
    qtbot: QtBot, themed: Callable[..., None], view: PlayerView
) -> None:
    before = view.caption.height()
    themed(font_scale=1.5)  # the desktop's font changes while Coreg runs; the theme follows
    qtbot.waitUntil(lambda: view.caption.height() > before * 1.3)
    assert view.caption.font().pointSizeF() > QApplication.font().pointSizeF()  # still larger


@pytest.mark.parametrize("dark", [False, True])
def test_the_sleep_timer_is_set_from_the_player_and_shows_its_time(
    qtbot: QtBot, themed: Callable[..., None], live: PlayerBridge, settings: Settings, dark: bool
) -> None:
    themed(dark=dark)
    view = PlayerView(live, settings)
    qtbot.addWidget(view)
    view.resize(760, 720)
    view.show()
    _start(qtbot, live)
    assert view.sleep_button.text() == "Sleep timer" and view.sleep_button.accessibleName()
    try:
        with qtbot.waitSignal(live.sleepChanged, timeout=2000):
            view.sleep_menu.choices[1].trigger()  # 30 minutes
        assert view.sleep_button.text() == "Sleep: 30 min"
        assert view.sleep_menu.title() == "Sleep timer: 30 min left"
        qtbot.waitExposed(view)
        qtbot.waitUntil(lambda: view.remaining_label.text() != "")
        qtbot.waitUntil(lambda: _clipped(view) == [], timeout=2000)  # once laid out again
        shot = view.grab()
        folder = Path(__file__).resolve().parents[2] / "artifacts" / "sleep-timer"
        folder.mkdir(parents=True, exist_ok=True)
        shot.save(str(folder / f"player-sleep-{'dark' if dark else 'light'}.png"))
    finally:
        live.cancel_sleep()
    qtbot.waitUntil(lambda: view.sleep_button.text() == "Sleep timer", timeout=2000)


def test_export_writes_the_practice_on_screen_and_cancel_leaves_nothing(
    qtbot: QtBot, view: PlayerView, live: PlayerBridge, tmp_path: Path
) -> None:
    _start(qtbot, live)
    out = tmp_path / "player test.ogg"
    dialog = view.export_to_file(out)
    assert dialog is not None
    with qtbot.waitSignal(dialog.job.done, timeout=60_000):
        pass
    qtbot.waitUntil(lambda: dialog.result_text.startswith("Saved to"), timeout=5000)
    assert out.is_file() and out.stat().st_size > 10_000
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("player")] == [out.name]
    # Cancel: the render stops at its next step and no file appears (cancelled before it
    # starts, so the test does not race a fast render).
    from coreg_desktop.ui.export_dialog import ExportJob, ExportProgress

    second = tmp_path / "second.mp3"
    job = ExportJob(live, second)
    progress = ExportProgress(job, "Player Test", view)
    job.cancel()
    with qtbot.waitSignal(job.cancelled, timeout=30_000):
        job.start()
    qtbot.waitUntil(lambda: progress.result_text != "", timeout=5000)
    assert progress.result_text == "Cancelled; nothing was written."
    assert not second.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".coreg")]
    live.stop(fade_s=0.05)
