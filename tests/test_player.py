"""The playback service: an idle player stops pulling silence, and wakes for the next practice."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop import player as player_mod
from coreg_desktop.audio.bank import SoundBank
from coreg_desktop.audio.mixer import Transport
from coreg_desktop.audio.output import NullOutput
from coreg_desktop.constants import SAMPLE_RATE
from coreg_desktop.events import Ended, EndReason
from coreg_desktop.practice.model import Pause, Practice, Say
from coreg_desktop.sources import PracticeSource
from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.narrator import Narrator


def test_idle_player_goes_to_standby_and_play_wakes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(player_mod, "STANDBY_AFTER_S", 1.0)
    output = NullOutput()
    player = player_mod.Player(
        Narrator(None, ClipCache(tmp_path / "n")), SoundBank(tmp_path / "a"), output=output
    )
    player.open()
    try:
        deadline = time.monotonic() + 6
        while output._awake.is_set() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not output._awake.is_set(), "an idle player kept its stream running"
        held = output.frames_rendered()
        practice = Practice(id="p", title="P", steps=(Say("Hello there."), Pause(1.0)))
        session = player.play(PracticeSource(practice), ambience="none")
        assert output._awake.is_set()
        time.sleep(0.5)
        assert output.frames_rendered() > held
        assert player.transport is Transport.PLAYING
        assert session.state().t > 0
    finally:
        player.close()


def test_play_drops_queued_silence_but_never_the_tail_of_a_fade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A running idle stream is restarted so the new practice is not queued behind silence;
    one that may still hold the end of a fade-out keeps it."""
    monkeypatch.setattr(player_mod, "STANDBY_AFTER_S", 60.0)  # keep the stream running
    output = NullOutput()
    player = player_mod.Player(
        Narrator(None, ClipCache(tmp_path / "n")), SoundBank(tmp_path / "a"), output=output
    )
    standbys: list[int] = []  # the quiet frames behind each standby
    real_standby = output.standby

    def spy() -> None:
        standbys.append(player.mixer.quiet_frames)
        real_standby()

    monkeypatch.setattr(output, "standby", spy)
    practice = Practice(id="p", title="P", steps=(Say("Hello there."), Pause(3.0)))
    player.open()
    try:
        time.sleep(0.5)  # idle, pulling silence
        first = player.play(PracticeSource(practice), "none")
        assert len(standbys) == 1 and standbys[0] > output.latency_frames()
        assert output._awake.is_set()
        time.sleep(0.5)
        first.stop(fade_s=0.3)
        first.wait_stopped()
        # Straight after the fade: its tail may still be queued.
        player.play(PracticeSource(practice), "none")
        assert len(standbys) == 1
        assert output._awake.is_set()
        deadline = time.monotonic() + 3
        while player.transport is not Transport.PLAYING and time.monotonic() < deadline:
            time.sleep(0.05)
        assert player.transport is Transport.PLAYING
    finally:
        player.close()


class SlowNarrator(Narrator):
    """A voice that takes its time (a long uncached sentence on a busy machine)."""

    @property
    def available(self) -> bool:
        return True

    def cached(self, text: str) -> bool:
        return False

    def clip(self, text: str) -> np.ndarray:
        time.sleep(0.4)
        return np.full(SAMPLE_RATE // 2, 0.1, dtype=np.float32)


def test_a_replaced_session_still_being_voiced_never_takes_the_mixer_back(
    tmp_path: Path,
) -> None:
    """A quick reset clicked while an uncached practice is still being voiced: the old
    session's narration worker finishes its sentence, and that must not replace the new one."""
    player = player_mod.Player(
        SlowNarrator(None, ClipCache(tmp_path / "n")), SoundBank(tmp_path / "a"),
        output=NullOutput(),
    )
    ended: list[Ended] = []
    player.events.subscribe(lambda e: ended.append(e) if isinstance(e, Ended) else None)
    player.open()
    try:
        many = Practice(id="many", title="Many",
                        steps=tuple(Say(f"Line number {i}.") for i in range(8)))
        first = player.play(PracticeSource(many), ambience="none")
        time.sleep(0.6)  # it is in the middle of voicing its second line
        player.narrator = Narrator(None, ClipCache(tmp_path / "n2"))  # the next one: captions
        short = Practice(id="short", title="Short", steps=(Pause(0.5),))
        second = player.play(PracticeSource(short), ambience="none")
        time.sleep(1.0)  # the first worker has finished its sentence by now, and given up
        assert player.mixer.program.end is not None  # the short practice, laid out in full
        deadline = time.monotonic() + 15
        while not second.ended and time.monotonic() < deadline:
            time.sleep(0.05)
        player.events.flush()
        assert [(e.session, e.reason) for e in ended] == [
            (first.number, EndReason.STOPPED),
            (second.number, EndReason.COMPLETED),
        ]
    finally:
        player.close()


def test_a_pacer_laid_out_at_once_after_a_finished_practice_is_not_ended_by_it(
    tmp_path: Path,
) -> None:
    """A tone pacer is wholly laid out the moment it starts. Until the audio thread takes up its
    program, the mixer still says FINISHED at the last practice's end; read then, that ended the
    pacer at once, with the last practice's time, while its tones played on (found in the
    walkthrough of issue 10)."""
    from coreg_desktop.practice.model import Cue
    from coreg_desktop.practice.patterns import PatternBook
    from coreg_desktop.sources import PacerSource

    player = player_mod.Player(Narrator(None, ClipCache(tmp_path / "n")),
                               SoundBank(tmp_path / "bank"), output=NullOutput())
    ended: list[Ended] = []
    player.events.subscribe(lambda e: ended.append(e) if isinstance(e, Ended) else None)
    before = Practice(id="before", title="Before", ambience="none", steps=(Pause(90.0),))
    box = PatternBook(tmp_path / "patterns.toml").get("box")
    pacer = PacerSource(box, minutes=1.0, cue=Cue.TONE)
    player.open()
    try:
        player.play(PracticeSource(before))
        time.sleep(0.3)
        player.seek(89.5)  # heard to its end, 90 s in: further than the whole pacer
        deadline = time.monotonic() + 20
        while not ended and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ended and ended[0].reason is EndReason.COMPLETED
        session = player.play(pacer)
        assert session.timeline.complete  # the point: nothing is left to lay out
        time.sleep(2.0)
        assert len(ended) == 1, f"the pacer ended at once: {ended[1:]}"
        player.stop(fade_s=0.05)
        while len(ended) < 2 and time.monotonic() < deadline + 10:
            time.sleep(0.05)
    finally:
        player.close()
    last = ended[1]
    assert last.practice_id == pacer.id and last.reason is EndReason.STOPPED
    assert last.heard_seconds == pytest.approx(2.0, abs=0.5)  # its own time, not the last one's
