"""Turn the text of one practice file into a `Practice`, or explain gently what is wrong with it.

Practice files are written by hand, often by people who have never seen TOML and who may be
having a hard day. So every problem becomes one plain line, `path:line: what is wrong`, that
points at the key or value to fix, and checking goes on past the first problem so that every
one can be shown at once. Only `PracticeError` leaves this module: whatever bytes arrive (not
UTF-8, too large, not TOML, nested absurdly deep, or valid TOML in the wrong shape), the caller
gets a message, never a crash.

This module works on contents already in memory; reading files from disk and gathering them into
a library is `loader`'s job, and finding the line of each key is `positions`'.
"""

from __future__ import annotations

import codecs
import math
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, TypeVar

from coreg_desktop.constants import AMBIENCE_IDS, PLACEHOLDERS, PRACTICE_TAGS
from coreg_desktop.practice.messages import (
    describe,
    join,
    number_text,
    one_line,
    quote,
    seconds_text,
    suggest,
)
from coreg_desktop.practice.model import Bell, Breathe, Cue, Memo, Pause, Practice, Say, Step
from coreg_desktop.practice.positions import KeyPath, SourceMap, map_source
from coreg_desktop.practice.text import PLACEHOLDER_RE, fill, placeholders_in, split_sentences

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

T = TypeVar("T")

#: A practice is a page of text; anything bigger is a mistake (or a wrong file) and is refused
#: before it is read into memory.
MAX_FILE_BYTES = 1024 * 1024
MAX_ID_LENGTH = 64
MAX_PHASE_SECONDS = 30.0
MAX_PAUSE_SECONDS = 120.0
MIN_BREATHE_SECONDS = 1.0
MAX_BREATHE_SECONDS = 1800.0
MAX_CYCLES = 100

ID_RE = re.compile(r"[a-z0-9][a-z0-9-]*")

TOP_KEYS: tuple[str, ...] = ("id", "title", "summary", "tags", "ambience", "steps")
STEP_KEYS: tuple[str, ...] = ("say", "pause", "breathe", "bell", "memo")
BREATHE_KEYS: tuple[str, ...] = (
    "inhale",
    "hold",
    "exhale",
    "hold_after",
    "cycles",
    "seconds",
    "cue",
)
CUE_IDS: tuple[str, ...] = tuple(c.value for c in Cue)
#: Keys that only go with `say`, and what each is for (for the message when one is alone).
SAY_OPTIONS: dict[str, str] = {
    "speak": "it is how the voice says the say line",
    "you": 'it is the say line as spoken to "you", for someone who chose not to hear their name',
}

_BAD_CHAR_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


