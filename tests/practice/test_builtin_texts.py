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

from coreg_desktop.constants import PRACTICE_TAGS, QUICK_MAX_S
from coreg_desktop.core import Core, SessionOptions
from coreg_desktop.practice.loader import load_library
from coreg_desktop.practice.model import Practice, Say
from coreg_desktop.practice.timeline import Speech, plan, practice_seconds
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


def test_every_builtin_practice_is_checked() -> None:
    assert {p.id for p in PRACTICES} >= {"quick-reset", "stay-safe", "safe-person",
                                         "self-compassion"}


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
    """"quick" is the one tag about length: every practice that short carries it, no other."""
    for practice in PRACTICES:
        short = practice_seconds(practice) <= QUICK_MAX_S
        assert ("quick" in practice.tags) == short, (practice.id, practice_seconds(practice))
