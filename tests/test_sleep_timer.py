"""The sleep timer: a fade over its last stretch, silence at the set time, the soundscape kept
going past a practice's end while it runs; the real player and mixer, a silent real-time output."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop.audio.bank import SoundBank
from coreg_desktop.audio.output import NullOutput
from coreg_desktop.constants import SAMPLE_RATE
from coreg_desktop.events import Ended, EndReason, Event
from coreg_desktop.player import Player
from coreg_desktop.practice.model import Practice, Say
from coreg_desktop.sleep_timer import (
    SleepTimer,
    SleepTimerError,
    check_minutes,
    format_left,
)
from coreg_desktop.sources import PracticeSource, SleepTail
from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.narrator import Narrator


def test_the_fade_comes_once_with_the_time_left_and_then_the_timer_runs_out() -> None:
    fades: list[tuple[float, float]] = []
    heard: list[float | None] = []
    started = time.monotonic()
    timer = SleepTimer(lambda left: fades.append((time.monotonic() - started, left)), fade_s=1.0)
    timer.subscribe(heard.append)
    timer.set(3 / 60)  # three seconds
    assert timer.active and 2.5 < (timer.remaining() or 0) <= 3.0
    time.sleep(3.6)
    assert len(fades) == 1, fades
    at, left = fades[0]
    assert 1.8 < at < 2.6 and 0.5 < left <= 1.0 and abs(at + left - 3.0) < 0.3, fades
    assert not timer.active and timer.remaining() is None
    assert heard[0] is not None and heard[-1] is None
    timer.close()


def test_cancelled_or_lengthened_it_does_not_fade_early() -> None:
    fades: list[float] = []
    timer = SleepTimer(fades.append, fade_s=1.0)
    timer.set(2 / 60)
    timer.cancel()
    time.sleep(2.5)
    assert fades == [] and not timer.active
    timer.set(2 / 60)
    timer.extend(5 / 60)  # seven seconds in all
    time.sleep(2.5)
    assert fades == [] and 4.0 < (timer.remaining() or 0) < 5.0
    timer.extend(-10)  # shortening never drops below a minute left (or what is left)
    assert 4.0 < (timer.remaining() or 0) < 5.0
    timer.close()


def test_what_a_listener_types_is_checked_in_one_line() -> None:
    assert check_minutes(15) == 15.0
    for bad in (0, -5, 601):
        with pytest.raises(SleepTimerError) as caught:
            check_minutes(bad)
        assert "\n" not in str(caught.value) and "out of range" in str(caught.value)
    assert format_left(None) == "" and format_left(30) == "under a minute left"
    assert format_left(23 * 60 - 10) == "23 min left"


class RecordingOutput(NullOutput):
    """A silent real-time output that keeps every block: what a sound device would be sent."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[np.ndarray] = []

    def start(self, render: Callable[[np.ndarray], None]) -> None:
        def recording(out: np.ndarray) -> None:
            render(out)
            self.blocks.append(out.copy())

        super().start(recording)


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
    timer = SleepTimer(lambda left: player.stop(fade_s=left), fade_s=2.0)
    practice = Practice(id="tiny", title="Tiny", ambience="soft-pad", steps=(Say("Rest now."),))
    player.open()
    try:
        timer.set(8 / 60)
        player.play(SleepTail(PracticeSource(practice), lambda: timer.active), "soft-pad")
        assert ended.wait(15), "the timer did not end the session"

        time.sleep(3.0)  # the fade plays out after the end is announced
    finally:
        player.close()
        timer.close()
    end = next(e for e in events if isinstance(e, Ended))
    assert end.reason is EndReason.STOPPED  # the timer stopped it, not the practice's end
    # The end is announced as the fade begins (a session's fade is queued before its end).
    assert 5.5 < end.heard_seconds < 6.8, end.heard_seconds
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
