"""Breathing patterns: one breath as a list of timed phases, which a pacer repeats.

A pattern is data, like a practice. The built-in ones are in the package's `patterns.toml`; the
listener's own are in `<data dir>/patterns.toml`, written by `pattern add` and the Pacer page.
Most patterns are the four phases a practice's `breathe` step has (in, hold, out, hold
after), but a phase list also says what four numbers cannot: cyclic sighing breathes in twice
(a long breath, then a short top-up) before one long breath out. Each phase may say how full the
lungs are at its start and end (`fill`), so the orb grows on the first breath in and a little
more on the second, instead of starting again from empty.

Every phase is a whole number of half seconds, at most 30 s (the limits of a practice's breathe
step), so each cue falls on an exact sample and a pacer never drifts, however long it runs.
"""

from __future__ import annotations

import importlib.resources
import json
import logging
import math
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from coreg_desktop.practice.model import Phase

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

log = logging.getLogger(__name__)

PHASE_MAX_S = 30.0
STEP_S = 0.5
#: Words for phases, in files and on the command line.
PHASE_WORDS: dict[str, Phase] = {
    "in": Phase.INHALE,
    "hold": Phase.HOLD,
    "out": Phase.EXHALE,
    "hold-after": Phase.REST,
}
WORD_OF: dict[Phase, str] = {phase: word for word, phase in PHASE_WORDS.items()}
DEFAULT_PATTERN = "extended-exhale"
ID_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
NAME_MAX = 40
#: Breaths a minute a custom pattern may ask for (slower than 2 cannot fit the 30 s phases;
#: faster than 20 is not calming).
BPM_RANGE = (2.0, 20.0)


class PatternError(ValueError):
    """One line naming the pattern (or file) and what is wrong with it."""


@dataclass(frozen=True)
class PatternPhase:
    phase: Phase
    seconds: float
    #: How full the lungs are at the phase's start and end, 0..1; None: the usual for the phase
    #: (a breath in fills from empty, a breath out empties from full).
    fill: tuple[float, float] | None = None


@dataclass(frozen=True)
class BreathPattern:
    """A pattern: either the four classic numbers, or an explicit list of `phases`."""

    id: str
    title: str
    inhale: float = 0.0
    exhale: float = 0.0
    hold: float = 0.0
    hold_after: float = 0.0
    summary: str = ""
    phases: tuple[PatternPhase, ...] = field(default=())
    builtin: bool = True

    def __post_init__(self) -> None:
        if not self.phases:
            four = ((Phase.INHALE, self.inhale), (Phase.HOLD, self.hold),
                    (Phase.EXHALE, self.exhale), (Phase.REST, self.hold_after))
            object.__setattr__(self, "phases",
                               tuple(PatternPhase(p, s) for p, s in four if s > 0))

    @property
    def cycle_seconds(self) -> float:
        return sum(p.seconds for p in self.phases)

    @property
    def breaths_per_minute(self) -> float:
        return 60.0 / self.cycle_seconds if self.cycle_seconds > 0 else 0.0

    def describe(self) -> str:
        """The phases in plain words: "4 s in, 6 s out"."""
        return ", ".join(f"{_num(p.seconds)} s {WORD_OF[p.phase]}" for p in self.phases)

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "summary": self.summary,
            "builtin": self.builtin,
            "breaths_per_minute": round(self.breaths_per_minute, 2),
            "phases": [{"breath": WORD_OF[p.phase], "seconds": p.seconds} for p in self.phases],
        }


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def builtin_patterns_file() -> Path:
    return Path(str(importlib.resources.files("coreg_desktop").joinpath("patterns.toml")))


