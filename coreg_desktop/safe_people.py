"""Your safe people: a profile for each person, with a relationship word, a photo and voice memos.

Each person has a folder of their own under `<data dir>/safe-people/` (0700): `person.json`
(0600), the photo, and the memos. A folder per person means that a damaged file costs that one
person, never the others: it is named once and skipped, and the rest load. Every file is written
through `files.atomic_writer`, so a crash leaves the old profile or the new one.

Which person a practice uses is the `safe_person.name` setting (the settings owner keeps it; the
last person picked is the default, whether picked in Settings, with `config set`, or for one
session: `Core.play(…, person=…)` moves the setting to them). This module is the store only:
it imports no Qt and knows nothing of playback; memos and photos are cleaned by `audio/memo.py`
and `photo.py`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import time
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from coreg_desktop import files, paths
from coreg_desktop.settings import NAME_MAX

log = logging.getLogger(__name__)

PROFILE = "person.json"
MEMO_DIR = "memos"
PRIVATE_DIR = 0o700
FORMAT_VERSION = 1
RELATIONSHIP_MAX = 40
#: More than this is not a list of people someone leans on; it bounds a folder scan too.
MAX_PEOPLE = 50
MAX_MEMOS = 20
#: A profile is a few hundred bytes; anything this big is not one.
MAX_PROFILE_BYTES = 256 * 1024
#: "my dog" reads as "your dog" when the voice speaks to you.
_POSSESSIVE_RE = re.compile(r"^(my|your|our)\s+", re.IGNORECASE)
_ARTICLE_RE = re.compile(r"^(a|an|the)\s+", re.IGNORECASE)


class SafePersonError(ValueError):
    """Something asked of the store that cannot be done; the message is one plain line."""


def safe_people_dir() -> Path:
    return paths.data_dir() / "safe-people"


@dataclass(frozen=True)
class Memo:
    file: str  # its name in the person's memos folder
    label: str  # the original file's name, as the person knows it
    seconds: float


@dataclass(frozen=True)
class Person:
    name: str
    relationship: str = ""
    photo: str | None = None  # its file name in the person's folder
    memos: tuple[Memo, ...] = ()
    last_used: float = 0.0
    next_memo: int = 0  # which memo a practice plays next (they take turns)
    folder: Path = field(default=Path(), compare=False)

    @property
    def photo_path(self) -> Path | None:
        return self.folder / self.photo if self.photo else None

    def memo_path(self, memo: Memo) -> Path:
        return self.folder / MEMO_DIR / memo.file

    def memos_in_turn(self) -> list[Memo]:
        """The memos starting from the one whose turn it is."""
        if not self.memos:
            return []
        start = self.next_memo % len(self.memos)
        return list(self.memos[start:] + self.memos[:start])

    def as_json(self) -> dict[str, Any]:
        """What `safe-person list --json` shows."""
        photo = self.photo_path
        return {
            "name": self.name,
            "relationship": self.relationship,
            "photo": str(photo) if photo is not None else None,
            "memos": [{"label": m.label, "seconds": round(m.seconds, 1)} for m in self.memos],
        }


def check_name(name: str) -> str:
    """The name as it is kept (trimmed); SafePersonError for one that cannot be a name."""
    cleaned = " ".join(str(name).split())
    if not cleaned:
        raise SafePersonError("a safe person needs a name")
    if any(unicodedata.category(c)[0] == "C" for c in cleaned):
        raise SafePersonError(f"the name {_show(cleaned)} has control characters; type it plainly")
    if len(cleaned) > NAME_MAX:
        raise SafePersonError(f"the name {_show(cleaned)} is longer than {NAME_MAX} characters")
    return cleaned


def check_relationship(word: str) -> str:
    cleaned = " ".join(str(word).split())
    if any(unicodedata.category(c)[0] == "C" for c in cleaned):
        raise SafePersonError(f"the relationship {_show(cleaned)} has control characters")
    if len(cleaned) > RELATIONSHIP_MAX:
        raise SafePersonError(
            f"the relationship {_show(cleaned)} is longer than {RELATIONSHIP_MAX} characters; "
            "one or two words, like grandmother or my dog, are enough"
        )
    return cleaned


def relationship_phrase(word: str) -> str:
    """How `{relationship}` is said to the listener: "grandmother" -> "your grandmother",
    "my dog" -> "your dog"; "a character" or "the one who…" stay as written."""
    word = " ".join(word.split())
    if not word:
        return ""
    if _ARTICLE_RE.match(word):
        return word
    return "your " + _POSSESSIVE_RE.sub("", word)


def _key(name: str) -> str:
    """Names match whatever their case or accents' encoding: "ana" is Ana."""
    return unicodedata.normalize("NFC", " ".join(name.split())).casefold()


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:32]
    return slug or "person"


