"""`render ID -o FILE` in any format, and `export-all DIR`: practices as files to take anywhere.

Kept out of `cli.py`, which registers these commands, so exporting lives in one place: the checks
made before minutes of rendering are spent (format, quality, a folder that can be written), the
progress bar, and the write itself. Every mistake is a `BadInput`: one line, exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from coreg_desktop.constants import SAMPLE_RATE

if TYPE_CHECKING:
    import numpy as np

    from coreg_desktop.audio.export import Format
    from coreg_desktop.core import Core
    from coreg_desktop.practice.model import Practice

QUALITY_HELP = "low, standard (the default: mp3 VBR about 190 kbps, opus 96 kbps) or high, " \
    "or a bitrate such as 128k"


def add_parser(sub: argparse._SubParsersAction, parser_class: type) -> None:
    p = sub.add_parser("export-all", help="write every practice to a folder, for a phone or a "
                       "music player")
    p.add_argument("folder", type=Path, metavar="DIR")
    p.add_argument("--format", default="mp3", metavar="F",
                   help="wav, flac, ogg, opus, mp3 (the default) or m4a")
    p.add_argument("--quality", metavar="Q", help=QUALITY_HELP)
    p.add_argument("--voice", metavar="V", help="narration voice (see `voices`)")
    p.add_argument("--no-ambient", action="store_true", help="leave the ambience out")
    p.add_argument("--ambience", metavar="NAME", help="use this ambience instead")


def check_output(path: Path, quality: str | None = None) -> Format:
    """The format `path` asks for, once it is known the file can be written there."""
    from coreg_desktop.audio.export import ExportError, check_quality, format_for
    from coreg_desktop.cli import BadInput

    try:
        fmt = format_for(path)
        check_quality(fmt, quality)
    except ExportError as exc:
        raise BadInput(str(exc)) from exc
    check_writable(path)
    return fmt


def check_writable(path: Path) -> None:
    """One line (a `BadInput`) for a file that cannot be written, said before any work is
    done: audio takes minutes to render, and a history export must not half-happen."""
    from coreg_desktop.cli import BadInput

    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise BadInput(f"{path}: is a folder, not a file name")
    if not parent.is_dir():
        raise BadInput(f"{path}: the folder {parent} does not exist")
    if path.exists() and not os.access(path, os.W_OK):
        raise BadInput(f"{path}: cannot write here (permission denied)")
    _probe(parent, path)


def _probe(folder: Path, shown: Path) -> None:
    """Try writing for real before minutes of synthesis: permissions alone do not tell (root,
    a read-only mount, /proc)."""
    from coreg_desktop.cli import BadInput

    probe = folder / f".{shown.name}.probe"
    try:
        probe.open("wb").close()
        probe.unlink()
    except OSError as exc:
        raise BadInput(f"{shown}: cannot write here ({exc.strerror or exc})") from exc


def write(
    core: Core,
    practice: Practice,
    path: Path,
    *,
    quality: str | None = None,
    ambience: str | None = None,
    minutes: float | None = None,
    start_rate: float | None = None,
    person: str | None = None,
    label: str | None = None,
) -> float:
    """Render and write one practice, with a progress bar on a terminal; its length in seconds."""
    return write_with(
        core, path, practice.title, core.ambience_for(practice, ambience),
        lambda progress: core.render(practice, ambience, minutes, start_rate, person,
                                     progress=progress),
        quality=quality, label=label,
    )


def write_with(
    core: Core,
    path: Path,
    title: str,
    soundscape: str,
    render: Callable[[Callable[[float], None]], np.ndarray],
    *,
    quality: str | None = None,
    label: str | None = None,
) -> float:
    """Render with `render(progress)` and write the result: a practice, or the pacer."""
    from coreg_desktop.audio.export import ExportError, export
    from coreg_desktop.cli import BadInput
    from coreg_desktop.terminal_progress import ProgressBar

    name = label or title
    bar = ProgressBar(f"{name}: making it")
    try:
        audio = render(lambda done: bar.update(done * 0.9))
        bar.update(0.9, f"{name}: writing {path.name}")
        comment = (f"Voice: {core.narrator.voice_label}; soundscape: {soundscape}. "
                   "Made with Coreg.")
        export(path, audio, title=title, comment=comment, quality=quality)
    except ExportError as exc:
        raise BadInput(str(exc)) from exc
    finally:
        bar.close()
    return len(audio) / SAMPLE_RATE


def clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def export_all(args: argparse.Namespace) -> int:
    """Every practice that has an end, one file each, named by its id."""
    from coreg_desktop.audio.export import FORMATS, ExportError, check_quality, supported
    from coreg_desktop.cli import EXIT_OK, BadInput, _ambience_choice, _core

    folder: Path = args.folder
    extension = "." + str(args.format).lower().lstrip(".")
    if extension not in FORMATS:  # before any folder is made
        raise BadInput(f'--format "{args.format}" is not a format Coreg can write; use '
                       f"{supported().replace('.', '')}")
    try:
        check_quality(FORMATS[extension], args.quality)
    except ExportError as exc:
        raise BadInput(str(exc)) from exc
    if folder.exists() and not folder.is_dir():
        raise BadInput(f"{folder}: is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"{folder}: cannot make this folder ({exc.strerror or exc})") from exc
    check_output(folder / f"quick-reset{extension}", args.quality)
    ambience = _ambience_choice(args)
    core = _core(args.voice)
    practices = [p for p in core.library.all if _has_an_end(core, p)]
    started = time.perf_counter()
    total = 0.0
    for n, practice in enumerate(practices, 1):
        path = folder / f"{practice.id}{extension}"
        seconds = write(core, practice, path, quality=args.quality, ambience=ambience,
                        label=f"{n} of {len(practices)}, {practice.title}")
        total += seconds
        print(f"Wrote {path} ({clock(seconds)})")
    print(f"{len(practices)} practices, {clock(total)} in all, in "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
    return EXIT_OK


def _has_an_end(core: Core, practice: Practice) -> bool:
    """Practices of open length (none today) are skipped; a file must end."""
    try:
        return core.source(practice, core.options()).estimated_seconds() is not None
    except ValueError:
        return False
