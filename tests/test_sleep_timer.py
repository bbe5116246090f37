"""The sleep timer: a fade over its last stretch, silence at the set time, the soundscape kept
going past a practice's end while it runs; the real player and mixer, a silent real-time output."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop.audio.bank import SoundBank
from coreg_desktop.audio.output import NullOutput
from coreg_desktop.constants import SAMPLE_RATE
from coreg_desktop.events import Ended, EndReason, Event
from coreg_desktop.player import Player
from coreg_desktop.practice.model import Pause, Practice, Say
from coreg_desktop.sleep_timer import (
    SleepTimer,
    SleepTimerError,
    check_minutes,
    fade_level,
    format_left,
)
from coreg_desktop.sources import PracticeSource, SleepTail
from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.narrator import Narrator
from tests.test_cli import RecordingOutput


class Recorder:
    """What the timer asks of a player, with when."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.levels: list[tuple[float, float]] = []
        self.finished: list[float] = []
        self.restored: list[float] = []

    def now(self) -> float:
        return time.monotonic() - self.started

    def timer(self, fade_s: float) -> SleepTimer:
        return SleepTimer(lambda f: self.levels.append((self.now(), f)),
                          lambda: self.finished.append(self.now()),
                          lambda: self.restored.append(self.now()), fade_s=fade_s)


def test_the_level_falls_smoothly_over_the_fade_and_the_end_comes_at_the_set_time() -> None:
    seen = Recorder()
    heard: list[float | None] = []
    timer = seen.timer(fade_s=1.5)
    timer.subscribe(heard.append)
    timer.set(3 / 60)  # three seconds
    assert timer.active and 2.5 < (timer.remaining() or 0) <= 3.0
    time.sleep(3.6)
    assert len(seen.finished) == 1 and abs(seen.finished[0] - 3.0) < 0.3, seen.finished
    times = [t for t, _ in seen.levels]
    levels = [f for _, f in seen.levels]
    assert len(levels) >= 4 and min(times) > 1.3, seen.levels  # nothing before the fade
    assert levels == sorted(levels, reverse=True) and levels[0] > 0.8 and levels[-1] < 0.25
    assert not timer.active and timer.remaining() is None and timer.just_ran_out()
    assert heard[0] is not None and heard[-1] is None and seen.restored == []
    timer.close()


def test_lengthened_or_turned_off_during_the_fade_the_sound_comes_back() -> None:
    seen = Recorder()
    timer = seen.timer(fade_s=2.0)
    timer.set(2.5 / 60)
    time.sleep(1.5)  # a second into the fade
    assert timer.fading and seen.levels
    timer.extend(5 / 60)  # five seconds more: out of the fade again
    time.sleep(0.5)
    assert seen.restored and not timer.fading and seen.finished == []
    time.sleep(3.8)  # the new end is 7.5 s from the start, its fade from 5.5 s
    assert timer.fading
    timer.cancel()
    time.sleep(0.5)
    assert len(seen.restored) == 2 and seen.finished == [] and not timer.active
    timer.extend(-10)  # nothing to change when off
    assert timer.remaining() is None
    timer.close()


def test_shortening_never_drops_below_a_minute_left_or_what_is_left() -> None:
    seen = Recorder()
    timer = seen.timer(fade_s=1.0)
    timer.set(10)
    timer.extend(-60)
    assert 59 < (timer.remaining() or 0) <= 60
    timer.cancel()
    timer.close()
    assert seen.finished == []


def test_what_a_listener_types_is_checked_in_one_line() -> None:
    assert check_minutes(15) == 15.0
    for bad in (0, -5, 601):
        with pytest.raises(SleepTimerError) as caught:
            check_minutes(bad)
        assert "\n" not in str(caught.value) and "out of range" in str(caught.value)
    assert format_left(None) == "" and format_left(30) == "under a minute left"
    assert format_left(23 * 60 - 10) == "23 min left"
    assert fade_level(90, 60) == 1.0 and fade_level(0, 60) == 0.0
    assert fade_level(30, 60) == pytest.approx(0.5) and fade_level(59, 60) > 0.99


def levels(blocks: list[np.ndarray]) -> np.ndarray:
    """RMS per tenth of a second."""
    audio = np.concatenate(blocks)[:, 0]
    step = SAMPLE_RATE // 10
    n = len(audio) // step
    return np.sqrt(np.mean(audio[: n * step].reshape(n, step) ** 2, axis=1))


