"""The core: one place that builds the engine lazily, and the rule from settings to playback."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from coreg_desktop.audio.bank import SoundBank
from coreg_desktop.audio.output import NullOutput
from coreg_desktop.core import Core, UnknownAmbience, UnknownPractice, check_ambience
from coreg_desktop.settings import Settings
from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.narrator import Narrator


def make_core(tmp_path: Path, **kwargs: object) -> Core:
    settings = Settings(path=tmp_path / "settings.json")
    return Core(settings, **kwargs)  # type: ignore[arg-type]


def test_importing_and_using_the_core_for_settings_or_a_list_stays_light() -> None:
    """`config get` and `list` must not pay for numpy, a voice or Qt."""
    code = (
        "import sys; from coreg_desktop.core import Core; from coreg_desktop.settings import "
        "Settings; c = Core(Settings.load()); c.library; c.options(); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'PySide6', 'piper', "
        "'onnxruntime', 'sounddevice'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_the_rule_from_settings_to_playback_options(tmp_path: Path) -> None:
    core = make_core(tmp_path)
    stay_safe = core.practice("stay-safe")
    assert core.options().ambience is None
    assert core.ambience_for(stay_safe) == stay_safe.ambience  # the practice's own
    core.settings.update({"ambience": "ocean", "name": "Sam", "safe_person.name": "Ana",
                          "rate": 0.8})
    options = core.options()
    assert options.ambience == "ocean" and options.rate == 0.8
    assert options.values == {"name": "Sam", "safe_person": "Ana"}
    assert core.ambience_for(stay_safe) == "ocean"  # the listener's choice wins ...
    assert core.ambience_for(stay_safe, "rain") == "rain"  # ... and a request wins over it
    first = core.first_text(core.practice("self-compassion"))
    assert first is not None


def test_unknown_ids_name_the_closest(tmp_path: Path) -> None:
    core = make_core(tmp_path)
    with pytest.raises(UnknownPractice, match="did you mean 'stay-safe'"):
        core.practice("stay-saf")
    with pytest.raises(UnknownAmbience, match='did you mean "rain"'):
        check_ambience("rainn")
    assert check_ambience("none") == "none"


def test_the_engine_follows_the_settings_while_it_runs(tmp_path: Path) -> None:
    core = make_core(
        tmp_path,
        narrator=Narrator(None, ClipCache(tmp_path / "n")),
        bank=SoundBank(tmp_path / "a"),
        output=NullOutput(),
    )
    try:
        player = core.player
        assert player.narrator is core.narrator
        core.settings.update({"volume.voice": 0.3, "volume.ambience": 0.2})
        assert list(player.mixer._commands)[-1] == ("gains", (0.3, 0.2))
        old = core.narrator
        core.settings.set("rate", 0.8)
        assert core.narrator is not old and player.narrator is core.narrator
        assert core.narrator.rate == 0.8 and core.narrator.cache is old.cache
    finally:
        core.close()


def test_a_pinned_voice_is_kept_when_the_setting_changes(tmp_path: Path) -> None:
    notices: list[str] = []
    core = make_core(tmp_path, voice="system:no-such-voice-at-all", on_notice=notices.append)
    synth = core.narrator
    core.settings.set("voice", "en_US-joe-medium")
    assert core.narrator is not synth  # renewed for the rate or voice change ...
    renewed = core.narrator.available
    assert renewed == synth.available  # ... but with the pinned voice, not the setting's


def test_no_voice_at_all_is_said_once_and_plays_captions(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import coreg_desktop.tts as tts

    monkeypatch.setattr(tts, "make_synthesizer", lambda _voice: None)
    notices: list[str] = []
    core = make_core(tmp_path, on_notice=notices.append)
    assert not core.narrator.available
    assert len(notices) == 1 and "captions" in notices[0]


def test_after_a_long_quiet_the_voice_rests_and_a_cached_practice_still_plays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coreg_desktop import player as player_mod
    from coreg_desktop.practice.model import Practice, Say
    from coreg_desktop.tts import piper
    from coreg_desktop.tts.piper import PiperSynthesizer

    monkeypatch.setattr(player_mod, "REST_AFTER_S", 2.0)
    synth = PiperSynthesizer()
    core = make_core(tmp_path, narrator=Narrator(synth, ClipCache(tmp_path / "n")),
                     bank=SoundBank(tmp_path / "a"), output=NullOutput())
    busy = [True]
    core.keep_awake_while(lambda: busy[0])
    line = Practice(id="line", title="Line", ambience="soft-pad", steps=(Say("Resting well."),))
    try:
        core.player.open()
        core.narrator.clip("Resting well.")  # the model is loaded, the line cached
        core.bank.ambience("soft-pad")
        first = core.play(line)  # a session that ends before the quiet: it is let go too
        deadline = time.monotonic() + 20
        while not first.ended and time.monotonic() < deadline:
            time.sleep(0.1)
        assert first.ended and core.player.mixer.program.ambience is not None
        assert piper.voice_loaded(synth.model_path)
        time.sleep(3.5)
        assert piper.voice_loaded(synth.model_path), "rested while other work was under way"
        busy[0] = False
        deadline = time.monotonic() + 10
        def resting() -> bool:  # rest lets the voice go first, then the soundscapes
            return (not piper.voice_loaded(synth.model_path)
                    and core.bank.ambience_if_ready("soft-pad") is None)

        while not resting() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not piper.voice_loaded(synth.model_path)
        assert core.bank.ambience_if_ready("soft-pad") is None
        # Nor does the mixer keep what the last session played (its clips and soundscape).
        assert core.player.mixer.program.ambience is None
        assert core.player.mixer.program.sounds == ()
        session = core.play(line)
        assert session.wait_narrated(timeout=10)
        assert not piper.voice_loaded(synth.model_path)  # from the cache: no model needed
        assert session.timeline.sounds and session.timeline.sounds[0].bus == "voice"
        session.stop(fade_s=0.1)
    finally:
        core.close()


def test_a_kokoro_voice_that_cannot_speak_is_said_once_and_piper_speaks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coreg_desktop.tts import kokoro

    monkeypatch.setattr(kokoro, "check", lambda _voice=None: "part 3 of the model is missing")
    monkeypatch.setattr(kokoro, "recorded_problem", lambda: None)
    notices: list[str] = []
    settings = Settings(path=tmp_path / "settings.json")
    settings.set("voice", "kokoro:af_heart")
    core = Core(settings, on_notice=notices.append)
    assert core.narrator.available
    synth = core.narrator._synth
    assert synth is not None and synth.engine == "piper"
    assert len(notices) == 1
    assert "part 3 of the model is missing" in notices[0] and "Piper" in notices[0]
