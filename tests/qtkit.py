"""Fixtures and checks for the Qt tests (tests/ui and tests/desktop): real settings, the real
library and a real player without a device.

The display is offscreen unless the run provides one (Xvfb in the e2e recipes), so the same tests
check layout and painting headless and under a real X server.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from coreg_desktop.audio.bank import SoundBank
from coreg_desktop.audio.output import NullOutput
from coreg_desktop.core import Core
from coreg_desktop.player import Player
from coreg_desktop.practice.loader import Library, load_library
from coreg_desktop.settings import Settings
from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.narrator import Narrator
from coreg_desktop.tts.piper import PiperSynthesizer
from coreg_desktop.ui.bridge import PlayerBridge
from coreg_desktop.ui.theme import apply_theme

if TYPE_CHECKING:
    from coreg_desktop.ui.main_window import MainWindow


@pytest.fixture
def collect_on_the_gui_thread() -> Iterator[None]:
    """Drop each test's Qt objects here, on the GUI thread. Left to the cyclic GC, they may be
    freed later from an audio or narration thread, and a QObject destroyed off its thread leaves
    its timers registered: the next timer event then crashes the run. Not autouse: only the
    modules that ask for it (their `pytestmark`) pay for a full collection after every test."""
    yield
    gc.collect()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(path=tmp_path / "settings.json")


@pytest.fixture
def library() -> Library:
    return load_library()


@pytest.fixture
def core(settings: Settings, library: Library, shared_cache: Path) -> Iterator[Core]:
    """The real core, with real Piper synthesis and mixing into a NullOutput: the timeline runs
    at a real audio clock with no sound device. The narration cache is shared by the whole run,
    so each text is synthesized once."""
    narrator = Narrator(PiperSynthesizer(), ClipCache(shared_cache / "narration"))
    bank = SoundBank(shared_cache / "ambience")
    core = Core(settings, library=library, narrator=narrator, bank=bank, output=NullOutput())
    core.player.open()  # as the app does at start-up: the mixer only moves while the stream runs
    yield core
    core.close()


@pytest.fixture
def player(core: Core) -> Player:
    return core.player


@pytest.fixture
def bridge(qapp: object, core: Core) -> PlayerBridge:
    return PlayerBridge(core)


@pytest.fixture
def themed(qapp: QApplication) -> Iterator[Callable[..., None]]:
    """Coreg's theme on the test app (light, system font); call it again for dark or a bigger
    font *before* building widgets. The app's own look is restored afterwards, so other tests
    see an untouched application."""
    palette, font, sheet = qapp.palette(), qapp.font(), qapp.styleSheet()

    def apply(dark: bool = False, font_scale: float = 1.0) -> None:
        scaled = QFont(font)
        scaled.setPointSizeF(font.pointSizeF() * font_scale)
        qapp.setFont(scaled)
        apply_theme(qapp, dark=dark, follow=False)

    apply()
    yield apply
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setFont(font)


def open_window(qtbot: QtBot, bridge: PlayerBridge, settings: Settings,
                size: tuple[int, int] | None = None) -> MainWindow:
    """The main window shown and active, as a person finds it: keyboard focus needs an active
    window, and activation is asynchronous. At teardown it really closes, as at quit."""
    from coreg_desktop.ui.main_window import MainWindow

    win = MainWindow(bridge, settings)
    qtbot.addWidget(win, before_close_func=lambda w: w.prepare_to_quit())
    if size is not None:
        win.resize(*size)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    return win


def without_checkins(settings: Settings) -> Settings:
    """Settings that ask no check-in question, for tests about something else (a practice
    started from the window then plays at once, and nothing asks when it ends)."""
    settings.update({"checkin.before": False, "checkin.after": False})
    settings.save()  # as if chosen in Settings: nothing is left unsaved for a test to find
    return settings


def layout_problems(root: QWidget) -> list[str]:
    """Visible text that does not fit its widget: a label or button narrower or shorter than its
    text needs (wrapped labels: shorter than their height for their width), or a window smaller
    than its layout's minimum."""
    problems: list[str] = []
    minimum = root.minimumSizeHint()
    if minimum.width() > root.width() or minimum.height() > root.height():
        problems.append(f"{root.objectName() or type(root).__name__}: {root.size()} < {minimum}")
    for label in root.findChildren(QLabel):
        if not label.isVisibleTo(root) or not label.text():
            continue
        name = label.text()[:30]
        if label.wordWrap():
            need = label.heightForWidth(label.width())
            if need > label.height() + 1:
                problems.append(f"label {name!r}: height {label.height()} < {need}")
        else:
            hint = label.sizeHint()
            if hint.width() > label.width() + 1 or hint.height() > label.height() + 1:
                problems.append(f"label {name!r}: {label.size()} < {hint}")
    for button in root.findChildren(QAbstractButton):
        if not button.isVisibleTo(root) or not button.text():
            continue
        hint = button.sizeHint()
        if hint.width() > button.width() + 1 or hint.height() > button.height() + 1:
            problems.append(f"button {button.text()!r}: {button.size()} < {hint}")
    return problems


def unnamed_controls(root: QWidget) -> list[str]:
    """Focusable or clickable widgets without an accessible name (a screen reader says nothing)."""
    missing = []
    kinds = (QAbstractButton, QAbstractSlider, QComboBox, QLineEdit)
    for widget in root.findChildren(QWidget):
        interactive = isinstance(widget, kinds) or (
            widget.focusPolicy() & Qt.FocusPolicy.TabFocus
            and type(widget).__module__.startswith("coreg_desktop")
        )
        if interactive and widget.isVisibleTo(root) and not widget.accessibleName().strip():
            missing.append(f"{type(widget).__name__} {widget.objectName()!r}")
    return missing


def contrast(a: QColor, b: QColor) -> float:
    """WCAG 2 contrast ratio."""

    def lum(c: QColor) -> float:
        def ch(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * ch(c.redF()) + 0.7152 * ch(c.greenF()) + 0.0722 * ch(c.blueF())

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)
