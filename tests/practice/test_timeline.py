"""Timeline layout and state_at: the single source of "what is happening now"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from coreg_desktop.constants import SAMPLE_RATE, SENTENCE_GAP_S, seconds_to_frames
from coreg_desktop.practice.model import Bell, Breathe, Cue, Pause, Phase, Practice, Say
from coreg_desktop.practice.timeline import (
    FAILED,
    TAIL_S,
    BreathPhase,
    Speech,
    compile_timeline,
    plan,
    speech_texts,
)


def practice(*steps: object) -> Practice:
    return Practice(id="t", title="T", steps=tuple(steps))  # type: ignore[arg-type]


def fixed_lengths(seconds_per_word: float = 0.4) -> Callable[[str], int]:
    return lambda text: seconds_to_frames(len(text.split()) * seconds_per_word)


def test_plan_splits_sentences_and_fills_placeholders() -> None:
    items = plan(practice(Say("It's okay, {name}. You're having a hard time.", pause=2.0)))
    assert [i.text for i in items if isinstance(i, Speech)] == [
        "It's okay.",
        "You're having a hard time.",
    ]
    named = plan(practice(Say("It's okay, {name}.")), {"name": "Robin"})
    assert isinstance(named[0], Speech) and named[0].text == "It's okay, Robin."


def test_events_tile_the_timeline_without_gaps() -> None:
    p = practice(
        Say("Hello there. Feet on the floor.", pause=1.5),
        Pause(2.0),
        Breathe(inhale=4, exhale=6, hold=1, cycles=2, cue=Cue.VOICE),
        Bell(),
    )
    tl = compile_timeline(plan(p), fixed_lengths())
    assert tl.complete
    assert tl.events[0].start == 0
    for a, b in zip(tl.events, tl.events[1:], strict=False):
        assert a.end == b.start
    assert tl.total == tl.events[-1].end + seconds_to_frames(TAIL_S)
    breathe = [e for e in tl.events if e.kind == "breathe"]
    assert [e.phase for e in breathe] == [Phase.INHALE, Phase.HOLD, Phase.EXHALE] * 2
    assert sum(e.end - e.start for e in breathe) == seconds_to_frames(22)


def test_state_at_reports_phase_progress_and_caption() -> None:
    p = practice(Say("Feet on the floor."), Breathe(inhale=4, exhale=6, cycles=1, cue=Cue.TONE))
    tl = compile_timeline(plan(p), fixed_lengths())
    inhale = next(e for e in tl.events if e.phase is Phase.INHALE)
    mid = inhale.start + (inhale.end - inhale.start) // 4
    state = tl.state_at(mid)
    assert state.phase is Phase.INHALE
    assert state.phase_label == "Breathe in"
    assert state.phase_progress == pytest.approx(0.25, abs=1e-3)
    assert state.phase_remaining == pytest.approx(3.0, abs=1e-3)
    assert state.cycle == 1 and state.cycles == 1
    # The caption stays up through the short silence after a sentence.
    speech = tl.events[0]
    assert tl.state_at(speech.start + 10).caption == "Feet on the floor."
    assert tl.state_at(speech.end + 10).caption == "Feet on the floor."
    assert tl.state_at(inhale.start + 10).caption is None
    end = tl.state_at(tl.total + 1)
    assert end.finished and end.remaining == 0


def test_incomplete_timeline_stops_at_first_missing_clip() -> None:
    p = practice(Say("One. Two."), Pause(1.0), Say("Three."))
    known = {"One.": seconds_to_frames(1.0)}
    tl = compile_timeline(plan(p), lambda t: known.get(t))
    assert not tl.complete
    assert tl.known_end == seconds_to_frames(1.0) + seconds_to_frames(SENTENCE_GAP_S)
    assert tl.total > tl.known_end  # an estimate, so progress bars have a length
    assert not tl.state_at(tl.known_end).finished


def test_spoken_cue_too_long_for_its_phase_becomes_a_tone() -> None:
    p = practice(Breathe(inhale=1, exhale=4, cycles=1, cue=Cue.VOICE))
    lengths = {text: seconds_to_frames(1.5) for text in speech_texts(plan(p))}
    tl = compile_timeline(plan(p), lambda t: lengths.get(t))
    assert [(s.bus, s.key) for s in tl.sounds] == [
        ("tone", "inhale"),
        ("voice", "And breathe out, all the way."),
    ]


def test_without_a_voice_captions_still_run_and_cues_become_tones() -> None:
    p = practice(Say("Hello there, friend."), Breathe(inhale=3, exhale=5, cycles=1), Bell())
    tl = compile_timeline(plan(p), lambda _t: None, voice_available=False)
    assert tl.complete
    assert tl.events[0].kind == "speech" and tl.events[0].end > seconds_to_frames(1.0)
    assert [s.bus for s in tl.sounds] == ["tone", "tone", "bell"]
    failed = compile_timeline(plan(p), lambda _t: FAILED)
    assert failed.complete and not [s for s in failed.sounds if s.bus == "voice"]


def test_seconds_rounds_to_whole_cycles() -> None:
    b = Breathe(inhale=4, exhale=6, seconds=61)
    assert b.cycle_count == 6
    items = [i for i in plan(practice(b)) if isinstance(i, BreathPhase)]
    assert len(items) == 12
    assert sum(i.seconds for i in items) == 60
    assert SAMPLE_RATE == 48_000


def test_speak_changes_what_is_voiced_never_the_caption() -> None:
    practice = Practice(
        id="p", title="P",
        steps=(Say("It's okay, {name}. You're here.", speak="It's okay, {name}... You're here."),),
    )
    items = plan(practice, {"name": "Saoirse"}, spoken_values={"name": "Sheer-sha"})
    speeches = [i for i in items if isinstance(i, Speech)]
    assert [s.text for s in speeches] == ["It's okay, Saoirse.", "You're here."]
    assert [s.voice_text for s in speeches] == ["It's okay, Sheer-sha...", "You're here."]
    assert speech_texts(items) == ["It's okay, Sheer-sha...", "You're here."]
    frames = {t: 4800 for t in speech_texts(items)}
    timeline = compile_timeline(items, frames.get)
    assert [s.key for s in timeline.sounds] == ["It's okay, Sheer-sha...", "You're here."]
    assert timeline.state_at(100).caption == "It's okay, Saoirse."


def test_a_respelling_that_splits_differently_stays_one_clip() -> None:
    practice = Practice(id="p", title="P", steps=(Say("Thank you, {name}."),))
    items = plan(practice, {"name": "Dr Ana"}, spoken_values={"name": "Doctor. Ana"})
    (speech,) = [i for i in items if isinstance(i, Speech)]
    assert speech.text == "Thank you, Dr Ana." and speech.voice_text == "Thank you, Doctor. Ana."


def test_a_line_offering_you_speaks_by_name_only_when_chosen_and_given() -> None:
    step = Say(
        "{name}, this is hard.", speak="{name}, this is hard...", you="This is hard for you."
    )
    p = practice(step, Say("Well done, {name}."))

    def said(**kwargs: Any) -> list[tuple[str, str]]:
        return [(i.text, i.voice_text) for i in plan(p, **kwargs) if isinstance(i, Speech)]

    named = {"name": "Saoirse"}
    spoken = {"name": "Seersha"}
    assert said(values=named, spoken_values=spoken) == [
        ("Saoirse, this is hard.", "Seersha, this is hard..."),
        ("Well done, Saoirse.", "Well done, Seersha."),
    ]
    # "you" was chosen: the line that offers it speaks to "you"; the other keeps the name.
    assert said(values=named, spoken_values=spoken, by_name=False) == [
        ("This is hard for you.", "This is hard for you."),
        ("Well done, Saoirse.", "Well done, Seersha."),
    ]
    # No name at all: the "you" form reads better than a line with its name taken out.
    you = "This is hard for you."
    assert said() == [(you, you), ("Well done.", "Well done.")]
    assert said(values={"name": "  "}) == said()
