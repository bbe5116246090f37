"""Property tests for validating practices.

Whatever a person (or a broken editor) puts in a practice file, `parse_practice` either returns a
Practice or raises PracticeError with a usable `path:line: message`, never anything else. Valid
practices written in any TOML spelling load to exactly what was written, and the line scanner
points at the line where each key really is.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from coreg_desktop.constants import AMBIENCE_IDS, PRACTICE_TAGS
from coreg_desktop.practice.model import Bell, Breathe, Cue, Pause, Practice, Say, Step
from coreg_desktop.practice.positions import map_source
from coreg_desktop.practice.validate import (
    BREATHE_KEYS,
    STEP_KEYS,
    TOP_KEYS,
    PracticeError,
    parse_practice,
    tomllib,
)

PATH = Path("/fuzz/practice.toml")


def canonical(tag: str) -> str:
    """A user's tag as loaded: as written, unless it is a vocabulary tag in other letters."""
    tag = tag.strip()
    return tag.casefold() if tag.casefold() in PRACTICE_TAGS else tag
FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

VALID = """\
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
breathe = { inhale = 4, hold = 0, exhale = 6, hold_after = 0, cycles = 4, cue = "voice" }

[[steps]]
say = \"\"\"
Think of {safe_person|someone kind}.
\"\"\"

[[steps]]
breathe = { inhale = 4, exhale = 4, seconds = 60 }

[[steps]]
bell = true
"""

REPLACEMENT_VALUES = [
    "true", "false", "0", "-1", "31", "121", "101", "1e400", "nan", "-inf", "4.5", "0.0",
    '"text"', '""', '"   "', '"{nme}"', '"{"', '"}"', '"{name"', '"\\u0007"', "[]", '[1, "a"]',
    "{}", "{ inhale = 4 }", "{ inhale = 4, exhale = 6, cycles = 2 }", "1979-05-27",
    "07:32:00", '"rian"', '"voise"', '"Stay Safe"', "'''multi\nline'''", '"""a\n{b}\n"""',
    "9" * 30, "[[1]]", '"a" "b"', "=", "",
]  # fmt: skip
KEY_NAMES = [*TOP_KEYS, *STEP_KEYS, *BREATHE_KEYS, "inhail", "titel", "junk", '"quoted key"', "a.b"]


def assert_contract(source: str | bytes) -> Practice | None:
    """`parse_practice`'s promise, checked on any input at all."""
    try:
        practice = parse_practice(source, PATH)
    except PracticeError as exc:
        limit = len(source.splitlines()) + 1
        assert exc.issue is exc.issues[0]
        for issue in exc.issues:
            assert issue.path == PATH
            assert 1 <= issue.line <= limit, (issue, limit)
            assert issue.message.strip()
            assert len(issue.message.splitlines()) == 1, issue.message
            assert len(str(issue).splitlines()) == 1
        return None
    assert isinstance(practice, Practice)
    assert practice.steps
    assert practice.id and practice.title
    return practice


# ---------------------------------------------------------------------------- random input


@FUZZ
@given(st.binary(max_size=600))
def test_random_bytes(data: bytes) -> None:
    assert_contract(data)


@FUZZ
@given(
    st.text(max_size=400)
    | st.text(alphabet="[]{}=\"'#., \n\t\r\\abcinfpsy0123456789-_+e", max_size=200)
)
def test_random_text(text: str) -> None:
    assert_contract(text)


@FUZZ
@given(st.data())
def test_mutated_valid_practice(data: st.DataObject) -> None:
    lines = VALID.split("\n")
    ops = data.draw(st.lists(st.sampled_from(OPS), min_size=1, max_size=4), label="ops")
    for op in ops:
        op(lines, data)
    source = "\n".join(lines)
    if data.draw(st.booleans(), label="as bytes"):
        assert_contract(source.encode("utf-8", "surrogatepass"))
    else:
        assert_contract(source)


def _index(lines: list[str], data: st.DataObject) -> int:
    return data.draw(st.integers(0, max(0, len(lines) - 1)), label="line")


def _delete(lines: list[str], data: st.DataObject) -> None:
    if lines:
        del lines[_index(lines, data)]


def _duplicate(lines: list[str], data: st.DataObject) -> None:
    if lines:
        i = _index(lines, data)
        lines.insert(i, lines[i])


def _swap(lines: list[str], data: st.DataObject) -> None:
    if lines:
        i, j = _index(lines, data), _index(lines, data)
        lines[i], lines[j] = lines[j], lines[i]


