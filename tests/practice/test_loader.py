"""Loading practices from disk: reading files, and building the library from built-in and user
folders, with overrides, and with bad files reported as one line and skipped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from coreg_desktop.practice import loader
from coreg_desktop.practice.loader import (
    Library,
    builtin_practices_dir,
    load_file,
    load_library,
)
from coreg_desktop.practice.model import Bell, Practice
from coreg_desktop.practice.validate import MAX_FILE_BYTES, LoadIssue, PracticeError

HEAD = 'id = "p"\ntitle = "P"\n'  # lines 1-2; the line after it is line 3
STEP = "[[steps]]\n"  # line 3 when placed after HEAD; its first key is on line 4


# ---------------------------------------------------------------------------- files


def write(directory: Path, name: str, practice_id: str, title: str | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(
        f'id = "{practice_id}"\ntitle = "{title or practice_id.title()}"\n[[steps]]\nbell = true\n',
        encoding="utf-8",
    )
    return path


def test_load_file_sets_source_and_builtin(tmp_path: Path) -> None:
    path = write(tmp_path, "calm.toml", "calm")
    practice = load_file(path, builtin=True)
    assert (practice.id, practice.source, practice.builtin) == ("calm", path, True)
    assert load_file(path).builtin is False


def test_oversized_file_is_refused_by_size_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    # Not UTF-8 either: had it been read and decoded, the message would be about encoding.
    path.write_bytes(b"\xff" * (MAX_FILE_BYTES + 1))
    with pytest.raises(PracticeError) as caught:
        load_file(path)
    assert caught.value.issue.line == 1
    assert "too large" in caught.value.issue.message
    assert str(MAX_FILE_BYTES + 1) in caught.value.issue.message


def test_file_of_exactly_the_limit_is_read(tmp_path: Path) -> None:
    body = HEAD + STEP + "bell = true\n"
    path = tmp_path / "edge.toml"
    path.write_text(body + "#" * (MAX_FILE_BYTES - len(body)), encoding="utf-8")
    assert os.path.getsize(path) == MAX_FILE_BYTES
    assert load_file(path).id == "p"


def test_unreadable_paths_raise_practice_error_only(tmp_path: Path) -> None:
    for path in (tmp_path / "missing.toml", tmp_path):
        with pytest.raises(PracticeError) as caught:
            load_file(path)
        assert caught.value.issue.line == 1
        assert caught.value.issue.path == path


# ---------------------------------------------------------------------------- library


def test_library_overrides_skips_bad_files_and_keeps_others(tmp_path: Path) -> None:
    builtin = tmp_path / "builtin"
    user = tmp_path / "user"
    write(builtin, "stay-safe.toml", "stay-safe", "Stay Safe")
    write(builtin, "reset.toml", "reset", "Quick Reset")
    override = write(user, "my-safe.toml", "stay-safe", "My Stay Safe")
    write(user, "mine.toml", "mine", "A Practice Of Mine")
    bad = user / "bad.toml"
    bad.write_text(HEAD + STEP + "pause = yes\n", encoding="utf-8")
    (user / "notes.txt").write_text("not a practice", encoding="utf-8")
    (user / ".#lock.toml").write_text("junk", encoding="utf-8")

    reported: list[str] = []
    library = load_library(user_dir=user, builtin_dir=builtin, report=reported.append)

    assert sorted(library.practices) == ["mine", "reset", "stay-safe"]
    safe = library.get("stay-safe")
    assert safe is not None
    assert (safe.title, safe.source, safe.builtin) == ("My Stay Safe", override, False)
    reset = library.get("reset")
    assert reset is not None and reset.builtin is True
    assert library.overrides == [f'user practice {override} overrides built-in "stay-safe"']
    assert len(reported) == 1
    assert reported[0].startswith(f"{bad}:4: this is not valid TOML: invalid value at column 9")
    assert len(library.issues) == 1
    assert (library.issues[0].path, library.issues[0].line) == (bad, 4)
    assert str(library.issues[0]) == reported[0]


def test_duplicate_ids_in_one_folder_keep_the_first_and_report_the_rest(tmp_path: Path) -> None:
    user = tmp_path / "user"
    write(user, "a.toml", "calm", "First")
    second = user / "b.toml"
    second.write_text('# comment\n\nid = "calm"\ntitle = "Second"\n[[steps]]\nbell = true\n')
    reported: list[str] = []
    library = load_library(user_dir=user, builtin_dir=tmp_path / "none", report=reported.append)
    calm = library.get("calm")
    assert calm is not None and calm.title == "First"
    assert reported == [
        f'{second}:3: id "calm" is already used by {user / "a.toml"}; this file is skipped'
    ]
    assert library.issues == [LoadIssue(second, 3, reported[0].split(": ", 1)[1])]
    assert library.overrides == []


def test_default_report_writes_one_line_per_bad_file_to_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    user = tmp_path / "user"
    write(user, "ok.toml", "ok")
    (user / "empty.toml").write_text("", encoding="utf-8")
    (user / "latin1.toml").write_bytes(b'id = "x"\ntitle = "caf\xe9"\n')
    library = load_library(user_dir=user, builtin_dir=tmp_path / "none")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"{user / 'empty.toml'}:1: the file is empty; "
        "a practice needs an id, a title and some steps",
        f"{user / 'latin1.toml'}:2: the file is not UTF-8 text (byte 0xe9 cannot be read); "
        "please save it with UTF-8 encoding",
    ]
    assert list(library.practices) == ["ok"]


def test_default_user_dir_comes_from_xdg_data_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    write(tmp_path / "data" / "coreg-desktop" / "practices", "x.toml", "from-xdg")
    library = load_library(builtin_dir=tmp_path / "none", report=lambda line: None)
    assert list(library.practices) == ["from-xdg"]


def test_missing_folders_give_an_empty_library(tmp_path: Path) -> None:
    reported: list[str] = []
    library = load_library(tmp_path / "no", tmp_path / "nope", report=reported.append)
    assert (library.practices, library.issues, library.overrides, reported) == ({}, [], [], [])


def test_library_all_get_and_closest() -> None:
    def make(practice_id: str, title: str) -> Practice:
        return Practice(id=practice_id, title=title, steps=(Bell(),))

    library = Library(
        practices={
            p.id: p
            for p in (
                make("stay-safe", "Stay Safe"),
                make("quick-reset", "quick reset"),
                make("self-compassion", "Self-Compassion"),
                make("safe-person", "Safe Person"),
            )
        }
    )
    assert [p.id for p in library.all] == [
        "quick-reset",
        "safe-person",
        "self-compassion",
        "stay-safe",
    ]
    assert library.get("nope") is None
    assert library.closest("stay-saf") == ["stay-safe"]
    assert library.closest("Stay Safe")[0] == "stay-safe"
    assert "safe-person" in library.closest("safe-persn", n=2)
    assert library.closest("zzzzzzzz") == []
    assert len(library.closest("s", n=1)) <= 1


def test_builtin_dir_is_the_package_data_folder() -> None:
    directory = builtin_practices_dir()
    assert directory.name == "practices"
    assert directory.resolve().parent == Path(loader.__file__).resolve().parent.parent
    assert directory.is_dir()


def test_builtin_practices_that_ship_all_load(tmp_path: Path) -> None:
    reported: list[str] = []
    library = load_library(user_dir=tmp_path / "none", report=reported.append)
    assert reported == []
    assert all(p.builtin for p in library.practices.values())
    assert len(library.practices) == len(list(builtin_practices_dir().glob("*.toml")))
