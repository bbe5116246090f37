"""Breathing patterns and the pacer: data in, exact cues out, for as long as it runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop.audio.bank import SoundBank
from coreg_desktop.constants import SAMPLE_RATE
from coreg_desktop.practice.model import Cue, Phase
from coreg_desktop.practice.patterns import (
    DEFAULT_PATTERN,
    BreathPattern,
    PatternBook,
    PatternError,
    from_rate,
    parse_ratio,
    pattern_id_for,
)
from coreg_desktop.practice.timeline import BreathPhase, Item, compile_timeline
from coreg_desktop.session import render_source
from coreg_desktop.sources import PacerSource
from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.narrator import Narrator


def book(tmp_path: Path, text: str | None = None, lines: list[str] | None = None) -> PatternBook:
    user = tmp_path / "patterns.toml"
    if text is not None:
        user.write_text(text)
    return PatternBook(user, report=(lines.append if lines is not None else None))


def test_the_built_in_patterns_are_the_five_the_pacer_offers(tmp_path: Path) -> None:
    patterns = {p.id: p for p in book(tmp_path).all()}
    assert list(patterns) == ["extended-exhale", "coherent", "box", "4-7-8", "cyclic-sighing"]
    assert DEFAULT_PATTERN == "extended-exhale"
    assert patterns["extended-exhale"].describe() == "4 s in, 6 s out"
    assert patterns["coherent"].breaths_per_minute == pytest.approx(60 / 11)
    assert patterns["box"].describe() == "4 s in, 4 s hold, 4 s out, 4 s hold-after"
    assert patterns["4-7-8"].describe() == "4 s in, 7 s hold, 8 s out"
    sigh = patterns["cyclic-sighing"]
    assert [p.phase for p in sigh.phases] == [Phase.INHALE, Phase.INHALE, Phase.EXHALE]
    assert sigh.phases[0].seconds > sigh.phases[1].seconds < sigh.phases[2].seconds
    assert sigh.phases[0].fill == (0.0, 0.75) and sigh.phases[1].fill == (0.75, 1.0)
    assert all(p.summary for p in patterns.values())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[pattern]]\nid = 'x'\nphases = [{breath = 'in', seconds = 4.2}, "
         "{breath = 'out', seconds = 6}]\n", "4.2 s is not a step of 0.5 s"),
        ("[[pattern]]\nid = 'x'\nphases = [{breath = 'in', seconds = 31}, "
         "{breath = 'out', seconds = 6}]\n", "31 s is out of range"),
        ("[[pattern]]\nid = 'x'\nphases = [{breath = 'in', seconds = 4}]\n",
         "needs a breath in and a breath out"),
        ("[[pattern]]\nid = 'x'\nphases = [{breath = 'sniff', seconds = 4}]\n",
         'breath must be one of "in"'),
        ("[[pattern]]\nid = 'x'\nphases = []\n", "phases must be a list"),
        ("pattern = [", "is not valid TOML"),
    ],
)
def test_a_bad_user_file_is_one_line_and_the_built_in_patterns_still_work(
    tmp_path: Path, text: str, expected: str
) -> None:
    lines: list[str] = []
    patterns = book(tmp_path, text, lines)
    assert len(lines) == 1 and expected in lines[0], lines
    assert lines[0].startswith(str(tmp_path / "patterns.toml"))
    assert [p.id for p in patterns.all()][:5] == ["extended-exhale", "coherent", "box", "4-7-8",
                                                   "cyclic-sighing"]
    with pytest.raises(PatternError):  # nothing is written over a file that is not understood
        patterns.add(BreathPattern("mine", "Mine", inhale=4, exhale=6, builtin=False))
    assert (tmp_path / "patterns.toml").read_text() == text


def test_saved_patterns_come_back_and_removing_one_keeps_the_others(tmp_path: Path) -> None:
    first = book(tmp_path)
    first.add(BreathPattern("slow", "Slow", inhale=5, exhale=7.5, builtin=False))
    first.add(from_rate("six", "Six", 6, parse_ratio("1:1.5")))
    again = book(tmp_path)
    assert [(p.id, p.describe()) for p in again.mine] == [("slow", "5 s in, 7.5 s out"),
                                                          ("six", "4 s in, 6 s out")]
    again.remove("Slow")
    assert [p.id for p in book(tmp_path).mine] == ["six"]
    with pytest.raises(PatternError, match="built in"):
        again.remove("box")
    with pytest.raises(PatternError, match="built-in pattern"):
        again.add(BreathPattern("box", "Box", inhale=4, exhale=4, builtin=False))


@pytest.mark.parametrize(("per_minute", "ratio", "inhale", "exhale"),
                         [(6, 1.5, 4.0, 6.0), (5.5, 1.0, 5.5, 5.5), (4, 2.0, 5.0, 10.0)])
def test_a_pattern_from_breaths_a_minute_and_a_ratio_rounds_to_half_seconds(
    per_minute: float, ratio: float, inhale: float, exhale: float
) -> None:
    pattern = from_rate("p", "P", per_minute, ratio)
    assert (pattern.phases[0].seconds, pattern.phases[1].seconds) == (inhale, exhale)
    with pytest.raises(PatternError, match="out of range"):
        from_rate("p", "P", 30, 1.5)
    with pytest.raises(PatternError, match="ratio"):
        parse_ratio("one to two")


def test_the_pacer_lasts_exactly_the_minutes_asked_for_and_ends_with_the_bell() -> None:
    sigh = BreathPattern("s", "S", phases=book(Path("/nonexistent")).get("cyclic-sighing").phases)
    for minutes in (1, 2.5, 7):
        pacer = PacerSource(sigh, minutes)
        items: list[Item] = []
        while True:
            chunk = pacer.next_items()
            items.extend(chunk.items)
            if chunk.last:
                break
        timeline = compile_timeline(items, lambda _t: 0)
        assert timeline.total == round(minutes * 60 * SAMPLE_RATE)
        inhales = [i for i in items if isinstance(i, BreathPhase) and i.phase is Phase.INHALE]
        assert len(inhales) == 2 * pacer.cycles


def onsets(audio: np.ndarray, floor: float = 0.004, quiet_s: float = 0.25) -> list[float]:
    """Where a sound starts after a quiet spell, to the sample, in seconds."""
    mono = np.abs(audio[:, 0])
    loud = np.flatnonzero(mono > floor)
    gaps = np.diff(loud) > quiet_s * SAMPLE_RATE
    starts = np.concatenate([[loud[0]], loud[1:][gaps]])
    return [float(s) / SAMPLE_RATE for s in starts]


@pytest.mark.parametrize("pattern_id", ["4-7-8", "cyclic-sighing"])
def test_a_ten_minute_pacer_cues_every_phase_on_time_with_no_drift(
    tmp_path: Path, pattern_id: str
) -> None:
    pattern = book(tmp_path).get(pattern_id)
    pacer = PacerSource(pattern, 10)
    audio = render_source(pacer, Narrator(None, ClipCache(tmp_path / "n")),
                          SoundBank(tmp_path / "bank"), "none")
    assert len(audio) == 10 * 60 * SAMPLE_RATE
    heard = onsets(audio)
    expected = []
    t = 0.0
    for _ in range(pacer.cycles):
        for phase in pattern.phases:
            expected.append(t)
            t += phase.seconds
    bell = heard[len(expected):]
    heard = heard[: len(expected)]
    assert len(heard) == len(expected) and len(bell) == 1
    late = np.array(heard) - np.array(expected)  # a tone's soft attack crosses the floor late
    assert float(np.abs(late).max()) < 0.020, f"worst cue is {late.max() * 1000:.1f} ms off"
    # No drift: the last cues are exactly as late as the first ones (the attack), to 1 ms.
    assert abs(float(np.mean(late[-5:]) - np.mean(late[:5]))) < 0.001, (late[:5], late[-5:])
    assert float(np.abs(audio).max()) < 1.0


def test_spoken_cues_are_a_word_per_phase(tmp_path: Path) -> None:
    pacer = PacerSource(book(tmp_path).get("box"), 1, cue=Cue.VOICE)
    words = {i.cue_text for i in pacer.items if isinstance(i, BreathPhase)}
    assert words == {"In.", "Hold.", "Out.", "Rest."}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "coreg_desktop", *args], capture_output=True,
                          text=True, timeout=120)


def test_pattern_add_list_and_remove_from_the_terminal() -> None:
    done = run("pattern", "add", "Slow six", "--inhale", "3.5", "--exhale", "6.5")
    assert done.returncode == 0, done.stderr
    assert "play pacer --pattern slow-six" in done.stdout
    done = run("pattern", "add", "By rate", "--per-minute", "5", "--ratio", "1:2")
    assert done.returncode == 0, done.stderr
    listed = json.loads(run("pattern", "list", "--json").stdout)
    mine = {p["id"]: p for p in listed if not p["builtin"]}
    assert mine["slow-six"]["phases"] == [{"breath": "in", "seconds": 3.5},
                                          {"breath": "out", "seconds": 6.5}]
    assert mine["by-rate"]["breaths_per_minute"] == 5.0
    assert run("pattern", "remove", "slow six").returncode == 0
    assert "slow-six" not in run("pattern", "list").stdout
    for args, expected in [
        (("pattern", "add", "x", "--inhale", "4.2", "--exhale", "6"), "not a step of 0.5 s"),
        (("pattern", "add", "x", "--exhale", "6"), "needs --inhale and --exhale"),
        (("pattern", "add", "x", "--inhale", "4", "--exhale", "40"), "out of range"),
        (("pattern", "add", "box", "--inhale", "4", "--exhale", "4"), "built-in pattern"),
        (("pattern", "add", "x", "--per-minute", "6", "--inhale", "4"), "not both"),
        (("pattern", "remove", "nothing-here"), 'no breathing pattern called "nothing-here"'),
        (("pattern", "add", "!!", "--inhale", "4", "--exhale", "6"), "not allowed"),
    ]:
        done = run(*args)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1 and expected in lines[0], done.stderr


def test_render_pacer_writes_exactly_the_minutes_with_a_cue_at_every_phase(tmp_path: Path) -> None:
    from coreg_desktop.audio.wav import read_wav

    out = tmp_path / "box.wav"
    done = run("render", "pacer", "--pattern", "box", "--minutes", "2", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Wrote {out} (2:00)")
    audio, rate = read_wav(out)
    assert rate == SAMPLE_RATE and len(audio) == 2 * 60 * SAMPLE_RATE
    heard = onsets(audio)
    cycles = (120 - 9) // 16  # whole breaths before the quiet moment and the bell
    starts = [16.0 * cycle + offset for cycle in range(cycles)
              for offset in (0.0, 4.0, 8.0, 12.0)]
    assert len(heard) == len(starts) + 1  # and the bell
    late = np.array(heard[: len(starts)]) - np.array(starts)
    assert float(np.abs(late).max()) < 0.020, late


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("render", "pacer", "--pattern", "nope", "-o", "x.wav"), 'no breathing pattern called'),
        (("render", "pacer", "--minutes", "0.5", "-o", "x.wav"), "out of range for the pacer"),
        (("render", "quick-reset", "--cue", "voice", "-o", "x.wav"), "only applies to the pacer"),
        (("play", "pacer"), "add --no-gui"),
        (("play", "quick-reset", "--sleep", "15"), "--sleep is for the terminal"),
        (("play", "quick-reset", "--no-gui", "--sleep", "0"), "--sleep: a sleep timer of 0"),
        (("play", "quick-reset", "--no-gui", "--sleep", "700"), "out of range; use 1 to 600"),
    ],
)
def test_bad_pacer_and_sleep_options_are_one_line_before_anything_plays(
    tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    args = tuple(str(tmp_path / a) if a == "x.wav" else a for a in args)
    done = run(*args)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and expected in lines[0], done.stderr
    assert not (tmp_path / "x.wav").exists()


def test_saving_keeps_what_the_listener_wrote_by_hand_and_refuses_control_characters(
    tmp_path: Path
) -> None:
    user = tmp_path / "patterns.toml"
    user.write_text(
        '[[pattern]]\nid = "mine"\ntitle = "Mine \\"quoted\\""\nsummary = "For the evening."\n'
        'phases = [{breath = "in", seconds = 2, fill = [0.0, 0.6]}, '
        '{breath = "in", seconds = 1, fill = [0.6, 1.0]}, {breath = "out", seconds = 6}]\n'
        '\n[[pattern]]\nid = "box"\ntitle = "My box"\n'
        'phases = [{breath = "in", seconds = 5}, {breath = "out", seconds = 5}]\n')
    lines: list[str] = []
    patterns = PatternBook(user, report=lines.append)
    assert len(lines) == 1 and '"box" has the id of a built-in' in lines[0]
    patterns.add(BreathPattern("other", "Other", inhale=4, exhale=6, builtin=False))
    again = PatternBook(user, report=lambda _line: None)
    mine = again.get("mine")
    assert mine.title == 'Mine "quoted"' and mine.summary == "For the evening."
    assert [p.fill for p in mine.phases] == [(0.0, 0.6), (0.6, 1.0), None]
    assert [p.id for p in again.shadowed] == ["box"]  # still in the file, not used
    with pytest.raises(PatternError, match="not allowed"):
        pattern_id_for("my\nbox")


def test_a_pattern_name_with_a_line_break_is_one_line_from_the_terminal() -> None:
    done = run("pattern", "add", "my\nbox", "--inhale", "4", "--exhale", "6")
    assert done.returncode == 2 and "not allowed" in done.stderr
    assert run("pattern", "list").returncode == 0
