"""User settings: a declarative option table and the one service that owns their values.

Three promises shape this module:

* **Nothing a person wrote is lost.** A wrong value in a hand-edited file costs one clear line
  naming the file and the key, and that option alone falls back to its default; the value stays
  in the file until the person changes that setting. A file that is not JSON at all is moved
  aside (``settings.json.corrupt-<time>``), never silently overwritten.
* **Two writers never overwrite each other.** The desktop app and a ``config set`` in a terminal
  may both save. A save locks the file, reloads it, and writes back only the keys this process
  changed, so a volume slider released in the app keeps the name a terminal set a second ago.
* **Everyone hears about a change.** Subscribers (plain callables, given the changed keys) are
  told after ``set``, ``unset`` and after ``reload`` finds that another process changed the file.

Keys are dotted and stable (``volume.voice``); later features add theirs under the same scheme.
Files written by the first releases (``voice_volume``, ``tray_click_opens_window`` …) are migrated
as they are read.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import json
import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coreg_desktop import files, names, paths
from coreg_desktop.constants import AMBIENCE_IDS

log = logging.getLogger(__name__)

Subscriber = Callable[[list[str]], None]


class SettingError(ValueError):
    """A key or value that the option table does not allow; the message is one plain line."""


@dataclass(frozen=True)
class Option:
    key: str
    type: type
    default: Any
    doc: str
    #: Inclusive range for numbers.
    range: tuple[float, float] | None = None
    #: The allowed values, for strings that are one of a few.
    choices: tuple[str, ...] | None = None
    #: Longest text, for free strings.
    max_length: int | None = None
    #: A person's name (or how to say one): checked and tidied by `names`.
    name: bool = False
    #: For lists of short words (`type` list): what each item must match, and how to say it.
    item: re.Pattern[str] | None = None
    item_doc: str = ""
    #: Values allowed besides `choices`, and how to say them (the listener's own mixes).
    also: re.Pattern[str] | None = None
    also_doc: str = ""

    def allowed(self) -> str:
        """What a valid value looks like, for messages."""
        if self.choices is not None:
            listed = "one of " + ", ".join(f'"{c}"' if c else '"" (empty)' for c in self.choices)
            return f"{listed}, or {self.also_doc}" if self.also is not None else listed
        if self.range is not None:
            lo, hi = self.range
            return f"a number from {_num(lo)} to {_num(hi)}"
        if self.type is bool:
            return "true or false"
        if self.type is list:
            return f"a comma-separated list of {self.item_doc}"
        if self.name:
            most = self.max_length or NAME_MAX
            return f"a name of at most {most} letters, spaces, hyphens or apostrophes"
        if self.max_length is not None:
            return f"text of at most {self.max_length} characters, without control characters"
        return "text"


NAME_MAX = names.NAME_MAX
#: How a number is typed in a terminal: plain decimals (no "1_0", no "0x1", no "inf").
_NUMBER_RE = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
TRAY_QUICK_RESET = "quick-reset"
TRAY_OPENS_WINDOW = "open"
TRAY_CLICK_CHOICES = (TRAY_QUICK_RESET, TRAY_OPENS_WINDOW)
#: How lines that offer both ways (Self-Compassion's kind words) speak to the listener.
SPEAK_TO_NAME = "name"
SPEAK_TO_YOU = "you"
SPEAK_TO_CHOICES = (SPEAK_TO_NAME, SPEAK_TO_YOU)
#: A reminder's time of day, 24-hour.
TIME_OF_DAY_RE = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_RE = re.compile("|".join(WEEKDAYS))
MIX_ID_RE = re.compile(r"mix:[a-z0-9][a-z0-9-]{0,39}")

OPTIONS: tuple[Option, ...] = (
    Option("name", str, "", "Your first name, used gently in some practices; empty: not used.",
           max_length=NAME_MAX, name=True),
    Option("name_spoken", str, "",
           "How the voice should say your name, if it says it wrongly: a respelling such as "
           "'Sheer-sha' for Saoirse; captions still show your name. Empty: as written.",
           max_length=NAME_MAX, name=True),
    Option("speak_to", str, SPEAK_TO_NAME,
           "How Self-Compassion's kind words speak to you: by your name ('It's okay, Sam.') "
           "or as 'you' ('It's okay.').",
           choices=SPEAK_TO_CHOICES),
    Option("safe_person.name", str, "",
           "Someone who feels safe to you, for 'A Safe Person'; empty: not used.",
           max_length=NAME_MAX, name=True),
    Option("voice", str, "", "Narration voice id (see `voices`); empty: the default voice.",
           max_length=200),
    Option("rate", float, 1.0, "Speaking rate: 1.0 is normal, lower is slower.",
           range=(0.6, 1.5)),
    Option("ambience", str, "",
           "Soundscape for every practice (or one of your mixes, mix:NAME); empty: each "
           "practice's own.",
           choices=("", *AMBIENCE_IDS), also=MIX_ID_RE, also_doc="mix:NAME for one of your mixes"),
    Option("volume.voice", float, 0.9, "Voice volume, 0 to 1.", range=(0.0, 1.0)),
    Option("volume.ambience", float, 0.7, "Soundscape volume, 0 to 1.", range=(0.0, 1.0)),
    Option("captions", bool, True, "Show the words being spoken."),
    Option("reduced_motion", bool, False, "The orb glows instead of changing size."),
    Option("hide_counts", bool, False,
           "Leave out the seconds counted down in the orb (counting makes some people strain); "
           "the words and the orb still lead the breath."),
    Option("tray.click", str, TRAY_QUICK_RESET,
           "What a click on the tray icon does: start the quick reset, or open Coreg.",
           choices=TRAY_CLICK_CHOICES),
    Option("start_at_login", bool, False, "Start Coreg in the tray when you log in."),
    Option("checkin.before", bool, True,
           "Ask how activated you feel (0 to 10) before a practice started in the window; "
           "the tray's quick reset never waits for it."),
    Option("checkin.after", bool, True, "Ask again, on the same scale, when a practice ends."),
    Option("progress.streaks", bool, False,
           "Show how many days in a row you practised, on the Progress page."),
    Option("reminders.enabled", bool, False,
           "A gentle reminder at the times below; it waits while a practice plays."),
    Option("reminders.times", list, ["19:00"], "When to remind you, as HH:MM (24-hour).",
           item=TIME_OF_DAY_RE, item_doc="times as HH:MM (24-hour), such as 08:30, 19:00"),
    Option("reminders.days", list, list(WEEKDAYS), "On which days to remind you.",
           item=WEEKDAY_RE, item_doc="days as mon, tue, wed, thu, fri, sat, sun"),
)
OPTION_KEYS: dict[str, Option] = {o.key: o for o in OPTIONS}

#: Keys of the first releases, and how their values read under today's keys.
LEGACY_KEYS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "voice_volume": ("volume.voice", lambda v: v),
    "ambience_volume": ("volume.ambience", lambda v: v),
    "tray_click_opens_window": (
        "tray.click",
        lambda v: (TRAY_OPENS_WINDOW if v else TRAY_QUICK_RESET) if isinstance(v, bool) else v,
    ),
    "safe_person": ("safe_person.name", lambda v: v),
}


def settings_path() -> Path:
    return paths.config_dir() / "settings.json"


def migrate(data: Mapping[str, Any]) -> dict[str, Any]:
    """Today's keys for a file written by any release; a today's key wins over its legacy one."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in LEGACY_KEYS:
            new_key, convert = LEGACY_KEYS[key]
            if new_key not in data:
                out[new_key] = convert(value)
        else:
            out[key] = value
    return out


