"""Render and play share one path: what `play` sends to the device is what `render` writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coreg_desktop.audio.bank import SoundBank
from coreg_desktop.audio.mixer import Mixer, Transport
from coreg_desktop.constants import SAMPLE_RATE
from coreg_desktop.core import SessionOptions
from coreg_desktop.practice.loader import load_library
from coreg_desktop.practice.model import Bell, Breathe, Cue, Practice, Say
from coreg_desktop.session import Composer, Session, render_source
from coreg_desktop.sources import PracticeSource
from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.narrator import Narrator
from coreg_desktop.tts.piper import PiperSynthesizer


class CaptureOutput:
    """An Output that a test drives by hand: no device, the test decides when blocks happen."""

    sample_rate = SAMPLE_RATE
    underflows = 0
    recoveries = 0
    device_name = "capture"

    def __init__(self) -> None:
        self.render = None

    def start(self, render) -> None:  # type: ignore[no-untyped-def]
        self.render = render

    def close(self) -> None:
        pass

    def latency_frames(self) -> int:
        return 0


def render_practice(
    practice: Practice, narrator: Narrator, bank: SoundBank, options: SessionOptions
) -> np.ndarray:
    source = PracticeSource(practice, options.values, options.rate)
    return render_source(source, narrator, bank, options.ambience)


def composer_for(practice: Practice, narrator: Narrator) -> Composer:
    """Every clip made, as `render` does before it mixes."""
    composer = Composer(PracticeSource(practice), narrator, SoundBank())
    composer.extend()
    for text in composer.pending_texts():
        composer.synthesize(text)
    return composer


@pytest.fixture(scope="module")
def narrator(tmp_path_factory: pytest.TempPathFactory) -> Narrator:
    cache = ClipCache(tmp_path_factory.mktemp("narration"))
    return Narrator(PiperSynthesizer(), cache)


SHORT = Practice(
    id="short",
    title="Short",
    ambience="soft-pad",
    steps=(
        Say("Hello, {name}. Feet on the floor.", pause=0.5),
        Breathe(inhale=2, exhale=3, cycles=1, cue=Cue.VOICE),
        Say("Well done."),
        Bell(),
    ),
)


def test_played_samples_equal_rendered_samples(narrator: Narrator, tmp_path: Path) -> None:
    bank = SoundBank(tmp_path / "amb")
    options = SessionOptions({"name": "Robin"})
    rendered = render_practice(SHORT, narrator, bank, options)

    bank.ambience(SHORT.ambience)  # prepared ahead, as the app does, so no late fade-in
    mixer = Mixer()
    output = CaptureOutput()
    source = PracticeSource(SHORT, options.values, options.rate)
    session = Session(source, narrator, bank, mixer, output.latency_frames, options.ambience)
    session.start()
    assert session.wait_narrated(timeout=60)
    played = np.zeros((len(rendered) + 4096, 2), dtype=np.float32)
    pos = 0
    rng = np.random.default_rng(3)
    while mixer.transport is not Transport.FINISHED and pos < len(played):
        k = min(int(rng.integers(64, 2048)), len(played) - pos)
        mixer.render(played[pos : pos + k])
        pos += k
    assert mixer.transport is Transport.FINISHED
    np.testing.assert_array_equal(played[: len(rendered)], rendered)
    assert session.state().finished


def test_render_has_voice_breath_cues_bell_and_no_clipping(
    narrator: Narrator, tmp_path: Path
) -> None:
    audio = render_practice(SHORT, narrator, SoundBank(tmp_path / "a"), SessionOptions())
    assert audio.shape[1] == 2 and audio.dtype == np.float32
    assert np.abs(audio).max() < 1.0
    # Speech in the first seconds, well above the ambience fading in under it.
    first = audio[: SAMPLE_RATE * 2, 0]
    assert np.sqrt(np.mean(first**2)) > 10 ** (-32 / 20)
    # The last seconds fade to silence: the ambience has faded out.
    assert np.abs(audio[-100:]).max() < 1e-3


def test_builtin_practices_lengths_match_their_promise(narrator: Narrator) -> None:
    """The issue's ranges, checked on the real timeline with real clip lengths."""
    library = load_library()
    ranges = {
        "quick-reset": (60, 120),
        "stay-safe": (300, 480),
        "safe-person": (360, 600),
        "self-compassion": (300, 480),
    }
    for pid, (lo, hi) in ranges.items():
        practice = library.get(pid)
        assert practice is not None, pid
        timeline, _ = composer_for(practice, narrator).compose()
        assert timeline.complete
        assert lo <= timeline.seconds <= hi, f"{pid}: {timeline.seconds:.0f} s"


def test_without_any_voice_a_practice_still_runs_with_tones(tmp_path: Path) -> None:
    silent = Narrator(None, ClipCache(tmp_path / "n"))
    assert not silent.available
    options = SessionOptions(ambience="none")
    audio = render_practice(SHORT, silent, SoundBank(tmp_path / "a"), options)
    # Cue tones mark the breath and the bell rings: sound, but far quieter than a voice.
    assert 0.01 < float(np.abs(audio).max()) < 0.5
    composer_tl = compile_timeline_for(SHORT, silent)
    assert next(e.caption for e in composer_tl.events if e.kind == "speech") == "Hello."


def compile_timeline_for(practice: Practice, narrator: Narrator):  # type: ignore[no-untyped-def]
    return composer_for(practice, narrator).compose()[0]
