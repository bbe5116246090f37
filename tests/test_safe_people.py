"""The safe-people store: profiles on disk, private, several people, damage kept to one person."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from PIL import Image

from coreg_desktop.safe_people import (
    SafePeople,
    SafePersonError,
    relationship_phrase,
    safe_people_dir,
)
from tests.memo_inputs import photo_file


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_people_are_kept_in_private_folders_and_read_back(tmp_path: Path) -> None:
    store = SafePeople()
    assert store.root == safe_people_dir()
    store.add("Ana", "grandmother")
    store.add("Biscuit", "my dog")
    store.add("Zoë")
    again = SafePeople()  # a second process sees the same people
    assert [p.name for p in again.all()] == ["Ana", "Biscuit", "Zoë"]
    ana = again.get("ana")  # names match whatever the case
    assert ana is not None and ana.relationship == "grandmother"
    assert mode(store.root) == 0o700
    for person in again.all():
        assert mode(person.folder) == 0o700
        assert mode(person.folder / "person.json") == 0o600


def test_adding_someone_twice_keeps_one_person_and_updates_the_word() -> None:
    store = SafePeople()
    store.add("Ana", "friend")
    store.add("ANA", "grandmother")
    assert [(p.name, p.relationship) for p in store.all()] == [("Ana", "grandmother")]


@pytest.mark.parametrize("bad", ["", "   ", "Ana\x1b[31m", "x" * 61])
def test_a_name_that_cannot_be_a_name_is_one_line(bad: str) -> None:
    with pytest.raises(SafePersonError) as info:
        SafePeople().add(bad)
    assert "\n" not in str(info.value)
    assert SafePeople().all() == []


def test_two_names_with_the_same_letters_get_their_own_folders() -> None:
    store = SafePeople()
    a = store.add("José")
    b = store.add("Jose!")
    assert a.folder != b.folder and {p.name for p in store.all()} == {"José", "Jose!"}


def test_rename_remove_and_the_last_used(tmp_path: Path) -> None:
    store = SafePeople()
    store.add("Ana")
    store.add("Sam")
    assert store.mark_used("sam") is not None
    last = store.last_used()
    assert last is not None and last.name == "Sam"
    store.update("Sam", new_name="Samira", relationship="partner")
    assert store.get("Sam") is None and store.require("samira").relationship == "partner"
    with pytest.raises(SafePersonError, match="already a safe person"):
        store.update("Ana", new_name="SAMIRA")
    removed = store.remove("Ana")
    assert not removed.folder.exists() and [p.name for p in store.all()] == ["Samira"]
    with pytest.raises(SafePersonError, match='no safe person called "Ana"; the safe people '
                                              "here are Samira"):
        store.remove("Ana")


def test_a_damaged_profile_is_named_once_and_the_others_still_load() -> None:
    lines: list[str] = []
    store = SafePeople(report=lines.append)
    store.add("Ana")
    kept = store.add("Sam")
    broken = kept.folder / "person.json"
    broken.write_text('{"name": "Sam", "memos": ')
    weird = store.add("Lee").folder / "person.json"
    weird.write_text(json.dumps({"name": "Lee", "photo": "../../../etc/passwd"}))
    assert [p.name for p in store.all()] == ["Ana"]
    assert [p.name for p in store.all()] == ["Ana"]
    assert len(lines) == 2, lines  # once each, not at every listing
    assert str(broken) in lines[0] or str(broken) in lines[1]
    assert any("photo" in line and str(weird) in line for line in lines)
    assert all("\n" not in line for line in lines)
    assert broken.read_text() == '{"name": "Sam", "memos": '  # left for the person to see


def test_relationship_words_read_naturally_after_your() -> None:
    assert relationship_phrase("grandmother") == "your grandmother"
    assert relationship_phrase("my dog") == "your dog"
    assert relationship_phrase("a character") == "a character"
    assert relationship_phrase("") == ""


# ------------------------------------------------------------------------------------ photo


def test_a_photo_is_stored_upright_small_and_without_its_metadata(tmp_path: Path) -> None:
    source = photo_file(tmp_path / "IMG_0001.jpg", (2400, 1600), orientation=6)
    assert Image.open(source).getexif()[0x010F] == "PhoneMaker"
    store = SafePeople()
    store.add("Ana")
    person = store.set_photo("Ana", source)
    path = person.photo_path
    assert path is not None and mode(path) == 0o600
    stored = Image.open(path)
    # Orientation 6 means "turn 90° clockwise to view": 2400 × 1600 becomes 1600 × 2400 upright,
    # then scaled to fit 1024.
    assert stored.format == "JPEG" and stored.size == (683, 1024)
    assert len(stored.getexif()) == 0 and "exif" not in stored.info
    # The bright corner block was top-left as stored; turned clockwise, it is top-right.
    rgb = stored.convert("RGB")
    assert sum(rgb.getpixel((660, 20))) > 600  # type: ignore[arg-type]
    assert sum(rgb.getpixel((20, 20))) < 300  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt, suffix", [("PNG", ".png"), ("WEBP", ".webp")])
def test_png_and_webp_photos_are_taken(tmp_path: Path, fmt: str, suffix: str) -> None:
    store = SafePeople()
    store.add("Ana")
    person = store.set_photo("Ana", photo_file(tmp_path / f"p{suffix}", (800, 600), fmt))
    assert person.photo_path is not None and Image.open(person.photo_path).size == (800, 600)


def test_a_bad_photo_is_one_line_and_changes_nothing(tmp_path: Path) -> None:
    store = SafePeople()
    store.add("Ana")
    good = store.set_photo("Ana", photo_file(tmp_path / "good.jpg", (300, 300)))
    assert good.photo_path is not None
    before = good.photo_path.read_bytes()
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture at all\n")
    whole = photo_file(tmp_path / "whole.jpg", (1200, 900))
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 3])
    gif = tmp_path / "anim.gif"
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    huge = tmp_path / "huge.png"
    Image.new("L", (9000, 8000)).save(huge, "PNG")
    cases = {text: "not a photo", cut: "damaged or cut short", gif: "GIF image",
             huge: "too large", tmp_path / "gone.jpg": "no such file"}
    for path, words in cases.items():
        with pytest.raises(SafePersonError) as info:
            store.set_photo("Ana", path)
        message = str(info.value)
        assert words in message and str(path) in message and "\n" not in message, message
    assert good.photo_path.read_bytes() == before
    assert sorted(p.name for p in good.folder.iterdir()) == ["person.json", "photo.jpg"]
