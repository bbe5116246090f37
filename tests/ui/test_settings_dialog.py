"""The settings dialog: every option editable, Save writes only what changed, Cancel nothing."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QStandardItemModel, QWheelEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QSlider, QWidget
from pytestqt.qtbot import QtBot

from coreg_desktop.audio.ambience import AMBIENCES
from coreg_desktop.core import PREVIEW_ID
from coreg_desktop.preparation import Progress
from coreg_desktop.settings import OPTIONS, Settings
from coreg_desktop.tts import DEFAULT_VOICE_ID, VoiceInfo
from coreg_desktop.ui.bridge import PlayerBridge
from coreg_desktop.ui.settings_dialog import SettingsDialog, offered_voices, rate_text
from coreg_desktop.ui.volume import gain_to_slider, slider_to_gain

from ..qtkit import layout_problems, unnamed_controls

BUNDLED = VoiceInfo(DEFAULT_VOICE_ID, "piper", "Joe (US English, bundled)", "en_US", True, "Piper")
VOICES = [
    BUNDLED,
    VoiceInfo("en_GB-alba-medium", "piper", "Alba (en_GB, medium)", "en_GB", True, "user voice"),
    VoiceInfo("de_DE-thorsten-low", "piper", "Thorsten (de_DE)", "de_DE", False, "no json"),
    VoiceInfo("system:gmw/en", "system", "English (Great Britain)", "en-gb", True, "espeak"),
    VoiceInfo("system:gmw/en-us", "system", "English (America)", "en-us", True, "espeak"),
    VoiceInfo("system:roa/fr", "system", "French", "fr-fr", True, "espeak"),
    VoiceInfo("system:sem/ar", "system", "Arabic", "ar", True, "espeak"),
]


def make_dialog(
    qtbot: QtBot, settings: Settings, voices: list[VoiceInfo] = VOICES
) -> SettingsDialog:
    dialog = SettingsDialog(settings, voices)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def combo_texts(dialog: SettingsDialog) -> list[str]:
    combo = dialog.voice_combo
    return [combo.itemText(i) for i in range(combo.count()) if combo.itemText(i)]


def test_controls_show_the_current_settings(
    qtbot: QtBot, settings: Settings, themed: Callable[..., None]
) -> None:
    settings.set("name", "Sam")
    settings.set("safe_person.name", "Grandma Rose")
    settings.set("rate", 0.85)
    settings.set("volume.voice", 0.5)
    settings.set("ambience", "ocean")
    settings.set("captions", False)
    settings.set("start_at_login", True)
    dialog = make_dialog(qtbot, settings)
    assert dialog.name_edit.text() == "Sam"
    assert dialog.safe_person_edit.text() == "Grandma Rose"
    assert dialog.rate_slider.value() == 85
    assert dialog.rate_value.text() == "Slower (0.85\u00d7)"
    assert dialog.voice_volume_slider.value() == gain_to_slider(0.5)
    assert dialog.ambience_combo.currentData() == "ocean"
    assert dialog.ambience_combo.currentText() == "Ocean"
    assert not dialog.captions_check.isChecked()
    assert dialog.start_at_login_check.isChecked()
    assert not dialog.reduced_motion_check.isChecked()
    assert dialog.voice_combo.currentIndex() == 0 and dialog.voice_combo.currentData() == ""


def test_save_writes_only_what_changed_and_reports_it(
    qtbot: QtBot, settings: Settings, themed: Callable[..., None]
) -> None:
    dialog = make_dialog(qtbot, settings)
    qtbot.keyClicks(dialog.name_edit, "  Sam ")
    dialog.safe_person_edit.setText("my sister Ana")
    dialog.rate_slider.setValue(90)
    dialog.captions_check.click()
    dialog.ambience_combo.setCurrentIndex(dialog.ambience_combo.findData("rain"))
    with qtbot.waitSignal(dialog.accepted):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.changed_keys() == ["name", "safe_person.name", "rate", "ambience", "captions"]
    assert settings["name"] == "Sam"
    assert settings["rate"] == 0.9
    saved = json.loads(settings.path.read_text(encoding="utf-8"))
    assert saved["name"] == "Sam" and saved["safe_person.name"] == "my sister Ana"
    assert saved["captions"] is False and saved["ambience"] == "rain"
    assert "volume.voice" not in saved  # untouched: the slider's rounding did not leak in
    reloaded = Settings.load(settings.path)
    assert reloaded.as_dict() == settings.as_dict()


def test_untouched_save_changes_nothing_even_on_the_volume_curve(
    qtbot: QtBot, settings: Settings, themed: Callable[..., None]
) -> None:
    assert slider_to_gain(gain_to_slider(0.9)) != 0.9  # the curve really would round it
    before = settings.as_dict()
    dialog = make_dialog(qtbot, settings)
    dialog.accept()
    assert dialog.changed_keys() == []
    assert settings.as_dict() == before


def test_moving_a_slider_back_where_it_was_is_no_change(
    qtbot: QtBot, settings: Settings, themed: Callable[..., None]
) -> None:
    dialog = make_dialog(qtbot, settings)
    start = dialog.voice_volume_slider.value()
    dialog.voice_volume_slider.setValue(start - 20)
    assert dialog.pending_changes() == {"volume.voice": slider_to_gain(start - 20)}
    dialog.voice_volume_slider.setValue(start)
    assert dialog.pending_changes() == {}


def test_cancel_changes_nothing(
    qtbot: QtBot, settings: Settings, themed: Callable[..., None]
) -> None:
    before = settings.as_dict()
    dialog = make_dialog(qtbot, settings)
    dialog.name_edit.setText("Sam")
    dialog.reduced_motion_check.click()
    dialog.voice_volume_slider.setValue(10)
    with qtbot.waitSignal(dialog.rejected):
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert dialog.changed_keys() == []
    assert settings.as_dict() == before
    assert not settings.path.exists()


def test_every_option_has_a_control(
    qtbot: QtBot, settings: Settings, themed: Callable[..., None]
) -> None:
    dialog = make_dialog(qtbot, settings)
    dialog.name_edit.setText("Sam")
    dialog.name_spoken_edit.setText("Sahm")
    dialog.speak_to_combo.setCurrentIndex(dialog.speak_to_combo.findData("you"))
    dialog.safe_person_edit.setText("Ana")
    dialog.voice_combo.setCurrentIndex(dialog.voice_combo.findData("system:gmw/en"))
    dialog.rate_slider.setValue(120)
    dialog.voice_volume_slider.setValue(40)
    dialog.ambience_volume_slider.setValue(30)
    dialog.ambience_combo.setCurrentIndex(dialog.ambience_combo.findData("none"))
    for check in (
        dialog.captions_check,
        dialog.reduced_motion_check,
        dialog.hide_counts_check,
        dialog.tray_click_check,
        dialog.start_at_login_check,
        dialog.checkin_before_check,
        dialog.checkin_after_check,
        dialog.streaks_check,
        dialog.reminders_check,
        dialog.day_checks["sun"],
    ):
        check.click()
    dialog.times_edit.setText("19:30, 08:00")
    dialog.accept()
    assert dialog.changed_keys() == [o.key for o in OPTIONS]
    assert settings["voice"] == "system:gmw/en"
    assert settings["ambience"] == "none"
    assert settings["rate"] == 1.2
    assert settings["tray.click"] == "open"
    assert settings["name_spoken"] == "Sahm" and settings["speak_to"] == "you"
    assert settings["checkin.before"] is False and settings["checkin.after"] is False
    assert settings["progress.streaks"] is True and settings["reminders.enabled"] is True
    assert settings["reminders.times"] == ["08:00", "19:30"]
    assert settings["reminders.days"] == ["mon", "tue", "wed", "thu", "fri", "sat"]


def test_reminder_times_that_cannot_be_read_say_so_and_wait(
    qtbot: QtBot, settings: Settings, themed: Callable[..., None]
) -> None:
    dialog = make_dialog(qtbot, settings)
    assert dialog.times_edit.text() == "19:00"
    dialog.times_edit.setText("7pm")
    assert dialog.times_problem_label.isVisible()
    assert "08:30 or 19:00" in dialog.times_problem_label.text()
    assert not dialog.save_button.isEnabled()
    dialog.accept()
    assert dialog.isVisible() and not settings.path.exists()
    dialog.times_edit.setText(" 07:15 ,19:00")
    assert not dialog.times_problem_label.isVisible() and dialog.save_button.isEnabled()
    dialog.accept()
    assert dialog.changed_keys() == ["reminders.times"]
    assert settings["reminders.times"] == ["07:15", "19:00"]


def test_retyping_the_same_times_is_no_change(
    qtbot: QtBot, settings: Settings, themed: Callable[..., None]
) -> None:
    dialog = make_dialog(qtbot, settings)
    dialog.times_edit.setText("19:00 ")
    assert dialog.pending_changes() == {}


def test_voice_list_is_a_sensible_few(
    qtbot: QtBot, settings: Settings, themed: Callable[..., None]
) -> None:
    dialog = make_dialog(qtbot, settings)
    texts = combo_texts(dialog)
    assert texts[0].startswith("Joe (US English, bundled)")
    assert dialog.voice_combo.itemData(0) == ""
    assert "English (Great Britain) (system voice)" in texts
    assert not any("French" in t or "Arabic" in t for t in texts)
    assert any(t.startswith("Alba") for t in texts)
    # A Piper voice that cannot load is listed but cannot be chosen.
    index = dialog.voice_combo.findData("de_DE-thorsten-low")
    model = dialog.voice_combo.model()
    assert isinstance(model, QStandardItemModel)
    item = model.item(index)
    assert item is not None and not item.isEnabled()


def test_the_current_voice_is_always_offered(
    qtbot: QtBot, settings: Settings, themed: Callable[..., None]
) -> None:
    assert [v.id for v in offered_voices(VOICES, "system:roa/fr")].count("system:roa/fr") == 1
    settings.set("voice", "system:roa/fr")
    dialog = make_dialog(qtbot, settings)
    assert dialog.voice_combo.currentData() == "system:roa/fr"
    assert dialog.voice_combo.currentText() == "French (system voice)"

    settings.set("voice", "gone-voice")
    dialog = make_dialog(qtbot, settings)
    assert dialog.voice_combo.currentData() == "gone-voice"
    assert "not installed" in dialog.voice_combo.currentText()
    dialog.accept()
    assert dialog.changed_keys() == []


def test_the_bundled_voice_by_name_is_the_default_entry(
    qtbot: QtBot, settings: Settings, themed: Callable[..., None]
) -> None:
    settings.set("voice", DEFAULT_VOICE_ID)
    dialog = make_dialog(qtbot, settings)
    assert dialog.voice_combo.currentIndex() == 0
    dialog.accept()
    assert dialog.changed_keys() == [] and settings["voice"] == DEFAULT_VOICE_ID


def test_ambience_choices_cover_every_soundscape(
    qtbot: QtBot, settings: Settings, themed: Callable[..., None]
) -> None:
    dialog = make_dialog(qtbot, settings)
    combo = dialog.ambience_combo
    data = [combo.itemData(i) for i in range(combo.count())]
    assert data == ["", *AMBIENCES, "none"]
    assert combo.itemText(0) == "Each practice's own"


def test_name_fields_explain_use_and_privacy(
    qtbot: QtBot, settings: Settings, themed: Callable[..., None]
) -> None:
    dialog = make_dialog(qtbot, settings)
    for edit in (dialog.name_edit, dialog.safe_person_edit):
        assert "stays on this computer" in edit.accessibleDescription()
    assert "Safe Person" in dialog.safe_person_edit.accessibleDescription()


def test_accessible_names_and_tab_order(
    qtbot: QtBot, settings: Settings, themed: Callable[..., None]
) -> None:
    dialog = make_dialog(qtbot, settings)
    assert unnamed_controls(dialog) == []
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    dialog.name_edit.setFocus()
    qtbot.waitUntil(dialog.name_edit.hasFocus)
    visited = [QApplication.focusWidget()]
    for _ in range(len(dialog.tab_order) - 1):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        visited.append(QApplication.focusWidget())
    assert visited == dialog.tab_order
    assert visited[0] is dialog.name_edit and visited[-1] is dialog.save_button


def test_a_failed_save_keeps_the_dialog_and_the_old_values(
    qtbot: QtBot, tmp_path: Path, themed: Callable[..., None]
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    settings = Settings(path=blocker / "settings.json")
    dialog = make_dialog(qtbot, settings)
    dialog.name_edit.setText("Sam")
    dialog.accept()
    assert dialog.isVisible()
    assert settings["name"] == ""
    assert dialog.changed_keys() == []
    assert isinstance(dialog.save_problem_box, QMessageBox)
    dialog.save_problem_box.close()


def test_rate_text() -> None:
    assert rate_text(1.0) == "Normal"
    assert rate_text(0.6) == "Slower (0.6\u00d7)"
    assert rate_text(1.25) == "Faster (1.25\u00d7)"


def test_large_font_and_dark_palette(
    qtbot: QtBot, settings: Settings, themed: Callable[..., None], tmp_path: Path
) -> None:
    themed(dark=True, font_scale=1.5)
    dialog = make_dialog(qtbot, settings)
    qtbot.wait(50)
    assert layout_problems(dialog) == []
    content = dialog.scroll_area.widget()
    assert content is not None
    assert content.width() <= dialog.scroll_area.viewport().width()  # no sideways scrolling
    assert layout_problems(content) == []
    bg = dialog.palette().color(dialog.backgroundRole())
    assert bg.lightnessF() < 0.25
    assert dialog.name_edit.palette().color(dialog.name_edit.foregroundRole()).lightnessF() > 0.75
    dialog.grab().save(str(tmp_path / "settings-dark-150.png"))


def test_the_voice_section_says_how_far_the_preparation_has_got(
    qtbot: QtBot, settings: Settings, bridge: PlayerBridge, themed: Callable[..., None]
) -> None:
    dialog = SettingsDialog(settings, [], bridge=bridge)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert not dialog.preparation_label.isVisible()  # nothing heard yet: nothing to say
    bridge.preparationChanged.emit(Progress(1, 4, "stay-safe"))
    qtbot.waitUntil(dialog.preparation_label.isVisible)
    assert dialog.preparation_label.text() == "Preparing the voice: 1 of 4 practices ready."
    bridge.preparationChanged.emit(Progress(4, 4))
    qtbot.waitUntil(lambda: not dialog.preparation_label.isVisible())


def test_preview_says_one_calm_line_with_the_name_in_the_voice_shown(
    qtbot: QtBot, settings: Settings, bridge: PlayerBridge, themed: Callable[..., None]
) -> None:
    settings.set("name", "Sam")
    dialog = SettingsDialog(settings, VOICES, bridge=bridge)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    started: list[str] = []
    bridge.practiceStarted.connect(started.append)
    qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)
    session = bridge.player.session
    assert session is not None and session.id == PREVIEW_ID
    assert session.wait_narrated(timeout=60)
    said = [s.key for s in session.timeline.sounds]
    assert said == ["It's okay, Sam.", "I'm right here with you."]
    qtbot.wait(100)
    assert started == [] and not bridge.active  # a preview is not a practice: views stay put
    assert settings.path.exists() is False  # hearing a voice chooses nothing
    session.stop(fade_s=0.1)


# ------------------------------------------------------------------------ names


def test_the_name_preview_says_the_unsaved_name_the_way_it_is_spelt_to_be_said(
    qtbot: QtBot, settings: Settings, bridge: PlayerBridge, themed: Callable[..., None]
) -> None:
    dialog = SettingsDialog(settings, VOICES, bridge=bridge)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert not dialog.name_preview_button.isEnabled()  # no name yet: nothing to hear
    qtbot.keyClicks(dialog.name_edit, "Saoirse")
    assert dialog.name_preview_button.isEnabled()
    qtbot.keyClicks(dialog.name_spoken_edit, "Seersha")
    qtbot.mouseClick(dialog.name_preview_button, Qt.MouseButton.LeftButton)
    session = bridge.player.session
    assert session is not None and session.id == PREVIEW_ID
    assert session.wait_narrated(timeout=60)
    assert [s.key for s in session.timeline.sounds] == ["It's okay, Seersha."]
    assert session.timeline.state_at(session.timeline.sounds[0].start + 10).caption == (
        "It's okay, Saoirse."
    )
    session.stop(fade_s=0.1)
    dialog.name_spoken_edit.clear()  # without a respelling the name is said as written
    qtbot.mouseClick(dialog.name_preview_button, Qt.MouseButton.LeftButton)
    again = bridge.player.session
    assert again is not None and again is not session and again.wait_narrated(timeout=60)
    assert [s.key for s in again.timeline.sounds] == ["It's okay, Saoirse."]
    again.stop(fade_s=0.1)
    assert not settings.path.exists()  # hearing a name saves nothing
    assert settings["name"] == ""


@pytest.mark.parametrize("field", ["name_edit", "name_spoken_edit", "safe_person_edit"])
@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Sam\nJones", "a line break"),
        ("Sam \U0001f60a", "an emoji or symbol"),
        ("x" * 200, "is 200 characters long"),
        ("Sam'; rm -rf ~", '";"'),
        ('Sam" = 1', '"""'),
        ("{name}", '"{"'),
    ],
)
def test_an_odd_name_gets_one_line_under_the_fields_and_nothing_is_saved(
    qtbot: QtBot, settings: Settings, themed: Callable[..., None], field: str, text: str,
    said: str,
) -> None:
    dialog = make_dialog(qtbot, settings)
    edit = getattr(dialog, field)
    edit.setText(text)
    label = dialog.name_problem_label
    assert label.isVisible() and said in label.text() and "\n" not in label.text()
    assert label.text().startswith(
        {"name_edit": "Your first name", "name_spoken_edit": "Say it like",
         "safe_person_edit": "A safe person"}[field]
    )
    assert not dialog.save_button.isEnabled()
    dialog.accept()  # Enter in a field, say: the dialog stays, and nothing is written
    assert dialog.isVisible() and not settings.path.exists()
    assert edit.text() == text  # what was typed is kept, to be fixed, not thrown away
    edit.setText("Zoë")
    assert not label.isVisible() and dialog.save_button.isEnabled()
    dialog.accept()
    assert settings[{"name_edit": "name", "name_spoken_edit": "name_spoken",
                     "safe_person_edit": "safe_person.name"}[field]] == "Zoë"


