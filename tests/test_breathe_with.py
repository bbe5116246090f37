"""Breathe with Me: the taps, the pace it follows and leads, and its render as a user gets it.

The tap and pacing tests drive the real source the way a session does (asking for the next
items a few seconds ahead of a playhead, telling it where its items ended, tapping at program
times); the render tests run the real command and find the cue tones in the WAV it writes.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop import breathe_with
from coreg_desktop.audio.wav import read_wav
from coreg_desktop.breathe_with import (
    DEFAULT_RATE,
    FOLLOW_BREATHS,
    LEAD_STEP,
    NO_TAP_S,
    TARGET_RATE,
    BadValue,
    BreatheWithSource,
    TapMeter,
    check_minutes,
    check_rate,
)
from coreg_desktop.constants import SAMPLE_RATE
from coreg_desktop.practice.timeline import Item, Speech
from coreg_desktop.sources import FollowsTaps

from .cues import breath_rates, find_cues

# ------------------------------------------------------------------------------------ the taps


def meter_after(*taps: float) -> TapMeter:
    meter = TapMeter()
    for t in taps:
        meter.tap(t)
    return meter


def test_four_steady_taps_give_the_rate_and_three_do_not() -> None:
    assert meter_after(10.0, 14.0, 18.0).measure is None
    measure = meter_after(10.0, 14.0, 18.0, 22.0).measure
    assert measure is not None
    assert measure.rate == pytest.approx(15.0)
    assert measure.last_tap == 22.0
    assert measure.next_breath_at(23.0) == pytest.approx(26.0)
    assert measure.next_breath_at(30.0) == pytest.approx(30.0)


def test_a_tap_wildly_off_is_ignored() -> None:
    meter = TapMeter()
    # A double press right after a tap, and a bump halfway through a breath.
    for t, counted in ((0.0, True), (4.0, True), (4.3, False), (8.0, True), (9.9, False)):
        assert meter.tap(t) is counted, t
    assert meter.measure is None
    assert meter.tap(12.0)
    measure = meter.measure
    assert measure is not None and measure.rate == pytest.approx(15.0)
    assert meter.ignored == 2


def test_an_odd_first_breath_is_dropped_rather_than_taken_as_the_rule() -> None:
    meter = meter_after(0.0, 9.0, 13.0, 17.0)  # a long first breath, then 4 s ones
    assert meter.measure is None and meter.in_run == 3
    meter.tap(21.0)
    measure = meter.measure
    assert measure is not None and measure.rate == pytest.approx(15.0)


def test_a_pause_or_a_missed_tap_starts_counting_again_instead_of_measuring_it_wrong() -> None:
    # A tap missed after 8 s: a breath of 8 s is no breath of this person's, so the run starts
    # again from 16 and measures 4 s breaths, not 6 or 8.
    meter = meter_after(0.0, 4.0, 8.0, 16.0, 20.0, 24.0)
    assert meter.measure is None
    assert meter.in_run == 3
    meter.tap(28.0)
    measure = meter.measure
    assert measure is not None and measure.rate == pytest.approx(15.0)
    # A long quiet (longer than any breath) also starts again.
    assert meter_after(0.0, 3.0, 6.0, 30.0, 33.0).measure is None


def test_one_uneven_breath_does_not_pull_the_rate_around() -> None:
    measure = meter_after(0.0, 5.5, 9.5, 13.5).measure  # the first breath was a long one
    assert measure is not None and measure.rate == pytest.approx(15.0)


def test_tapping_again_measures_again() -> None:
    meter = meter_after(0.0, 4.0, 8.0, 12.0)
    first = meter.measure
    assert first is not None and first.number == 1
    for t in (40.0, 43.0, 46.0):
        meter.tap(t)
    assert meter.measure == first  # three taps are not a measurement yet
    meter.tap(49.0)
    second = meter.measure
    assert second is not None and second.number == 2 and second.rate == pytest.approx(20.0)


@pytest.mark.parametrize("rate", [float("nan"), float("inf"), 0.0, 3.9, 40.1, -12.0])
def test_an_impossible_rate_is_one_clear_line(rate: float) -> None:
    with pytest.raises(BadValue, match="between 4 and 40"):
        check_rate(rate)


@pytest.mark.parametrize("minutes", [float("nan"), 0.0, -1.0, 0.5, 61.0, 1e9])
def test_an_impossible_length_is_one_clear_line(minutes: float) -> None:
    with pytest.raises(BadValue, match="between 1 and 60 minutes"):
        check_minutes(minutes)


# ----------------------------------------------------------------------------- the pacing


def play(source: BreatheWithSource, taps: list[float]) -> list[Item]:
    """What a session does with the source: ask for more `lookahead_s` before what is laid out
    runs out, tap at the moments the playhead passes the taps, tell the source where its items
    end (here: their estimates, which is what they are without a voice)."""
    items: list[Item] = []
    end = 0.0
    pending = sorted(taps)
    for _ in range(10_000):
        playhead = max(0.0, end - source.lookahead_s)
        while pending and pending[0] <= playhead:
            source.tap(pending.pop(0))
        source.placed(end)
        chunk = source.next_items()
        items.extend(chunk.items)
        end += sum(item.estimate() for item in chunk.items)
        if chunk.last:
            return items
    raise AssertionError("the source never ended")


def welcome_end() -> float:
    source = BreatheWithSource()
    return sum(item.estimate() for item in source.next_items().items)


def check_lead(rates: list[float], start: float) -> None:
    """Followed at `start` for a few breaths, then slower breath by breath, to 6, held there."""
    assert rates[:FOLLOW_BREATHS] == pytest.approx([start] * FOLLOW_BREATHS)
    assert rates[FOLLOW_BREATHS] < start or start <= TARGET_RATE  # then it leads
    steps = [a - b for a, b in itertools.pairwise(rates)]
    assert all(0.0 <= step <= 0.5 for step in steps), steps
    assert rates[-1] == pytest.approx(TARGET_RATE)
    assert rates.count(TARGET_RATE) >= 3  # it holds there


def test_it_is_a_source_that_takes_taps() -> None:
    assert isinstance(BreatheWithSource(), FollowsTaps)


def test_without_taps_it_waits_twenty_seconds_then_breathes_at_twelve_and_leads_down() -> None:
    source = BreatheWithSource(minutes=5)
    items = play(source, [])
    first_breath, first_rate = source.breaths[0]
    assert first_rate == DEFAULT_RATE
    assert first_breath == pytest.approx(welcome_end() + NO_TAP_S, abs=1.0)
    check_lead([rate for _, rate in source.breaths], DEFAULT_RATE)
    said = [item.text for item in items if isinstance(item, Speech)]
    assert said[0] == "I'm here with you."
    assert any("slow down together" in text for text in said)
    assert said[-1] == "Stay with it as long as you like."
    total = sum(item.estimate() for item in items) + 4.0  # the tail
    assert total == pytest.approx(300.0, abs=0.5)


def test_it_follows_the_taps_in_step_then_leads() -> None:
    source = BreatheWithSource(minutes=5)
    start = welcome_end() - 6.0  # the listener starts tapping while the welcome is spoken
    taps = [start + 3.0 * k for k in range(4)]  # 20 breaths a minute
    play(source, taps)
    first_breath, first_rate = source.breaths[0]
    assert first_rate == pytest.approx(20.0)
    # In step: its breath in begins when theirs does (a whole number of breaths on).
    beats = (first_breath - taps[-1]) / 3.0
    assert beats == pytest.approx(round(beats), abs=1e-6) and beats >= 1
    check_lead([rate for _, rate in source.breaths], 20.0)


def test_tapping_again_catches_up_and_leads_from_there() -> None:
    source = BreatheWithSource(minutes=6, start_rate=14.0)
    play(source, [])
    alone = source.breaths
    at = next(t for t, rate in alone if rate <= 10.0)  # led down to 10 a minute by now
    source = BreatheWithSource(minutes=6, start_rate=14.0)
    taps = [at + 2.0 + 60.0 / 18.0 * k for k in range(4)]  # but they are at 18 again
    play(source, taps)
    rates = [rate for _, rate in source.breaths]
    caught = next(i for i, rate in enumerate(rates) if rate == pytest.approx(18.0))
    assert max(rates[:caught]) == 14.0 and rates[caught - 1] < 12.0
    check_lead(rates[caught:], 18.0)


def test_tapping_along_with_the_orb_does_not_start_it_over() -> None:
    source = BreatheWithSource(minutes=5, start_rate=14.0)
    play(source, [])
    taps = [t + 0.15 for t, _ in source.breaths[2:14]]  # a little behind each breath in
    source = BreatheWithSource(minutes=5, start_rate=14.0)
    play(source, taps)
    check_lead([rate for _, rate in source.breaths], 14.0)


def test_the_listed_practice_has_the_default_length() -> None:
    from coreg_desktop.practice.timeline import practice_minutes

    assert practice_minutes(breathe_with.practice()) == pytest.approx(5.0, abs=0.2)


# ------------------------------------------------------------------------ the render, heard


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The child inherits this test's XDG folders (conftest), never the user's."""
    return subprocess.run([sys.executable, "-m", "coreg_desktop", *args],
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_render_leads_from_the_start_rate_down_to_six_and_holds(tmp_path: Path) -> None:
    out = tmp_path / "bw.wav"
    done = run("render", "breathe-with", "--start-rate", "14", "--minutes", "4", "--no-ambient",
               "-o", str(out))
    assert done.returncode == 0, done.stderr
    audio, _ = read_wav(out)
    assert len(audio) / SAMPLE_RATE == pytest.approx(240.0, abs=0.05)  # the whole file
    cues = find_cues(audio, SAMPLE_RATE)
    breaths = breath_rates(cues)
    rates = [rate for _, rate, _ in breaths]
    assert len(rates) >= 15, cues
    # The welcome comes first: the voice, no cue, for several seconds.
    assert cues[0][0] > 8.0
    assert np.sqrt(np.mean(np.square(audio[: int(4 * SAMPLE_RATE)]))) > 0.01
    # Its first breaths follow 14 a minute, 4 in to 6 out.
    assert rates[:2] == pytest.approx([14.0, 14.0], abs=0.3)
    assert all(share == pytest.approx(0.4, abs=0.02) for _, _, share in breaths)
    # Then each breath is slower than the one before, never by more than about 0.5 a minute ...
    steps = [a - b for a, b in itertools.pairwise(rates)]
    assert all(-0.05 <= step <= 0.5 + 0.05 for step in steps), steps
    assert min(steps) < 0.05 and max(steps) > LEAD_STEP - 0.05
    # ... down to 6 (± 0.5), where it stays until the closing.
    settled = next(i for i, rate in enumerate(rates) if abs(rate - TARGET_RATE) <= 0.5)
    assert len(rates) - settled >= 3
    assert all(abs(rate - TARGET_RATE) <= 0.5 for rate in rates[settled:])
    # The closing is spoken after the last breath, and the bell ends it.
    after = audio[int((cues[-1][0] + 6.5) * SAMPLE_RATE) :, 0]
    half = SAMPLE_RATE // 2
    levels = [float(np.sqrt(np.mean(np.square(after[i : i + half]))))
              for i in range(0, len(after) - half, half)]
    assert max(levels) > 0.01, levels  # the closing words (and the bell)
    assert levels[-1] < 0.001  # the quiet tail: it ends softly


def test_a_second_render_is_identical(tmp_path: Path) -> None:
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    for path in (a, b):
        done = run("render", "breathe-with", "--start-rate", "20", "--minutes", "1.5",
                   "--no-ambient", "-o", str(path))
        assert done.returncode == 0, done.stderr
    assert a.read_bytes() == b.read_bytes()
    rates = [rate for _, rate, _ in breath_rates(find_cues(read_wav(a)[0], SAMPLE_RATE))]
    assert rates[0] == pytest.approx(20.0, abs=0.3)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["render", "breathe-with", "--start-rate", "90"], "--start-rate 90 is not a breathing"),
        (["render", "breathe-with", "--start-rate", "nan"], "between 4 and 40"),
        (["render", "breathe-with", "--minutes", "0"], "--minutes 0 is outside"),
        (["render", "breathe-with", "--minutes", "100000"], "between 1 and 60 minutes"),
        (["render", "breathe-with", "--minutes", "four"], "invalid float value: 'four'"),
        (["render", "quick-reset", "--minutes", "3"], "only applies to breathe-with"),
        (["render", "quick-reset", "--start-rate", "14"], "only applies to breathe-with"),
        (["play", "breathe-with", "--no-gui", "--minutes", "-2"], "--minutes -2 is outside"),
        (["play", "breathe-with", "--no-gui", "--start-rate", "14"], "unrecognized arguments"),
    ],
)
def test_bad_values_are_one_line_and_exit_2_before_anything_plays(
    args: list[str], expected: str, tmp_path: Path
) -> None:
    if args[0] == "render":
        args = [*args, "-o", str(tmp_path / "x.wav")]
    done = run(*args, timeout=60)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], lines
    assert not (tmp_path / "x.wav").exists()
