"""Events from the core: delivered in order off the audio thread, and `ended` exactly once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop.audio.bank import SoundBank
from coreg_desktop.audio.output import NullOutput
from coreg_desktop.events import (
    Ended,
    EndReason,
    Event,
    EventBus,
    PhaseChanged,
    PlayState,
    PlayStateChanged,
    Started,
)
from coreg_desktop.player import Player
from coreg_desktop.practice.model import Breathe, Cue, Pause, Phase, Practice, Say
from coreg_desktop.sources import PracticeSource
from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.narrator import Narrator

SHORT = Practice(id="short", title="Short", steps=(Say("Hello there."), Pause(0.3)))
LONG = Practice(id="long", title="Long", steps=(Say("Hello there."), Pause(60.0)))
BREATHS = Practice(
    id="breaths",
    title="Breaths",
    steps=(Breathe(inhale=2, exhale=2, cycles=2, cue=Cue.TONE),),
)


class Recorder:
    """Collects events as a subscriber does, and lets a test wait for one kind."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.threads: set[str] = set()
        self._cond = threading.Condition()

    def __call__(self, event: Event) -> None:
        with self._cond:
            self.events.append(event)
            self.threads.add(threading.current_thread().name)
            self._cond.notify_all()

    def wait_for(self, predicate: object, timeout: float = 30.0) -> None:
        assert callable(predicate)
        with self._cond:
            assert self._cond.wait_for(lambda: predicate(self.events), timeout), self.events

    def ended(self) -> list[Ended]:
        return [e for e in self.events if isinstance(e, Ended)]

    def of(self, session: int) -> list[Event]:
        return [e for e in self.events if e.session == session]


class FailingNarrator(Narrator):
    """A voice engine that breaks in a way the session does not expect (not a SynthesisError)."""

    @property
    def available(self) -> bool:
        return True

    def clip(self, text: str) -> np.ndarray:
        raise RuntimeError("the engine fell over")


@pytest.fixture
def player(tmp_path: Path) -> Iterator[Player]:
    """A real player on a silent real-time output, without a voice (captions and tones)."""
    player = Player(
        Narrator(None, ClipCache(tmp_path / "n")), SoundBank(tmp_path / "a"), output=NullOutput()
    )
    player.open()
    yield player
    player.close()


@pytest.fixture
def heard(player: Player) -> Recorder:
    recorder = Recorder()
    player.events.subscribe(recorder)
    return recorder