def check(option: Option, value: Any) -> Any:
    """`value` as the option's type, or SettingError with one line saying what is allowed."""
    ok: bool
    if option.type is bool:
        ok = isinstance(value, bool)
    elif option.type is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok:
            value = float(value)
            ok = math.isfinite(value)
    elif option.type is list:
        return _check_list(option, value)
    else:
        ok = isinstance(value, option.type)
    if ok and option.range is not None:
        lo, hi = option.range
        ok = lo <= value <= hi
    if ok and option.choices is not None:
        also = option.also
        ok = value in option.choices or (
            also is not None and isinstance(value, str) and bool(also.fullmatch(value))
        )
    if ok and option.name:
        value = names.clean(value)
        wrong = names.problem(value, option.max_length or NAME_MAX)
        if wrong:
            raise SettingError(f"{option.key}: {_show(value)} {wrong}")
    if ok and option.type is str and option.choices is None:
        ok = not any(ord(c) < 32 or ord(c) == 127 for c in value)
        if ok and option.max_length is not None:
            ok = len(value) <= option.max_length
    if not ok:
        raise SettingError(f"{option.key}: {_show(value)} is not allowed; use {option.allowed()}")
    return value


def _check_list(option: Option, value: Any) -> list[str]:
    """A list of distinct items, each matching `option.item`, kept in the order the option
    gives them (times sorted, days in week order), so equal lists compare equal."""
    if not isinstance(value, list | tuple) or option.item is None:
        raise SettingError(f"{option.key}: {_show(value)} is not allowed; use {option.allowed()}")
    items: list[str] = []
    for item in value:
        if not isinstance(item, str) or not option.item.fullmatch(item.strip().lower()):
            raise SettingError(f"{option.key}: {_show(item)} is not allowed; "
                               f"use {option.allowed()}")
        if item.strip().lower() not in items:
            items.append(item.strip().lower())
    if not items:  # reminders on with no time or day would never come, without a word
        raise SettingError(f"{option.key}: give at least one; use {option.allowed()}")
    if option.item is WEEKDAY_RE:
        return [day for day in WEEKDAYS if day in items]
    return sorted(items)


