"""Every built-in practice reads naturally, with a name and without one, either way it speaks.

Most people never give a name, and some would rather be spoken to as "you". So every caption
(and every line the voice says) of every shipped practice is composed the way a session composes
it, for each of those listeners, and read for the marks a missing name leaves behind: a dangling
comma, a doubled space, a stray brace, a sentence that starts in lower case.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from coreg_desktop.constants import PRACTICE_TAGS, QUICK_MAX_MINUTES
from coreg_desktop.core import Core, SessionOptions, uses_safe_person
from coreg_desktop.practice.loader import load_library
from coreg_desktop.practice.model import Bell, Breathe, Cue, Practice, Say
from coreg_desktop.practice.timeline import Speech, plan, practice_minutes
from coreg_desktop.settings import Settings


def _builtins() -> list[Practice]:
    empty = Path("/nonexistent-user-practices")
    return [p for p in load_library(user_dir=empty).all if p.builtin]


PRACTICES = _builtins()
LISTENERS: dict[str, dict[str, object]] = {
    "no name": {"values": {}, "by_name": True},
    "no name, as you": {"values": {}, "by_name": False},
    "Sam": {"values": {"name": "Sam"}, "by_name": True},
    "Sam, as you": {"values": {"name": "Sam"}, "by_name": False},
    "Mary-Jane, safe person": {
        "values": {"name": "Mary-Jane", "safe_person": "Grandma Rose"}, "by_name": True,
    },
}

#: What a careless fill leaves behind, each with the reason it reads wrongly.
FLAWS: tuple[tuple[str, str], ...] = (
    (r"\{|\}", "a stray brace"),
    (r"  ", "a doubled space"),
    (r"^\s|\s$", "space at an end"),
    (r"^[,.;:!?]", "punctuation first"),
    (r"\s[,.;:!?]", "a space before punctuation"),
    (r",\s*[.!?;:]|,\s*$", "a dangling comma"),
    (r",\s*,", "two commas"),
    (r"(^|[.!?]\s+)[a-z]", "a sentence that starts in lower case"),
    (r"\b(you|your),\s+you\b", "a doubled 'you'"),
)


def flaws(text: str) -> list[str]:
    return [why for pattern, why in FLAWS if re.search(pattern, text)]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("It's okay, .", "a dangling comma"),
        ("It's okay,", "a dangling comma"),
        ("It's okay ,Sam.", "a space before punctuation"),
        ("Hello  there.", "a doubled space"),
        ("Hello {name}.", "a stray brace"),
        (", this is hard.", "punctuation first"),
        ("Good. this is hard.", "a sentence that starts in lower case"),
        ("this is hard.", "a sentence that starts in lower case"),
        ("Okay,, then.", "two commas"),
    ],
)
def test_the_reader_catches_each_flaw(text: str, why: str) -> None:
    assert why in flaws(text)
    assert flaws("It's okay, Zoë. Nothing needs fixing right now.") == []


LIBRARY_IDS = {
    "quick-reset", "stay-safe", "safe-person", "self-compassion",
    # issue 10's ten
    "breathing-together", "five-minute-reset", "steady-before-you-help", "after-conflict",
    "shoulders-down", "orienting", "humming", "with-an-animal", "someone-you-love",
    "sleep-wind-down",
}


def test_every_builtin_practice_is_checked() -> None:
    assert {p.id for p in PRACTICES} >= LIBRARY_IDS


@pytest.mark.parametrize("listener", list(LISTENERS))
@pytest.mark.parametrize("practice", PRACTICES, ids=lambda p: p.id)
def test_every_caption_and_spoken_line_reads_naturally(practice: Practice, listener: str) -> None:
    options = LISTENERS[listener]
    values = options["values"]
    assert isinstance(values, dict)
    items = plan(practice, values, by_name=bool(options["by_name"]))
    speeches = [i for i in items if isinstance(i, Speech)]
    assert speeches
    bad = [(s.text, flaws(s.text)) for s in speeches if flaws(s.text)]
    bad += [(s.voice_text, flaws(s.voice_text)) for s in speeches if flaws(s.voice_text)]
    assert bad == []
    name = values.get("name")
    heard = " ".join(s.text for s in speeches)
    if not name:
        assert "Sam" not in heard
    uses_name = any(isinstance(step, Say) and "{name" in step.text for step in practice.steps)
    if name and uses_name and options["by_name"]:
        assert name in heard  # shown wherever the practice uses it
        assert any(name in s.voice_text for s in speeches)  # and said


def test_self_compassion_says_the_name_or_you_as_chosen() -> None:
    practice = next(p for p in PRACTICES if p.id == "self-compassion")
    by_name = [i.text for i in plan(practice, {"name": "Sam"}) if isinstance(i, Speech)]
    as_you = [i.text for i in plan(practice, {"name": "Sam"}, by_name=False)
              if isinstance(i, Speech)]
    assert sum("Sam" in t for t in by_name) >= 4
    assert not any("Sam" in t for t in as_you)
    assert "This is really hard for you right now." in as_you
    assert "Sam, this is really hard right now." in by_name
    # Every line that says the name offers the other way too, so "you" is never half done.
    for step in practice.steps:
        if isinstance(step, Say) and "{name}" in step.text:
            assert step.you is not None, step.text


def test_the_core_takes_the_respelling_and_the_choice_from_the_settings(tmp_path: Path) -> None:
    settings = Settings(path=tmp_path / "s.json")
    settings.update({"name": "Saoirse", "name_spoken": "Seersha"})
    core = Core(settings)
    options = core.options()
    assert options == SessionOptions(
        {"name": "Saoirse", "safe_person": None}, None, 1.0,
        {"name": "Seersha", "safe_person": None}, True,
    )
    practice = core.practice("self-compassion")
    speeches = [i for i in core.source(practice, options).items if isinstance(i, Speech)]
    named = [s for s in speeches if "Saoirse" in s.text]
    assert named and all("Seersha" in s.voice_text and "Saoirse" not in s.voice_text
                         for s in named)
    settings.set("speak_to", "you")
    texts = core.texts_of(practice)
    assert not any("Seersha" in t or "Saoirse" in t for t in texts)
    core.close()


def test_builtin_practices_use_only_the_tag_vocabulary_and_say_when_to_pick_them() -> None:
    """One chip per need in the library's tag filter, and a summary on every card."""
    for practice in PRACTICES:
        assert practice.tags, practice.id
        assert set(practice.tags) <= set(PRACTICE_TAGS), (practice.id, practice.tags)
        assert len(set(practice.tags)) == len(practice.tags), practice.id
        assert practice.summary.endswith("."), practice.id


