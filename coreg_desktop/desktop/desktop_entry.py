"""The launcher entry and icons, installed for the current user only.

Why per user: Coreg is usually pip-installed into a virtual environment, which a system menu
knows nothing about, and writing under /usr would need root. The freedesktop specs give every user
`$XDG_DATA_HOME/applications` and `$XDG_DATA_HOME/icons/hicolor`, which every desktop reads.

The entry's Exec line is the executable that is running now (the venv's `coreg-desktop`, or
`python -m coreg_desktop` when started that way), so the launcher starts the same install the user
tested. The "Quick reset" desktop action stays reachable where no tray exists (GNOME without the
AppIndicator extension).

This module is part of the Qt-free core: Qt is only imported, lazily and optionally, to render
PNG sizes of the SVG icon for panels that cannot draw SVG.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from coreg_desktop import APP_NAME, files

log = logging.getLogger(__name__)

ICON_NAME = APP_NAME  # "coreg-desktop": the name Icon= refers to
ENTRY_FILE = f"{APP_NAME}.desktop"
ICON_SVG = f"{APP_NAME}.svg"
TEMPLATE = f"{APP_NAME}.desktop.in"
#: Raster sizes for panels and docks that do not draw SVG (the common hicolor sizes).
PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256)

#: Characters that force an Exec argument into double quotes (Desktop Entry spec, "Exec key").
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")
#: Characters escaped with a backslash inside a quoted Exec argument.
_QUOTED_ESCAPES = set('"`$\\')


# ----------------------------------------------------------------------------- locations


def _xdg_dir(variable: str, fallback: str) -> Path:
    """An XDG base directory; a relative value is invalid by the spec and is ignored."""
    value = os.environ.get(variable, "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / fallback


def data_home() -> Path:
    return _xdg_dir("XDG_DATA_HOME", ".local/share")


def config_home() -> Path:
    return _xdg_dir("XDG_CONFIG_HOME", ".config")


def entry_path(data: Path | None = None) -> Path:
    return (data or data_home()) / "applications" / ENTRY_FILE


def icon_theme_dir(data: Path | None = None) -> Path:
    return (data or data_home()) / "icons" / "hicolor"


def asset_path(name: str) -> Path:
    """A file shipped in `assets/` (installed as the package data `coreg_desktop/assets`)."""
    resource = importlib.resources.files("coreg_desktop").joinpath("assets", name)
    path = Path(str(resource))
    if not path.is_file():
        raise FileNotFoundError(f"Coreg's asset {name} is missing from {path.parent}")
    return path


# ----------------------------------------------------------------------------- the entry


def launch_command() -> list[str]:
    """How to start this very install of Coreg again, as an argument list."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name == APP_NAME and argv0.is_file():
        return [str(argv0.resolve())]
    beside = Path(sys.executable).parent / APP_NAME  # the venv's own script
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which(APP_NAME)
    if found:
        return [found]
    return [sys.executable, "-m", "coreg_desktop"]


def quote_exec_arg(arg: str) -> str:
    """One Exec argument, quoted and escaped as the Desktop Entry spec requires.

    Two layers apply: quoting for the Exec argument splitter, then the general escaping of string
    values (a literal backslash becomes `\\\\` in the file). `%` is a field code, so it doubles.
    """
    arg = arg.replace("%", "%%")
    if arg and not any(ch in _RESERVED for ch in arg):
        return arg
    inner = "".join(f"\\{ch}" if ch in _QUOTED_ESCAPES else ch for ch in arg)
    return '"' + inner.replace("\\", "\\\\") + '"'


def exec_line(command: Sequence[str]) -> str:
    return " ".join(quote_exec_arg(a) for a in command)


