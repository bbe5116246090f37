"""The playback service: an idle player stops pulling silence, and wakes for the next practice."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from coreg_desktop import player as player_mod
from coreg_desktop.audio.bank import SoundBank
from coreg_desktop.audio.mixer import Transport
from coreg_desktop.audio.output import NullOutput
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
