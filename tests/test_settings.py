"""The settings owner: typed values over the option table, subscribers, and saves that merge."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from coreg_desktop import settings as settings_mod
from coreg_desktop.settings import OPTIONS, SettingError, Settings, format_value, parse

#: A settings file exactly as the first release (before dotted keys) wrote it.
FIRST_RELEASE_FILE = {
    "ambience": "ocean",
    "ambience_volume": 0.4,
    "captions": True,
    "name": "Sam",
    "rate": 0.9,
    "reduced_motion": False,
    "safe_person": "Grandma Rose",
    "start_at_login": False,
    "tray_click_opens_window": True,
    "voice": "",
    "voice_volume": 0.8,
}


def write(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_a_file_written_by_the_first_release_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    write(path, FIRST_RELEASE_FILE)
    settings = Settings.load(path)
    assert settings.problems == []
    assert settings["volume.voice"] == 0.8
    assert settings["volume.ambience"] == 0.4
    assert settings["tray.click"] == "open"
    assert settings["safe_person.name"] == "Grandma Rose"
    assert settings["name"] == "Sam" and settings["rate"] == 0.9 and settings["ambience"] == "ocean"
    # The next save writes today's keys, and the old ones are gone.
    settings.set("captions", False)
    settings.save()
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["volume.voice"] == 0.8 and saved["tray.click"] == "open"
    assert not {"voice_volume", "ambience_volume", "tray_click_opens_window", "safe_person"} & set(
        saved
    )
    assert Settings.load(path).as_dict() == settings.as_dict()


def test_tray_click_false_migrates_to_the_quick_reset(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    write(path, {"tray_click_opens_window": False})
    assert Settings.load(path)["tray.click"] == "quick-reset"


def test_a_save_merges_only_this_process_changes(tmp_path: Path) -> None:
    """The app releases a volume slider a moment after a terminal set the name: both stay."""
    path = tmp_path / "settings.json"
    app = Settings.load(path)
    terminal = Settings.load(path)
    terminal.set("name", "Robin")
    terminal.save()
    app.set("volume.voice", 0.5)
    app.save()
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved == {"name": "Robin", "volume.voice": 0.5}
    # And the app learns the terminal's change when it reloads, without losing its own.
    assert app.reload() == ["name"]
    assert app["name"] == "Robin" and app["volume.voice"] == 0.5


def test_reload_keeps_values_changed_here_but_not_yet_saved(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    app = Settings.load(path)
    app.set("volume.voice", 0.3)  # a slider being dragged: set, not saved yet
    other = Settings.load(path)
    other.update({"volume.voice": 0.6, "captions": False})
    other.save()
    assert app.reload() == ["captions"]
    assert app["volume.voice"] == 0.3


def test_subscribers_hear_the_changed_keys_once_and_a_failing_one_does_not_stop_others(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(path=tmp_path / "s.json")
    heard: list[list[str]] = []

    def broken(_keys: list[str]) -> None:
        raise RuntimeError("boom")

    settings.subscribe(broken)
    unsubscribe = settings.subscribe(heard.append)
    assert settings.update({"rate": 0.8, "name": "Sam", "captions": True}) == ["rate", "name"]
    assert heard == [["name", "rate"]]  # option-table order; captions did not change
    assert "A settings subscriber failed" in caplog.text
    settings.set("rate", 0.8)  # no change: nobody is told
    assert heard == [["name", "rate"]]
    unsubscribe()
    settings.set("rate", 0.7)
    assert heard == [["name", "rate"]]


def test_unset_goes_back_to_the_default_and_leaves_the_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    settings = Settings.load(path)
    settings.update({"name": "Sam", "rate": 0.8})
    settings.save()
    settings.unset("name")
    settings.save()
    assert settings["name"] == ""
    assert json.loads(path.read_text(encoding="utf-8")) == {"rate": 0.8}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("rate", 2.0, "rate: 2.0 is not allowed; use a number from 0.6 to 1.5"),
        ("rate", "fast", 'rate: "fast" is not allowed; use a number from 0.6 to 1.5'),
        ("captions", 1, "captions: 1 is not allowed; use true or false"),
        ("ambience", "rainn", 'ambience: "rainn" is not allowed; use one of "" (empty), "rain"'),
        ("tray.click", "twice", 'tray.click: "twice" is not allowed; use one of "quick-reset"'),
        ("name", "Sam\x07", "name: "),
        ("name", "x" * 61, "at most 60 characters"),
        ("volume.voice", float("nan"), "volume.voice: nan is not allowed"),
    ],
)
def test_bad_values_are_refused_with_what_is_allowed(
    tmp_path: Path, key: str, value: object, message: str
) -> None:
    settings = Settings(path=tmp_path / "s.json")
    before = settings.as_dict()
    with pytest.raises(SettingError) as info:
        settings.set(key, value)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert settings.as_dict() == before


def test_unknown_keys_name_the_closest() -> None:
    with pytest.raises(SettingError, match=r'no setting called "volume\.voise"; did you mean '
                                           r"volume\.voice"):
        settings_mod.option("volume.voise")


def test_terminal_forms_round_trip() -> None:
    for option in OPTIONS:
        text = format_value(option.default)
        assert parse(option, text) == option.default, option.key
    assert parse(settings_mod.option("captions"), "FALSE") is False
    assert format_value(0.9) == "0.9" and format_value(1.0) == "1" and format_value(True) == "true"
    with pytest.raises(SettingError, match="use true or false"):
        parse(settings_mod.option("captions"), "yes")
    with pytest.raises(SettingError, match="not a number"):
        parse(settings_mod.option("rate"), "slow")


def test_a_wrong_value_in_the_file_costs_one_line_and_stays_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    write(path, {"rate": 9, "name": "Sam", "from_a_newer_version": {"x": 1}})
    lines: list[str] = []
    settings = Settings.load(path, report=lines.append)
    assert len(lines) == 1 and str(path) in lines[0] and "rate" in lines[0]
    assert settings["rate"] == 1.0 and settings["name"] == "Sam"
    settings.set("captions", False)
    settings.save()
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["rate"] == 9 and saved["from_a_newer_version"] == {"x": 1}


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b"\xff\xfe\x00"])
def test_a_corrupt_file_is_moved_aside_with_one_notice(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    lines: list[str] = []
    settings = Settings.load(path, report=lines.append)
    assert settings.as_dict() == Settings(path=path).as_dict()  # defaults
    aside = list(tmp_path.glob("settings.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == content
    assert len(lines) == 1 and aside[0].name in lines[0] and str(path) in lines[0]
    assert not path.exists()
    settings.set("name", "Sam")
    settings.save()
    assert json.loads(path.read_text(encoding="utf-8")) == {"name": "Sam"}


def test_an_unreadable_file_is_moved_aside(tmp_path: Path) -> None:
    """A folder where the file should be cannot be read, even by root (unlike a chmod 0 file)."""
    path = tmp_path / "settings.json"
    path.mkdir()
    lines: list[str] = []
    settings = Settings.load(path, report=lines.append)
    assert len(lines) == 1 and "cannot be read" in lines[0] and "moved to" in lines[0]
    assert [p.is_dir() for p in tmp_path.glob("settings.json.corrupt-*")] == [True]
    settings.set("name", "Sam")
    settings.save()
    assert json.loads(path.read_text(encoding="utf-8")) == {"name": "Sam"}


def test_the_file_is_private_and_written_atomically(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "settings.json"
    settings = Settings.load(path)
    settings.set("name", "Sam")
    settings.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    leftovers = [p.name for p in path.parent.iterdir() if p.name != "settings.json"]
    assert all(name.startswith(".settings.json.lock") for name in leftovers), leftovers


def test_a_save_that_cannot_write_raises_and_keeps_the_change_for_later(tmp_path: Path) -> None:
    blocker = tmp_path / "conf"
    blocker.write_text("a file where the settings folder should be")
    path = blocker / "settings.json"
    settings = Settings.load(path)
    settings.set("name", "Sam")
    with pytest.raises(OSError):
        settings.save()
    assert settings["name"] == "Sam"
    blocker.unlink()
    assert settings.save() == ["name"]
    assert json.loads(path.read_text(encoding="utf-8")) == {"name": "Sam"}


def test_placeholders_come_from_name_and_safe_person(tmp_path: Path) -> None:
    settings = Settings(path=tmp_path / "s.json")
    assert settings.placeholder_values() == {"name": None, "safe_person": None}
    settings.update({"name": "Sam", "safe_person.name": "Ana"})
    assert settings.placeholder_values() == {"name": "Sam", "safe_person": "Ana"}


def test_a_damaged_file_seen_by_the_running_app_keeps_its_values(tmp_path: Path) -> None:
    """A hand edit with a typo must not put the running app back to defaults (which would, for
    one, remove the start-at-login entry); the next save writes a good file again."""
    path = tmp_path / "settings.json"
    app = Settings.load(path)
    app.update({"name": "Sam", "start_at_login": True, "volume.voice": 0.4})
    app.save()
    heard: list[list[str]] = []
    app.subscribe(heard.append)
    path.write_text('{"name": "Sam",}', encoding="utf-8")  # a trailing comma
    lines: list[str] = []
    assert app.reload(report=lines.append) == []
    assert heard == [] and len(lines) == 1 and "moved to" in lines[0]
    assert app.flag("start_at_login") and app.text("name") == "Sam"
    app.save()
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "name": "Sam", "start_at_login": True, "volume.voice": 0.4,
    }


def test_a_problem_in_the_file_is_said_once_however_often_it_is_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    write(path, {"rate": 5})
    lines: list[str] = []
    settings = Settings.load(path, report=lines.append)
    for _ in range(3):
        settings.reload(report=lines.append)
    assert len(lines) == 1


def test_restore_puts_back_values_and_unsaved_marks(tmp_path: Path) -> None:
    """A failed save in the dialog restores what was there, without leaving the keys marked as
    changed here (which would make this process ignore, then overwrite, a terminal's change)."""
    path = tmp_path / "settings.json"
    app = Settings.load(path)
    before = app.snapshot()
    app.update({"name": "Sam"})
    app.restore(before)
    assert app.text("name") == ""
    terminal = Settings.load(path)
    terminal.set("name", "Robin")
    terminal.save()
    assert app.reload() == ["name"] and app.text("name") == "Robin"
    app.set("volume.voice", 0.5)
    app.save()
    assert json.loads(path.read_text(encoding="utf-8")) == {"name": "Robin", "volume.voice": 0.5}


def test_reading_settings_that_were_never_saved_leaves_no_trace(tmp_path: Path) -> None:
    folder = tmp_path / "conf"
    settings = Settings.load(folder / "settings.json")
    settings.reload()
    assert not folder.exists()


def test_numbers_print_exactly_and_only_plain_decimals_are_read() -> None:
    gain = 0.16637500000000005  # what a volume slider's curve can produce
    assert float(format_value(gain)) == gain
    rate = settings_mod.option("rate")
    for text in ("1_0", "0x1", "inf", "nan", "1e", ""):
        with pytest.raises(SettingError):
            parse(rate, text)
    assert parse(rate, "1.2") == 1.2 and parse(rate, ".9") == 0.9 and parse(rate, "1") == 1.0
