"""The command line as a user meets it: real processes, real exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coreg_desktop.audio.wav import read_wav


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
        (["render", "quick-reset", "-o", "out.mp3"], "only .wav"),
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
    for expected in ("Sound:", "Voices:", "en_US-joe-medium", "Practices: 4 ready.",
                     "Narration cache:", str(tmp_path / "xdg_cache_home")):
        assert expected in text, text
    assert len(text.splitlines()) < 30, "doctor should summarise, not list every system voice"
    voices = run("voices", "--json")
    assert voices.returncode == 0
    rows = json.loads(voices.stdout)
    assert rows[0]["id"] == "en_US-joe-medium" and rows[0]["available"] is True
