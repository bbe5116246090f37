"""Settings' safe-people panel: real store on disk, real imports, a real player playing a memo."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from coreg_desktop.core import MEMO_PREVIEW_ID
from coreg_desktop.safe_people import SafePeople
from coreg_desktop.settings import Settings
from coreg_desktop.ui.bridge import PlayerBridge
from coreg_desktop.ui.safe_people_panel import SafePeoplePanel
from coreg_desktop.ui.settings_dialog import SettingsDialog
from tests.memo_inputs import memo_file, photo_file

from ..qtkit import layout_problems, unnamed_controls

pytestmark = pytest.mark.usefixtures("collect_on_the_gui_thread")


def make_panel(qtbot: QtBot, bridge: PlayerBridge | None = None) -> SafePeoplePanel:
    panel = SafePeoplePanel(bridge=bridge)
    qtbot.addWidget(panel)
    panel.resize(560, 640)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def add(panel: SafePeoplePanel, name: str, word: str = "") -> None:
    panel.name_edit.setText(name)
    panel.relationship_edit.setText(word)
    panel.add_button.click()


def test_add_edit_photo_and_remove(qtbot: QtBot, tmp_path: Path,
                                   themed: Callable[..., None]) -> None:
    panel = make_panel(qtbot)
    assert panel.people_list.count() == 0 and not panel.remove_button.isEnabled()
    add(panel, "Ana", "grandmother")
    add(panel, "Biscuit", "my dog")
    assert [p.name for p in SafePeople().all()] == ["Ana", "Biscuit"]
    assert panel.selected_name() == "Biscuit" and "Added Biscuit." in panel.status_label.text()
    add(panel, "ana")
    assert "already here" in panel.status_label.text() and len(SafePeople().all()) == 2
    panel.people_list.setCurrentRow(0)
    panel.relationship_edit.setText("granny")
    panel.save_button.click()
    assert SafePeople().require("Ana").relationship == "granny"
    assert panel.set_photo_from(photo_file(tmp_path / "ana.jpg", (900, 1200)))
    pixmap = panel.photo_label.pixmap()
    assert pixmap is not None and not pixmap.isNull()
    assert panel.photo_label.accessibleName() == "Photo of Ana"
    bad = tmp_path / "bad.png"
    bad.write_text("nope")
    assert not panel.set_photo_from(bad)
    assert "not a photo" in panel.status_label.text()
    assert SafePeople().require("Ana").photo is not None  # the good one is kept
    assert unnamed_controls(panel) == [] and layout_problems(panel) == []
    with qtbot.waitSignal(panel.chosen) as chosen:
        panel.use_button.click()
    assert chosen.args == ["Ana"]
    panel.remove_button.click()
    assert [p.name for p in SafePeople().all()] == ["Biscuit"]
    assert panel.people_list.count() == 1


def test_import_a_memo_in_the_background_and_play_it(
    qtbot: QtBot, tmp_path: Path, bridge: PlayerBridge, themed: Callable[..., None]
) -> None:
    panel = make_panel(qtbot, bridge)
    add(panel, "Ana")
    with qtbot.waitSignal(panel.changed, timeout=30_000):
        assert panel.import_memo_from(memo_file(tmp_path, ".m4a", seconds=2.0))
        assert panel.busy and not panel.import_button.isEnabled()  # no second import meanwhile
    assert not panel.busy
    assert panel.memo_list.count() == 1
    assert panel.memo_list.item(0).text().startswith("memo from grandma.m4a (0:0")
    assert panel.play_button.isEnabled()
    panel.play_button.click()
    session = bridge.player.session
    assert session is not None and session.id == MEMO_PREVIEW_ID
    qtbot.waitUntil(lambda: session.state().kind == "memo", timeout=10_000)
    assert session.state().caption == "memo from grandma.m4a"
    session.stop(fade_s=0.05)
    fake = tmp_path / "fake.mp3"
    fake.write_text("not audio")
    with qtbot.waitSignal(panel.changed, timeout=30_000):
        panel.import_memo_from(fake)
    line = panel.status_label.text()
    assert str(fake) in line and "could not be read as audio" in line and "\n" not in line
    assert panel.memo_list.count() == 1
    panel.remove_memo_button.click()
    assert panel.memo_list.count() == 0 and SafePeople().require("Ana").memos == ()


def test_a_safe_person_typed_in_settings_gets_a_profile_on_save(
    qtbot: QtBot, settings: Settings, themed: Callable[..., None]
) -> None:
    dialog = SettingsDialog(settings, [])
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.safe_person_edit.setText("Rose")
    dialog.accept()
    assert settings["safe_person.name"] == "Rose"
    assert SafePeople().require("rose").name == "Rose"
    # Removing the person practices use lets go of them in the field too (saved with Save).
    again = SettingsDialog(settings, [])
    qtbot.addWidget(again)
    again.show()
    assert again.safe_person_edit.text() == "Rose"
    assert again.safe_people_panel.remove_person()
    assert again.safe_person_edit.text() == ""
    again.accept()
    assert settings["safe_person.name"] == ""


def test_without_a_microphone_recording_says_so_plainly(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, themed: Callable[..., None]
) -> None:
    import sounddevice

    from coreg_desktop.audio.record import NO_INPUT
    from coreg_desktop.ui.record_dialog import RecordDialog

    def no_device(*_args: object, **_kwargs: object) -> object:
        raise sounddevice.PortAudioError("Error querying device -1")

    # A fake only for what a test cannot own: a computer without any input device.
    monkeypatch.setattr(sounddevice, "query_devices", no_device)
    panel = make_panel(qtbot)
    add(panel, "Ana")
    panel.record_button.click()
    dialog = panel.record_dialog
    assert isinstance(dialog, RecordDialog)
    assert not dialog.start()
    assert dialog.status_label.text() == NO_INPUT
    assert not dialog.keep_button.isEnabled()
    assert unnamed_controls(dialog) == []
    dialog.reject()