class SafePeople:
    """The store. Cheap to make: it reads the folder when asked, so a terminal and the app
    (each with its own store) always see what the other saved."""

    def __init__(
        self, root: Path | None = None, report: Callable[[str], None] | None = None
    ) -> None:
        self.root = root or safe_people_dir()
        self._report = report or log.warning
        self._reported: set[str] = set()

    # ------------------------------------------------------------------ reading

    def all(self) -> list[Person]:
        """Everyone whose profile reads, by name; a damaged profile is named once and skipped."""
        people: list[Person] = []
        try:
            folders = sorted(p for p in self.root.iterdir() if p.is_dir())
        except FileNotFoundError:
            return []
        except OSError as exc:
            self._tell(f"{self.root}: cannot be read ({exc.strerror or exc}); no safe people "
                       "can be used for now")
            return []
        for folder in folders[: MAX_PEOPLE * 2]:
            if files.is_temporary(folder):
                continue
            person = self._read(folder)
            if person is not None:
                people.append(person)
        return sorted(people, key=lambda p: _key(p.name))

    def get(self, name: str) -> Person | None:
        wanted = _key(name)
        for person in self.all():
            if _key(person.name) == wanted:
                return person
        return None

    def require(self, name: str) -> Person:
        person = self.get(name)
        if person is None:
            names = ", ".join(p.name for p in self.all())
            known = f"; the safe people here are {names}" if names else (
                "; add them with `coreg-desktop safe-person add NAME`")
            raise SafePersonError(f'no safe person called "{name}"{known}')
        return person

    def last_used(self) -> Person | None:
        """The person picked most recently, for when no one is chosen in the settings."""
        people = self.all()
        return max(people, key=lambda p: p.last_used) if people else None

    def _read(self, folder: Path) -> Person | None:
        path = folder / PROFILE
        try:
            if not path.exists():
                return None  # a folder being made, or removed: not a profile (yet)
            if path.stat().st_size > MAX_PROFILE_BYTES:
                raise ValueError("it is far too large to be a profile")
            data = json.loads(path.read_bytes().decode("utf-8"))
            person = _from_json(data, folder)
        except OSError as exc:
            self._tell(f"{path}: cannot be read ({exc.strerror or exc}); this person is skipped")
            return None
        except (ValueError, TypeError, KeyError) as exc:
            why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self._tell(f"{path}: is not a readable safe-person profile ({why}); this person is "
                       "skipped, and the file is left as it is")
            return None
        return person

    def _tell(self, line: str) -> None:
        """Each problem once per store: a listing asked for every second must not repeat it."""
        if line not in self._reported:
            self._reported.add(line)
            self._report(line)

    # ------------------------------------------------------------------ changing

    def add(self, name: str, relationship: str | None = None) -> Person:
        """A new person (or the one of that name, with the relationship changed if given)."""
        name = check_name(name)
        word = check_relationship(relationship) if relationship is not None else None
        existing = self.get(name)
        if existing is not None:
            if word is not None and word != existing.relationship:
                existing = replace(existing, relationship=word)
                self._write(existing)
            return existing
        if len(self.all()) >= MAX_PEOPLE:
            raise SafePersonError(f"there are already {MAX_PEOPLE} safe people; remove one first")
        folder = self._new_folder(name)
        person = Person(name=name, relationship=word or "", folder=folder)
        self._write(person)
        return person

    def update(self, name: str, *, new_name: str | None = None,
               relationship: str | None = None) -> Person:
        """Rename a person or change their relationship word (their files stay where they are)."""
        person = self.require(name)
        if new_name is not None:
            new_name = check_name(new_name)
            other = self.get(new_name)
            if other is not None and other.folder != person.folder:
                raise SafePersonError(f'there is already a safe person called "{other.name}"')
            person = replace(person, name=new_name)
        if relationship is not None:
            person = replace(person, relationship=check_relationship(relationship))
        self._write(person)
        return person

    def remove(self, name: str) -> Person:
        """Delete a person with their photo and memos; SafePersonError if there is no one."""
        person = self.require(name)
        # Renamed first, so a removal cut short never leaves half a person that still loads.
        doomed = person.folder.with_name(f"{files.TMP_PREFIX}removed-{uuid.uuid4().hex[:8]}")
        try:
            os.replace(person.folder, doomed)
        except OSError as exc:
            raise SafePersonError(
                f"{person.folder}: could not be removed ({exc.strerror or exc})") from None
        shutil.rmtree(doomed, ignore_errors=True)
        return person

    def set_photo(self, name: str, source: Path) -> Person:
        """Import a photo for `name` (replacing theirs); the profile changes only if it worked."""
        from coreg_desktop.photo import STORED_NAME, PhotoError, import_photo

        person = self.require(name)
        try:
            import_photo(source, person.folder / STORED_NAME)
        except PhotoError as exc:
            raise SafePersonError(str(exc)) from None
        person = replace(person, photo=STORED_NAME)
        self._write(person)
        return person

    def remove_photo(self, name: str) -> Person:
        person = self.require(name)
        path = person.photo_path
        person = replace(person, photo=None)
        self._write(person)
        if path is not None:
            with contextlib.suppress(OSError):
                path.unlink()
        return person

    def add_memo(self, name: str, source: Path) -> tuple[Person, Memo]:
        """Import a voice memo for `name`; nothing is kept unless the whole import worked."""
        from coreg_desktop.audio.memo import MemoError, prepare

        person = self._room_for_a_memo(name)
        try:
            prepared = prepare(source)
        except MemoError as exc:
            raise SafePersonError(str(exc)) from None
        return self._store_memo(person, prepared.audio, _label(source.name))

    def add_recording(self, name: str, audio: Any, label: str) -> tuple[Person, Memo]:
        """Keep a memo recorded in Coreg (mono float32 at the mixer rate), cleaned like an
        imported one."""
        from coreg_desktop.audio.memo import MemoError, prepare_audio

        person = self._room_for_a_memo(name)
        try:
            prepared = prepare_audio(audio, "The recording")
        except MemoError as exc:
            raise SafePersonError(str(exc)) from None
        return self._store_memo(person, prepared.audio, _label(label))

    def _room_for_a_memo(self, name: str) -> Person:
        person = self.require(name)
        if len(person.memos) >= MAX_MEMOS:
            raise SafePersonError(f"{person.name} already has {MAX_MEMOS} memos; remove one first")
        return person

    def _store_memo(self, person: Person, audio: Any, label: str) -> tuple[Person, Memo]:
        from coreg_desktop.audio.memo import STORED_SUFFIX, MemoError, encode_flac
        from coreg_desktop.constants import SAMPLE_RATE

        memo = Memo(f"memo-{uuid.uuid4().hex[:12]}{STORED_SUFFIX}", label,
                    round(len(audio) / SAMPLE_RATE, 2))
        self._private_dir(person.folder / MEMO_DIR)
        path = person.memo_path(memo)
        try:
            encode_flac(audio, path)
        except MemoError as exc:
            raise SafePersonError(str(exc)) from None
        current = self.require(person.name)  # another process may have changed it meanwhile
        person = replace(current, memos=(*current.memos, memo))
        try:
            self._write(person)
        except SafePersonError:
            with contextlib.suppress(OSError):
                path.unlink()
            raise
        return person, memo

    def remove_memo(self, name: str, label_or_file: str) -> Person:
        person = self.require(name)
        found = [m for m in person.memos if label_or_file in (m.file, m.label)]
        if not found:
            raise SafePersonError(f'{person.name} has no memo called "{label_or_file}"')
        memo = found[0]
        person = replace(person, memos=tuple(m for m in person.memos if m is not memo))
        self._write(person)
        with contextlib.suppress(OSError):
            person.memo_path(memo).unlink()
        return person

    def mark_used(self, name: str, memos_played: int = 0) -> Person | None:
        """`name` was just chosen for a practice: they become the default, and the memos take
        their turn. Quiet when it cannot be saved: a practice must never stop over this."""
        person = self.get(name)
        if person is None:
            return None
        nxt = (person.next_memo + memos_played) % len(person.memos) if person.memos else 0
        person = replace(person, last_used=time.time(), next_memo=nxt)
        try:
            self._write(person)
        except SafePersonError as exc:
            log.warning("%s", exc)
        return person

    # ------------------------------------------------------------------ files

    def _new_folder(self, name: str) -> Path:
        self._private_dir(self.root)
        base = _slug(name)
        for n in range(1, MAX_PEOPLE * 2 + 2):
            folder = self.root / (base if n == 1 else f"{base}-{n}")
            try:
                folder.mkdir(mode=PRIVATE_DIR)
            except FileExistsError:
                continue
            except OSError as exc:
                raise SafePersonError(f"{folder}: cannot be made ({exc.strerror or exc})") from None
            os.chmod(folder, PRIVATE_DIR)  # the umask may have taken bits off
            return folder
        raise SafePersonError(f"{self.root}: no room for another person")

    def _private_dir(self, folder: Path) -> None:
        """Make `folder` (and the store's own folder above it) readable by the user only."""
        try:
            folder.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
            for made in {self.root, folder}:
                os.chmod(made, PRIVATE_DIR)  # mkdir's mode loses to the umask, and to old folders
        except OSError as exc:
            raise SafePersonError(f"{folder}: cannot be made ({exc.strerror or exc})") from None

    def _write(self, person: Person) -> None:
        data = {
            "version": FORMAT_VERSION,
            "name": person.name,
            "relationship": person.relationship,
            "photo": person.photo,
            "memos": [{"file": m.file, "label": m.label, "seconds": m.seconds}
                      for m in person.memos],
            "last_used": person.last_used,
            "next_memo": person.next_memo,
        }
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        try:
            files.atomic_write(person.folder / PROFILE, text, mode=files.PRIVATE_FILE)
        except OSError as exc:
            raise SafePersonError(
                f"{person.folder / PROFILE}: cannot be saved ({exc.strerror or exc})") from None