def test_bus_delivers_in_order_on_its_own_thread_and_survives_a_broken_subscriber(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()
    got: list[Event] = []
    threads: list[str] = []

    def broken(_event: Event) -> None:
        raise RuntimeError("boom")

    def good(event: Event) -> None:
        got.append(event)
        threads.append(threading.current_thread().name)

    bus.subscribe(broken)
    unsubscribe = bus.subscribe(good)
    sent = [Started(i, "p", "P") for i in range(50)]
    for event in sent:
        bus.emit(event)
    assert bus.flush()
    assert got == sent
    assert set(threads) == {"coreg-events"}
    assert "An event subscriber failed on Started" in caplog.text
    unsubscribe()
    bus.emit(Started(99, "p", "P"))
    assert bus.flush()
    assert len(got) == 50
    bus.close()


def test_a_practice_heard_to_the_end_ends_once_as_completed(
    player: Player, heard: Recorder
) -> None:
    session = player.play(PracticeSource(SHORT), ambience="none")
    heard.wait_for(lambda events: any(isinstance(e, Ended) for e in events))
    player.events.flush()
    events = heard.of(session.number)
    assert isinstance(events[0], Started) and events[0].practice_id == "short"
    assert [type(e) for e in events[-2:]] == [PlayStateChanged, Ended]
    (ended,) = heard.ended()
    assert ended.reason is EndReason.COMPLETED
    assert ended.heard_seconds == pytest.approx(session.timeline.seconds, abs=0.1)
    assert session.finished and session.state().finished
    captions = [e.state.caption for e in events if isinstance(e, PhaseChanged)]
    assert "Hello there." in captions
    assert heard.threads == {"coreg-events"}
    session.stop()  # stopping an ended session changes nothing
    player.events.flush()
    assert len(heard.ended()) == 1


def test_stop_pause_and_resume_are_announced_and_ended_comes_once(
    player: Player, heard: Recorder
) -> None:
    session = player.play(PracticeSource(LONG), ambience="none")
    heard.wait_for(lambda events: any(isinstance(e, PhaseChanged) for e in events))
    time.sleep(0.5)  # something is heard before it stops
    session.pause()
    session.pause()  # already paused: nothing more to say
    session.resume()
    session.stop(fade_s=0.2)
    session.stop(fade_s=0.2)
    assert session.wait_stopped()
    player.events.flush()
    states = [e.state for e in heard.events if isinstance(e, PlayStateChanged)]
    assert states == [PlayState.PAUSED, PlayState.PLAYING, PlayState.ENDED]
    (ended,) = heard.ended()
    assert ended.reason is EndReason.STOPPED and 0 < ended.heard_seconds < 60
    assert session.finished


def test_a_new_practice_ends_the_playing_one_first(player: Player, heard: Recorder) -> None:
    first = player.play(PracticeSource(LONG), ambience="none")
    heard.wait_for(lambda events: any(isinstance(e, PhaseChanged) for e in events))
    second = player.play(PracticeSource(LONG), ambience="none")
    player.events.flush()
    kinds = [(type(e).__name__, e.session) for e in heard.events if not isinstance(e, PhaseChanged)]
    a, b = first.number, second.number
    assert kinds[:4] == [("Started", a), ("PlayStateChanged", a), ("Ended", a), ("Started", b)]
    second.stop(fade_s=0.1)
    second.wait_stopped()
    player.events.flush()
    ended = heard.ended()
    assert [(e.session, e.reason) for e in ended] == [
        (a, EndReason.STOPPED),
        (b, EndReason.STOPPED),
    ]


def test_closing_the_player_ends_what_plays(tmp_path: Path) -> None:
    player = Player(
        Narrator(None, ClipCache(tmp_path / "n")), SoundBank(tmp_path / "a"), output=NullOutput()
    )
    recorder = Recorder()
    player.events.subscribe(recorder)
    player.open()
    player.play(PracticeSource(LONG), ambience="none")
    player.close()  # delivers the last events before it returns
    assert [e.reason for e in recorder.ended()] == [EndReason.STOPPED]


def test_a_session_whose_voice_breaks_ends_once_as_failed_with_a_notice(tmp_path: Path) -> None:
    notices: list[str] = []
    player = Player(
        FailingNarrator(None, ClipCache(tmp_path / "n")),
        SoundBank(tmp_path / "a"),
        output=NullOutput(),
        on_notice=notices.append,
    )
    recorder = Recorder()
    player.events.subscribe(recorder)
    player.open()
    try:
        session = player.play(PracticeSource(LONG), ambience="none")
        recorder.wait_for(lambda events: any(isinstance(e, Ended) for e in events))
        assert [e.reason for e in recorder.ended()] == [EndReason.FAILED]
        assert len(notices) == 1 and "stopped" in notices[0]
        assert session.wait_stopped()
    finally:
        player.close()
    assert len(recorder.ended()) == 1


def test_phase_events_arrive_as_each_breath_phase_begins(player: Player, heard: Recorder) -> None:
    """The monitor sleeps until the next boundary on the audio clock, so each phase is
    announced near its start, not a poll interval later."""
    player.play(PracticeSource(BREATHS), ambience="none")
    heard.wait_for(lambda events: any(isinstance(e, Ended) for e in events), timeout=40)
    phases = [e.state for e in heard.events if isinstance(e, PhaseChanged) and e.state.cycles]
    assert [(s.phase, s.cycle) for s in phases] == [
        (Phase.INHALE, 1),
        (Phase.EXHALE, 1),
        (Phase.INHALE, 2),
        (Phase.EXHALE, 2),
    ]
    assert all(s.phase_progress < 0.25 for s in phases), [s.phase_progress for s in phases]
