"""The safe person's photo in the orb: shown softly in a practice about them, under the label."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from coreg_desktop.audio.mixer import Transport
from coreg_desktop.practice.loader import Library
from coreg_desktop.practice.model import Breathe, Cue, Phase, Practice, Say
from coreg_desktop.safe_people import SafePeople
from coreg_desktop.ui.bridge import PlayerBridge
from coreg_desktop.ui.orb import OrbColours, OrbWidget
from tests.conftest import OFFSCREEN_NOISE

pytestmark = pytest.mark.usefixtures("collect_on_the_gui_thread")

WITH_THEM = Practice(
    id="with-them", title="With them", ambience="none",
    steps=(Say("Picture {safe_person}."),
           Breathe(inhale=6, exhale=6, cycles=3, cue=Cue.SILENT)),
)
ALONE = Practice(id="alone", title="Alone", ambience="none",
                 steps=(Breathe(inhale=6, exhale=6, cycles=1, cue=Cue.SILENT),))


@pytest.fixture
def ana_bridge(bridge: PlayerBridge, library: Library, tmp_path: Path) -> PlayerBridge:
    library.practices[WITH_THEM.id] = WITH_THEM
    library.practices[ALONE.id] = ALONE
    red = tmp_path / "red.png"
    Image.new("RGB", (600, 800), (230, 20, 20)).save(red)
    store = SafePeople()
    store.add("Ana", "grandmother")
    store.set_photo("Ana", red)
    bridge.settings.set("safe_person.name", "Ana")
    return bridge


def orb_window(qtbot: QtBot, bridge: PlayerBridge) -> OrbWidget:
    window = QWidget()
    qtbot.addWidget(window)
    orb = OrbWidget(bridge)
    QVBoxLayout(window).addWidget(orb)
    window.resize(360, 360)
    window.show()
    qtbot.waitExposed(window)
    return orb


def grab(orb: OrbWidget) -> QImage:
    orb.repaint()
    return orb.grab().toImage()


def far(a: QColor, b: QColor) -> int:
    return max(abs(a.red() - b.red()), abs(a.green() - b.green()), abs(a.blue() - b.blue()))


def test_the_photo_rests_softly_in_the_orb_and_never_covers_the_label(
    qtbot: QtBot, ana_bridge: PlayerBridge, themed: Callable[..., None]
) -> None:
    orb = orb_window(qtbot, ana_bridge)
    assert ana_bridge.play(ALONE.id)
    assert orb.photo_path is None  # not a practice about them
    assert ana_bridge.play(WITH_THEM.id)
    photo = SafePeople().require("Ana").photo_path
    assert orb.photo_path == str(photo)

    def breathing_in() -> bool:
        state = ana_bridge.state()
        return state is not None and state.phase is Phase.INHALE and state.phase_progress > 0.5

    qtbot.waitUntil(breathing_in, timeout=30_000)
    ana_bridge.pause()
    qtbot.waitUntil(lambda: ana_bridge.transport is Transport.PAUSED)
    qtbot.wait(200)  # the pause fade, so both pictures are of the same still moment
    with_photo = grab(orb)
    orb.set_photo(None)
    without = grab(orb)
    orb.set_photo(photo)
    assert grab(orb) == with_photo  # the same picture each time: a pure function of the state

    cx, cy = with_photo.width() // 2, with_photo.height() // 2
    r = min(orb.width(), orb.height()) / 2 / 1.5 * orb.look().scale
    below = (cx, round(cy + r * 0.55))  # inside the body, clear of the label
    tinted, plain = QColor(with_photo.pixel(*below)), QColor(without.pixel(*below))
    assert tinted.red() - plain.red() > 8, "the photo must be visible"
    # ... but softly: the saturated red photo is far from red inside the orb.
    assert tinted.red() - tinted.green() < 140 and tinted.red() - tinted.blue() < 140
    # The label: every pixel drawn in the text colour is still in the text colour.
    text = OrbColours.from_palette(orb.palette()).text
    glyphs = [(x, y) for y in range(cy - 40, cy + 40) for x in range(cx - 80, cx + 80)
              if far(QColor(without.pixel(x, y)), text) < 8]  # the glyphs, not their edges
    assert len(glyphs) > 50, "no label was drawn"
    worst = max(far(QColor(with_photo.pixel(x, y)), text) for x, y in glyphs)
    assert worst < 30, f"the photo shows through the label ({worst})"
    ana_bridge.stop(fade_s=0.05)
    qtbot.waitUntil(lambda: orb.photo_path is None)


# Qt's own reader says what is wrong with the file (and the offscreen plugin its usual notice).
@pytest.mark.qt_log_ignore("JPEG", "Corrupt", OFFSCREEN_NOISE)
def test_a_photo_that_cannot_be_read_is_no_photo(
    qtbot: QtBot, bridge: PlayerBridge, tmp_path: Path, themed: Callable[..., None]
) -> None:
    orb = orb_window(qtbot, bridge)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really")
    orb.set_photo(broken)
    assert orb.photo_path is None
    grab(orb)