def _retype(lines: list[str], data: st.DataObject) -> None:
    """Give a key a value of another type, at the top level or inside an inline table."""
    candidates = [i for i, line in enumerate(lines) if "=" in line]
    if not candidates:
        return
    i = data.draw(st.sampled_from(candidates), label="retyped line")
    value = data.draw(st.sampled_from(REPLACEMENT_VALUES), label="value")
    pairs = list(re.finditer(r"(\w+) = ([^,}]+)", lines[i]))
    pair = data.draw(st.sampled_from(pairs), label="pair") if pairs else None
    if pair is None:
        lines[i] = lines[i].split("=", 1)[0] + "= " + value
    else:
        lines[i] = lines[i][: pair.start(2)] + value + lines[i][pair.end(2) :]


def _junk_key(lines: list[str], data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(KEY_NAMES) | st.text(max_size=6), label="key")
    value = data.draw(st.sampled_from(REPLACEMENT_VALUES), label="value")
    lines.insert(data.draw(st.integers(0, len(lines)), label="at"), f"{key} = {value}")


def _junk_text(lines: list[str], data: st.DataObject) -> None:
    junk = data.draw(st.text(max_size=30), label="junk")
    lines.insert(data.draw(st.integers(0, len(lines)), label="at"), junk)


def _header(lines: list[str], data: st.DataObject) -> None:
    header = data.draw(
        st.sampled_from(
            ["[[steps]]", "[steps]", "[[step]]", "[steps.breathe]", "[[steps.breathe]]", "["]
        ),
        label="header",
    )
    lines.insert(data.draw(st.integers(0, len(lines)), label="at"), header)


OPS = [_delete, _duplicate, _swap, _retype, _retype, _junk_key, _junk_text, _header]


# ---------------------------------------------------------------------------- TOML writer

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_key(key: str) -> str:
    return key if BARE_KEY.fullmatch(key) else toml_string(key)


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    assert isinstance(value, date)
    return value.isoformat()


@dataclass
class Writer:
    """Writes TOML line by line and remembers on which line each key path was written."""

    lines: list[str] = field(default_factory=list)
    where: dict[tuple[str | int, ...], int] = field(default_factory=dict)

    def emit(self, text: str, *paths: tuple[str | int, ...]) -> int:
        self.lines.append(text)
        line = len(self.lines)
        for path in paths:
            self.where.setdefault(path, line)
        return line

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def nested_paths(prefix: tuple[str | int, ...], value: object) -> list[tuple[str | int, ...]]:
    """Every path inside an inline value; they all sit on the line that holds the value."""
    paths = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            paths += nested_paths((*prefix, k), v)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            paths += nested_paths((*prefix, i), v)
    return paths


def write_document(
    top: dict[str, object], steps: list[dict[str, object]] | None, styles: list[str], w: Writer
) -> None:
    """`styles[i]` says how step i's breathe table is spelled; "inline-steps" as the first
    style writes the whole steps list as one inline array instead of [[steps]] headers."""
    w.emit("# written by the fuzz test")
    for key, value in top.items():
        w.emit(f"{toml_key(key)} = {toml_value(value)}", *nested_paths((key,), value))
    if steps is None:
        return
    if styles and styles[0] == "inline-steps":
        w.emit("steps = [", ("steps",))
        for i, step in enumerate(steps):
            w.emit(f"  {toml_value(step)},", *nested_paths(("steps", i), step))
        w.emit("]")
        return
    for i, step in enumerate(steps):
        style = styles[i % len(styles)] if styles else "inline"
        w.emit("")
        w.emit("[[steps]]", ("steps",), ("steps", i))
        breathe = step.get("breathe")
        spread = style in ("dotted", "table") and isinstance(breathe, dict) and breathe
        for key, value in step.items():
            if key == "breathe" and spread:
                continue
            w.emit(
                f"{toml_key(key)} = {toml_value(value)}", *nested_paths(("steps", i, key), value)
            )
        if spread and isinstance(breathe, dict):
            where = ("steps", i, "breathe")
            if style == "table":
                w.emit("[steps.breathe]", where)
            for key, value in breathe.items():
                dotted = "breathe." if style == "dotted" else ""
                paths = nested_paths((*where, key), value)
                w.emit(f"{dotted}{toml_key(key)} = {toml_value(value)}", where, *paths)


# ---------------------------------------------------------------------------- structured documents

keys = st.sampled_from(KEY_NAMES[:-2]) | st.text(min_size=1, max_size=8)
scalars = st.one_of(
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(["{name}", "{nme}", "a {", "} b", "{x|y}", "rain", "rian", "voice", "Hi."]),
    st.dates(),
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=6,
)
numbers = st.one_of(
    st.integers(-5, 200), st.floats(-5, 2000), st.sampled_from([math.nan, math.inf])
)
breathe_tables = st.dictionaries(
    st.sampled_from([*BREATHE_KEYS, "inhail"]), numbers | values, max_size=7
)
step_tables = st.dictionaries(
    st.sampled_from([*STEP_KEYS, "sya", "junk"]),
    values | numbers | breathe_tables,
    max_size=3,
)
top_tables = st.fixed_dictionaries(
    {},
    optional={
        "id": st.sampled_from(["calm", "stay-safe", "Bad Id", "", "-x"]) | values,
        "title": st.sampled_from(["Calm", "", "  "]) | values,
        "summary": values,
        "tags": st.lists(st.text(max_size=5), max_size=3) | values,
        "ambience": st.sampled_from(AMBIENCE_IDS) | values,
        "titel": values,
        "inhale": numbers,
    },
)
styles = st.lists(st.sampled_from(["inline", "dotted", "table", "inline-steps"]), max_size=4)