def _from_json(data: object, folder: Path) -> Person:
    """A profile's JSON as a Person; ValueError (one line) for anything out of shape."""
    if not isinstance(data, dict):
        raise ValueError("it must hold a JSON object")
    name = data.get("name")
    if not isinstance(name, str):
        raise ValueError('"name" must be text')
    try:
        name = check_name(name)
        relationship = check_relationship(_text(data, "relationship"))
    except SafePersonError as exc:
        raise ValueError(str(exc)) from None
    photo = data.get("photo")
    if photo is not None and (not isinstance(photo, str) or not _plain_file_name(photo)):
        raise ValueError('"photo" must be a file name in the person\'s folder, or null')
    raw_memos = data.get("memos", [])
    if not isinstance(raw_memos, list):
        raise ValueError('"memos" must be a list')
    memos: list[Memo] = []
    for raw in raw_memos[:MAX_MEMOS]:
        if not isinstance(raw, dict):
            raise ValueError("each memo must be a JSON object")
        file, label, seconds = raw.get("file"), raw.get("label", ""), raw.get("seconds")
        if not isinstance(file, str) or not _plain_file_name(file):
            raise ValueError('a memo\'s "file" must be a file name in its memos folder')
        if not isinstance(label, str) or not isinstance(seconds, int | float) or isinstance(
            seconds, bool
        ):
            raise ValueError('a memo needs a text "label" and a number of "seconds"')
        memos.append(Memo(file, label, float(seconds)))
    last_used, next_memo = data.get("last_used", 0.0), data.get("next_memo", 0)
    if not isinstance(last_used, int | float) or isinstance(last_used, bool):
        raise ValueError('"last_used" must be a number')
    if not isinstance(next_memo, int) or isinstance(next_memo, bool):
        raise ValueError('"next_memo" must be a whole number')
    return Person(name, relationship, photo, tuple(memos), float(last_used), max(0, next_memo),
                  folder)


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise ValueError(f'"{key}" must be text')
    return value


def _plain_file_name(name: str) -> bool:
    """No path in it: a profile must never point Coreg at a file outside the person's folder."""
    return bool(name) and name not in (".", "..") and "/" not in name and "\0" not in name


def _label(file_name: str) -> str:
    cleaned = "".join(c for c in file_name if unicodedata.category(c)[0] != "C").strip()
    return cleaned[:80] or "memo"


def _show(text: str) -> str:
    shown = text if len(text) <= 40 else text[:37] + "…"
    return json.dumps(shown, ensure_ascii=False)