def test_quick_means_five_minutes_or_less_as_listed() -> None:
    """"quick" is the one tag about length: every practice whose card says "5 min" or less
    carries it (the card rounds as the library view does), and no other."""
    for practice in PRACTICES:
        minutes = max(1, round(practice_minutes(practice)))
        assert ("quick" in practice.tags) == (minutes <= QUICK_MAX_MINUTES), (practice.id, minutes)


def by_id(practice_id: str) -> Practice:
    return next(p for p in PRACTICES if p.id == practice_id)


def test_someone_you_love_names_the_safe_person_or_invites_a_photo_of_anyone() -> None:
    """It is about the safe person (so the player shows their photo and plays a memo), and
    reads whole without one: no line may say a photo is there, since it may not be."""
    practice = by_id("someone-you-love")
    assert uses_safe_person(practice)
    alone = " ".join(i.text for i in plan(practice, {}) if isinstance(i, Speech))
    named = " ".join(i.text for i in plan(practice, {"safe_person": "Ana"})
                     if isinstance(i, Speech))
    assert "someone you love" in alone and "Ana" not in alone
    assert "look at Ana." in named and "Imagine Ana looking back at you" in named
    assert "someone who feels safe to you" not in alone + named  # the inline fallbacks win
    assert "hold a photo of them" in alone  # the invitation, when no photo is shown


def test_sleep_wind_down_slows_grows_quiet_and_has_no_bell() -> None:
    practice = by_id("sleep-wind-down")
    assert not any(isinstance(step, Bell) for step in practice.steps)
    breaths = [s for s in practice.steps if isinstance(s, Breathe)]
    assert [b.exhale for b in breaths] == sorted(b.exhale for b in breaths)  # the out-breath grows
    assert [b.cue for b in breaths] == [Cue.VOICE, Cue.TONE, Cue.SILENT]  # words, tones, nothing
    tail = sum(i.estimate() for i in plan(practice)[-3:])
    assert tail >= 180  # it ends in minutes of rain alone
