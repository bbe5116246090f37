"""Soundscape mixes: layers summed into one seamless loop at one loudness, saved as data."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop.audio import ambience
from coreg_desktop.audio.bank import SoundBank
from coreg_desktop.audio.mixes import Layer, Mix, MixBook, MixError, parse_layer, render
from coreg_desktop.constants import SAMPLE_RATE
from tests.audio.test_ambience import rms, seam_level_jump_db, seam_step_ratio

KNOWN = tuple(a for a in ambience.AMBIENCES)
EVENING = Mix("evening", "Evening", (Layer("rain", 0.7), Layer("soft-pad", 0.4),
                                     Layer("brown-noise", 0.3)))


@pytest.fixture(scope="module")
def layers() -> dict[str, np.ndarray]:
    return {a: ambience.generate_ambience(a) for a in ("rain", "soft-pad", "brown-noise")}


def test_a_mix_is_one_seamless_loop_at_a_single_soundscape_s_loudness(
    layers: dict[str, np.ndarray]
) -> None:
    loop = render(EVENING, layers.__getitem__, *ambience.target_levels())
    assert loop.shape == (60 * SAMPLE_RATE, 2)  # rain and pad are 60 s, brown noise 30 s
    target, peak = ambience.target_levels()
    assert rms(loop) == pytest.approx(target, rel=0.03)
    assert float(np.abs(loop).max()) <= peak * 1.0001
    assert seam_step_ratio(loop) < 1.0 and seam_level_jump_db(loop) < 1.5
    # Every layer is in it, in proportion: the projection on each layer follows its volume.
    weights = {a: float(np.vdot(loop, layers[a])) / float(np.vdot(layers[a], layers[a]))
               for a in ("rain", "soft-pad")}
    assert weights["rain"] / weights["soft-pad"] == pytest.approx(0.7 / 0.4, rel=0.1)


def test_the_bank_renders_a_mix_once_and_an_unknown_one_plays_as_silence(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    asked: list[str] = []

    def mix_of(mix_id: str) -> Mix:
        asked.append(mix_id)
        if mix_id != "mix:evening":
            raise MixError(f'no mix called "{mix_id}"')
        return EVENING

    bank = SoundBank(tmp_path / "cache", mix_of=mix_of)
    first = bank.ambience("mix:evening")
    assert first is not None and first.shape == (60 * SAMPLE_RATE, 2)
    assert bank.ambience("mix:evening") is first  # rendered once
    assert bank.ambience_if_ready("mix:evening") is first
    with caplog.at_level(logging.WARNING):
        assert bank.ambience("mix:gone") is None
    assert 'no mix called "mix:gone"' in caplog.text


def test_saved_mixes_come_back_and_bad_ones_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "mixes.toml"
    book = MixBook(path, KNOWN)
    book.add(EVENING)
    book.add(Mix("fire-night", "Fire night", (Layer("fireplace", 1.0), Layer("night", 0.5))))
    again = MixBook(path, KNOWN)
    assert [m.ambience_id for m in again.mixes] == ["mix:evening", "mix:fire-night"]
    assert again.get("Fire Night").layers[1] == Layer("night", 0.5)
    again.remove("evening")
    assert [m.id for m in MixBook(path, KNOWN).mixes] == ["fire-night"]
    for mix, expected in [
        (Mix("a", "A", (Layer("rain", 0.5),)), "2 or 3 layers"),
        (Mix("a", "A", (Layer("rain", 0.5), Layer("thunder", 0.5))), 'no soundscape called'),
        (Mix("a", "A", (Layer("rain", 0.5), Layer("rain", 0.2))), "in it twice"),
        (Mix("a", "A", (Layer("rain", 0.5), Layer("ocean", 1.5))), "at most 1"),
    ]:
        with pytest.raises(MixError, match=expected) as caught:
            again.add(mix)
        assert "\n" not in str(caught.value)
    with pytest.raises(MixError, match="volume must be a number"):
        parse_layer("rain=loud")
    assert parse_layer("rain=60%") == Layer("rain", 0.6)


def test_a_damaged_mix_file_is_one_line_and_is_not_written_over(tmp_path: Path) -> None:
    path = tmp_path / "mixes.toml"
    path.write_text("[[mix]\n")
    lines: list[str] = []
    book = MixBook(path, KNOWN, report=lines.append)
    assert book.mixes == [] and len(lines) == 1 and str(path) in lines[0]
    with pytest.raises(MixError, match="fix or remove it"):
        book.add(EVENING)
    assert path.read_text() == "[[mix]\n"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "coreg_desktop", *args], capture_output=True,
                          text=True, timeout=300)


def test_a_mix_from_the_terminal_plays_under_a_practice(tmp_path: Path) -> None:
    done = run("mix", "add", "Evening", "rain=0.7", "soft-pad=40%")
    assert done.returncode == 0, done.stderr
    listed = json.loads(run("mix", "list", "--json").stdout)
    assert listed["mixes"][0]["id"] == "mix:evening" and "fireplace" in listed["soundscapes"]
    out = tmp_path / "qr.wav"
    done = run("render", "quick-reset", "--ambience", "mix:evening", "-o", str(out))
    assert done.returncode == 0, done.stderr
    from coreg_desktop.audio.wav import read_wav

    audio, _ = read_wav(out)
    assert 0.05 < float(np.abs(audio).max()) < 1.0
    tail = audio[-12 * SAMPLE_RATE : -6 * SAMPLE_RATE]  # after the last words: the mix alone
    assert rms(tail) > 0.005
    done = run("render", "quick-reset", "--ambience", "mix:nothing", "-o", str(out))
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and 'no mix called "nothing"' in lines[0]
    assert run("config", "set", "ambience", "mix:evening").returncode == 0
    for args in (("mix", "add", "x", "rain"), ("mix", "add", "x", "rain=2", "ocean"),
                 ("mix", "remove", "nothing")):
        done = run(*args)
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_mix_name_with_a_line_break_is_refused_and_odd_titles_round_trip(
    tmp_path: Path
) -> None:
    from coreg_desktop.audio.mixes import mix_id_for

    with pytest.raises(MixError, match="not allowed"):
        mix_id_for("a\nb")
    path = tmp_path / "mixes.toml"
    book = MixBook(path, KNOWN)
    book.add(Mix("quoted", 'Rain "and" \\ pad', (Layer("rain", 0.5), Layer("soft-pad", 0.5))))
    assert MixBook(path, KNOWN).get("quoted").title == 'Rain "and" \\ pad'
