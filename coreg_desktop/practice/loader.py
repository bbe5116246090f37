"""Turn practice TOML files into `Practice` objects, and explain gently when a file is wrong.

Practice files are written by hand, often by people who have never seen TOML and who may be
having a hard day. So every problem becomes one plain line, `path:line: what is wrong`, that
points at the key or value to fix, and a bad file is skipped without taking the others with it.

tomllib gives no positions for parsed values. A small scanner therefore walks the source (only
after tomllib has accepted it, so it can assume valid TOML) and records the line of every key
path, such as ("steps", 2, "breathe", "inhale"). Validation works on the parsed data and asks the
scanner where a path was written.
"""

from __future__ import annotations

import bisect
import codecs
import difflib
import importlib.resources
import logging
import math
import re
import stat
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn, TypeVar

from coreg_desktop import paths
from coreg_desktop.constants import AMBIENCE_IDS, PLACEHOLDERS
from coreg_desktop.practice.model import Bell, Breathe, Cue, Pause, Practice, Say, Step
from coreg_desktop.practice.text import PLACEHOLDER_RE

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

log = logging.getLogger(__name__)

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
STEP_KEYS: tuple[str, ...] = ("say", "pause", "breathe", "bell")
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

KeyPath = tuple[str | int, ...]


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


# ------------------------------------------------------------------------------ source positions