def render_entry(command: Sequence[str] | None = None, extra_args: Sequence[str] = (),
                 extra_keys: Iterable[tuple[str, str]] = ()) -> str:
    """The .desktop text from the template in assets/, for `command` (default: this install).

    `extra_args` go on the main Exec line only (autostart adds `--minimized` there, while the
    Quick reset action keeps its own arguments). `extra_keys` are appended to [Desktop Entry].
    """
    command = list(command or launch_command())
    template = asset_path(TEMPLATE).read_text(encoding="utf-8")
    args = "".join(" " + quote_exec_arg(a) for a in extra_args)
    text = (template.replace("@EXEC@", exec_line(command))
            .replace("@ARGS@", args)
            .replace("@TRYEXEC@", quote_exec_arg(command[0])))
    keys = "".join(f"{k}={v}\n" for k, v in extra_keys)
    if keys:
        head, sep, rest = text.partition("\n[Desktop Action")
        text = head.rstrip("\n") + "\n" + keys + (sep + rest if sep else "")
    return text


def validate(path: Path) -> str | None:
    """desktop-file-validate's complaints about `path`; None if clean or the tool is absent."""
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        log.debug("desktop-file-validate is not installed; skipping validation")
        return None
    done = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=30,
                          check=False)
    output = (done.stdout + done.stderr).strip()
    return output or None


# ----------------------------------------------------------------------------- icons


def render_pngs(svg: Path, sizes: Sequence[int] = PNG_SIZES) -> dict[int, bytes]:
    """PNG renderings of the SVG icon, or {} when Qt's SVG module is not installed.

    Qt is imported here and only here: the rest of this module (and the CLI calling it) must work
    without it. QSvgRenderer paints into a QImage without any QGuiApplication or display.
    """
    try:
        from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF
        from PySide6.QtGui import QImage, QPainter
        from PySide6.QtSvg import QSvgRenderer
    except ImportError as exc:
        log.info("Not rendering PNG icons (%s); the SVG icon is installed", exc)
        return {}
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        log.warning("%s is not a valid SVG; no PNG icons rendered", svg)
        return {}
    out: dict[int, bytes] = {}
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(0)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")  # type: ignore[call-overload]  # stub says bytes; runtime: str
        buffer.close()
        out[size] = bytes(data.data())
    return out


def _icon_files(data: Path | None) -> list[Path]:
    theme = icon_theme_dir(data)
    return [theme / "scalable" / "apps" / ICON_SVG] + [
        theme / f"{s}x{s}" / "apps" / f"{ICON_NAME}.png" for s in PNG_SIZES
    ]


def _touch_theme(theme: Path) -> None:
    """Icon caches notice new icons by the theme folder's mtime."""
    with contextlib.suppress(OSError):
        if theme.is_dir():
            os.utime(theme)


# ----------------------------------------------------------------------------- install


@dataclass
class InstallReport:
    written: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    problems: str | None = None  # desktop-file-validate output, if it had any


def install(data: Path | None = None, command: Sequence[str] | None = None) -> InstallReport:
    """Write the launcher entry and icons for the current user. Idempotent."""
    report = InstallReport()
    entry = entry_path(data)
    files.atomic_write(entry, render_entry(command).encode("utf-8"))
    report.written.append(entry)
    svg = asset_path(ICON_SVG)
    theme = icon_theme_dir(data)
    target = theme / "scalable" / "apps" / ICON_SVG
    files.atomic_write(target, svg.read_bytes())
    report.written.append(target)
    for size, png in render_pngs(svg).items():
        target = theme / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png"
        files.atomic_write(target, png)
        report.written.append(target)
    _touch_theme(theme)
    report.problems = validate(entry)
    if report.problems:
        log.warning("desktop-file-validate: %s", report.problems)
    log.info("Installed the launcher entry %s", entry)
    return report


def uninstall(data: Path | None = None) -> InstallReport:
    """Remove exactly what `install` writes; missing files are fine."""
    report = InstallReport()
    for path in [entry_path(data), *_icon_files(data)]:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        report.removed.append(path)
    _touch_theme(icon_theme_dir(data))
    return report