@dataclass(frozen=True)
class LoadIssue:
    """One problem in one file, in the `path:line: message` shape editors and terminals link."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class PracticeError(Exception):
    """The only exception `parse_practice` and `load_file` let out, so callers need one except.

    `issue` is the first problem in the file; `issues` holds every problem found, in line order,
    for tools that want to show them all at once.
    """

    def __init__(self, issue: LoadIssue, issues: Sequence[LoadIssue] = ()) -> None:
        super().__init__(str(issue))
        self.issue = issue
        self.issues: tuple[LoadIssue, ...] = tuple(issues) or (issue,)


class _Invalid(Exception):
    """Abandons the current field or step; the checker collects the issue and moves on.

    `issue` is None when the issues were already collected (a list of steps with bad steps).
    `placed` is False for something missing, which has no line of its own to point at.
    """

    def __init__(self, issue: LoadIssue | None, placed: bool = True) -> None:
        super().__init__(issue.message if issue else "already reported")
        self.issue = issue
        self.placed = placed


# ------------------------------------------------------------------------------ decoding


def issue_at(path: Path, line: int, message: str) -> LoadIssue:
    """An issue that keeps the `path:line: message` promise: a real line, and one line of text."""
    return LoadIssue(path, max(1, line), one_line(message))


def too_large(path: Path, size: int) -> PracticeError:
    """Shared with the loader, which refuses a large file by its size before reading it."""
    return PracticeError(
        issue_at(
            path,
            1,
            f"the file is too large ({size} bytes); a practice file can be at most 1 MB, "
            "so this is probably not a practice",
        )
    )


def _decode(data: bytes | str, path: Path) -> str:
    """Text we can trust: size-limited, real UTF-8, no lone surrogates, no byte-order mark."""
    if isinstance(data, str):
        if len(data) > MAX_FILE_BYTES:
            raise too_large(path, len(data.encode("utf-8", "surrogatepass")))
        try:
            size = len(data.encode("utf-8"))
        except UnicodeEncodeError as exc:
            line = data.count("\n", 0, exc.start) + 1
            bad = quote(data[exc.start : exc.start + 1])
            raise PracticeError(
                issue_at(
                    path, line, f"the text contains a character that is not valid Unicode ({bad})"
                )
            ) from None
        if size > MAX_FILE_BYTES:
            raise too_large(path, size)
        return data.removeprefix("\ufeff")
    if len(data) > MAX_FILE_BYTES:
        raise too_large(path, len(data))
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PracticeError(
            issue_at(
                path,
                line,
                f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be read); "
                "please save it with UTF-8 encoding",
            )
        ) from None


_TOML_POSITION_RE = re.compile(
    r"^(.*?)\s*\((?:at line (\d+), column (\d+)|at end of document)\)\s*$"
)

#: tomllib's words, plus a hint about the mistake that most often causes them.
_TOML_HINTS: dict[str, str] = {
    "Invalid value": 'text needs quotes around it, like say = "Hello"',
    "Cannot overwrite a value": "this key is already set above in the same table",
    "Unclosed array": "a list is missing its closing ]",
    "Unclosed inline table": "a { ... } table is missing its closing }",
    "Expected newline or end of document after a statement": "put each setting on its own line",
    "Illegal character '\\n'": "a piece of text is missing its closing quote",
    "Unterminated string": "a piece of text is missing its closing quote",
}


def _toml_error(exc: tomllib.TOMLDecodeError, text: str, path: Path) -> PracticeError:
    raw = one_line(str(exc))
    m = _TOML_POSITION_RE.match(raw)
    reason = m.group(1) if m else raw
    if m and m.group(2):
        line = int(m.group(2))
        where = f" at column {m.group(3)}"
    else:
        # "At end of document": point at the last line with something on it.
        lines = text.split("\n")
        line = next((n + 1 for n in range(len(lines) - 1, -1, -1) if lines[n].strip()), 1)
        where = " at the end of the file"
    line = min(max(1, line), text.count("\n") + 1)
    hint = next((h for key, h in _TOML_HINTS.items() if reason.startswith(key)), None)
    message = f"this is not valid TOML: {reason[:1].lower()}{reason[1:]}{where}"
    if hint:
        message += f"; {hint}"
        if reason.startswith("Cannot overwrite") and "[[steps]]" in "\n".join(
            text.split("\n")[: line - 1]
        ):
            message += " (each step needs its own [[steps]] line)"
    return PracticeError(issue_at(path, line, message))


def _read_toml(text: str, path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(exc, text, path) from None
    except RecursionError:
        raise PracticeError(
            issue_at(path, 1, "the file nests brackets too deeply to read")
        ) from None
    except ValueError:
        # tomllib lets int() refuse numbers with thousands of digits.
        m = re.search(r"[0-9_]{1000,}", text)
        line = text.count("\n", 0, m.start()) + 1 if m else 1
        raise PracticeError(issue_at(path, line, "a number here is far too long to read")) from None


# ------------------------------------------------------------------------------ validation


class _Checker:
    """Validate parsed TOML against the practice format, collecting one issue per field or step."""

    def __init__(self, path: Path, source: SourceMap, builtin: bool = False) -> None:
        self.path = path
        self.source = source
        self.builtin = builtin
        self.issues: list[LoadIssue] = []
        self.missing: list[LoadIssue] = []

    def fail(self, where: KeyPath, message: str, line: int | None = None) -> NoReturn:
        raise _Invalid(issue_at(self.path, line or self.source.line_for(where), message))

    def missing_key(self, message: str) -> NoReturn:
        raise _Invalid(issue_at(self.path, 1, message), placed=False)

    # -- generic values

    def unknown_keys(
        self, table: dict[str, object], valid: Sequence[str], where: KeyPath, place: str
    ) -> None:
        for key in table:
            if key in valid:
                continue
            shown = quote(key)
            guess = suggest(key, valid)
            if not where and key in STEP_KEYS:
                message = f"{key} belongs inside a step; put a [[steps]] line above it"
            elif not where and key in BREATHE_KEYS:
                message = (
                    f"{key} belongs inside breathe, like "
                    "breathe = { inhale = 4, exhale = 6, cycles = 4 }"
                )
            elif guess:
                message = f'unknown key {shown}{place}; did you mean "{guess}"?'
            else:
                message = f"unknown key {shown}{place}; the keys you can use are {join(valid)}"
            self.fail((*where, key), message)

    def text(self, value: object, where: KeyPath, what: str) -> str:
        if not isinstance(value, str):
            self.fail(where, f"{what} should be text in quotes, but it is {describe(value)}")
        # Only escapes can produce these (tomllib refuses them raw); they would garble captions
        # or break the UTF-8 narration cache keys.
        bad = _BAD_CHAR_RE.search(value)
        if bad:
            self.fail(
                where,
                f"{what} contains an invisible or broken character ({quote(bad.group())}); "
                "please remove it",
            )
        return value

    def seconds(
        self,
        value: object,
        where: KeyPath,
        what: str,
        low: float,
        high: float,
        *,
        above_low: bool = False,
    ) -> float:
        """A finite number of seconds within [low, high] (or (low, high] when `above_low`)."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(where, f"{what} should be a number of seconds, but it is {describe(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(
                where, f"{what} should be an ordinary number of seconds, not {number_text(value)}"
            )
        shown = number_text(value)
        if value < 0 and low >= 0:
            self.fail(where, f"{what} cannot be negative (it is {shown})")
        if above_low and value <= low:
            self.fail(where, f"{what} should be longer than {seconds_text(low)} (it is {shown})")
        if value < low:
            self.fail(where, f"{what} should be at least {seconds_text(low)} (it is {shown})")
        if value > high:
            self.fail(where, f"{what} should be at most {seconds_text(high)} (it is {shown})")
        return float(value)

    def attempt(self, check: Callable[[], T]) -> T | None:
        """Run one check; a problem is recorded and None returned so the others still run."""
        try:
            return check()
        except _Invalid as exc:
            if exc.issue is not None:
                (self.issues if exc.placed else self.missing).append(exc.issue)
            return None

    # -- the document

    def practice(self, data: dict[str, object], builtin: bool) -> Practice:
        self.attempt(lambda: self.unknown_keys(data, TOP_KEYS, (), " at the top level"))
        practice_id = self.attempt(lambda: self.practice_id(data))
        title = self.attempt(lambda: self.title(data))
        summary = self.attempt(lambda: self.summary(data))
        tags = self.attempt(lambda: self.tags(data))
        ambience = self.attempt(lambda: self.ambience(data))
        steps = self.attempt(lambda: self.steps(data))
        if self.issues or self.missing:
            # A problem we can point at comes first: `[[step]]` is a better first message than
            # "the practice has no steps", which is only its consequence.
            issues = sorted(self.issues, key=lambda issue: issue.line) + self.missing
            raise PracticeError(issues[0], issues)
        assert practice_id is not None and title is not None and summary is not None
        assert tags is not None and ambience is not None and steps is not None
        return Practice(
            id=practice_id,
            title=title,
            summary=summary,
            tags=tags,
            ambience=ambience,
            steps=steps,
            source=self.path,
            builtin=builtin,
        )

    def practice_id(self, data: dict[str, object]) -> str:
        if "id" not in data:
            self.missing_key('the practice has no id; add a line like id = "my-practice"')
        value = self.text(data["id"], ("id",), "id")
        if not value:
            self.fail(("id",), 'id is empty; give the practice a short name like "my-practice"')
        if len(value) > MAX_ID_LENGTH or not ID_RE.fullmatch(value):
            suggestion = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:MAX_ID_LENGTH]
            example = f' (for example "{suggestion}")' if suggestion else ""
            self.fail(
                ("id",),
                f"id {quote(value)} should use only lower-case letters, digits and dashes, "
                f"start with a letter or digit, and be at most {MAX_ID_LENGTH} characters{example}",
            )
        return value

    def title(self, data: dict[str, object]) -> str:
        if "title" not in data:
            self.missing_key('the practice has no title; add a line like title = "My Practice"')
        value = self.text(data["title"], ("title",), "title").strip()
        if not value:
            self.fail(("title",), "title is empty; give the practice a name people will see")
        return value

    def summary(self, data: dict[str, object]) -> str:
        if "summary" not in data:
            return ""
        return self.text(data["summary"], ("summary",), "summary").strip()

    def tags(self, data: dict[str, object]) -> tuple[str, ...]:
        """The practice's tags: from `PRACTICE_TAGS` for a built-in, anything for the user's own.

        Built-in practices are held to the vocabulary, because the library's tag filter is how a
        person in distress finds what fits, and one stray word ("overwhelm" beside "panic")
        splits one need across two chips. A user's own file may use any tag: the practice is
        theirs and so are its words ("morning", "Abend"), and refusing the whole file over a tag
        would take away a practice they wrote to get through a bad moment. A user's tag that is
        a vocabulary tag written differently ("Panic ") is spelled as the vocabulary spells it,
        so it joins that chip instead of making a second one that looks the same.
        """
        value = data.get("tags", [])
        if not isinstance(value, list):
            self.fail(
                ("tags",),
                'tags should be a list of text, like ["calm", "sleep"], '
                f"but it is {describe(value)}",
            )
        tags: list[str] = []
        for i, raw in enumerate(value):
            tag = self.text(raw, ("tags", i), f"tag {i + 1}").strip()
            known = tag.casefold()
            if known in PRACTICE_TAGS:
                tag = known
            elif self.builtin:
                guess = suggest(known, PRACTICE_TAGS)
                hint = f'did you mean "{guess}"? ' if guess else ""
                self.fail(
                    ("tags", i),
                    f"unknown tag {quote(tag)} in a built-in practice; {hint}"
                    f"built-in practices use only {join(PRACTICE_TAGS, 'or')}",
                )
            tags.append(tag)
        return tuple(tags)

    def ambience(self, data: dict[str, object]) -> str:
        text = self.text(data.get("ambience", "none"), ("ambience",), "ambience")
        if text in AMBIENCE_IDS:
            return text
        choices = f"choose from {join(AMBIENCE_IDS, 'or')}"
        guess = suggest(text, AMBIENCE_IDS)
        hint = f'did you mean "{guess}"? ({choices})' if guess else choices
        self.fail(("ambience",), f"unknown ambience {quote(text)}; {hint}")

    def steps(self, data: dict[str, object]) -> tuple[Step, ...]:
        if "steps" not in data:
            self.missing_key(
                "the practice has no steps; add at least one [[steps]] with say, pause, breathe "
                "or bell"
            )
        raw = data["steps"]
        if not isinstance(raw, list):
            self.fail(
                ("steps",),
                f"steps should be a list of [[steps]] tables, but it is {describe(raw)}",
            )
        if not raw:
            self.fail(("steps",), "steps is empty; a practice needs at least one step")
        steps: list[Step] = []
        failed = False
        for index, item in enumerate(raw):
            try:
                steps.append(self.step(index, item))
            except _Invalid as exc:
                if exc.issue is not None:
                    self.issues.append(exc.issue)
                failed = True
        if failed:
            raise _Invalid(None)
        return tuple(steps)

    def step(self, index: int, raw: object) -> Step:
        n = index + 1
        where: KeyPath = ("steps", index)
        if not isinstance(raw, dict):
            self.fail(
                where,
                f"step {n} should be a table of settings under a [[steps]] line, "
                f"but it is {describe(raw)}",
            )
        self.unknown_keys(raw, (*STEP_KEYS, *SAY_OPTIONS), where, f" in step {n}")
        for extra, meaning in SAY_OPTIONS.items():
            if extra in raw and "say" not in raw:
                self.fail((*where, extra), f"{extra} in step {n} goes with say: {meaning}")
        with_pause = "say" in raw or "memo" in raw  # pause is then the quiet after it
        kinds = [k for k in STEP_KEYS if k in raw and not (k == "pause" and with_pause)]
        if not kinds:
            self.fail(where, f"step {n} is empty; give it one of say, pause, breathe or bell")
        if len(kinds) > 1:
            later = max(kinds, key=lambda k: self.source.line_for((*where, k)))
            self.fail(
                (*where, later),
                f"step {n} has {join(kinds)} together; a step does only one of say, pause, "
                "breathe, bell or memo, so give each its own [[steps]] line",
            )
        kind = kinds[0]
        key: KeyPath = (*where, kind)
        line = self.source.line_for(key)
        if kind == "say":
            text = self.say_text(raw["say"], key, n)
            pause = 0.0
            if "pause" in raw:
                pause = self.seconds(
                    raw["pause"], (*where, "pause"), f"pause in step {n}", 0.0, MAX_PAUSE_SECONDS
                )
            speak = None
            if "speak" in raw:
                speak_key: KeyPath = (*where, "speak")
                speak = self.say_text(raw["speak"], speak_key, n, what=f"speak in step {n}")
                self.same_sentences(text, speak, speak_key, n)
            you = None
            if "you" in raw:
                you_key: KeyPath = (*where, "you")
                you = self.say_text(raw["you"], you_key, n, what=f"you in step {n}")
                if any(name == "name" for name, _ in placeholders_in(you)):
                    self.fail(
                        you_key,
                        f"you in step {n} has {{name}}; it is the line for someone who would "
                        "rather not hear their name, so say it to \"you\" instead",
                        line=self.source.line_containing(you_key, "{"),
                    )
            return Say(text, pause, line=line, speak=speak, you=you)
        if kind == "pause":
            seconds = self.seconds(raw["pause"], key, f"pause in step {n}", 0.0, MAX_PAUSE_SECONDS)
            return Pause(seconds, line=line)
        if kind == "breathe":
            return self.breathe(raw["breathe"], key, n, line)
        if kind == "memo":
            return self.memo(raw, key, n, line)
        value = raw["bell"]
        if not isinstance(value, bool):
            self.fail(key, f"bell in step {n} should be true, but it is {describe(value)}")
        if not value:
            self.fail(
                key, f"bell in step {n} is false, so the step does nothing; write bell = true"
            )
        return Bell(line=line)

    def memo(self, raw: dict[str, object], key: KeyPath, n: int, line: int) -> Memo:
        value = raw["memo"]
        if value is not True:
            what = "false, so the step does nothing" if value is False else describe(value)
            self.fail(key, f"memo in step {n} should be true, but it is {what}; write memo = true")
        pause = 0.0
        if "pause" in raw:
            pause = self.seconds(raw["pause"], (*key[:-1], "pause"), f"pause in step {n}", 0.0,
                                 MAX_PAUSE_SECONDS)
        return Memo(pause, line=line)

    def same_sentences(self, say: str, speak: str, where: KeyPath, n: int) -> None:
        """Voice and caption are paired sentence by sentence, so they must have as many."""
        said, shown = split_sentences(fill(speak, None)), split_sentences(fill(say, None))
        if len(said) != len(shown):
            self.fail(
                where,
                f"speak in step {n} has {len(said)} sentence{'s' * (len(said) != 1)} but say "
                f"has {len(shown)}; the voice says them one for one, so give each the same",
            )

    def say_text(self, value: object, where: KeyPath, n: int, what: str = "") -> str:
        what = what or f"say in step {n}"
        text = self.text(value, where, what).strip()
        if not text:
            self.fail(where, f"{what} is empty; write the words to speak, or use pause for silence")
        depth = 0
        for offset, ch in enumerate(text):
            problem = None
            if ch == "{":
                if depth:
                    problem = 'a "{" inside another {placeholder}'
                depth += 1
            elif ch == "}":
                if not depth:
                    problem = 'a "}" with no "{" before it'
                depth = 0
            if problem:
                self.fail(
                    where,
                    f"unbalanced braces in {what}: {problem}",
                    line=self.source.line_containing(where, self._fragment(text, offset)),
                )
        if depth:
            offset = text.rindex("{")
            self.fail(
                where,
                f'unbalanced braces in {what}: a "{{" is never closed with "}}"',
                line=self.source.line_containing(where, self._fragment(text, offset)),
            )
        for m in PLACEHOLDER_RE.finditer(text):
            name = m.group(1).strip()
            if name in PLACEHOLDERS:
                continue
            valid = join([f"{{{p}}}" for p in PLACEHOLDERS], "or")
            guess = suggest(name, PLACEHOLDERS)
            if not name:
                message = f"empty placeholder {quote(m.group())} in {what}; you can use {valid}"
            elif guess:
                message = f"unknown placeholder {{{name}}} in {what}; did you mean {{{guess}}}?"
            else:
                message = f"unknown placeholder {quote(m.group())} in {what}; you can use {valid}"
            self.fail(where, message, line=self.source.line_containing(where, m.group()))
        return text

    @staticmethod
    def _fragment(text: str, offset: int) -> str:
        """The text just before and at `offset`, on its own line, to find it in the source."""
        line_start = text.rfind("\n", 0, offset) + 1
        return text[max(line_start, offset - 12) : offset + 1]

    def breathe(self, raw: object, where: KeyPath, n: int, line: int) -> Breathe:
        if not isinstance(raw, dict):
            self.fail(
                where,
                f"breathe in step {n} should be a table like "
                f"{{ inhale = 4, exhale = 6, cycles = 4 }}, but it is {describe(raw)}",
            )
        self.unknown_keys(raw, BREATHE_KEYS, where, " in breathe")
        phases: dict[str, float] = {}
        for phase, needed, doing in (
            ("inhale", True, "breathe in"),
            ("hold", False, "hold"),
            ("exhale", True, "breathe out"),
            ("hold_after", False, "rest"),
        ):
            if phase not in raw:
                if needed:
                    self.fail(
                        where,
                        f"breathe in step {n} has no {phase}; add how many seconds to {doing}, "
                        f"like {phase} = 4",
                    )
                phases[phase] = 0.0
                continue
            phases[phase] = self.seconds(
                raw[phase],
                (*where, phase),
                f"{phase} in breathe",
                0.0,
                MAX_PHASE_SECONDS,
                above_low=needed,
            )
        has_cycles, has_seconds = "cycles" in raw, "seconds" in raw
        if has_cycles and has_seconds:
            later = max(("cycles", "seconds"), key=lambda k: self.source.line_for((*where, k)))
            self.fail(
                (*where, later),
                "breathe has both cycles and seconds; keep only one "
                "(cycles counts breaths, seconds sets how long)",
            )
        if not has_cycles and not has_seconds:
            self.fail(
                where,
                f"breathe in step {n} needs cycles (how many breaths) or seconds (how long), "
                "like cycles = 4",
            )
        cycles: int | None = None
        seconds: float | None = None
        if has_cycles:
            cycles = self.cycles(raw["cycles"], (*where, "cycles"))
        else:
            seconds = self.seconds(
                raw["seconds"],
                (*where, "seconds"),
                "seconds in breathe",
                MIN_BREATHE_SECONDS,
                MAX_BREATHE_SECONDS,
            )
        cue = Cue.VOICE
        if "cue" in raw:
            cue_where = (*where, "cue")
            text = self.text(raw["cue"], cue_where, "cue in breathe")
            if text not in CUE_IDS:
                choices = f"choose {join(CUE_IDS, 'or')}"
                guess = suggest(text, CUE_IDS)
                hint = f'did you mean "{guess}"? ({choices})' if guess else choices
                self.fail(cue_where, f"unknown cue {quote(text)} in breathe; {hint}")
            cue = Cue(text)
        return Breathe(
            inhale=phases["inhale"],
            exhale=phases["exhale"],
            hold=phases["hold"],
            hold_after=phases["hold_after"],
            cycles=cycles,
            seconds=seconds,
            cue=cue,
            line=line,
        )

    def cycles(self, value: object, where: KeyPath) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(
                where,
                "cycles in breathe should be a whole number of breaths, "
                f"but it is {describe(value)}",
            )
        if not 1 <= value <= MAX_CYCLES:
            self.fail(
                where,
                f"cycles in breathe should be between 1 and {MAX_CYCLES} "
                f"(it is {number_text(value)})",
            )
        return value


# ------------------------------------------------------------------------------ public API


def parse_with_positions(
    data: bytes | str, path: Path, builtin: bool
) -> tuple[Practice, SourceMap]:
    """`parse_practice`, plus where each key was written, for messages about the file as a whole.

    The loader needs the positions too: a repeated id is only noticed across files, and is
    reported at the line of the second file's id.
    """
    text = _decode(data, path)
    if not text.strip():
        raise PracticeError(
            issue_at(path, 1, "the file is empty; a practice needs an id, a title and some steps")
        )
    document = _read_toml(text, path)
    source = map_source(text)
    return _Checker(path, source, builtin).practice(document, builtin), source


def parse_practice(text_or_bytes: bytes | str, path: Path, *, builtin: bool = False) -> Practice:
    """Parse one practice; `path` is only used in messages and as `Practice.source`."""
    return parse_with_positions(text_or_bytes, path, builtin)[0]
