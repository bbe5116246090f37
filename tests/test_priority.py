"""Synthesis threads yield to the sound: their priority is lowered, the caller's is not."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop import priority
from coreg_desktop.audio.bank import SoundBank
from coreg_desktop.audio.output import NullOutput
from coreg_desktop.constants import SAMPLE_RATE
from coreg_desktop.player import Player
from coreg_desktop.practice.model import Practice, Say
from coreg_desktop.sources import PracticeSource
from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.narrator import Narrator


def in_a_thread(work: Callable[[], int]) -> int:
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(work()))
    thread.start()
    thread.join()
    return result[0]


def test_background_lowers_only_the_calling_thread() -> None:
    before = priority.nice_of_this_thread()

    def lowered() -> int:
        priority.background()
        return priority.nice_of_this_thread()

    assert in_a_thread(lowered) >= priority.BACKGROUND_NICE
    assert priority.nice_of_this_thread() == before


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux scheduling classes")
def test_idle_work_runs_in_the_idle_class() -> None:
    def idled() -> int:
        priority.idle()
        return os.sched_getscheduler(0)

    assert in_a_thread(idled) == os.SCHED_IDLE
    assert os.sched_getscheduler(0) != os.SCHED_IDLE


class RecordingNarrator(Narrator):
    """Notes the priority of the thread each line is made on."""

    seen: list[int]

    @property
    def available(self) -> bool:
        return True

    def cached(self, text: str) -> bool:
        return False

    def clip(self, text: str) -> np.ndarray:
        self.seen.append(priority.nice_of_this_thread())
        return np.zeros(SAMPLE_RATE // 10, dtype=np.float32)


def test_a_sessions_narration_is_made_at_background_priority(tmp_path: Path) -> None:
    narrator = RecordingNarrator(None, ClipCache(tmp_path / "n"))
    narrator.seen = []
    player = Player(narrator, SoundBank(tmp_path / "a"), output=NullOutput())
    player.open()
    try:
        player.play(PracticeSource(Practice(id="p", title="P", steps=(Say("One. Two."),))), "none")
        deadline = time.monotonic() + 5
        while len(narrator.seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        player.close()
    assert len(narrator.seen) == 2
    assert all(nice >= priority.BACKGROUND_NICE for nice in narrator.seen)
    assert priority.nice_of_this_thread() < priority.BACKGROUND_NICE
