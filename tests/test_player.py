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
from coreg_desktop.session import SessionOptions
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
        session = player.play(practice, SessionOptions(ambience="none"))
        assert output._awake.is_set()
        time.sleep(0.5)
        assert output.frames_rendered() > held
        assert player.transport is Transport.PLAYING
        assert session.state().t > 0
    finally:
        player.close()