def test_kind_words_by_name_or_as_you(
    qtbot: QtBot, settings: Settings, themed: Callable[..., None]
) -> None:
    dialog = make_dialog(qtbot, settings)
    combo = dialog.speak_to_combo
    assert combo.currentData() == "name"
    assert combo.itemText(0) == "By my name: \u201cIt\u2019s okay, Sam.\u201d"
    dialog.name_edit.setText("Siobhán")
    assert combo.itemText(0) == "By my name: \u201cIt\u2019s okay, Siobhán.\u201d"
    assert combo.itemText(1) == "As \u201cyou\u201d: \u201cIt\u2019s okay.\u201d"
    assert "Self-Compassion" in combo.accessibleDescription()
    combo.setCurrentIndex(1)
    dialog.accept()
    assert dialog.changed_keys() == ["name", "speak_to"]
    assert settings["speak_to"] == "you"


def test_names_section_in_light_and_dark(
    qtbot: QtBot, settings: Settings, bridge: PlayerBridge, themed: Callable[..., None],
    tmp_path: Path,
) -> None:
    shots = Path(os.environ.get("COREG_SHOTS", str(tmp_path)))
    shots.mkdir(parents=True, exist_ok=True)
    for dark in (False, True):
        themed(dark=dark)
        dialog = SettingsDialog(settings, VOICES, bridge=bridge)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        dialog.name_edit.setText("Saoirse")
        dialog.name_spoken_edit.setText("Seersha")
        qtbot.wait(50)
        assert layout_problems(dialog) == []
        content = dialog.scroll_area.widget()
        assert content is not None and layout_problems(content) == []
        assert unnamed_controls(dialog) == []
        row = dialog.name_edit.geometry()
        button = dialog.name_preview_button.geometry()
        assert abs(row.center().y() - button.center().y()) <= 2  # the Preview beside the name
        assert button.left() >= row.right()
        look = "dark" if dark else "light"
        ready = dialog.save_button.grab().toImage()
        accent = ready.pixelColor(6, ready.height() // 2)
        dialog.grab().save(str(shots / f"settings-names-{look}.png"))
        dialog.safe_person_edit.setText("Gran \U0001f60a")
        qtbot.wait(50)
        assert dialog.name_preview_button.isEnabled()  # the name itself is fine
        assert not dialog.save_button.isEnabled()
        # A Save that waits looks it: not the accent colour of one that can be pressed.
        waiting = dialog.save_button.grab().toImage()
        assert waiting.pixelColor(6, waiting.height() // 2) != accent
        assert layout_problems(content) == []
        dialog.grab().save(str(shots / f"settings-names-problem-{look}.png"))
        dialog.reject()


def _wheel_down(widget: QWidget) -> None:
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                        QPoint(0, -120), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_the_wheel_scrolls_the_page_and_never_changes_a_setting_under_the_pointer(
    qtbot: QtBot, settings: Settings, themed: Callable[..., None]
) -> None:
    """Found in a walkthrough: scrolling the settings changed the narration voice."""
    dialog = make_dialog(qtbot, settings)
    dialog.resize(dialog.width(), 420)  # short enough to scroll
    dialog.activateWindow()  # focus needs an active window
    qtbot.waitUntil(dialog.isActiveWindow)
    bar = dialog.scroll_area.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    combo = dialog.voice_combo
    dialog.name_edit.setFocus()
    voice, start = combo.currentIndex(), bar.value()
    _wheel_down(combo)
    assert combo.currentIndex() == voice, "the wheel changed the voice"
    assert bar.value() > start, "the page did not scroll"
    slider = dialog.findChildren(QSlider)[0]
    level = slider.value()
    _wheel_down(slider)
    assert slider.value() == level
    # Once a person has chosen the control, the wheel is theirs to use on it.
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus)
    _wheel_down(combo)
    assert combo.currentIndex() != voice
