"""The command line as a user meets it: real processes, real exit codes, one-line errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop.audio.output import NullOutput
from coreg_desktop.audio.wav import read_wav, to_int16


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The child inherits this test's XDG folders (tmp_path/xdg_*_home, set by conftest's
    autouse fixture), so it never sees the real user's practices, cache or settings."""
    return subprocess.run(
        [sys.executable, "-m", "coreg_desktop", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_list_json_has_the_documented_fields() -> None:
    result = run("list", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    ids = {row["id"] for row in rows}
    assert {"stay-safe", "safe-person", "self-compassion", "quick-reset"} <= ids
    for row in rows:
        assert set(row) == {"id", "title", "minutes", "summary", "tags"}
        assert isinstance(row["minutes"], float) and row["minutes"] > 0
        assert isinstance(row["tags"], list)


def test_unknown_practice_is_bad_input_with_suggestions() -> None:
    result = run("play", "stay-saf", "--no-gui")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == ['coreg-desktop: no practice named "stay-saf"; did you mean \'stay-safe\'?']


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["render", "quick-reset", "-o", "/nonexistent-dir/x.wav"], "does not exist"),
        (["render", "quick-reset", "-o", "/proc/x.wav"], "cannot write"),
        (["render", "quick-reset", "-o", "out.aiff"], '".aiff" is not a format Coreg can write'),
        (["render", "quick-reset", "-o", "out"], "no extension is not a format"),
        (["render", "quick-reset", "-o", "x.mp3", "--quality", "super"], 'quality "super"'),
        (["render", "quick-reset", "-o", "x.opus", "--quality", "999k"], "from 32 to 320 kbps"),
        (["export-all", "/proc/coreg-out"], "cannot make this folder"),
        (["export-all", "/tmp/coreg-never-made", "--format", "wma"], '--format "wma" is not'),
        (["render", "quick-reset", "-o", "x.wav", "--ambience", "rainn"], 'did you mean "rain"'),
        (["render", "quick-reset"], "required"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_2(args: list[str], expected: str) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_user_practice_is_reported_and_the_rest_still_load(tmp_path: Path) -> None:
    folder = tmp_path / "xdg_data_home" / "coreg-desktop" / "practices"
    folder.mkdir(parents=True)
    (folder / "broken.toml").write_text('id = "broken"\ntitle = "B"\n[[steps]]\nsya = "hi"\n')
    (folder / "mine.toml").write_text(
        'id = "stay-safe"\ntitle = "My Stay Safe"\n[[steps]]\nsay = "Hello."\n'
    )
    result = run("list", "--json")
    assert result.returncode == 0
    assert f'{folder / "broken.toml"}:4: unknown key "sya"' in result.stderr
    assert "overrides" in result.stderr and "stay-safe" in result.stderr
    titles = {row["id"]: row["title"] for row in json.loads(result.stdout)}
    assert titles["stay-safe"] == "My Stay Safe" and "quick-reset" in titles


def test_broken_cache_folders_do_not_stop_a_render(tmp_path: Path) -> None:
    cache = tmp_path / "xdg_cache_home" / "coreg-desktop"
    cache.mkdir(parents=True)
    (cache / "narration").write_text("not a folder")
    (cache / "ambience").write_text("not a folder")
    out = tmp_path / "q.wav"
    result = run("render", "quick-reset", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert out.exists()
    assert "Traceback" not in result.stderr


def test_a_bug_is_one_line_pointing_at_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug cannot be caused on purpose from outside, so a command is made to fail here."""
    from coreg_desktop import cli

    def broken(_args: object) -> int:
        raise RuntimeError("deliberate failure for the test")

    monkeypatch.setitem(cli.COMMANDS, "list", broken)
    assert cli.main(["list"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "something went wrong inside Coreg" in err[0]
    log_path = Path(err[0].split("details are in ", 1)[1])
    assert "deliberate failure for the test" in log_path.read_text()
    assert "Traceback" in log_path.read_text()


def test_render_writes_the_practice_and_a_second_render_is_identical(tmp_path: Path) -> None:
    first, second = tmp_path / "a.wav", tmp_path / "b.wav"
    result = run("render", "quick-reset", "-o", str(first))
    assert result.returncode == 0, result.stderr
    result = run("render", "quick-reset", "-o", str(second))
    assert result.returncode == 0, result.stderr
    assert first.read_bytes() == second.read_bytes()
    audio, rate = read_wav(first)
    assert rate == 48_000 and audio.shape[1] == 2
    assert 60 <= len(audio) / rate <= 120
    assert 0.05 < float(abs(audio).max()) < 1.0


def test_doctor_and_voices_speak_plainly(tmp_path: Path) -> None:
    doctor = run("doctor")
    assert doctor.returncode == 0, doctor.stderr
    text = doctor.stdout
    for expected in ("Sound:", "Voices:", "en_US-joe-medium", "Practices: 15 ready.",
                     "Narration cache:", str(tmp_path / "xdg_cache_home")):
        assert expected in text, text
    assert len(text.splitlines()) < 30, "doctor should summarise, not list every system voice"
    voices = run("voices", "--json")
    assert voices.returncode == 0
    rows = json.loads(voices.stdout)
    assert rows[0]["id"] == "en_US-joe-medium" and rows[0]["available"] is True


# ----------------------------------------------------------------------------- config


def test_config_list_get_set_unset_round_trip(tmp_path: Path) -> None:
    listed = run("config", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    keys = [row["key"] for row in rows]
    for key in ("name", "voice", "rate", "ambience", "volume.voice", "volume.ambience",
                "captions", "reduced_motion", "tray.click", "start_at_login",
                "safe_person.name"):
        assert key in keys
    for row in rows:
        assert set(row) == {"key", "value", "default", "description"} and row["description"]
        assert row["value"] == row["default"]
    assert run("config", "get", "captions").stdout == "true\n"
    assert run("config", "get", "rate").stdout == "1\n"
    assert run("config", "get", "tray.click").stdout == "quick-reset\n"
    for key, value in (("name", "Robin"), ("rate", "0.85"), ("captions", "false"),
                       ("tray.click", "open")):
        done = run("config", "set", key, value)
        assert done.returncode == 0 and done.stdout == done.stderr == "", done.stderr
        assert run("config", "get", key).stdout == f"{value}\n"
    saved = json.loads((tmp_path / "xdg_config_home" / "coreg-desktop" / "settings.json")
                       .read_text())
    assert saved == {"name": "Robin", "rate": 0.85, "captions": False, "tray.click": "open"}
    assert run("config", "unset", "rate").returncode == 0
    assert run("config", "get", "rate").stdout == "1\n"
    text = run("config", "list").stdout
    assert re.search(r'^name +"Robin"  \(default \(empty\)\)$', text, re.M), text
    assert re.search(r"^reminders\.times +19:00$", text, re.M), text
    assert run("config", "set", "reminders.times", "20:30, 08:00").returncode == 0
    empty = run("config", "set", "reminders.times", "")
    assert empty.returncode == 2 and "give at least one" in empty.stderr
    nomix = run("config", "set", "ambience", "mix:nothing")
    assert nomix.returncode == 2 and 'no mix called "nothing"' in nomix.stderr
    assert run("config", "get", "reminders.times").stdout == "08:00, 20:30\n"
    wrong = run("config", "set", "reminders.days", "mon, someday")
    assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1, wrong.stderr
    assert '"someday" is not allowed' in wrong.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["config", "get", "volume.voise"], 'no setting called "volume.voise"; did you mean '
                                            "volume.voice"),
        (["config", "set", "nmae", "Sam"], 'no setting called "nmae"; did you mean name'),
        (["config", "set", "rate", "3"], "rate: 3.0 is not allowed; use a number from 0.6 to 1.5"),
        (["config", "set", "captions", "yes"], 'captions: "yes" is not allowed; use true or false'),
        (["config", "set", "ambience", "thunder"], 'use one of "" (empty), "rain", "ocean"'),
        (["config", "set", "tray.click", "never"], '"quick-reset", "open"'),
        (["config", "set", "volume.voice", "loud"], '"loud" is not a number'),
        (["config"], "required"),
    ],
)
def test_config_refuses_bad_keys_and_values_in_one_line_and_writes_nothing(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert not (tmp_path / "xdg_config_home" / "coreg-desktop" / "settings.json").exists()


def test_config_start_at_login_installs_and_removes_autostart(tmp_path: Path) -> None:
    entry = tmp_path / "xdg_config_home" / "autostart" / "coreg-desktop.desktop"
    assert run("config", "set", "start_at_login", "true").returncode == 0
    assert entry.is_file() and "--minimized" in entry.read_text()
    assert run("config", "unset", "start_at_login").returncode == 0
    assert not entry.exists()


def test_config_start_at_login_that_cannot_be_applied_is_refused_and_not_saved(
    tmp_path: Path,
) -> None:
    (tmp_path / "xdg_config_home").mkdir(parents=True)
    (tmp_path / "xdg_config_home" / "autostart").write_text("a file, not a folder")
    result = run("config", "set", "start_at_login", "true")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot change the autostart entry" in lines[0]
    assert run("config", "get", "start_at_login").stdout == "false\n"


def test_config_set_voice_checks_the_voice_exists() -> None:
    result = run("config", "set", "voice", "en_US-joe-mediun")
    assert result.returncode == 2
    assert 'no voice named "en_US-joe-mediun"' in result.stderr
    assert run("config", "set", "voice", "en_US-joe-medium").returncode == 0


def test_an_unknown_practice_for_the_desktop_is_refused_before_anything_starts() -> None:
    result = run("--practice", "stay-saf")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        'coreg-desktop: no practice named "stay-saf"; did you mean \'stay-safe\'?'
    ]


TINY = '''id = "tiny"
title = "Tiny"
ambience = "soft-pad"

[[steps]]
say = "Hello, {name}."
pause = 1.0

[[steps]]
say = "Feet on the floor."
'''


class RecordingOutput(NullOutput):
    """A silent real-time output that keeps every block it hands to the player: exactly what a
    sound device would have been sent."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[np.ndarray] = []

    def start(self, render: Callable[[np.ndarray], None]) -> None:
        def recording(out: np.ndarray) -> None:
            render(out)
            self.blocks.append(out.copy())

        super().start(recording)


def _first_sound(audio: np.ndarray) -> int:
    """The first frame clearly above silence, judged on 16-bit samples: the file holds them, and
    a float just under the threshold can round to one just over it."""
    return int(np.argmax(np.abs(to_int16(audio)[:, 0].astype(np.int32)) > 32))


def test_config_reaches_render_and_play_which_give_the_same_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The promise that `render` writes what `play` plays holds for a listener with settings:
    their soundscape and their name, set with `config set`, in both."""
    from coreg_desktop import cli
    from coreg_desktop import player as player_mod

    practices = tmp_path / "xdg_data_home" / "coreg-desktop" / "practices"
    practices.mkdir(parents=True)
    (practices / "tiny.toml").write_text(TINY)
    assert run("config", "set", "ambience", "rain").returncode == 0
    assert run("config", "set", "name", "Robin").returncode == 0
    rendered_path = tmp_path / "tiny.wav"
    done = run("render", "tiny", "-o", str(rendered_path))
    assert done.returncode == 0, done.stderr

    output = RecordingOutput()
    monkeypatch.setattr(player_mod, "open_output", lambda **_kw: output)
    assert cli.main(["play", "tiny", "--no-gui"]) == 0
    out = capsys.readouterr().out
    assert "Hello, Robin." in out and "Tiny is complete" in out

    played = np.concatenate(output.blocks)
    rendered, _rate = read_wav(rendered_path)
    start = _first_sound(played) - _first_sound(rendered)
    assert start >= 0
    segment = played[start : start + len(rendered)]
    assert len(segment) == len(rendered)
    np.testing.assert_array_equal(to_int16(segment), to_int16(rendered))
    assert not played[start + len(rendered) :].any()

    # The soundscape came from the setting: the same as asking for it, not the practice's own.
    assert run("config", "unset", "ambience").returncode == 0
    asked = tmp_path / "asked.wav"
    assert run("render", "tiny", "-o", str(asked), "--ambience", "rain").returncode == 0
    assert asked.read_bytes() == rendered_path.read_bytes()
    own = tmp_path / "own.wav"
    assert run("render", "tiny", "-o", str(own)).returncode == 0
    assert own.read_bytes() != rendered_path.read_bytes()
    # And the name is spoken: without it, the first sentence is another clip.
    assert run("config", "unset", "name").returncode == 0
    nameless = tmp_path / "nameless.wav"
    assert run("render", "tiny", "-o", str(nameless), "--ambience", "rain").returncode == 0
    without, _rate = read_wav(nameless)
    assert len(without) < len(rendered)  # "Hello." is shorter than "Hello, Robin."
