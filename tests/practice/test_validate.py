"""Validating one practice: what a good file becomes, and where and how a bad one is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from coreg_desktop.practice.model import Bell, Breathe, Cue, Pause, Practice, Say
from coreg_desktop.practice.validate import (
    MAX_FILE_BYTES,
    LoadIssue,
    PracticeError,
    parse_practice,
)

PATH = Path("/practices/test.toml")

GOOD = """\
# A comment before anything.
id = "stay-safe"
title = "Stay Safe"
summary = "Find solid ground."
tags = ["panic", "grounding"]
ambience = "rain"

[[steps]]
say = "Let's find some steady ground, {name}."
pause = 2.5

[[steps]]
pause = 4

[[steps]]
breathe = { inhale = 4, hold = 1, exhale = 6, hold_after = 2, cycles = 4, cue = "tone" }

[[steps]]
breathe = { inhale = 3.5, exhale = 5, seconds = 60 }

[[steps]]
bell = true
"""

HEAD = 'id = "p"\ntitle = "P"\n'  # lines 1-2; the line after it is line 3


def issue_of(source: str | bytes) -> LoadIssue:
    with pytest.raises(PracticeError) as caught:
        parse_practice(source, PATH)
    issue = caught.value.issue
    assert issue.path == PATH
    assert len(issue.message.splitlines()) == 1
    return issue


def assert_issue(source: str | bytes, line: int, *fragments: str) -> LoadIssue:
    issue = issue_of(source)
    assert issue.line == line, issue
    for fragment in fragments:
        assert fragment in issue.message, issue
    return issue


# ---------------------------------------------------------------------------- good files


def test_good_file_becomes_the_model() -> None:
    practice = parse_practice(GOOD, PATH)
    assert practice == Practice(
        id="stay-safe",
        title="Stay Safe",
        summary="Find solid ground.",
        tags=("panic", "grounding"),
        ambience="rain",
        steps=(
            Say("Let's find some steady ground, {name}.", pause=2.5, line=9),
            Pause(4.0, line=13),
            Breathe(inhale=4, exhale=6, hold=1, hold_after=2, cycles=4, cue=Cue.TONE, line=16),
            Breathe(inhale=3.5, exhale=5, seconds=60.0, line=19),
            Bell(line=22),
        ),
    )
    assert practice.source == PATH
    assert practice.builtin is False
    breathe = practice.steps[3]
    assert isinstance(breathe, Breathe)
    assert (breathe.hold, breathe.hold_after, breathe.cue, breathe.cycles) == (
        0,
        0,
        Cue.VOICE,
        None,
    )
    assert all(isinstance(getattr(s, "pause", 0.0), float) for s in practice.steps)


def test_minimal_file_gets_defaults() -> None:
    practice = parse_practice(HEAD + "[[steps]]\nsay = '  Hello.  '\n", PATH, builtin=True)
    assert practice.summary == ""
    assert practice.tags == ()
    assert practice.ambience == "none"
    assert practice.steps == (Say("Hello.", pause=0.0, line=4),)
    assert practice.builtin is True


def test_bytes_crlf_and_byte_order_mark_read_the_same() -> None:
    expected = parse_practice(GOOD, PATH)
    assert parse_practice(GOOD.encode(), PATH) == expected
    crlf = GOOD.replace("\n", "\r\n")
    assert parse_practice(crlf, PATH) == expected
    assert parse_practice(b"\xef\xbb\xbf" + crlf.encode(), PATH) == expected
    assert parse_practice("\ufeff" + GOOD, PATH) == expected


def test_other_toml_spellings_of_steps_are_understood_with_lines() -> None:
    source = (
        HEAD  # 1-2
        + "steps = [\n"  # 3
        + '  { say = "One." },\n'  # 4
        + "  { pause = 2 },\n"  # 5
        + "]\n"
    )
    practice = parse_practice(source, PATH)
    assert practice.steps == (Say("One.", line=4), Pause(2.0, line=5))

    dotted = HEAD + "[[steps]]\nbreathe.inhale = 4\nbreathe.exhale = 4\nbreathe.cycles = 2\n"
    assert parse_practice(dotted, PATH).steps == (Breathe(4, 4, cycles=2, line=4),)

    subtable = HEAD + "[[steps]]\n[steps.breathe]\ninhale = 4\nexhale = 5\nseconds = 30\n"
    assert parse_practice(subtable, PATH).steps == (Breathe(4, 5, seconds=30.0, line=4),)


def test_multiline_say_is_trimmed() -> None:
    source = HEAD + '[[steps]]\nsay = """\nBreathe in.\nBreathe out.\n"""\n'
    assert parse_practice(source, PATH).steps == (Say("Breathe in.\nBreathe out.", line=4),)


def test_boundary_values_are_accepted() -> None:
    source = (
        HEAD
        + "[[steps]]\nsay = 'a'\npause = 0\n"
        + "[[steps]]\npause = 120\n"
        + "[[steps]]\n"
        + "breathe = { inhale = 30, hold = 0, exhale = 0.5, hold_after = 30, cycles = 100 }\n"
        + "[[steps]]\nbreathe = { inhale = 1, exhale = 1, seconds = 1 }\n"
        + "[[steps]]\nbreathe = { inhale = 1, exhale = 1, seconds = 1800, cue = 'silent' }\n"
    )
    steps = parse_practice(source, PATH).steps
    assert len(steps) == 5
    assert steps[2] == Breathe(30, 0.5, hold=0, hold_after=30, cycles=100, line=9)


def test_placeholders_with_fallbacks_and_spaces_are_valid() -> None:
    source = HEAD + "[[steps]]\nsay = 'Think of {safe_person|someone kind}, { name }.'\n"
    step = parse_practice(source, PATH).steps[0]
    assert isinstance(step, Say)
    assert step.text == "Think of {safe_person|someone kind}, { name }."


# ---------------------------------------------------------------------------- bad files

STEP = "[[steps]]\n"  # line 3 when placed after HEAD; its first key is on line 4


@pytest.mark.parametrize(
    ("source", "line", "fragments"),
    [
        # malformed TOML: tomllib's own position
        (HEAD + STEP + "say = hello\n", 4, ["not valid TOML", "column 7", "quotes"]),
        (HEAD + STEP + 'say = "unclosed\npause = 1\n', 4, ["not valid TOML", "closing quote"]),
        (HEAD + STEP + 'say = "a"\nsay = "b"\n', 5, ["already set", "[[steps]]"]),
        (HEAD + STEP + "pause = 1 2\n", 4, ["own line"]),
        ('id = "a"\nid = "b"\n', 2, ["already set above"]),
        # "at end of document": the last line with something on it
        (HEAD + STEP + "say = [1,\n2\n\n\n", 5, ["end of the file", "closing ]"]),
        # missing id / title / steps: nowhere to point, so line 1
        ('title = "T"\n' + STEP + "pause = 1\n", 1, ['no id; add a line like id = "my-practice"']),
        ('id = "x"\n' + STEP + "pause = 1\n", 1, ["no title"]),
        (HEAD, 1, ["no steps", "[[steps]]"]),
        # ...unless something we can point at explains it better
        (HEAD + "[[step]]\nbell = true\n", 3, ['unknown key "step"', 'did you mean "steps"?']),
        (HEAD + "steps = []\n", 3, ["steps is empty"]),
        (HEAD + "steps = 3\n", 3, ["steps should be a list", "a whole number (3)"]),
        (HEAD + "[steps]\npause = 3\n", 3, ["steps should be a list", "a table"]),
        (HEAD + "steps = [1]\n", 3, ["step 1 should be a table", "a whole number (1)"]),
        # unknown keys, with suggestions, at each level
        (HEAD + 'titel = "T"\n' + STEP + "bell = true\n", 3, ['unknown key "titel"', '"title"?']),
        (
            HEAD + 'colour = "red"\n' + STEP + "bell = true\n",
            3,
            ['unknown key "colour"', "id, title"],
        ),
        (HEAD + "pause = 3\n" + STEP + "bell = true\n", 3, ["pause belongs inside a step"]),
        (HEAD + "inhale = 3\n" + STEP + "bell = true\n", 3, ["inhale belongs inside breathe"]),
        (HEAD + STEP + 'sya = "Hi."\n', 4, ['unknown key "sya" in step 1; did you mean "say"?']),
        (
            HEAD + STEP + "breathe = { inhail = 4, exhale = 6, cycles = 3 }\n",
            4,
            ['unknown key "inhail" in breathe; did you mean "inhale"?'],
        ),
        (
            HEAD + STEP + "[steps.breathe]\ninhale = 4\nexhale = 6\ncycles = 3\ncolor = 1\n",
            8,
            ['unknown key "color" in breathe', "the keys you can use are inhale, hold"],
        ),
        # breath phases
        (
            HEAD + STEP + "breathe = { inhale = 0, exhale = 6, cycles = 3 }\n",
            4,
            ["inhale", "longer than 0"],
        ),
        (
            HEAD + STEP + "breathe = { inhale = 4, exhale = 0, cycles = 3 }\n",
            4,
            ["exhale", "longer than 0"],
        ),
        (
            HEAD + STEP + "breathe = { inhale = -2, exhale = 6, cycles = 3 }\n",
            4,
            ["inhale", "negative"],
        ),
        (
            HEAD + STEP + "breathe = { inhale = 4, hold = -1, exhale = 6, cycles = 3 }\n",
            4,
            ["hold in breathe cannot be negative (it is -1)"],
        ),
        (
            HEAD + STEP + "breathe = { inhale = 4, hold_after = -0.5, exhale = 6, cycles = 3 }\n",
            4,
            ["hold_after", "negative"],
        ),
        (
            HEAD + STEP + "breathe = { inhale = 4, exhale = 30.5, cycles = 3 }\n",
            4,
            ["exhale in breathe should be at most 30 seconds (it is 30.5)"],
        ),
        (
            HEAD + STEP + "breathe = { inhale = 4, hold = 31, exhale = 6, cycles = 3 }\n",
            4,
            ["hold", "at most 30"],
        ),
        (HEAD + STEP + "breathe = { exhale = 6, cycles = 3 }\n", 4, ["no inhale", "inhale = 4"]),
        (HEAD + STEP + "breathe = { inhale = 6, cycles = 3 }\n", 4, ["no exhale"]),
        # cycles / seconds
        (HEAD + STEP + "breathe = { inhale = 4, exhale = 6 }\n", 4, ["needs cycles", "or seconds"]),
        (
            HEAD + STEP + "[steps.breathe]\ninhale = 4\nexhale = 6\ncycles = 3\nseconds = 60\n",
            8,
            ["both cycles and seconds"],
        ),
        (
            HEAD + STEP + "breathe = { inhale = 4, exhale = 6, cycles = 0 }\n",
            4,
            ["cycles", "between 1 and 100", "(it is 0)"],
        ),
        (
            HEAD + STEP + "breathe = { inhale = 4, exhale = 6, cycles = 101 }\n",
            4,
            ["between 1 and 100"],
        ),
        (
            HEAD + STEP + "breathe = { inhale = 4, exhale = 6, cycles = 2.5 }\n",
            4,
            ["whole number of breaths", "a number (2.5)"],
        ),
        (
            HEAD + STEP + "breathe = { inhale = 4, exhale = 6, cycles = true }\n",
            4,
            ["cycles", "a true/false value (true)"],
        ),
        (
            HEAD + STEP + "breathe = { inhale = 4, exhale = 6, seconds = 0.5 }\n",
            4,
            ["at least 1 second (it is 0.5)"],
        ),
        (
            HEAD + STEP + "breathe = { inhale = 4, exhale = 6, seconds = 1801 }\n",
            4,
            ["at most 1800 seconds"],
        ),
        (
            HEAD + STEP + "breathe = { inhale = 4, exhale = 6, cycles = 2, cue = 'voise' }\n",
            4,
            ['unknown cue "voise"', '"voice"?', "voice, tone or silent"],
        ),
        (
            HEAD + STEP + "breathe = 4\n",
            4,
            ["breathe in step 1 should be a table", "a whole number (4)"],
        ),
        # wrong types name what was expected and what was found
        (
            HEAD + STEP + "pause = true\n",
            4,
            ["pause in step 1 should be a number", "a true/false value (true)"],
        ),
        (HEAD + STEP + "pause = '3'\n", 4, ["should be a number", 'text ("3")']),
        (HEAD + STEP + "say = 3\n", 4, ["say in step 1 should be text", "a whole number (3)"]),
        (HEAD + STEP + "say = ['a']\n", 4, ["should be text", "a list"]),
        (HEAD + STEP + "say = 1979-05-27\n", 4, ["should be text", "a date or time"]),
        (
            HEAD + STEP + "say = 'Hi.'\npause = 'long'\n",
            5,
            ["pause in step 1 should be a number", 'text ("long")'],
        ),
        (HEAD + STEP + "bell = 1\n", 4, ["bell in step 1 should be true", "a whole number (1)"]),
        (HEAD + STEP + "bell = false\n", 4, ["bell in step 1 is false"]),
        (
            'id = 7\ntitle = "T"\n' + STEP + "bell = true\n",
            1,
            ["id should be text", "a whole number (7)"],
        ),
        ('id = "x"\ntitle = false\n' + STEP + "bell = true\n", 2, ["title should be text"]),
        (
            HEAD + "summary = 1.5\n" + STEP + "bell = true\n",
            3,
            ["summary should be text", "a number (1.5)"],
        ),
        (
            HEAD + "tags = 'calm'\n" + STEP + "bell = true\n",
            3,
            ["tags should be a list", 'text ("calm")'],
        ),
        (
            HEAD + "tags = [\n  'calm',\n  2,\n]\n" + STEP + "bell = true\n",
            5,
            ["tag 2 should be text", "(2)"],
        ),
        # pause range
        (HEAD + STEP + "pause = -1\n", 4, ["pause in step 1 cannot be negative (it is -1)"]),
        (
            HEAD + STEP + "pause = 121\n",
            4,
            ["pause in step 1 should be at most 120 seconds (it is 121)"],
        ),
        (HEAD + STEP + "say = 'a'\npause = 500\n", 5, ["at most 120 seconds"]),
        # NaN and infinity
        (HEAD + STEP + "pause = nan\n", 4, ["not nan"]),
        (HEAD + STEP + "pause = -inf\n", 4, ["not -inf"]),
        (
            HEAD + STEP + "breathe = { inhale = inf, exhale = 6, cycles = 3 }\n",
            4,
            ["inhale", "not inf"],
        ),
        (
            HEAD + STEP + "breathe = { inhale = 4, exhale = 6, seconds = nan }\n",
            4,
            ["seconds", "not nan"],
        ),
        (HEAD + STEP + "pause = 1e400\n", 4, ["not inf"]),
        # ambience
        (
            HEAD + 'ambience = "rian"\n' + STEP + "bell = true\n",
            3,
            ['unknown ambience "rian"; did you mean "rain"?', "brown-noise"],
        ),
        (
            HEAD + 'ambience = "jungle"\n' + STEP + "bell = true\n",
            3,
            ['unknown ambience "jungle"; choose from rain, ocean'],
        ),
        (HEAD + "ambience = 3\n" + STEP + "bell = true\n", 3, ["ambience should be text"]),
        # placeholders and braces, also inside multi-line text
        (
            HEAD + STEP + 'say = "Hi {nme}."\n',
            4,
            ["unknown placeholder {nme} in say in step 1; did you mean {name}?"],
        ),
        (HEAD + STEP + 'say = "Hi {safe_prson|you}."\n', 4, ["did you mean {safe_person}?"]),
        (
            HEAD + STEP + 'say = "Hi {bob}."\n',
            4,
            ['unknown placeholder "{bob}"', "{name}, {safe_person} or {relationship}"],
        ),
        (HEAD + STEP + 'say = "Hi {}."\n', 4, ["empty placeholder"]),
        (HEAD + STEP + 'say = "Hi {name."\n', 4, ["unbalanced braces", "never closed"]),
        (HEAD + STEP + 'say = "Hi name}."\n', 4, ["unbalanced braces", '"}" with no "{"']),
        (HEAD + STEP + 'say = "Hi {na{me}}."\n', 4, ["unbalanced braces", "inside another"]),
        (HEAD + STEP + 'say = """\nFirst line.\nHi {nam}.\n"""\n', 6, ["{nam}", "{name}"]),
        (HEAD + STEP + "say = '''\nOne.\nTwo {name.\nThree.\n'''\n", 6, ["never closed"]),
        (HEAD + STEP + "say = '   '\n", 4, ["say in step 1 is empty"]),
        (HEAD + STEP + 'say = "Hi\\u0007."\n', 4, ["invisible", "\\u0007"]),
        # steps with none or several kinds
        (
            HEAD + STEP + "\n" + STEP + "pause = 1\n",
            3,
            ["step 1 is empty", "say, pause, breathe or bell"],
        ),
        (HEAD + STEP + "pause = 1\n" + "[[steps]]\n", 5, ["step 2 is empty"]),
        (
            HEAD + STEP + "say = 'a'\nbreathe = { inhale = 4, exhale = 6, cycles = 3 }\n",
            5,
            ["step 1 has say and breathe together", "its own [[steps]]"],
        ),
        (
            HEAD + STEP + "bell = true\npause = 3\n",
            5,
            ["step 1 has pause and bell together"],
        ),
        # ids
        (
            'id = "Stay Safe"\ntitle = "T"\n' + STEP + "bell = true\n",
            1,
            ['id "Stay Safe"', '"stay-safe"'],
        ),
        ('id = "-x"\ntitle = "T"\n' + STEP + "bell = true\n", 1, ["start with a letter or digit"]),
        ('id = "a_b"\ntitle = "T"\n' + STEP + "bell = true\n", 1, ["dashes"]),
        ('id = "' + "a" * 65 + '"\ntitle = "T"\n' + STEP + "bell = true\n", 1, ["at most 64"]),
        ('id = ""\ntitle = "T"\n' + STEP + "bell = true\n", 1, ["id is empty"]),
        ('id = "x"\ntitle = "  "\n' + STEP + "bell = true\n", 2, ["title is empty"]),
        # empty files
        ("", 1, ["the file is empty"]),
        ("  \n\n\t\n", 1, ["the file is empty"]),
    ],
)
def test_bad_file_is_reported_at_the_right_line(
    source: str, line: int, fragments: list[str]
) -> None:
    assert_issue(source, line, *fragments)


def test_not_utf8_points_at_the_line_of_the_bad_byte() -> None:
    source = (HEAD + STEP).encode() + b'say = "caf\xe9"\n'
    assert_issue(source, 4, "not UTF-8", "0xe9")


def test_lone_surrogates_are_refused_in_text_and_in_escapes() -> None:
    assert_issue(HEAD + STEP + 'say = "a\ud800"\n', 4, "not valid Unicode")
    assert_issue(HEAD + STEP + 'say = "a\\ud800"\n', 4, "not valid TOML", "not a Unicode scalar")


def test_huge_integer_is_refused_gently() -> None:
    assert_issue(HEAD + STEP + "pause = " + "9" * 5000 + "\n", 4, "far too long")
    assert_issue(HEAD + STEP + "pause = " + "9" * 100 + "\n", 4, "a very large number")


def test_deep_nesting_is_refused_gently() -> None:
    assert_issue(HEAD + "x = " + "[" * 5000 + "\n", 1, "too deeply")


def test_oversized_text_is_refused_before_parsing() -> None:
    big = HEAD + STEP + "say = 'a'\n" + "#" * MAX_FILE_BYTES
    assert_issue(big, 1, "too large", "1 MB")
    assert_issue(big.encode(), 1, "too large")


def test_every_problem_is_kept_in_line_order() -> None:
    source = HEAD + 'ambience = "x"\n' + STEP + "pause = -1\n" + STEP + "bell = 0\n"
    with pytest.raises(PracticeError) as caught:
        parse_practice(source, PATH)
    lines = [issue.line for issue in caught.value.issues]
    assert lines == [3, 5, 7]
    assert caught.value.issue is caught.value.issues[0]
    assert str(caught.value) == str(caught.value.issue)


def test_issue_formats_as_path_line_message() -> None:
    issue = LoadIssue(Path("/a/b.toml"), 7, "something gentle")
    assert str(issue) == "/a/b.toml:7: something gentle"


def test_user_text_in_messages_cannot_break_the_line() -> None:
    issue = issue_of(HEAD + 'ambience = "a\\nb\\u2028c"\n' + STEP + "bell = true\n")
    assert len(str(issue).splitlines()) == 1
    assert "\\u000a" in issue.message and "\\u2028" in issue.message
    long_value = "x" * 500
    issue = issue_of(HEAD + f'ambience = "{long_value}"\n' + STEP + "bell = true\n")
    assert len(issue.message) < 200


# ---------------------------------------------------------------------------- speak


def test_speak_respells_a_say_line_sentence_for_sentence() -> None:
    source = HEAD + STEP + 'say = "Breathe in for four. Out for six."\n' + (
        'speak = "Breathe in, for four... And out, for six."\n'
    )
    step = parse_practice(source, PATH).steps[0]
    assert step == Say("Breathe in for four. Out for six.", line=4,
                       speak="Breathe in, for four... And out, for six.")


@pytest.mark.parametrize(
    ("body", "line", "fragments"),
    [
        ('speak = "Hello."\n', 4, ["speak in step 1 goes with say"]),
        ('say = "One. Two."\nspeak = "One."\n', 5, ["has 1 sentence but say has 2"]),
        ('say = "Hi, {name}."\nspeak = "Hi, {nmae}."\n', 5, ["speak in step 1", "{name}"]),
        ('say = "Hi."\nspeak = ""\n', 5, ["speak in step 1 is empty"]),
        ('say = "Hi."\nspeak = 3\n', 5, ["speak in step 1"]),
    ],
)
def test_a_wrong_speak_is_reported_where_it_is(body: str, line: int, fragments: list[str]) -> None:
    assert_issue(HEAD + STEP + body, line, *fragments)


def test_you_gives_a_say_line_its_form_without_the_name() -> None:
    source = HEAD + STEP + 'say = "{name}, this is hard."\nyou = "This is hard for you."\n'
    step = parse_practice(source, PATH).steps[0]
    assert step == Say("{name}, this is hard.", line=4, you="This is hard for you.")


@pytest.mark.parametrize(
    ("body", "line", "fragments"),
    [
        ('you = "Hello."\n', 4, ["you in step 1 goes with say", '"you"']),
        ('say = "Hi, {name}."\nyou = "Hi, {name}."\n', 5, ["you in step 1 has {name}"]),
        ('say = "Hi, {name}."\nyou = "Hi, {nmae}."\n', 5, ["you in step 1", "{name}"]),
        ('say = "Hi."\nyou = ""\n', 5, ["you in step 1 is empty"]),
        ('say = "Hi."\nyuo = "Hi."\n', 5, ['unknown key "yuo" in step 1; did you mean "you"?']),
    ],
)
def test_a_wrong_you_is_reported_where_it_is(body: str, line: int, fragments: list[str]) -> None:
    assert_issue(HEAD + STEP + body, line, *fragments)


# ---------------------------------------------------------------------------- tags

BUILTIN_PATH = Path("/coreg_desktop/practices/calm.toml")


def builtin_issue(source: str) -> LoadIssue:
    with pytest.raises(PracticeError) as caught:
        parse_practice(source, BUILTIN_PATH, builtin=True)
    return caught.value.issue


def test_a_builtin_practice_with_a_tag_outside_the_vocabulary_is_refused_at_that_tag() -> None:
    source = HEAD + 'tags = [\n  "panic",\n  "overwhelm",\n]\n' + STEP + "bell = true\n"
    issue = builtin_issue(source)
    assert issue.path == BUILTIN_PATH and issue.line == 5
    assert len(str(issue).splitlines()) == 1
    assert str(issue).startswith(f'{BUILTIN_PATH}:5: unknown tag "overwhelm" in a built-in')
    assert "panic, grounding, sleep, connection, body, breath, shutdown, repair or quick" in str(
        issue)
    # A near miss is named.
    typo = builtin_issue(HEAD + 'tags = ["grounding", "sleeep"]\n' + STEP + "bell = true\n")
    assert typo.line == 3 and 'did you mean "sleep"?' in typo.message


def test_builtin_tags_from_the_vocabulary_load_in_its_spelling() -> None:
    source = HEAD + 'tags = ["panic", " Breath ", "quick"]\n' + STEP + "bell = true\n"
    assert parse_practice(source, BUILTIN_PATH, builtin=True).tags == ("panic", "breath", "quick")


def test_a_users_own_tags_are_kept_and_vocabulary_tags_join_their_chip() -> None:
    source = HEAD + 'tags = ["morning", "Panic", "Abend "]\n' + STEP + "bell = true\n"
    assert parse_practice(source, PATH).tags == ("morning", "panic", "Abend")
