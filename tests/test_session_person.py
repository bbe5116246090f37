"""Picking the safe person for one session: who it is with, who comes next, and a name that is no
one's. Real parts: the store on disk, Piper speaking, the real mixer on a silent real-time output.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from coreg_desktop.audio.bank import SoundBank
from coreg_desktop.audio.output import NullOutput
from coreg_desktop.core import Core, uses_safe_person
from coreg_desktop.practice.loader import Library, load_library
from coreg_desktop.practice.model import Memo, Practice, Say
from coreg_desktop.practice.timeline import MemoItem, Speech
from coreg_desktop.safe_people import SafePersonError
from coreg_desktop.settings import Settings
from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.narrator import Narrator
from coreg_desktop.tts.piper import PiperSynthesizer
from tests.memo_inputs import encode, voice_like, with_silence

WITH = Practice(
    id="with",
    title="With",
    ambience="none",
    steps=(Say("Here is {safe_person}."), Memo()),
)


@pytest.fixture(scope="module")
def narrator(shared_cache: Path) -> Narrator:
    return Narrator(PiperSynthesizer(), ClipCache(shared_cache / "narration"))


@pytest.fixture
def core(tmp_path: Path, narrator: Narrator, shared_cache: Path) -> Iterator[Core]:
    library = Library({p.id: p for p in [WITH, *load_library().all]})
    core = Core(Settings(path=tmp_path / "settings.json"), narrator=narrator,
                bank=SoundBank(shared_cache / "ambience"), library=library, output=NullOutput())
    yield core
    core.close()


def add_people(core: Core, tmp_path: Path) -> None:
    """Ana (chosen in the settings) and Sam, each with a memo of their own length."""
    for name, seconds in (("Ana", 1.0), ("Sam", 2.0)):
        core.safe_people.add(name)
        tone = with_silence(voice_like(seconds, level_db=-20.0), 0.3, 0.3)
        core.safe_people.add_memo(name, encode(tone, tmp_path / f"{name}.m4a"))
    core.settings.set("safe_person.name", "Ana")


def heard(core: Core, person: str | None = None) -> tuple[list[str], list[str]]:
    """The captions and memo labels of WITH for a session with `person`; the voice says just
    what the captions show."""
    items = core.source(WITH, core.options(None, core.person_for(WITH, person))).items
    speech = [i for i in items if isinstance(i, Speech)]
    assert [i.voice_text for i in speech] == [i.text for i in speech]
    return ([i.text for i in speech],
            [i.memo.caption for i in items if isinstance(i, MemoItem)])


def test_a_session_with_a_picked_person_makes_them_the_default(
    core: Core, tmp_path: Path
) -> None:
    add_people(core, tmp_path)
    assert heard(core) == (["Here is Ana."], ["A message from Ana"])
    assert heard(core, "sam") == (["Here is Sam."], ["A message from Sam"])
    assert core.settings.text("safe_person.name") == "Ana"  # only asking changes nothing

    session = core.play("with", person="sam")
    try:
        assert session.state().total > 0
    finally:
        session.stop(fade_s=0.05)
    # Sam is the last used now: the setting (saved), the store, and the next default agree.
    assert core.settings.text("safe_person.name") == "Sam"
    assert Settings.load(tmp_path / "settings.json").text("safe_person.name") == "Sam"
    last = core.safe_people.last_used()
    assert last is not None and last.name == "Sam"
    assert heard(core) == (["Here is Sam."], ["A message from Sam"])


def test_an_unknown_person_is_one_line_and_nothing_plays(core: Core, tmp_path: Path) -> None:
    add_people(core, tmp_path)
    with pytest.raises(SafePersonError) as info:
        core.play("with", person="Nobody")
    line = str(info.value)
    assert line == 'no safe person called "Nobody"; the safe people here are Ana, Sam'
    assert core._player is None  # the player was never even built: nothing played
    with pytest.raises(SafePersonError, match="stay-safe is not one"):
        core.play("stay-safe", person="Sam")
    with pytest.raises(SafePersonError, match="Nobody"):
        core.render("with", person="Nobody")
    assert core._player is None
    assert core.settings.text("safe_person.name") == "Ana"


def test_a_render_with_a_person_changes_no_default(core: Core, tmp_path: Path) -> None:
    add_people(core, tmp_path)
    with_ana = core.render("with")
    with_sam = core.render("with", person="Sam")
    assert len(with_sam) > len(with_ana)  # Sam's memo is a second longer
    assert core.settings.text("safe_person.name") == "Ana"
    assert core.safe_people.require("Sam").last_used == 0.0


def test_the_choice_is_offered_only_for_a_practice_about_someone_and_two_people(
    core: Core, tmp_path: Path
) -> None:
    safe_person, stay_safe = core.practice("safe-person"), core.practice("stay-safe")
    assert uses_safe_person(safe_person) and uses_safe_person(WITH)
    assert not uses_safe_person(stay_safe)
    assert core.people_to_choose(safe_person) == ([], None)
    core.safe_people.add("Ana")
    core.settings.set("safe_person.name", "Ana")
    assert core.people_to_choose(safe_person) == ([], None)  # one person: nothing to choose
    core.safe_people.add("Sam")
    assert core.people_to_choose(safe_person) == (["Ana", "Sam"], "Ana")
    assert core.people_to_choose(stay_safe) == ([], None)
    core.settings.set("safe_person.name", "")
    assert core.people_to_choose(safe_person) == (["Ana", "Sam"], None)


def test_a_practice_about_no_one_never_reads_the_store(
    tmp_path: Path, narrator: Narrator, shared_cache: Path
) -> None:
    """The quick reset must not wait for a folder of profiles it does not use: with a store
    that cannot be read at all, it plays without a word, and only "A Safe Person" notices."""
    from coreg_desktop.safe_people import SafePeople

    lines: list[str] = []
    broken = tmp_path / "not-a-folder"
    broken.write_text("")
    core = Core(Settings(path=tmp_path / "settings.json"), narrator=narrator,
                bank=SoundBank(shared_cache / "ambience"), output=NullOutput(),
                safe_people=SafePeople(broken, report=lines.append))
    core.settings.set("safe_person.name", "Ana")
    try:
        core.play("quick-reset").stop(fade_s=0.05)
        assert lines == []
        core.play("safe-person").stop(fade_s=0.05)
        assert len(lines) == 1 and str(broken) in lines[0]
    finally:
        core.close()
