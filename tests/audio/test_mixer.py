"""Mixer: gains, ducking, fades, transport and block-size independence, with real numpy mixing."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from coreg_desktop.audio.mixer import (
    AMBIENCE_BASE_GAIN,
    BUS_CUE,
    BUS_VOICE,
    DUCK_DB,
    PAUSE_FADE_S,
    Mixer,
    Program,
    Scheduled,
    Transport,
)
from coreg_desktop.constants import SAMPLE_RATE as SR


def sine(seconds: float, freq: float = 440.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def ambience(seconds: float = 5.0, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.1 * rng.standard_normal((int(seconds * SR), 2))).astype(np.float32)


def rms_db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12))


def program(voice_at: float = 5.0, voice_len: float = 4.0, end: float = 16.0) -> Program:
    silent_voice = np.zeros(int(voice_len * SR), dtype=np.float32)
    sounds = [Scheduled(int(voice_at * SR), silent_voice, BUS_VOICE)]
    return Program.build(sounds, ambience(), int(end * SR), int(end * SR))


def test_any_block_size_renders_the_same_samples() -> None:
    sounds = [
        Scheduled(SR // 2, sine(1.3), BUS_VOICE),
        Scheduled(2 * SR, sine(0.4, 660), BUS_CUE),
        Scheduled(int(2.5 * SR), sine(2.0, 330), BUS_VOICE),
    ]
    prog = Program.build(sounds, ambience(1.7), 6 * SR, 6 * SR)
    reference = Mixer().render_program(prog, block=4096)
    mixer = Mixer()
    mixer.load(prog)
    out = np.zeros_like(reference)
    rng = np.random.default_rng(0)
    pos = 0
    while pos < len(out):
        k = min(int(rng.integers(1, 3000)), len(out) - pos)
        mixer.render(out[pos : pos + k])
        pos += k
    np.testing.assert_array_equal(out, reference)
    assert mixer.transport is Transport.FINISHED


def test_an_hour_in_renders_the_same_samples_as_the_first_seconds() -> None:
    """float32 holds frame indices exactly only up to 2**24 (six minutes), so the envelopes must
    not be computed from absolute frames: the same practice an hour later (its ambience loop
    fitting a whole number of times into the hour) must give the same samples, in any block
    size."""
    hour = 3600 * SR
    loop = ambience(2.0)
    assert hour % len(loop) == 0

    def practice(offset: int) -> Program:
        sounds = [
            Scheduled(offset + SR // 2, sine(1.3), BUS_VOICE),
            Scheduled(offset + 2 * SR, sine(0.4, 660), BUS_CUE),
            Scheduled(offset + int(2.5 * SR), sine(2.0, 330), BUS_VOICE),
        ]
        return Program.build(sounds, loop, offset + 6 * SR, offset + 6 * SR, ambience_start=offset)

    reference = Mixer().render_program(practice(0), block=4096)
    mixer = Mixer()
    mixer.load(practice(hour), start=hour)
    out = np.zeros_like(reference)
    rng = np.random.default_rng(1)
    pos = 0
    while pos < len(out):
        k = min(int(rng.integers(1, 3000)), len(out) - pos)
        mixer.render(out[pos : pos + k])
        pos += k
    np.testing.assert_array_equal(out, reference)
    assert mixer.transport is Transport.FINISHED


def test_ambience_ducks_about_8_db_under_the_voice_with_300ms_ramps() -> None:
    out = Mixer().render_program(program())
    free = rms_db(out[int(3.6 * SR) : int(4.4 * SR)])
    ducked = rms_db(out[int(6 * SR) : int(8 * SR)])
    assert free - ducked == pytest.approx(DUCK_DB, abs=0.5)
    # Half-way down the ramp that starts 300 ms before the voice.
    half = rms_db(out[int(4.84 * SR) : int(4.86 * SR)])
    assert ducked + 1.5 < half < free - 1.5
    # Back up 300 ms after the voice ends.
    after = rms_db(out[int(9.4 * SR) : int(10.2 * SR)])
    assert after == pytest.approx(free, abs=0.5)


def test_ambience_fades_in_and_out_over_three_seconds() -> None:
    out = Mixer().render_program(program(voice_at=8, voice_len=0.1, end=14))
    assert np.abs(out[:100]).max() < 1e-3
    steady = rms_db(out[int(3.2 * SR) : int(4.5 * SR)])
    assert rms_db(out[int(1.45 * SR) : int(1.55 * SR)]) == pytest.approx(steady - 6.0, abs=1.0)
    assert np.abs(out[-100:]).max() < 1e-3
    assert steady == pytest.approx(rms_db(ambience()) + 20 * np.log10(AMBIENCE_BASE_GAIN), abs=0.5)


def test_loud_sources_never_clip() -> None:
    loud = [Scheduled(0, sine(2.0, amp=1.0), BUS_VOICE), Scheduled(0, sine(2.0, 700, 1.0), BUS_CUE)]
    prog = Program.build(loud, ambience() * 8, 3 * SR, 3 * SR)
    out = Mixer().render_program(prog)
    assert np.abs(out).max() <= 1.0


def test_pause_fades_holds_the_playhead_and_resumes_where_it_was() -> None:
    prog = Program.build([Scheduled(0, sine(10.0), BUS_VOICE)], None, 10 * SR, 10 * SR)
    mixer = Mixer()
    mixer.load(prog)
    block = np.zeros((1024, 2), dtype=np.float32)
    for _ in range(20):
        mixer.render(block)
    mixer.pause()
    faded = np.zeros((int(PAUSE_FADE_S * SR) + 2048, 2), dtype=np.float32)
    mixer.render(faded)
    # A fade, not a cut: the largest step between samples stays that of the sine itself.
    assert np.abs(np.diff(faded[:, 0])).max() < 0.05
    assert np.abs(faded[-1024:]).max() == 0.0
    held = mixer.pos
    for _ in range(10):
        mixer.render(block)
        assert not block.any()
    assert mixer.pos == held and mixer.transport is Transport.PAUSED
    mixer.resume()
    mixer.render(block)
    assert block.any() and mixer.pos == held + 1024


def test_stop_fades_out_then_reports_stopped() -> None:
    prog = Program.build([Scheduled(0, sine(10.0), BUS_VOICE)], None, 10 * SR, 10 * SR)
    mixer = Mixer()
    mixer.load(prog)
    mixer.stop(fade_s=0.5)
    out = np.zeros((SR, 2), dtype=np.float32)
    mixer.render(out)
    assert np.abs(out[: SR // 10]).max() > 0.3
    assert np.abs(out[int(0.55 * SR) :]).max() == 0.0
    assert mixer.transport is Transport.STOPPED and not mixer.busy


def test_playhead_waits_for_narration_that_is_not_ready() -> None:
    first = Scheduled(0, sine(0.5), BUS_VOICE)
    partial = Program.build([first], None, SR, None)
    mixer = Mixer()
    mixer.load(partial)
    out = np.zeros((2 * SR, 2), dtype=np.float32)
    mixer.render(out)
    assert mixer.pos == SR and mixer.stalled_frames == SR
    later = Scheduled(SR, sine(0.5, 550), BUS_VOICE)
    mixer.update(Program.build([first, later], None, 2 * SR, 2 * SR))
    tail = np.zeros((SR, 2), dtype=np.float32)
    mixer.render(tail)
    # The late sentence plays from its first sample, not from wherever the clock had run to.
    np.testing.assert_allclose(tail[: SR // 2, 0], later.data, atol=1e-6)


def test_ambience_fades_in_while_the_first_words_are_still_being_made() -> None:
    """A cold start waits for its first sentence; the soundscape must not wait with it."""
    loop = ambience()
    mixer = Mixer()
    mixer.load(Program.build([], loop, 0, None))  # nothing narrated yet
    waiting = np.zeros((2 * SR, 2), dtype=np.float32)
    mixer.render(waiting)
    assert mixer.pos == 0 and mixer.stalled_frames == 2 * SR
    assert np.abs(waiting[:100]).max() < 1e-3
    # The usual 3 s fade, on the ambience's own clock, already ducked for the voice to come:
    # half way up (-6 dB) after 1.5 s, and 8 dB under the steady level.
    steady = rms_db(loop) + 20 * np.log10(AMBIENCE_BASE_GAIN)
    assert rms_db(waiting[int(1.45 * SR) : int(1.55 * SR)]) == pytest.approx(
        steady - 6.0 - DUCK_DB, abs=1.0)
    # The first sentence arrives: the ambience carries on at the same level, no drop.
    first = Scheduled(0, np.zeros(SR, dtype=np.float32), BUS_VOICE)
    mixer.update(Program.build([first], loop, SR, None))
    after = np.zeros((SR // 10, 2), dtype=np.float32)
    mixer.render(after)
    assert mixer.pos == SR // 10
    assert rms_db(after[: SR // 20]) == pytest.approx(rms_db(waiting[-SR // 20 :]), abs=1.0)


def test_a_wait_mid_practice_glides_the_ambience_down_instead_of_dropping() -> None:
    loop = ambience()
    mixer = Mixer()
    mixer.load(Program.build([], loop, 5 * SR, None))  # 5 s laid out, then a sentence not ready
    before = np.zeros((5 * SR, 2), dtype=np.float32)
    mixer.render(before)
    waiting = np.zeros((SR, 2), dtype=np.float32)
    mixer.render(waiting)
    assert mixer.stalled_frames == SR
    ms = SR // 1000
    level = [rms_db(waiting[i * 50 * ms : (i + 1) * 50 * ms]) for i in range(20)]
    assert level[0] == pytest.approx(rms_db(before[-50 * ms :]), abs=1.0)  # no step down
    assert level[-1] == pytest.approx(level[0] - DUCK_DB, abs=1.0)  # ducked by the end
    assert all(b <= a + 1.0 for a, b in itertools.pairwise(level))  # a glide


def test_heard_position_accounts_for_output_latency_and_pauses() -> None:
    prog = Program.build([Scheduled(0, sine(10.0), BUS_VOICE)], None, 10 * SR, 10 * SR)
    mixer = Mixer()
    mixer.load(prog)
    block = np.zeros((1000, 2), dtype=np.float32)
    for _ in range(10):
        mixer.render(block)
    assert mixer.heard_position(latency_frames=2500) == 7500
    mixer.pause()
    for _ in range(20):
        mixer.render(block)
    paused_at = mixer.pos
    assert mixer.heard_position(latency_frames=2500) == paused_at


def test_slider_gains_apply_to_their_bus() -> None:
    voice = Scheduled(0, sine(2.0, amp=0.5), BUS_VOICE)
    prog = Program.build([voice], None, 2 * SR, 2 * SR)
    mixer = Mixer()
    mixer.set_gains(voice=0.25)
    out = mixer.render_program(prog)
    assert np.abs(out[SR:]).max() == pytest.approx(0.125, abs=0.002)


def test_switching_ambience_crossfades_without_a_jump() -> None:
    a = np.full((SR, 2), 0.2, dtype=np.float32)
    b = np.full((SR, 2), -0.2, dtype=np.float32)
    prog_a = Program.build([], a, 20 * SR, 20 * SR)
    mixer = Mixer()
    mixer.load(prog_a)
    out = np.zeros((5 * SR, 2), dtype=np.float32)
    mixer.render(out)  # past the 3 s fade-in: steady level
    level = float(out[-1, 0])
    mixer.update(Program.build([], b, 20 * SR, 20 * SR, ambience_start=mixer.pos))
    after = np.zeros((4 * SR, 2), dtype=np.float32)
    mixer.render(after)
    # Continuous across the switch, and the old ambience is gone after its fade.
    assert abs(float(after[0, 0]) - level) < 0.01
    assert np.abs(np.diff(after[:, 0])).max() < 1e-3
    assert float(after[-1, 0]) < 0 and mixer._old_amb is None


def test_rendering_allocates_nothing_per_block() -> None:
    """The callback contract: `render` allocates no buffer per block, whatever paths it takes.

    numpy reports its buffers to tracemalloc, so one temporary array of a block (8 KB) shows in
    the traced peak. The practice is a realistic one: sentences grouped into duck spans, cue
    tones, a stereo ambience loop that wraps. The warm-up runs every path once (so that what the
    mixer keeps, such as counters leaving Python's small-int cache, is in the baseline): the
    limiter, a wait for narration, an ambience switch, a pause and a slider change. The measured
    blocks run them all again, and the ducking and the fade into the end besides.
    """
    import tracemalloc

    block = 1024

    def at(seconds: float) -> int:
        return int(seconds * SR)

    def voice(start: float, seconds: float, amp: float = 0.3, freq: float = 220.0) -> Scheduled:
        return Scheduled(at(start), sine(seconds, freq, amp), BUS_VOICE)

    def cue(start: float, amp: float = 0.3) -> Scheduled:
        return Scheduled(at(start), sine(0.4, 880.0, amp), BUS_CUE)

    # Voice and cue together sum past 1.2 at 0.5 s and 21 s: the limiter's work.
    opening = [voice(0.2, 1.3, amp=0.95), cue(0.5, amp=0.9)]
    first = [*opening, cue(3.5), voice(4.0, 2.5), voice(7.3, 2.5, freq=247.0), cue(11.0),
             voice(12.8, 2.5), voice(16.1, 1.8, freq=262.0)]
    rest = [cue(19.0), voice(20.0, 2.5, amp=0.95), cue(21.0, amp=0.9), voice(23.3, 2.7),
            cue(28.0), voice(29.0, 2.0), voice(31.8, 2.2), voice(35.0, 1.5), cue(38.0)]
    loop_a, loop_b = ambience(5.0, seed=1), ambience(3.3, seed=2)
    # Narration arrives late twice (at 2 s and at 18 s), and the ambience changes twice.
    opened = Program.build(opening, loop_a, at(2.0), None)
    partial = Program.build(first, loop_a, at(18.0), None)
    partial_b = Program.build(first, loop_b, at(18.0), None, ambience_start=at(1.0))
    complete = Program.build(first + rest, loop_b, at(40.0), at(40.0), ambience_start=at(1.0))
    switched = Program.build(first + rest, loop_a, at(40.0), at(40.0), ambience_start=at(24.0))
    assert len(complete.duck_spans) >= 4

    measured = 2000
    heard = np.zeros((measured * block, 2), dtype=np.float32)
    warm = np.zeros((block, 2), dtype=np.float32)
    tracemalloc.start()
    try:
        mixer = Mixer()  # after start(), so what it holds and later replaces is all traced
        mixer.load(opened)
        for i in range(200):
            if i == 20:
                mixer.pause()
            elif i == 30:
                mixer.resume()
            elif i == 90:
                mixer.set_gains(voice=0.9, ambience=1.1)
            elif i == 120:  # waiting since block 108
                mixer.update(partial)
            elif i == 125:
                mixer.update(partial_b)
            mixer.render(warm)
        assert mixer.stalled_frames > 0 and mixer._old_amb is None
        waited = mixer.stalled_frames
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        updated = False
        half = 0
        for m in range(measured):
            if m == 300:
                mixer.pause()
            elif m == 330:
                mixer.resume()
            elif m == 500:
                mixer.seek(mixer.pos - 2 * SR)
            elif m == 800:
                mixer.set_gains(voice=0.8, ambience=1.2)
            elif m == 1100:
                mixer.update(switched)
            if not updated and mixer.stalled_frames > waited + SR:
                mixer.update(complete)
                updated = True
            mixer.render(heard[m * block : (m + 1) * block])
            if m == measured // 2 - 1:
                half = tracemalloc.get_traced_memory()[0]
        end, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # Every path ran: the wait, the switch, the limiter, the fade into the end.
    assert updated and mixer.program is switched and mixer._old_amb is None
    assert 0.9 < float(np.abs(heard).max()) <= 1.0
    assert mixer.transport is Transport.FINISHED
    assert not heard[-block:].any()
    # What is left is Python objects: views, and ints and floats of the mixer's state. A few of
    # those change size as they go (a counter leaving the small-int cache when the practice
    # ends), so "no growth" allows a few dozen bytes; a leak of even one object per block would
    # be 16,000 or more.
    print(f"traced after warm-up {baseline} B; peak +{peak - baseline} B; "
          f"last 1,000 blocks {end - half:+d} B")
    assert peak - baseline <= 1024, f"render allocated {peak - baseline} bytes at its peak"
    assert end - half <= 128, f"traced memory grew by {end - half} bytes over 1,000 blocks"


def test_an_update_from_a_replaced_program_is_dropped() -> None:
    """A session replaced while its narration worker was finishing a sentence sends one more
    update; it carries the old load's token, so the new program keeps playing."""
    mixer = Mixer()
    out = np.zeros((1024, 2), dtype=np.float32)
    old = mixer.load(program(end=30.0))
    mixer.render(out)
    new_program = program(voice_at=0.5, end=8.0)
    new = mixer.load(new_program)
    assert new != old
    mixer.update(program(end=60.0), old)  # late, from the replaced session
    mixer.render(out)
    assert mixer.program is new_program
    longer = program(voice_at=0.5, end=9.0)
    mixer.update(longer, new)  # its own updates still land
    mixer.render(out)
    assert mixer.program is longer