def parse(option: Option, text: str) -> Any:
    """A value typed in a terminal (`config set`), in the forms `config get` prints."""
    if option.type is list:
        return check(option, [part for part in (p.strip() for p in text.split(",")) if part])
    if option.type is bool:
        lowered = text.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise SettingError(f'{option.key}: "{text}" is not allowed; use true or false')
    if option.type is float:
        try:
            if not _NUMBER_RE.fullmatch(text.strip()):
                raise ValueError(text)
            number = float(text)
        except ValueError:
            raise SettingError(
                f'{option.key}: "{text}" is not a number; use {option.allowed()}'
            ) from None
        return check(option, number)
    return check(option, text)


def format_value(value: Any) -> str:
    """How `config get` prints a value: booleans as true/false, numbers and strings bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)  # exact: it round-trips
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def unknown_key(key: str) -> SettingError:
    close = difflib.get_close_matches(key, list(OPTION_KEYS), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else " (see `config list`)"
    return SettingError(f'no setting called "{key}"{hint}')


def option(key: str) -> Option:
    found = OPTION_KEYS.get(key)
    if found is None:
        raise unknown_key(key)
    return found


class Settings:
    """The settings owner: typed values over OPTIONS, with subscribers and merging saves.

    Thread-safe: the desktop's watcher, a view and a worker may use it at once. Subscribers are
    called outside the lock, on the thread that made the change.
    """

    def __init__(
        self, values: Mapping[str, Any] | None = None, path: Path | None = None
    ) -> None:
        self.path = path or settings_path()
        self._lock = threading.RLock()
        self._values: dict[str, Any] = {o.key: o.default for o in OPTIONS}
        self._dirty: set[str] = set()  # changed here, not yet saved
        self._subscribers: list[Subscriber] = []
        #: One line per thing wrong with the file, from the last load or reload.
        self.problems: list[str] = []
        for key, value in migrate(values or {}).items():
            if key in OPTION_KEYS:
                self._values[key] = check(OPTION_KEYS[key], value)

    # ------------------------------------------------------------------ reading

    def __getitem__(self, key: str) -> Any:
        return self.get(key)

    def get(self, key: str) -> Any:
        option(key)
        with self._lock:
            return self._values[key]

    def text(self, key: str) -> str:
        value = self.get(key)
        if not isinstance(value, str):
            raise TypeError(f"{key} is not a text setting")
        return value

    def number(self, key: str) -> float:
        value = self.get(key)
        if not isinstance(value, float):
            raise TypeError(f"{key} is not a number setting")
        return value

    def flag(self, key: str) -> bool:
        value = self.get(key)
        if not isinstance(value, bool):
            raise TypeError(f"{key} is not a true/false setting")
        return value

    def snapshot(self) -> tuple[dict[str, Any], frozenset[str]]:
        """The values and which are unsaved, to put back with `restore` if a save fails."""
        with self._lock:
            return dict(self._values), frozenset(self._dirty)

    def restore(self, snapshot: tuple[dict[str, Any], frozenset[str]]) -> None:
        """Back to a snapshot: values and unsaved marks alike (subscribers hear the change),
        so a change that could not be saved neither lingers nor overwrites a later one."""
        values, dirty = snapshot
        with self._lock:
            changed = [k for k, v in values.items() if self._values[k] != v]
            self._values = dict(values)
            self._dirty = set(dirty)
        self._tell(changed)

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._values)

    def placeholder_values(self) -> dict[str, str | None]:
        """What `{name}` and `{safe_person}` in practice texts become."""
        return {
            "name": self.text("name") or None,
            "safe_person": self.text("safe_person.name") or None,
        }

    def spoken_placeholder_values(self) -> dict[str, str | None]:
        """The same, as the voice says them: the name's respelling, when there is a name."""
        values = self.placeholder_values()
        if values["name"] and self.text("name_spoken"):
            values["name"] = self.text("name_spoken")
        return values

    def by_name(self) -> bool:
        """Whether lines that can speak to the listener either way use their name."""
        return self.text("speak_to") == SPEAK_TO_NAME

    # ------------------------------------------------------------------ changing

    def set(self, key: str, value: Any) -> bool:
        """Validate and set one value; True if it changed. Raises SettingError."""
        return bool(self.update({key: value}))

    def update(self, changes: Mapping[str, Any]) -> list[str]:
        """Set several values at once (all or none); subscribers hear once. Returns changed keys."""
        checked = {key: check(option(key), value) for key, value in changes.items()}
        with self._lock:
            changed = [k for k, v in checked.items() if self._values[k] != v]
            for key, value in checked.items():
                self._values[key] = value
                self._dirty.add(key)
        self._tell(changed)
        return changed

    def unset(self, key: str) -> bool:
        """Back to the default: the key leaves the file at the next save."""
        opt = option(key)
        with self._lock:
            changed = self._values[key] != opt.default
            self._values[key] = opt.default
            self._dirty.add(key)
        self._tell([key] if changed else [])
        return changed

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call `subscriber(keys)` after each change; returns a function that unsubscribes."""
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._subscribers.remove(subscriber)

        return unsubscribe

    def _tell(self, keys: list[str]) -> None:
        if not keys:
            return
        with self._lock:
            subscribers = list(self._subscribers)
        ordered = [o.key for o in OPTIONS if o.key in keys]
        for subscriber in subscribers:
            try:
                subscriber(ordered)
            except Exception:  # one broken listener must not stop the others hearing
                log.exception("A settings subscriber failed on %s", ", ".join(ordered))

    # ------------------------------------------------------------------ the file

    @classmethod
    def load(
        cls, path: Path | None = None, report: Callable[[str], None] | None = None
    ) -> Settings:
        """Read the file leniently; each problem is one line, reported and kept in `problems`."""
        settings = cls(path=path)
        settings.reload(report=report, notify=False)
        return settings

    def reload(
        self, report: Callable[[str], None] | None = None, notify: bool = True
    ) -> list[str]:
        """Take in what another process saved; values changed here and not yet saved are kept.

        Returns (and tells subscribers) the keys whose value changed.
        """
        with self._lock, self._file_lock(create=False):
            data, problems, moved = self._read_file()
            if moved:
                # The file was unusable and is now aside. What this process holds is the best
                # copy there is: keep it (and write it back at the next save) rather than
                # falling back to defaults under the listener's feet.
                self._dirty |= {k for k, v in self._values.items() if v != OPTION_KEYS[k].default}
                data = {k: self._values[k] for k in self._dirty}
            fresh = {o.key: o.default for o in OPTIONS}
            for key, value in data.items():
                opt = OPTION_KEYS.get(key)
                if opt is None:
                    continue  # a newer version's key: kept in the file, not used here
                try:
                    fresh[key] = check(opt, value)
                except SettingError as exc:
                    problems.append(f"{self.path}: {exc}; using {_show(opt.default)} for now")
            changed = []
            for key, value in fresh.items():
                if key in self._dirty:
                    continue
                if self._values[key] != value:
                    self._values[key] = value
                    changed.append(key)
            new = [p for p in problems if p not in self.problems]
            self.problems = problems
        for problem in new:  # said once, not again at every reload
            (report or log.warning)(problem)
        if notify:
            self._tell(changed)
        return changed

    def save(self) -> list[str]:
        """Write the keys changed here into the file as it is now; returns the keys written.

        The file is locked, re-read and merged, so a change another process saved since this
        one loaded is kept. Raises OSError when the folder cannot be written; the values stay
        changed in memory (and dirty, so a later save may still succeed).
        """
        with self._lock:
            dirty = sorted(self._dirty)
            if not dirty:
                return []
            with self._file_lock(create=True):
                data, _problems, _moved = self._read_file()
                for key in dirty:
                    if self._values[key] == OPTION_KEYS[key].default:
                        data.pop(key, None)
                    else:
                        data[key] = self._values[key]
                text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
                files.atomic_write(self.path, text, mode=files.PRIVATE_FILE)
            self._dirty.clear()
            return dirty

    def _read_file(self) -> tuple[dict[str, Any], list[str], bool]:
        """The file's (migrated) contents, its problems, and whether it had to be moved aside."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}, [], False
        except OSError as exc:
            return {}, [self._move_aside(f"cannot be read ({exc.strerror or exc})")], True
        try:
            text = raw.decode("utf-8")
            data = json.loads(text) if text.strip() else {}
            if not isinstance(data, dict):
                raise ValueError("it must hold a JSON object")
        except ValueError as exc:
            return {}, [self._move_aside(f"is not valid settings ({_first_line(exc)})")], True
        return migrate(data), [], False

    def _move_aside(self, why: str) -> str:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while aside.exists():  # a second damaged file within the second keeps the first
            n += 1
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        try:
            os.replace(self.path, aside)
        except OSError as exc:
            return (f"{self.path} {why}, and could not be moved aside ({exc.strerror or exc}); "
                    "using the default settings")
        return f"{self.path} {why}; it was moved to {aside.name} and the defaults are used"

    @contextlib.contextmanager
    def _file_lock(self, create: bool) -> Iterator[None]:
        """An advisory lock beside the file, so two processes never interleave a merge.

        Only a save (`create`) makes the folder and the lock file: reading settings that were
        never saved leaves no trace.
        """
        lock_path = self.path.with_name(f".{self.path.name}.lock")
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            elif not lock_path.exists() and not self.path.exists():
                yield  # nothing saved yet: nothing to read, nothing to guard
                return
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, files.PRIVATE_FILE)
        except OSError:
            yield  # a read-only config folder: nothing can be written, so nothing to guard
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def _num(value: float) -> str:
    return f"{value:g}"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "…"
        return json.dumps(shown, ensure_ascii=False)
    return repr(value)


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
