"""Preparing ahead: the quick reset first, every line cached, and never in the way of playback."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop import priority
from coreg_desktop.audio.bank import SoundBank
from coreg_desktop.audio.output import NullOutput
from coreg_desktop.constants import QUICK_RESET_ID
from coreg_desktop.core import Core
from coreg_desktop.practice.loader import Library
from coreg_desktop.practice.model import Practice, Say
from coreg_desktop.preparation import Preparer, Progress, readiness
from coreg_desktop.settings import Settings
from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.narrator import Narrator
from coreg_desktop.tts.piper import PiperSynthesizer

QUICK = Practice(id=QUICK_RESET_ID, title="Quick", builtin=True, ambience="none",
                 steps=(Say("Prepared first, {name}."),))
OTHER = Practice(id="other", title="Other", builtin=True, ambience="none",
                 steps=(Say("Prepared second. Still calm."),))
MINE = Practice(id="mine", title="Mine", ambience="none", steps=(Say("A user's own line."),))


class SpyNarrator(Narrator):
    """The real Piper narrator, noting which lines it makes, on which priority."""

    #: the line, the scheduling class of the thread making it and what it said it is for
    made: list[tuple[str, int, str]]

    def clip(self, text: str) -> np.ndarray:
        if not self.cached(text):
            self.made.append((text, os.sched_getscheduler(0), priority.intent()))
        return super().clip(text)


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    library = Library({p.id: p for p in (OTHER, MINE, QUICK)})
    narrator = SpyNarrator(PiperSynthesizer(), ClipCache(tmp_path / "n"))
    narrator.made = []
    settings = Settings(path=tmp_path / "s.json")
    settings.set("name", "Robin")
    core = Core(settings, library=library, narrator=narrator, bank=SoundBank(tmp_path / "a"),
                output=NullOutput())
    yield core
    core.close()


def test_the_quick_reset_is_made_first_then_the_rest_and_the_progress_is_told(
    core: Core,
) -> None:
    heard: list[Progress] = []
    first = threading.Event()
    preparer = Preparer(core, on_progress=heard.append, on_first=first.set)
    assert readiness(core) == Progress(0, 2)
    preparer.start()
    assert preparer.join(timeout=120)
    assert first.is_set()
    made = [text for text, *_how in core.narrator.made]  # type: ignore[attr-defined]
    assert made[0] == "Prepared first, Robin."
    assert set(made) == {"Prepared first, Robin.", "Prepared second.", "Still calm."}
    assert "A user's own line." not in made  # only the built-in practices
    assert heard[0] == Progress(0, 2) and heard[-1] == Progress(2, 2)
    assert heard[-1].sentence() == "The voice is ready for every practice."
    assert Progress(1, 2).sentence() == "Preparing the voice: 1 of 2 practices ready."
    assert readiness(core) == Progress(2, 2)
    # Nobody waits for it, so its synthesis goes to the idle-class process (tts/remote.py)...
    intents = {intent for _text, _policy, intent in core.narrator.made}  # type: ignore[attr-defined]
    assert intents == {"ahead"}
    # ... while the thread itself, which holds the interpreter lock the sound needs, is lowered
    # but never put in the idle class (descheduled there, it stalled the audio callback).
    classes = {policy for _text, policy, _intent in core.narrator.made}  # type: ignore[attr-defined]
    assert os.SCHED_IDLE not in classes
    # A second start finds everything in the cache and makes nothing.
    before = len(made)
    preparer.start()
    assert preparer.join(timeout=30)
    assert len(core.narrator.made) == before  # type: ignore[attr-defined]


def test_it_waits_while_a_practice_plays_lines_still_being_made(core: Core) -> None:
    """A session making its own lines goes first; preparation resumes once it has them."""
    long_lines = Practice(id="long", title="Long", ambience="none",
                          steps=tuple(Say(f"This is sentence number {n} of eight.")
                                      for n in range(8)))
    core.player.open()
    session = core.play(long_lines)
    preparer = Preparer(core)
    preparer.start()
    assert session.wait_narrated(timeout=120)
    narrated_at = time.monotonic()
    assert preparer.join(timeout=120)
    made = [text for text, *_how in core.narrator.made]  # type: ignore[attr-defined]
    session_lines = [m for m in made if m.startswith("This is sentence")]
    prepared = [m for m in made if m.startswith("Prepared")]
    assert len(session_lines) == 8 and prepared
    assert made.index(prepared[0]) > made.index(session_lines[-1])
    assert time.monotonic() >= narrated_at
    session.stop(fade_s=0.1)


def test_cancel_stops_between_lines(core: Core) -> None:
    preparer = Preparer(core)
    preparer.start()
    preparer.cancel()
    assert preparer.join(timeout=60)
    assert len(core.narrator.made) <= 1  # type: ignore[attr-defined]
    assert readiness(core).done < 2


def test_silence_only_narration_is_ready_at_once(tmp_path: Path) -> None:
    core = Core(Settings(path=tmp_path / "s.json"), library=Library({QUICK.id: QUICK}),
                narrator=Narrator(None, ClipCache(tmp_path / "n")), output=NullOutput())
    assert readiness(core) == Progress(1, 1)