@FUZZ
@given(top_tables, st.none() | st.lists(step_tables, max_size=5), styles)
def test_structured_documents(
    top: dict[str, object], steps: list[dict[str, object]] | None, styles: list[str]
) -> None:
    w = Writer()
    write_document(top, steps, styles, w)
    source = w.text()
    tomllib.loads(source)  # the writer itself must produce valid TOML
    scanned = map_source(source)
    for path, line in w.where.items():
        assert scanned.key_lines.get(path) == line, (path, source)
    assert_contract(source)


# ---------------------------------------------------------------------------- valid practices

say_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="{}"),
    min_size=1,
    max_size=40,
).filter(lambda t: t.strip())
plain_text = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=8)
placeholder = st.sampled_from(
    ["{name}", "{safe_person}", "{ name }", "{safe_person|someone kind}", ""]
)
seconds = st.integers(0, 120) | st.floats(0, 120)
phase = st.floats(0.01, 30) | st.integers(1, 30)
rest = st.floats(0, 30) | st.integers(0, 30)


@st.composite
def valid_steps(draw: st.DrawFn) -> dict[str, object]:
    kind = draw(st.sampled_from(["say", "pause", "breathe", "bell"]))
    if kind == "say":
        step: dict[str, object] = {"say": draw(say_text) + draw(placeholder) + draw(say_text)}
        if draw(st.booleans()):
            step["pause"] = draw(seconds)
        return step
    if kind == "pause":
        return {"pause": draw(seconds)}
    if kind == "bell":
        return {"bell": True}
    breathe: dict[str, object] = {"inhale": draw(phase), "exhale": draw(phase)}
    for optional in ("hold", "hold_after"):
        if draw(st.booleans()):
            breathe[optional] = draw(rest)
    if draw(st.booleans()):
        breathe["cycles"] = draw(st.integers(1, 100))
    else:
        breathe["seconds"] = draw(st.integers(1, 1800) | st.floats(1, 1800))
    if draw(st.booleans()):
        breathe["cue"] = draw(st.sampled_from([c.value for c in Cue]))
    keys = list(breathe)
    order = draw(st.permutations(keys))
    return {"breathe": {k: breathe[k] for k in order}}


def expected_step(raw: dict[str, object], line: int) -> Step:
    if "say" in raw:
        return Say(str(raw["say"]).strip(), float(raw.get("pause", 0)), line=line)  # type: ignore[arg-type]
    if "pause" in raw:
        return Pause(float(raw["pause"]), line=line)  # type: ignore[arg-type]
    if "bell" in raw:
        return Bell(line=line)
    b = raw["breathe"]
    assert isinstance(b, dict)
    return Breathe(
        inhale=b["inhale"],
        exhale=b["exhale"],
        hold=b.get("hold", 0.0),
        hold_after=b.get("hold_after", 0.0),
        cycles=b.get("cycles"),
        seconds=b.get("seconds"),
        cue=Cue(b.get("cue", "voice")),
        line=line,
    )


@FUZZ
@given(
    st.sampled_from(["a", "calm", "stay-safe", "x1-2-3", "0"]),
    say_text,
    st.sampled_from(AMBIENCE_IDS),
    st.lists(plain_text, max_size=3),
    st.lists(valid_steps(), min_size=1, max_size=6),
    styles,
)
def test_valid_practices_load_exactly(
    practice_id: str,
    title: str,
    ambience: str,
    tags: list[str],
    steps: list[dict[str, object]],
    styles: list[str],
) -> None:
    w = Writer()
    top: dict[str, object] = {"id": practice_id, "title": title, "ambience": ambience, "tags": tags}
    write_document(top, steps, styles, w)
    practice = parse_practice(w.text(), PATH)
    kind_lines = [
        w.where[("steps", i, next(k for k in ("say", "pause", "breathe", "bell") if k in step))]
        for i, step in enumerate(steps)
    ]
    assert practice == Practice(
        id=practice_id,
        title=title.strip(),
        ambience=ambience,
        tags=tuple(canonical(t) for t in tags),
        steps=tuple(expected_step(s, line) for s, line in zip(steps, kind_lines, strict=True)),
    )
