"""Find the line on which each key of a TOML document was written.

tomllib gives no positions for parsed values, yet every problem in a practice file is reported
as `path:line: message` so its author can find the key or value to fix. This scanner walks the
source (only after tomllib has accepted it, so it can assume valid TOML) and records the line of
every key path, such as ("steps", 2, "breathe", "inhale"), and the lines each value spans.
Validation works on the parsed data and asks the map where a path was written.
"""

from __future__ import annotations

import bisect
import logging
import re
import sys
from collections.abc import Sequence

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

log = logging.getLogger(__name__)

KeyPath = tuple[str | int, ...]

_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")
_BASIC_STR_RE = re.compile(r'"(?:[^"\\\n]|\\.)*"', re.S)
_LITERAL_STR_RE = re.compile(r"'[^'\n]*'")
_ML_BASIC_STR_RE = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""("{0,2})', re.S)
_ML_LITERAL_STR_RE = re.compile(r"'''(?:[^']|'(?!''))*'''('{0,2})", re.S)
_SCALAR_RE = re.compile(r"[^,\]}#\r\n]*")


class SourceMap:
    """Where each key path of a valid TOML document was written.

    `scan()` assumes the source already parsed with tomllib; it raises on anything it does not
    understand rather than guessing, and `map_source()` keeps whatever it recorded up to then.
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


def map_source(src: str) -> SourceMap:
    """Positions are a courtesy: a scanner hiccup must cost line precision, never a valid file."""
    source_map = SourceMap(src)
    try:
        source_map.scan()
    except (ValueError, IndexError, RecursionError, tomllib.TOMLDecodeError) as exc:
        log.debug("could not map every key to a line: %s", exc)
    return source_map
