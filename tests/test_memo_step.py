"""A safe person in a practice: `{safe_person}`, `{relationship}` and the `memo = true` step.

Real parts throughout: memos imported from files made with ffmpeg, Piper speaking, the real
mixer rendering with a real soundscape, so the memo is found in the very samples `render` writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop.audio.bank import SoundBank
from coreg_desktop.audio.memo import load
from coreg_desktop.audio.mixer import DUCK_DB
from coreg_desktop.audio.output import NullOutput
from coreg_desktop.constants import SAMPLE_RATE
from coreg_desktop.core import Core
from coreg_desktop.practice.loader import Library, load_library
from coreg_desktop.practice.model import Memo, Pause, Practice, Say
from coreg_desktop.practice.timeline import MemoClip, MemoItem, Speech, plan
from coreg_desktop.practice.validate import PracticeError, parse_practice
from coreg_desktop.safe_people import SafePeople
from coreg_desktop.session import Composer
from coreg_desktop.settings import Settings
from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.narrator import Narrator
from coreg_desktop.tts.piper import PiperSynthesizer
from tests.memo_inputs import encode, voice_like, with_silence

LISTEN = Practice(
    id="listen",
    title="Listen",
    ambience="rain",
    steps=(
        Say("Here is someone who loves you, {name}."),
        Memo(pause=1.0),
        Pause(4.0),
        Say("Thank you for listening."),
        Memo(),
    ),
)


@pytest.fixture(scope="module")
def narrator(shared_cache: Path) -> Narrator:
    return Narrator(PiperSynthesizer(), ClipCache(shared_cache / "narration"))


@pytest.fixture
def core(tmp_path: Path, narrator: Narrator, shared_cache: Path) -> Iterator[Core]:
    library = Library({p.id: p for p in [LISTEN, *load_library().all]})
    core = Core(Settings(path=tmp_path / "settings.json"), narrator=narrator,
                bank=SoundBank(shared_cache / "ambience"), library=library, output=NullOutput())
    yield core
    core.close()


def add_ana(core: Core, tmp_path: Path, memos: int) -> SafePeople:
    store = core.safe_people
    store.add("Ana", "grandmother")
    for i in range(memos):
        tone = with_silence(voice_like(2.0 + i, level_db=-20.0), 0.5, 0.5)
        store.add_memo("Ana", encode(tone, tmp_path / f"hello {i + 1}.m4a"))
    core.settings.set("safe_person.name", "Ana")
    return store


def captions(items: Sequence[object]) -> list[str]:
    return [item.text for item in items if isinstance(item, Speech)]


def test_memo_steps_take_turns_and_vanish_without_a_memo() -> None:
    memos = [MemoClip("/a.flac", 2.0, "A message from Ana"), MemoClip("/b.flac", 3.0, "…")]
    items = plan(LISTEN, {}, 1.0, None, memos=memos)
    played = [item.memo.path for item in items if isinstance(item, MemoItem)]
    assert played == ["/a.flac", "/b.flac"]
    assert plan(LISTEN, {}, 1.0, None, memos=memos[1:])[1].memo.path == "/b.flac"  # type: ignore[union-attr]
    without = plan(LISTEN, {}, 1.0)
    assert not any(isinstance(item, MemoItem) for item in without)
    assert captions(without) == ["Here is someone who loves you.", "Thank you for listening."]
    assert len(without) == 3  # the memo's own pause went with it


def test_the_memo_step_in_a_practice_file() -> None:
    text = b'id = "m"\ntitle = "M"\n[[steps]]\nsay = "Hi."\n[[steps]]\nmemo = true\npause = 2\n'
    practice = parse_practice(text, Path("m.toml"))
    assert practice.steps[1] == Memo(pause=2.0, line=6)
    for bad, words in [(b"memo = false", "memo = true"), (b'memo = "yes"', "memo = true"),
                       (b"memo = true\nbell = true", "memo together")]:
        with pytest.raises(PracticeError) as info:
            parse_practice(b'id = "m"\ntitle = "M"\n[[steps]]\n' + bad + b"\n", Path("m.toml"))
        assert words in str(info.value), info.value


def test_the_safe_person_practice_reads_naturally_with_and_without_a_person(
    core: Core, tmp_path: Path
) -> None:
    practice = core.practice("safe-person")
    nobody = captions(core.source(practice, core.options()).items)
    assert "Now, gently bring to mind someone who feels safe to you." in nobody
    add_ana(core, tmp_path, memos=0)
    ana = captions(core.source(practice, core.options()).items)
    assert "Now, gently bring to mind Ana, your grandmother." in ana
    assert not any(isinstance(i, MemoItem) for i in core.source(practice, core.options()).items)
    core.safe_people.update("Ana", relationship="my dog")
    dog = captions(core.source(practice, core.options()).items)
    assert "Now, gently bring to mind Ana, your dog." in dog
    core.safe_people.update("Ana", relationship="")
    assert "Now, gently bring to mind Ana." in captions(
        core.source(practice, core.options()).items)
    for line in nobody + ana + dog:
        assert "{" not in line and "  " not in line and ", ." not in line, line


def test_render_has_the_memo_with_the_ambience_ducked_under_it(
    core: Core, tmp_path: Path
) -> None:
    store = add_ana(core, tmp_path, memos=2)
    person = store.require("Ana")
    first, second = (load(person.memo_path(m)) for m in person.memos)
    with_rain = core.render("listen")
    dry = core.render("listen", "none")
    assert len(with_rain) == len(dry)
    # Where the memos are, from the same composer `render` uses.
    composer = Composer(core.source(LISTEN, core.options()), core.narrator, core.bank, "none")
    composer.extend()
    for key in composer.pending_work():
        composer.prepare(key)
    timeline, _ = composer.compose()
    spans = [(e.start, e.end, e.caption) for e in timeline.events if e.kind == "memo"]
    assert [c for *_, c in spans] == ["A message from Ana"] * 2
    voice_gain = core.settings.number("volume.voice")
    for (start, end, _), memo in zip(spans, (first, second), strict=True):
        assert end - start == len(memo)
        heard = dry[start:end, 0]
        np.testing.assert_allclose(heard, memo * voice_gain, atol=2e-3)  # the memo itself
    # The rain alone, as the difference of the two renders: quieter under the memo than in
    # the pause after it, by the narration's ducking depth.
    rain = (with_rain - dry)[:, 0]
    start, end, _ = spans[0]
    under = rain[start + SAMPLE_RATE // 2 : end - SAMPLE_RATE // 2]
    pause_start = end + int(2.5 * SAMPLE_RATE)  # past the memo's pause and the duck's release
    free = rain[pause_start : pause_start + 2 * SAMPLE_RATE]
    drop_db = 20 * np.log10(np.sqrt(np.mean(free**2)) / np.sqrt(np.mean(under**2)))
    print(f"ambience under the memo: {drop_db:.2f} dB lower")
    assert drop_db == pytest.approx(DUCK_DB, abs=1.5)


def test_playing_turns_the_memos_and_a_missing_memo_is_left_out(
    core: Core, tmp_path: Path
) -> None:
    store = add_ana(core, tmp_path, memos=3)
    first = [m.label for m in store.require("Ana").memos_in_turn()]
    session = core.play("listen")  # two memo steps: the next practice starts at the third
    session.stop(fade_s=0.05)
    assert [m.label for m in store.require("Ana").memos_in_turn()] == first[2:] + first[:2]
    assert store.last_used() is not None and store.last_used().name == "Ana"  # type: ignore[union-attr]
    person = store.require("Ana")
    person.memo_path(person.memos_in_turn()[0]).unlink()  # deleted behind Coreg's back
    audio = core.render("listen", "none")
    composer = Composer(core.source(LISTEN, core.options()), core.narrator, core.bank, "none")
    composer.extend()
    for key in composer.pending_work():
        composer.prepare(key)
    timeline, _ = composer.compose()
    assert [e.kind for e in timeline.events].count("memo") == 1
    assert timeline.total == len(audio)
