"""Program sources: a practice and a breathing pacer play through the same session and mixer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop import session as session_mod
from coreg_desktop.audio.bank import SoundBank
from coreg_desktop.audio.output import NullOutput
from coreg_desktop.constants import SAMPLE_RATE
from coreg_desktop.events import Ended, EndReason, Event, PhaseChanged
from coreg_desktop.player import Player
from coreg_desktop.practice.model import Cue, Phase, Practice, Say
from coreg_desktop.practice.patterns import BreathPattern
from coreg_desktop.practice.timeline import BELL_STEP_S, TAIL_S, BellItem, BreathPhase
from coreg_desktop.session import render_source
from coreg_desktop.sources import Chunk, PacerSource, PracticeSource
from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.narrator import Narrator

EXTENDED_EXHALE = BreathPattern("extended-exhale", "Longer out-breath", inhale=4, exhale=6)


def silent_narrator(tmp_path: Path) -> Narrator:
    return Narrator(None, ClipCache(tmp_path / "n"))


def test_a_practice_is_one_chunk_that_is_the_last() -> None:
    source = PracticeSource(Practice(id="p", title="P", steps=(Say("One. Two."),)))
    first = source.next_items()
    assert first.last and len(first.items) == 2
    assert source.next_items() == Chunk(last=True)


def test_a_pacer_hands_out_a_minute_at_a_time_and_ends_with_the_bell() -> None:
    """Three minutes are three minutes, bell and tail included: 17 ten-second breaths, then a
    quiet second and the bell."""
    pacer = PacerSource(EXTENDED_EXHALE, minutes=3)
    assert pacer.id == "pacer:extended-exhale" and pacer.cycles == 17
    chunks = []
    while True:
        chunk = pacer.next_items()
        chunks.append(chunk)
        if chunk.last:
            break
    assert len(chunks) == 3
    breaths = [i for c in chunks for i in c.items if isinstance(i, BreathPhase)]
    assert [b.cycle for b in breaths if b.phase is Phase.INHALE] == list(range(1, 18))
    assert all(b.cue is Cue.TONE for b in breaths)
    assert pacer.estimated_seconds() == pytest.approx(180.0)
    assert isinstance(chunks[-1].items[-1], BellItem)


def test_a_rendered_pacer_chimes_at_every_breath_in(tmp_path: Path) -> None:
    pacer = PacerSource(EXTENDED_EXHALE, minutes=1)
    audio = render_source(pacer, silent_narrator(tmp_path), SoundBank(tmp_path / "a"))
    assert len(audio) == 60 * SAMPLE_RATE
    assert float(np.abs(audio).max()) < 1.0
    mono = audio[:, 0]
    window = SAMPLE_RATE // 5
    for cycle in range(pacer.cycles):
        start = cycle * 10 * SAMPLE_RATE
        chime = np.abs(mono[start : start + window]).max()
        quiet_before = np.abs(mono[start + 3 * SAMPLE_RATE : start + 4 * SAMPLE_RATE - 4800]).max()
        assert chime > 0.01, f"no chime at breath {cycle + 1}"
        assert quiet_before < chime / 4, f"breath {cycle + 1} is not quiet before the out-cue"


def test_an_open_source_grows_while_it_plays_and_ends_when_it_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pacer is asked for more as the playhead nears the end of what is laid out, through the
    same session, mixer and callback as a practice."""
    monkeypatch.setattr(PacerSource, "CHUNK_S", 2.0)
    monkeypatch.setattr(session_mod, "LOOKAHEAD_S", 1.5)
    fast = BreathPattern("fast", "Fast", inhale=0.5, exhale=0.5)
    pacer = PacerSource(fast, minutes=0.25)  # six breaths, two to a chunk, bell and tail: 15 s
    asked: list[Chunk] = []
    real_next = pacer.next_items

    def spy() -> Chunk:
        chunk = real_next()
        asked.append(chunk)
        return chunk

    monkeypatch.setattr(pacer, "next_items", spy)
    player = Player(silent_narrator(tmp_path), SoundBank(tmp_path / "a"), output=NullOutput())
    events: list[Event] = []
    done = threading.Event()

    def hear(event: Event) -> None:
        events.append(event)
        if isinstance(event, Ended):
            done.set()

    player.events.subscribe(hear)
    player.open()
    try:
        session = player.play(pacer)
        assert not session.timeline.complete  # only the first chunk is laid out
        assert done.wait(30)
    finally:
        player.close()
    assert len(asked) == 3 and asked[-1].last
    inhales = [
        e.state.cycle
        for e in events
        if isinstance(e, PhaseChanged) and e.state.phase is Phase.INHALE
    ]
    assert inhales == [1, 2, 3, 4, 5, 6]
    ended = [e for e in events if isinstance(e, Ended)]
    assert [e.reason for e in ended] == [EndReason.COMPLETED]
    assert ended[0].heard_seconds == pytest.approx(15.0, abs=0.2)
    assert 6 + BELL_STEP_S + TAIL_S == 15.0


class TapSource:
    """Breathes when the listener taps: nothing to play until a tap arrives, then one breath.

    The smallest source that waits for input, to prove such a source is asked again when it
    calls the wake it was given, with no polling.
    """

    id = "taps"
    title = "Taps"
    ambience = "none"

    def __init__(self) -> None:
        self._wake: Callable[[], None] | None = None
        self._taps = 0
        self._given = 0
        self.asked = 0

    def attach(self, wake: Callable[[], None]) -> None:
        self._wake = wake

    def tap(self) -> None:
        self._taps += 1
        assert self._wake is not None
        self._wake()

    def next_items(self) -> Chunk:
        self.asked += 1
        if self._given >= 2:
            return Chunk(last=True)
        if self._given >= self._taps:
            return Chunk()  # nothing yet
        self._given += 1
        return Chunk(
            (BreathPhase(Phase.INHALE, 0.5, self._given, 2, Cue.TONE, None, 0),
             BreathPhase(Phase.EXHALE, 0.5, self._given, 2, Cue.TONE, None, 0)),
        )

    def estimated_seconds(self) -> float | None:
        return None


def test_a_source_waiting_for_input_is_asked_again_when_it_wakes_the_session(
    tmp_path: Path,
) -> None:
    taps = TapSource()
    player = Player(silent_narrator(tmp_path), SoundBank(tmp_path / "a"), output=NullOutput())
    events: list[Event] = []
    done = threading.Event()

    def hear(event: Event) -> None:
        events.append(event)
        if isinstance(event, Ended):
            done.set()

    player.events.subscribe(hear)
    player.open()
    try:
        session = player.play(taps)
        time.sleep(1.0)
        asked_while_waiting = taps.asked
        time.sleep(1.0)
        assert taps.asked == asked_while_waiting, "a waiting source was polled"
        assert session.position_frames < 1024  # held: nothing is laid out yet
        taps.tap()
        time.sleep(1.5)  # one breath: 1 s
        taps.tap()
        assert done.wait(15)
    finally:
        player.close()
    inhales = [e.state.cycle for e in events
               if isinstance(e, PhaseChanged) and e.state.phase is Phase.INHALE]
    assert inhales == [1, 2]
    assert [e.reason for e in events if isinstance(e, Ended)] == [EndReason.COMPLETED]
