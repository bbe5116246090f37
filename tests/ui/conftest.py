"""Fixtures for the Qt tests: real settings, the real library and a real player without a device.

The display is offscreen unless the run provides one (Xvfb in the e2e recipes), so the same tests
check layout and painting headless and under a real X server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from coreg_desktop.audio.bank import SoundBank
from coreg_desktop.audio.output import NullOutput
from coreg_desktop.player import Player
from coreg_desktop.practice.loader import Library, load_library
from coreg_desktop.settings import Settings
from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.narrator import Narrator
from coreg_desktop.tts.piper import PiperSynthesizer
from coreg_desktop.ui.bridge import PlayerBridge


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(path=tmp_path / "settings.json")


@pytest.fixture
def library() -> Library:
    return load_library()


@pytest.fixture
def player(shared_cache: Path) -> Iterator[Player]:
    """Real Piper synthesis and mixing into a NullOutput: the timeline runs at a real audio clock
    with no sound device. The narration cache is shared by the whole run, so each text is
    synthesized once."""
    narrator = Narrator(PiperSynthesizer(), ClipCache(shared_cache / "narration"))
    player = Player(narrator, SoundBank(shared_cache / "ambience"), output=NullOutput())
    yield player
    player.close()


@pytest.fixture
def bridge(qapp: object, player: Player, library: Library, settings: Settings) -> PlayerBridge:
    return PlayerBridge(player, library, settings)
