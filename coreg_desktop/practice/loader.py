"""Read practice files from disk and gather them into the `Library` the app offers.

The built-in practices ship in the package; the user's own live in their data folder and may
replace a built-in by reusing its id. A bad file must never take the others with it: each one is
reported once, as `path:line: what is wrong`, and skipped, and the rest still load. What makes a
file good or bad is `validate`'s job; this module only reads files and decides which practice
wins.
"""

from __future__ import annotations

import difflib
import importlib.resources
import logging
import re
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from coreg_desktop import paths
from coreg_desktop.practice.model import Practice
from coreg_desktop.practice.validate import (
    MAX_FILE_BYTES,
    LoadIssue,
    PracticeError,
    issue_at,
    parse_practice,
    parse_with_positions,
    too_large,
)

log = logging.getLogger(__name__)


def _read(path: Path) -> bytes:
    """The bytes of one file, refusing anything that is not a small regular file."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise PracticeError(
                issue_at(path, 1, "this is not a regular file, so it cannot be read")
            )
        if info.st_size > MAX_FILE_BYTES:
            raise too_large(path, info.st_size)
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)  # the file may have grown since stat()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise PracticeError(issue_at(path, 1, f"could not read the file ({reason})")) from None
    if len(data) > MAX_FILE_BYTES:
        raise too_large(path, len(data))
    return data


def load_file(path: Path, builtin: bool = False) -> Practice:
    """Read and parse one practice file; every failure is a `PracticeError`."""
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
            practice, source = parse_with_positions(_read(file), file, builtin)
        except PracticeError as exc:
            library.issues.append(exc.issue)
            report(str(exc.issue))
            continue
        first = loaded.get(practice.id)
        if first is not None:
            issue = issue_at(
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