def check_seconds(value: object, where: str) -> float:
    """A phase length: a number of half seconds from 0 to 30."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PatternError(f"{where}: {value!r} is not a number of seconds")
    seconds = float(value)
    if not 0 <= seconds <= PHASE_MAX_S:
        raise PatternError(f"{where}: {_num(seconds)} s is out of range; use 0 to "
                           f"{_num(PHASE_MAX_S)} s")
    if abs(seconds / STEP_S - round(seconds / STEP_S)) > 1e-9:
        raise PatternError(f"{where}: {_num(seconds)} s is not a step of {STEP_S} s "
                           "(use 4 or 4.5, not 4.2)")
    return seconds


def check_pattern(pattern: BreathPattern, where: str) -> BreathPattern:
    """A pattern that can be breathed: at least one breath in and one out, each with a length."""
    phases = [p.phase for p in pattern.phases]
    if Phase.INHALE not in phases or Phase.EXHALE not in phases:
        raise PatternError(f"{where}: a pattern needs a breath in and a breath out")
    for p in pattern.phases:
        check_seconds(p.seconds, f"{where}, {WORD_OF[p.phase]}")
        if p.phase in (Phase.INHALE, Phase.EXHALE) and p.seconds < 1.0:
            raise PatternError(f"{where}: a breath {WORD_OF[p.phase]} of {_num(p.seconds)} s is "
                               "too quick to follow; use at least 1 s")
    return pattern


def from_rate(pattern_id: str, title: str, per_minute: float, ratio: float) -> BreathPattern:
    """A pattern from breaths a minute and how much longer the breath out is than the breath
    in (1.5: out takes 1.5 times as long), each rounded to half seconds."""
    lo, hi = BPM_RANGE
    if not math.isfinite(per_minute) or not lo <= per_minute <= hi:
        raise PatternError(f"{_num(per_minute)} breaths a minute is out of range; use {_num(lo)} "
                           f"to {_num(hi)}")
    if not math.isfinite(ratio) or not 0.5 <= ratio <= 3.0:
        raise PatternError(f"an in-to-out ratio of 1:{_num(ratio)} is out of range; use 1:0.5 "
                           "to 1:3")
    cycle = 60.0 / per_minute
    inhale = round(cycle / (1 + ratio) / STEP_S) * STEP_S
    exhale = round((cycle - inhale) / STEP_S) * STEP_S
    return BreathPattern(pattern_id, title, inhale=inhale, exhale=exhale, builtin=False)


def parse_ratio(text: str) -> float:
    """ "1:1.5" or "1.5" as how many times longer the breath out is."""
    parts = text.replace(" ", "").split(":")
    try:
        if len(parts) == 2:
            first, second = float(parts[0]), float(parts[1])
            if first <= 0:
                raise ValueError(text)
            return second / first
        if len(parts) == 1:
            return float(parts[0])
    except ValueError:
        pass
    raise PatternError(f'ratio "{text}" is not one; write it as in:out, such as 1:1.5')


def pattern_id_for(name: str) -> str:
    """The id a custom pattern's name gives: lower case, dashes for spaces."""
    cleaned = re.sub(r"[ _]+", "-", name.strip().lower())
    if (not ID_RE.fullmatch(cleaned) or len(name.strip()) > NAME_MAX
            or any(ord(c) < 32 or ord(c) == 127 for c in name)):
        raise PatternError(f'pattern name "{name}" is not allowed; use up to {NAME_MAX} letters, '
                           "digits, spaces or dashes, starting with a letter or digit")
    return cleaned


# ----------------------------------------------------------------------------- files


def _parse(data: Mapping[str, object], source: str, builtin: bool) -> list[BreathPattern]:
    entries = data.get("pattern", [])
    if not isinstance(entries, list):
        raise PatternError(f"{source}: [[pattern]] tables are expected")
    patterns: list[BreathPattern] = []
    for n, entry in enumerate(entries, 1):
        where = f"{source}, pattern {n}"
        if not isinstance(entry, dict):
            raise PatternError(f"{where}: is not a table")
        pattern_id = entry.get("id")
        if not isinstance(pattern_id, str) or not ID_RE.fullmatch(pattern_id):
            raise PatternError(f"{where}: id {pattern_id!r} is not allowed")
        where = f'{source}, pattern "{pattern_id}"'
        title = entry.get("title", pattern_id)
        summary = entry.get("summary", "")
        raw = entry.get("phases")
        if not isinstance(title, str) or not isinstance(summary, str):
            raise PatternError(f"{where}: title and summary must be text")
        if not isinstance(raw, list) or not raw:
            raise PatternError(f"{where}: phases must be a list, like "
                               '[{breath = "in", seconds = 4}, {breath = "out", seconds = 6}]')
        phases = []
        for i, item in enumerate(raw, 1):
            if not isinstance(item, dict) or item.get("breath") not in PHASE_WORDS:
                raise PatternError(f"{where}, phase {i}: breath must be one of "
                                   + ", ".join(f'"{w}"' for w in PHASE_WORDS))
            seconds = check_seconds(item.get("seconds"), f"{where}, phase {i}")
            fill = item.get("fill")
            if fill is not None:
                if (not isinstance(fill, list) or len(fill) != 2
                        or not all(isinstance(v, int | float) and 0 <= v <= 1 for v in fill)):
                    raise PatternError(f"{where}, phase {i}: fill must be [from, to], each 0 to 1")
                fill = (float(fill[0]), float(fill[1]))
            if seconds > 0:
                phases.append(PatternPhase(PHASE_WORDS[str(item["breath"])], seconds, fill))
        patterns.append(check_pattern(
            BreathPattern(pattern_id, title, summary=summary, phases=tuple(phases),
                          builtin=builtin), where))
    return patterns


