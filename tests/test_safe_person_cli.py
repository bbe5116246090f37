"""`coreg-desktop safe-person …` and `config set safe_person.name` as a user meets them: real
processes, real files, real exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.memo_inputs import memo_file, photo_file


def run(*args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    return subprocess.run([sys.executable, "-m", "coreg_desktop", *args], capture_output=True,
                          text=True, timeout=120, env=env)


def ok(*args: str) -> str:
    result = run(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def bad(*args: str) -> str:
    result = run(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("coreg-desktop: "), lines
    assert "Traceback" not in result.stderr
    return lines[0]


def listed() -> list[dict[str, object]]:
    rows = json.loads(ok("safe-person", "list", "--json"))
    assert isinstance(rows, list)
    return rows


def test_add_with_a_photo_and_a_memo_then_list_and_remove(tmp_path: Path) -> None:
    photo = photo_file(tmp_path / "grandma.jpg", (1600, 1200))
    memo = memo_file(tmp_path, ".mp3", seconds=4.0)
    # No system ffmpeg or ffprobe at all: PATH holds only what Python needs.
    result = run("safe-person", "add", "Ana", "--relationship", "grandmother", "--photo",
                 str(photo), "--memo", str(memo), path=str(tmp_path / "empty-bin"))
    assert result.returncode == 0, result.stderr
    assert 'Added Ana (grandmother) with the photo and the memo "memo from grandma.mp3"' \
        in result.stdout
    assert ok("config", "get", "safe_person.name").strip() == "Ana"  # the first becomes the one
    memo.unlink()
    photo.unlink()
    [row] = listed()
    assert set(row) == {"name", "relationship", "photo", "memos"}
    assert row["name"] == "Ana" and row["relationship"] == "grandmother"
    assert isinstance(row["photo"], str) and Path(row["photo"]).is_file()
    memos = row["memos"]
    assert isinstance(memos, list) and len(memos) == 1
    assert memos[0]["label"] == "memo from grandma.mp3"
    assert 4.0 <= memos[0]["seconds"] <= 4.5
    ok("safe-person", "add", "Biscuit", "--relationship", "my dog")
    assert [r["name"] for r in listed()] == ["Ana", "Biscuit"]
    assert listed()[1]["photo"] is None and listed()[1]["memos"] == []
    assert "Removed Ana" in ok("safe-person", "remove", "ana")
    assert [r["name"] for r in listed()] == ["Biscuit"]
    assert ok("config", "get", "safe_person.name").strip() == "Biscuit"


def test_a_bad_photo_or_memo_adds_no_one(tmp_path: Path) -> None:
    text = tmp_path / "song.mp3"
    text.write_text("la la la\n" * 50)
    line = bad("safe-person", "add", "Ana", "--memo", str(text))
    assert str(text) in line and "could not be read as audio" in line
    line = bad("safe-person", "add", "Ana", "--photo", str(text))
    assert "not a photo" in line
    assert listed() == []
    assert ok("config", "get", "safe_person.name").strip() == ""


def test_import_memo_goes_to_the_chosen_person_or_asks_whose(tmp_path: Path) -> None:
    memo = memo_file(tmp_path, ".ogg")
    line = bad("safe-person", "import-memo", str(memo))
    assert "--person NAME" in line and "config set safe_person.name" in line
    result = run("config", "set", "safe_person.name", "Zoë")  # picks her, making her
    assert result.returncode == 0 and "Added Zoë" in result.stderr
    assert "to Zoë" in ok("safe-person", "import-memo", str(memo))
    ok("safe-person", "add", "Sam")
    assert "to Sam" in ok("safe-person", "import-memo", str(memo), "--person", "sam")
    assert [len(r["memos"]) for r in listed()] == [1, 1]  # type: ignore[arg-type]
    line = bad("safe-person", "import-memo", str(memo), "--person", "Nobody")
    assert 'no safe person called "Nobody"' in line
    line = bad("safe-person", "import-memo", str(tmp_path / "gone.wav"), "--person", "Sam")
    assert "no such file" in line


@pytest.mark.parametrize("args", [("safe-person",), ("safe-person", "frob"),
                                  ("safe-person", "remove")])
def test_a_wrong_command_is_one_line(args: tuple[str, ...]) -> None:
    bad(*args)


def test_a_damaged_profile_is_named_once_and_the_rest_keep_working(tmp_path: Path) -> None:
    ok("safe-person", "add", "Ana")
    ok("safe-person", "add", "Sam")
    [sam] = [r for r in listed() if r["name"] == "Sam"]
    profile = next(Path(os.environ["XDG_DATA_HOME"]).glob("coreg-desktop/safe-people/sam/"
                                                          "person.json"))
    profile.write_bytes(b"\xff\xfe not json")
    result = run("safe-person", "list")
    assert result.returncode == 0 and "Ana" in result.stdout and "Sam" not in result.stdout
    problems = result.stderr.strip().splitlines()
    assert len(problems) == 1 and str(profile) in problems[0] and "skipped" in problems[0]
    assert sam["name"] == "Sam"


WITH = '''id = "with"
title = "With"
ambience = "none"

[[steps]]
say = "Here is {safe_person}."

[[steps]]
memo = true
'''


def test_play_and_render_with_a_person_for_one_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--person` picks who the session is with: their name is said and their memo plays, in
    the very samples `render` writes; playing makes them the default, a render does not."""
    import numpy as np

    from coreg_desktop import cli
    from coreg_desktop import player as player_mod
    from coreg_desktop.audio.memo import load
    from coreg_desktop.audio.output import NullOutput
    from coreg_desktop.audio.wav import read_wav, to_int16
    from coreg_desktop.constants import SAMPLE_RATE
    from coreg_desktop.core import Core
    from coreg_desktop.safe_people import SafePeople
    from coreg_desktop.session import Composer
    from coreg_desktop.settings import Settings
    from tests.memo_inputs import encode, voice_like, with_silence

    practices = Path(os.environ["XDG_DATA_HOME"]) / "coreg-desktop" / "practices"
    practices.mkdir(parents=True)
    (practices / "with.toml").write_text(WITH)
    for name, seconds in (("Ana", 1.0), ("Sam", 2.0)):
        tone = with_silence(voice_like(seconds, level_db=-20.0), 0.3, 0.3)
        ok("safe-person", "add", name, "--memo", str(encode(tone, tmp_path / f"{name}.m4a")))
    assert ok("config", "get", "safe_person.name").strip() == "Ana"
    out = tmp_path / "sam.wav"

    line = bad("render", "with", "-o", str(out), "--person", "Nobody")
    assert line == ('coreg-desktop: no safe person called "Nobody"; the safe people here are '
                    "Ana, Sam")
    assert "stay-safe is not one" in bad("render", "stay-safe", "-o", str(out), "--person", "Sam")
    assert not out.exists()
    assert "Nobody" in bad("play", "with", "--no-gui", "--person", "Nobody")
    assert "--no-gui" in bad("play", "with", "--person", "Sam")

    done = run("render", "with", "-o", str(out), "--person", "sam")
    assert done.returncode == 0, done.stderr
    assert ok("config", "get", "safe_person.name").strip() == "Ana"  # a render is no session
    rendered, _rate = read_wav(out)
    # Where the memo is, from the composer `render` uses, with the same (now warm) cache.
    core = Core(Settings.load())
    sam = core.safe_people.require("Sam")
    source = core.source(core.practice("with"), core.options(None, sam))
    composer = Composer(source, core.narrator, core.bank, "none")
    composer.extend()
    for key in composer.pending_work():
        composer.prepare(key)
    timeline, _ = composer.compose()
    assert [e.caption for e in timeline.events if e.kind == "memo"] == ["A message from Sam"]
    assert "Here is Sam." in [e.caption for e in timeline.events]
    [(start, end)] = [(e.start, e.end) for e in timeline.events if e.kind == "memo"]
    memo = load(sam.memo_path(sam.memos[0]))
    assert end - start == len(memo)
    np.testing.assert_allclose(rendered[start:end, 0], memo * core.settings.number("volume.voice"),
                               atol=2e-3)
    np.testing.assert_array_equal(to_int16(core.render("with", person="Sam")), to_int16(rendered))
    core.close()
    # And the voice says this person's name, not the default's: what it is given to say, and
    # what a recogniser hears before the memo ("Sam" itself it sometimes writes "SEM", so the
    # check on the sound is that the line is there and the default's name is not).
    from coreg_desktop.practice.timeline import Speech
    from tests.asr import heard, normalise, transcribe

    spoken = [i.voice_text for i in source.items if isinstance(i, Speech)]
    assert "Here is Sam." in spoken and not any("Ana" in t for t in spoken), spoken
    words = transcribe(rendered[:start], SAMPLE_RATE)
    assert heard("Here is", words), words
    assert not {"ana", "anna"} & set(normalise(words)), words

    monkeypatch.setattr(player_mod, "open_output", lambda **_kw: NullOutput())
    assert cli.main(["play", "with", "--no-gui", "--person", "SAM"]) == 0
    said = capsys.readouterr().out
    assert "Here is Sam." in said and "A message from Sam" in said and "Ana" not in said
    assert ok("config", "get", "safe_person.name").strip() == "Sam"  # next time, Sam
    assert "Sam  (used in practices)" in ok("safe-person", "list")
    last = SafePeople().last_used()
    assert last is not None and last.name == "Sam"