_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")
_BASIC_STR_RE = re.compile(r'"(?:[^"\\\n]|\\.)*"', re.S)
_LITERAL_STR_RE = re.compile(r"'[^'\n]*'")
_ML_BASIC_STR_RE = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""("{0,2})', re.S)
_ML_LITERAL_STR_RE = re.compile(r"'''(?:[^']|'(?!''))*'''('{0,2})", re.S)
_SCALAR_RE = re.compile(r"[^,\]}#\r\n]*")
_BAD_CHAR_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class _SourceMap:
    """Where each key path of a valid TOML document was written.

    `scan()` assumes the source already parsed with tomllib; it raises on anything it does not
    understand rather than guessing, and `_source_map()` keeps whatever it recorded up to then.
    """

    def __init__(self, src: str) -> None:
        self.src = src
        self._newlines = [m.start() for m in re.finditer("\n", src)]
        self.key_lines: dict[KeyPath, int] = {}
        self.spans: dict[KeyPath, tuple[int, int]] = {}

    # -- queries

    def line_at(self, pos: int) -> int:
        return bisect.bisect_left(self._newlines, pos) + 1

    def line_text(self, line: int) -> str:
        start = self._newlines[line - 2] + 1 if line >= 2 else 0
        end = self._newlines[line - 1] if line - 1 < len(self._newlines) else len(self.src)
        return self.src[start:end]

    def line_for(self, path: KeyPath) -> int:
        """The line of `path`, or of its nearest recorded ancestor, or 1."""
        for k in range(len(path), 0, -1):
            line = self.key_lines.get(path[:k])
            if line is not None:
                return line
        return 1

    def line_containing(self, path: KeyPath, needle: str) -> int:
        """The first line of `path`'s value that contains `needle`, for text spanning lines."""
        span = self.spans.get(path)
        if span is None:
            return self.line_for(path)
        if needle:
            for line in range(span[0], span[1] + 1):
                if needle in self.line_text(line):
                    return line
        return span[0]

    # -- scanning

    def scan(self) -> None:
        src = self.src
        table: KeyPath = ()
        arrays: dict[KeyPath, int] = {}  # array-of-tables path -> how many headers so far
        i = 0
        while True:
            i = self._skip(i, newlines=True)
            if i >= len(src):
                return
            line = self.line_at(i)
            if src.startswith("[[", i):
                parts, i = self._key(i + 2)
                i = self._expect(self._skip(i), "]]")
                array = (*self._resolve(parts[:-1], arrays), parts[-1])
                index = arrays.get(array, 0)
                arrays[array] = index + 1
                table = (*array, index)
                self._mark_all(table, line)
            elif src[i] == "[":
                parts, i = self._key(i + 1)
                i = self._expect(self._skip(i), "]")
                table = self._resolve(parts, arrays)
                self._mark_all(table, line)
            else:
                i = self._keyval(i, table)

    def _mark_all(self, path: KeyPath, line: int, start: int = 1) -> None:
        for k in range(start, len(path) + 1):
            self.key_lines.setdefault(path[:k], line)

    @staticmethod
    def _resolve(parts: Sequence[str], arrays: dict[KeyPath, int]) -> KeyPath:
        """A header's key path, with each array of tables replaced by its latest element."""
        path: KeyPath = ()
        for part in parts:
            path = (*path, part)
            if path in arrays:
                path = (*path, arrays[path] - 1)
        return path

    def _expect(self, i: int, token: str) -> int:
        if not self.src.startswith(token, i):
            raise ValueError(f"expected {token!r} at {i}")
        return i + len(token)

    def _skip(self, i: int, newlines: bool = False) -> int:
        src = self.src
        n = len(src)
        while i < n:
            ch = src[i]
            if ch in " \t" or (newlines and ch in "\r\n"):
                i += 1
            elif ch == "#":
                end = src.find("\n", i)
                i = n if end < 0 else end
            else:
                break
        return i

    def _key(self, i: int) -> tuple[list[str], int]:
        src = self.src
        parts: list[str] = []
        while True:
            i = self._skip(i)
            if src.startswith('"', i):
                m = _BASIC_STR_RE.match(src, i)
                if m is None:
                    raise ValueError(f"bad quoted key at {i}")
                parts.append(tomllib.loads(f"k = {m.group()}")["k"])
            elif src.startswith("'", i):
                m = _LITERAL_STR_RE.match(src, i)
                if m is None:
                    raise ValueError(f"bad literal key at {i}")
                parts.append(m.group()[1:-1])
            else:
                m = _BARE_KEY_RE.match(src, i)
                if m is None:
                    raise ValueError(f"bad key at {i}")
                parts.append(m.group())
            i = self._skip(m.end())
            if not src.startswith(".", i):
                return parts, i
            i += 1

    def _keyval(self, i: int, table: KeyPath) -> int:
        line = self.line_at(i)
        parts, i = self._key(i)
        path = (*table, *parts)
        self._mark_all(path, line, start=len(table) + 1)
        i = self._expect(self._skip(i), "=")
        return self._value(self._skip(i), path)

    def _value(self, i: int, path: KeyPath) -> int:
        src = self.src
        start = i
        m: re.Match[str] | None
        if src.startswith('"""', i):
            m = _ML_BASIC_STR_RE.match(src, i)
        elif src.startswith("'''", i):
            m = _ML_LITERAL_STR_RE.match(src, i)
        elif src.startswith('"', i):
            m = _BASIC_STR_RE.match(src, i)
        elif src.startswith("'", i):
            m = _LITERAL_STR_RE.match(src, i)
        elif src.startswith("[", i):
            m = None
            i = self._array(i + 1, path)
        elif src.startswith("{", i):
            m = None
            i = self._inline_table(i + 1, path)
        else:
            m = _SCALAR_RE.match(src, i)
            if m is None or not m.group().strip():
                raise ValueError(f"bad value at {i}")
        if m is not None:
            i = m.end()
        self.spans.setdefault(path, (self.line_at(start), self.line_at(max(start, i - 1))))
        return i

    def _array(self, i: int, path: KeyPath) -> int:
        index = 0
        while True:
            i = self._skip(i, newlines=True)
            if self.src.startswith("]", i):
                return i + 1
            element = (*path, index)
            self.key_lines.setdefault(element, self.line_at(i))
            i = self._skip(self._value(i, element), newlines=True)
            index += 1
            if self.src.startswith(",", i):
                i += 1
            elif not self.src.startswith("]", i):
                raise ValueError(f"bad array at {i}")

    def _inline_table(self, i: int, path: KeyPath) -> int:
        while True:
            i = self._skip(i, newlines=True)
            if self.src.startswith("}", i):
                return i + 1
            i = self._skip(self._keyval(i, path), newlines=True)
            if self.src.startswith(",", i):
                i += 1
            elif not self.src.startswith("}", i):
                raise ValueError(f"bad inline table at {i}")


def _source_map(src: str) -> _SourceMap:
    """Positions are a courtesy: a scanner hiccup must cost line precision, never a valid file."""
    source_map = _SourceMap(src)
    try:
        source_map.scan()
    except (ValueError, IndexError, RecursionError, tomllib.TOMLDecodeError) as exc:
        log.debug("could not map every key to a line: %s", exc)
    return source_map


# ------------------------------------------------------------------------------ message helpers


def _quote(text: str, limit: int = 40) -> str:
    """Quote user text for a one-line message: short, and with invisible characters spelled out."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    out = []
    for ch in text:
        if ch.isprintable():
            out.append('\\"' if ch == '"' else ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def _number_text(value: int | float) -> str:
    if isinstance(value, int) and abs(value) >= 10**15:
        return "a very large number"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
    return str(value)


def _seconds_text(value: float) -> str:
    return "1 second" if value == 1 else f"{_number_text(value)} seconds"


def _describe(value: object) -> str:
    """Name the type the author wrote, in words rather than Python's."""
    if isinstance(value, bool):
        return f"a true/false value ({'true' if value else 'false'})"
    if isinstance(value, int):
        return f"a whole number ({_number_text(value)})"
    if isinstance(value, float):
        return f"a number ({_number_text(value)})"
    if isinstance(value, str):
        return f"text ({_quote(value)})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return "a date or time"


def _join(words: Sequence[str], last: str = "and") -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


def _suggest(word: str, choices: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _one_line(message: str) -> str:
    return " ".join(message.splitlines()) or "something is wrong here"


# ------------------------------------------------------------------------------ decoding


def _issue(path: Path, line: int, message: str) -> LoadIssue:
    return LoadIssue(path, max(1, line), _one_line(message))


def _too_large(path: Path, size: int) -> PracticeError:
    return PracticeError(
        _issue(
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
            raise _too_large(path, len(data.encode("utf-8", "surrogatepass")))
        try:
            size = len(data.encode("utf-8"))
        except UnicodeEncodeError as exc:
            line = data.count("\n", 0, exc.start) + 1
            bad = _quote(data[exc.start : exc.start + 1])
            raise PracticeError(
                _issue(
                    path, line, f"the text contains a character that is not valid Unicode ({bad})"
                )
            ) from None
        if size > MAX_FILE_BYTES:
            raise _too_large(path, size)
        return data.removeprefix("\ufeff")
    if len(data) > MAX_FILE_BYTES:
        raise _too_large(path, len(data))
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PracticeError(
            _issue(
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
    raw = _one_line(str(exc))
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
    return PracticeError(_issue(path, line, message))


def _read_toml(text: str, path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(exc, text, path) from None
    except RecursionError:
        raise PracticeError(_issue(path, 1, "the file nests brackets too deeply to read")) from None
    except ValueError:
        # tomllib lets int() refuse numbers with thousands of digits.
        m = re.search(r"[0-9_]{1000,}", text)
        line = text.count("\n", 0, m.start()) + 1 if m else 1
        raise PracticeError(_issue(path, line, "a number here is far too long to read")) from None


# ------------------------------------------------------------------------------ validation


class _Checker:
    """Validate parsed TOML against the practice format, collecting one issue per field or step."""

    def __init__(self, path: Path, source: _SourceMap) -> None:
        self.path = path
        self.source = source
        self.issues: list[LoadIssue] = []
        self.missing: list[LoadIssue] = []

    def fail(self, where: KeyPath, message: str, line: int | None = None) -> NoReturn:
        raise _Invalid(_issue(self.path, line or self.source.line_for(where), message))

    def missing_key(self, message: str) -> NoReturn:
        raise _Invalid(_issue(self.path, 1, message), placed=False)

    # -- generic values

    def unknown_keys(
        self, table: dict[str, object], valid: Sequence[str], where: KeyPath, place: str
    ) -> None:
        for key in table:
            if key in valid:
                continue
            shown = _quote(key)
            guess = _suggest(key, valid)
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
                message = f"unknown key {shown}{place}; the keys you can use are {_join(valid)}"
            self.fail((*where, key), message)

    def text(self, value: object, where: KeyPath, what: str) -> str:
        if not isinstance(value, str):
            self.fail(where, f"{what} should be text in quotes, but it is {_describe(value)}")
        # Only escapes can produce these (tomllib refuses them raw); they would garble captions
        # or break the UTF-8 narration cache keys.
        bad = _BAD_CHAR_RE.search(value)
        if bad:
            self.fail(
                where,
                f"{what} contains an invisible or broken character ({_quote(bad.group())}); "
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
            self.fail(where, f"{what} should be a number of seconds, but it is {_describe(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(
                where, f"{what} should be an ordinary number of seconds, not {_number_text(value)}"
            )
        shown = _number_text(value)
        if value < 0 and low >= 0:
            self.fail(where, f"{what} cannot be negative (it is {shown})")
        if above_low and value <= low:
            self.fail(where, f"{what} should be longer than {_seconds_text(low)} (it is {shown})")
        if value < low:
            self.fail(where, f"{what} should be at least {_seconds_text(low)} (it is {shown})")
        if value > high:
            self.fail(where, f"{what} should be at most {_seconds_text(high)} (it is {shown})")
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
                f"id {_quote(value)} should use only lower-case letters, digits and dashes, "
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
        value = data.get("tags", [])
        if not isinstance(value, list):
            self.fail(
                ("tags",),
                'tags should be a list of text, like ["calm", "sleep"], '
                f"but it is {_describe(value)}",
            )
        return tuple(
            self.text(tag, ("tags", i), f"tag {i + 1}").strip() for i, tag in enumerate(value)
        )

    def ambience(self, data: dict[str, object]) -> str:
        text = self.text(data.get("ambience", "none"), ("ambience",), "ambience")
        if text in AMBIENCE_IDS:
            return text
        choices = f"choose from {_join(AMBIENCE_IDS, 'or')}"
        guess = _suggest(text, AMBIENCE_IDS)
        hint = f'did you mean "{guess}"? ({choices})' if guess else choices
        self.fail(("ambience",), f"unknown ambience {_quote(text)}; {hint}")

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
                f"steps should be a list of [[steps]] tables, but it is {_describe(raw)}",
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
                f"but it is {_describe(raw)}",
            )
        self.unknown_keys(raw, STEP_KEYS, where, f" in step {n}")
        kinds = [k for k in STEP_KEYS if k in raw and not (k == "pause" and "say" in raw)]
        if not kinds:
            self.fail(where, f"step {n} is empty; give it one of say, pause, breathe or bell")
        if len(kinds) > 1:
            later = max(kinds, key=lambda k: self.source.line_for((*where, k)))
            self.fail(
                (*where, later),
                f"step {n} has {_join(kinds)} together; a step does only one of say, pause, "
                "breathe or bell, so give each its own [[steps]] line",
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
            return Say(text, pause, line=line)
        if kind == "pause":
            seconds = self.seconds(raw["pause"], key, f"pause in step {n}", 0.0, MAX_PAUSE_SECONDS)
            return Pause(seconds, line=line)
        if kind == "breathe":
            return self.breathe(raw["breathe"], key, n, line)
        value = raw["bell"]
        if not isinstance(value, bool):
            self.fail(key, f"bell in step {n} should be true, but it is {_describe(value)}")
        if not value:
            self.fail(
                key, f"bell in step {n} is false, so the step does nothing; write bell = true"
            )
        return Bell(line=line)

    def say_text(self, value: object, where: KeyPath, n: int) -> str:
        what = f"say in step {n}"
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
            valid = _join([f"{{{p}}}" for p in PLACEHOLDERS], "or")
            guess = _suggest(name, PLACEHOLDERS)
            if not name:
                message = f"empty placeholder {_quote(m.group())} in {what}; you can use {valid}"
            elif guess:
                message = f"unknown placeholder {{{name}}} in {what}; did you mean {{{guess}}}?"
            else:
                message = f"unknown placeholder {_quote(m.group())} in {what}; you can use {valid}"
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
                f"{{ inhale = 4, exhale = 6, cycles = 4 }}, but it is {_describe(raw)}",
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
                choices = f"choose {_join(CUE_IDS, 'or')}"
                guess = _suggest(text, CUE_IDS)
                hint = f'did you mean "{guess}"? ({choices})' if guess else choices
                self.fail(cue_where, f"unknown cue {_quote(text)} in breathe; {hint}")
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
                f"but it is {_describe(value)}",
            )
        if not 1 <= value <= MAX_CYCLES:
            self.fail(
                where,
                f"cycles in breathe should be between 1 and {MAX_CYCLES} "
                f"(it is {_number_text(value)})",
            )
        return value


# ------------------------------------------------------------------------------ public API


def _parse(data: bytes | str, path: Path, builtin: bool) -> tuple[Practice, _SourceMap]:
    text = _decode(data, path)
    if not text.strip():
        raise PracticeError(
            _issue(path, 1, "the file is empty; a practice needs an id, a title and some steps")
        )
    document = _read_toml(text, path)
    source = _source_map(text)
    return _Checker(path, source).practice(document, builtin), source


def parse_practice(text_or_bytes: bytes | str, path: Path, *, builtin: bool = False) -> Practice:
    """Parse one practice; `path` is only used in messages and as `Practice.source`."""
    return _parse(text_or_bytes, path, builtin)[0]


def _read(path: Path) -> bytes:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise PracticeError(_issue(path, 1, "this is not a regular file, so it cannot be read"))
        if info.st_size > MAX_FILE_BYTES:
            raise _too_large(path, info.st_size)
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)  # the file may have grown since stat()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise PracticeError(_issue(path, 1, f"could not read the file ({reason})")) from None
    if len(data) > MAX_FILE_BYTES:
        raise _too_large(path, len(data))
    return data


def load_file(path: Path, builtin: bool = False) -> Practice:
    return parse_practice(_read(path), path, builtin=builtin)


@dataclass
class Library:
    """Every practice that loaded, plus what went wrong, so the UI can show both."""

    practices: dict[str, Practice] = field(default_factory=dict)
    issues: list[LoadIssue] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)

    def get(self, practice_id: str) -> Practice | None:
        return self.practices.get(practice_id)

    def closest(self, practice_id: str, n: int = 3) -> list[str]:
        """Ids resembling a mistyped one, for "no practice "stay-saf"; did you mean …"."""
        wanted = re.sub(r"[\s_]+", "-", practice_id.strip().lower())
        ids = sorted(self.practices)
        exact = [wanted] if wanted in self.practices else []
        close = difflib.get_close_matches(wanted, ids, n=n, cutoff=0.5)
        return (exact + [i for i in close if i not in exact])[:n]

    @property
    def all(self) -> list[Practice]:
        return sorted(self.practices.values(), key=lambda p: (p.title.casefold(), p.id))


def builtin_practices_dir() -> Path:
    return Path(str(importlib.resources.files("coreg_desktop").joinpath("practices")))


def _write_stderr(line: str) -> None:
    sys.stderr.write(f"{line}\n")
    sys.stderr.flush()


def _load_dir(
    directory: Path, builtin: bool, library: Library, report: Callable[[str], None]
) -> dict[str, Practice]:
    """Load every *.toml in `directory`; bad files and repeated ids are reported and skipped."""
    # Dot-files are editor lock and backup files, not practices.
    try:
        found = list(directory.glob("*.toml")) if directory.is_dir() else []
    except OSError as exc:
        report(f"{directory}: could not list the practices in this folder ({exc.strerror or exc})")
        return {}
    loaded: dict[str, Practice] = {}
    for file in sorted(p for p in found if not p.name.startswith(".")):
        try:
            practice, source = _parse(_read(file), file, builtin)
        except PracticeError as exc:
            library.issues.append(exc.issue)
            report(str(exc.issue))
            continue
        first = loaded.get(practice.id)
        if first is not None:
            issue = _issue(
                file,
                source.line_for(("id",)),
                f'id "{practice.id}" is already used by {first.source}; this file is skipped',
            )
            library.issues.append(issue)
            report(str(issue))
            continue
        loaded[practice.id] = practice
    log.debug("loaded %d practices from %s", len(loaded), directory)
    return loaded


def load_library(
    user_dir: Path | None = None,
    builtin_dir: Path | None = None,
    report: Callable[[str], None] | None = None,
) -> Library:
    """Built-in practices, then the user's; a user file with a built-in's id replaces it.

    `report` hears each skipped file once, as `path:line: what is wrong` (default: stderr).
    Overrides are deliberate, not problems, so they go to `Library.overrides` (and the log) for
    the caller to show where it fits, instead of through `report`.
    """
    report = report or _write_stderr
    library = Library()
    builtins = _load_dir(
        builtin_dir if builtin_dir is not None else builtin_practices_dir(), True, library, report
    )
    users = _load_dir(
        user_dir if user_dir is not None else paths.user_practices_dir(), False, library, report
    )
    library.practices = dict(builtins)
    for practice_id, practice in users.items():
        if practice_id in builtins:
            line = f'user practice {practice.source} overrides built-in "{practice_id}"'
            library.overrides.append(line)
            log.info("%s", line)
        library.practices[practice_id] = practice
    return library