def load_file(path: Path, builtin: bool) -> list[BreathPattern]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise PatternError(f"{path}: cannot be read ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PatternError(f"{path}: is not valid TOML ({exc})") from exc
    return _parse(data, str(path), builtin)


def dumps(patterns: Iterable[BreathPattern]) -> str:
    """The listener's patterns as TOML, everything they hold (a summary or a phase's fill
    written by hand survives a `pattern add`). Strings are JSON strings: valid TOML basic
    strings with quotes, backslashes and control characters escaped."""
    out = ["# Your own breathing patterns, kept by Coreg (`coreg-desktop pattern add`).\n"]
    for p in patterns:
        phases = []
        for x in p.phases:
            fill = f", fill = [{x.fill[0]}, {x.fill[1]}]" if x.fill is not None else ""
            phases.append(f'{{ breath = "{WORD_OF[x.phase]}", seconds = {x.seconds}{fill} }}')
        summary = f"summary = {json.dumps(p.summary)}\n" if p.summary else ""
        out.append(f"\n[[pattern]]\nid = {json.dumps(p.id)}\ntitle = {json.dumps(p.title)}\n"
                   f"{summary}phases = [{', '.join(phases)}]\n")
    text = "".join(out)
    tomllib.loads(text)  # never write what could not be read back
    return text


class PatternBook:
    """The built-in patterns and the listener's own; a user file that cannot be read is one
    line (said through `report`) and the built-in patterns still work."""

    def __init__(self, user_file: Path, report: Callable[[str], None] | None = None) -> None:
        self.user_file = user_file
        self._report = report or log.warning
        self.builtin = load_file(builtin_patterns_file(), builtin=True)
        self.problem: str | None = None
        self.shadowed: list[BreathPattern] = []
        self.mine = self._load_mine()

    def _load_mine(self) -> list[BreathPattern]:
        try:
            mine = load_file(self.user_file, builtin=False)
        except PatternError as exc:
            self.problem = str(exc)
            self._report(f"{exc}; your own patterns are not used until it is fixed")
            return []
        taken = {p.id for p in self.builtin}
        #: Kept in the file (never dropped by a save) but not used: a built-in has their id.
        self.shadowed = [p for p in mine if p.id in taken]
        for p in self.shadowed:
            self._report(f'{self.user_file}: your pattern "{p.id}" has the id of a built-in '
                         "one, so the built-in is used; rename yours to use it")
        return [p for p in mine if p.id not in taken]

    def all(self) -> list[BreathPattern]:
        return [*self.builtin, *self.mine]

    def get(self, pattern_id: str) -> BreathPattern:
        """By id, or by the name it was saved under ("My box" finds my-box)."""
        wanted = re.sub(r"[\s_]+", "-", pattern_id.strip().lower())
        for p in self.all():
            if p.id == wanted:
                return p
        ids = ", ".join(p.id for p in self.all())
        raise PatternError(f'no breathing pattern called "{pattern_id}"; choose one of {ids}')

    def add(self, pattern: BreathPattern) -> BreathPattern:
        """Save (or replace) one of the listener's patterns; never a built-in one."""
        from coreg_desktop import files

        if self.problem is not None:
            raise PatternError(f"{self.problem}; fix or remove it before adding a pattern")
        check_pattern(pattern, f'pattern "{pattern.id}"')
        if any(p.id == pattern.id for p in self.builtin):
            raise PatternError(f'"{pattern.id}" is a built-in pattern; give yours another name')
        mine = [p for p in self.mine if p.id != pattern.id] + [pattern]
        files.atomic_write(self.user_file, dumps([*self.shadowed, *mine]))
        self.mine = mine
        return pattern

    def remove(self, pattern_id: str) -> BreathPattern:
        from coreg_desktop import files

        found = self.get(pattern_id)
        if found.builtin:
            raise PatternError(f'"{found.id}" is built in and cannot be removed')
        mine = [p for p in self.mine if p.id != found.id]
        files.atomic_write(self.user_file, dumps([*self.shadowed, *mine]))
        self.mine = mine
        return found