def test_a_practice_keeps_its_soundscape_until_the_timer_fades_it_out(tmp_path: Path) -> None:
    """A two-second practice under an eight-second timer: the soundscape goes on after the
    practice, fades over the timer's last two seconds and is silent at the set time."""
    output = RecordingOutput()
    player = Player(Narrator(None, ClipCache(tmp_path / "n")), SoundBank(tmp_path / "bank"),
                    output=output)
    ended = threading.Event()
    events: list[Event] = []

    def hear(event: Event) -> None:
        events.append(event)
        if isinstance(event, Ended):
            ended.set()

    player.events.subscribe(hear)
    def finish() -> None:
        session = player.session
        assert session is not None
        session.stop(fade_s=0.3, reason=EndReason.COMPLETED if tail.in_tail else
                     EndReason.STOPPED)

    timer = SleepTimer(lambda f: player.set_volumes(f, f), finish,
                       lambda: player.set_volumes(1.0, 1.0), fade_s=2.0)
    practice = Practice(id="tiny", title="Tiny", ambience="soft-pad", steps=(Say("Rest now."),))
    tail = SleepTail(PracticeSource(practice), lambda: timer.active)
    player.open()
    try:
        timer.set(8 / 60)
        player.play(tail, "soft-pad")
        assert ended.wait(15), "the timer did not end the session"

        time.sleep(0.5)
    finally:
        player.close()
        timer.close()
    end = next(e for e in events if isinstance(e, Ended))
    # The practice was heard to its end before the timer ended its soundscape: completed, and
    # heard until the set time.
    assert end.reason is EndReason.COMPLETED and tail.in_tail
    assert 7.3 < end.heard_seconds < 8.6, end.heard_seconds
    rms = levels(output.blocks)
    loud = float(np.median(rms[30:50]))  # seconds 3 to 5: the practice is over, ambience plays
    assert loud > 0.003, "the soundscape stopped with the practice"
    fading = rms[62:78]
    assert fading[0] > fading[-1] * 2, "no fade in the timer's last stretch"
    assert float(rms[82:].max(initial=0.0)) < loud / 20, "still sounding after the set time"


def test_without_a_timer_the_practice_ends_as_it_always_did(tmp_path: Path) -> None:
    player = Player(Narrator(None, ClipCache(tmp_path / "n")), SoundBank(tmp_path / "bank"),
                    output=NullOutput())
    ended: list[Ended] = []
    done = threading.Event()

    def hear(event: Event) -> None:
        if isinstance(event, Ended):
            ended.append(event)
            done.set()

    player.events.subscribe(hear)
    practice = Practice(id="tiny", title="Tiny", ambience="none", steps=(Say("Rest now."),))
    player.open()
    try:
        player.play(SleepTail(PracticeSource(practice), lambda: False))
        assert done.wait(20)
    finally:
        player.close()
    assert ended[0].reason is EndReason.COMPLETED


def test_a_timer_set_after_the_lines_are_made_still_keeps_the_soundscape_going(
    tmp_path: Path
) -> None:
    """The session asked for more while its clips were still being made (its timeline then
    ended early); that stale ask must not end a practice whose timer is set a moment later."""
    from coreg_desktop.tts.piper import PiperSynthesizer

    player = Player(Narrator(PiperSynthesizer(), ClipCache(tmp_path / "n")),
                    SoundBank(tmp_path / "bank"), output=NullOutput())
    timer_on = threading.Event()
    # Longer than the half minute a session looks ahead, as every real practice is.
    practice = Practice(id="long", title="Long", ambience="none",
                        steps=(Say("Rest now. Let the day go."), Pause(36.0)))
    tail = SleepTail(PracticeSource(practice), timer_on.is_set)
    player.open()
    try:
        session = player.play(tail)
        assert session.wait_narrated(timeout=60)
        timer_on.set()  # the timer, set once the lines exist
        deadline = time.monotonic() + 30
        while not tail.in_tail and not session.ended and time.monotonic() < deadline:
            time.sleep(0.1)
        assert tail.in_tail and not session.ended
        session.stop(fade_s=0.05)
    finally:
        player.close()
