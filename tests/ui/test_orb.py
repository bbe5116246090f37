"""The breathing orb: its look at given timeline positions, its timer's life, and its painting."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage, QPalette, QPixmap, QRegion
from PySide6.QtWidgets import QStackedWidget, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from coreg_desktop.audio.mixer import Transport
from coreg_desktop.constants import SAMPLE_RATE, seconds_to_frames
from coreg_desktop.practice.loader import Library
from coreg_desktop.practice.model import Breathe, Cue, Pause, Phase, Practice
from coreg_desktop.practice.timeline import IDLE_CYCLE_S, State, Timeline, compile_timeline, plan
from coreg_desktop.ui import theme
from coreg_desktop.ui.bridge import PlayerBridge
from coreg_desktop.ui.orb import (
    BLEND_S,
    MAX_SCALE,
    MIN_SCALE,
    REDUCED_SCALE,
    OrbColours,
    OrbWidget,
    orb_geometry,
)

from ..qtkit import contrast

# A pause (idle breath), then two breaths of inhale 4 s, hold 2 s, exhale 6 s, rest 2 s.
BREATH = Practice(
    id="orb-test",
    title="Orb test",
    ambience="none",
    steps=(
        Pause(3.0),
        Breathe(inhale=4, hold=2, exhale=6, hold_after=2, cycles=2, cue=Cue.TONE),
    ),
)
INHALE_AT = 3.0
HOLD_AT = INHALE_AT + 4
EXHALE_AT = HOLD_AT + 2
REST_AT = EXHALE_AT + 6
NEXT_INHALE_AT = REST_AT + 2


pytestmark = pytest.mark.usefixtures("collect_on_the_gui_thread")


@pytest.fixture(scope="module")
def timeline() -> Timeline:
    # Tone cues need no narration, so the timeline is complete without any synthesis.
    line = compile_timeline(plan(BREATH), lambda _text: None)
    assert line.complete
    return line


def at(timeline: Timeline, seconds: float) -> State:
    return timeline.state_at(seconds_to_frames(seconds))


def look_at(timeline: Timeline, seconds: float, reduced: bool = False) -> tuple[float, ...]:
    look = orb_geometry(at(timeline, seconds), t_wall=123.0, reduced_motion=reduced)
    return (look.scale, look.glow, look.brightness)


# ------------------------------------------------------------------------------ geometry


def test_the_timeline_has_the_phases_where_the_test_expects_them(timeline: Timeline) -> None:
    assert at(timeline, 1.0).phase is Phase.IDLE
    assert at(timeline, INHALE_AT + 0.01).phase is Phase.INHALE
    assert at(timeline, HOLD_AT + 0.01).phase is Phase.HOLD
    assert at(timeline, EXHALE_AT + 0.01).phase is Phase.EXHALE
    assert at(timeline, REST_AT + 0.01).phase is Phase.REST
    assert at(timeline, NEXT_INHALE_AT + 0.01).phase is Phase.INHALE


def test_inhale_grows_from_small_to_full_with_easing(timeline: Timeline) -> None:
    start = orb_geometry(at(timeline, INHALE_AT), 0.0, False)
    middle = orb_geometry(at(timeline, INHALE_AT + 2.0), 0.0, False)
    end = orb_geometry(at(timeline, HOLD_AT - 1 / SAMPLE_RATE), 0.0, False)
    assert start.scale == pytest.approx(MIN_SCALE, abs=1e-6)
    assert middle.scale == pytest.approx((MIN_SCALE + MAX_SCALE) / 2, abs=1e-3)
    assert end.scale == pytest.approx(MAX_SCALE, abs=1e-4)
    assert start.glow < middle.glow < end.glow
    assert start.brightness == middle.brightness == end.brightness == 1.0  # size shows it

    scales = [look_at(timeline, INHALE_AT + k * 0.05)[0] for k in range(81)]
    steps = [b - a for a, b in itertools.pairwise(scales)]
    assert all(step > 0 for step in steps), "the orb must grow all through the inhale"
    # Eased: slow at the turn of the breath, fastest in the middle.
    assert steps[0] < steps[40] / 5
    assert steps[-1] < steps[40] / 5


def test_hold_stays_full_and_rest_stays_small(timeline: Timeline) -> None:
    holds = {look_at(timeline, HOLD_AT + k * 0.25) for k in range(8)}
    assert holds == {look_at(timeline, HOLD_AT)}
    assert look_at(timeline, HOLD_AT)[0] == pytest.approx(MAX_SCALE)
    rests = {look_at(timeline, REST_AT + k * 0.25) for k in range(8)}
    assert len(rests) == 1
    assert look_at(timeline, REST_AT)[0] == pytest.approx(MIN_SCALE)


def test_exhale_contracts_all_the_way(timeline: Timeline) -> None:
    scales = [look_at(timeline, EXHALE_AT + k * 0.1)[0] for k in range(61)]
    assert scales[0] == pytest.approx(MAX_SCALE, abs=1e-6)
    assert scales[30] == pytest.approx((MIN_SCALE + MAX_SCALE) / 2, abs=1e-3)
    assert all(b < a for a, b in itertools.pairwise(scales))
    assert look_at(timeline, REST_AT - 1 / SAMPLE_RATE)[0] == pytest.approx(MIN_SCALE, abs=1e-4)


def test_phase_label_and_a_gentle_count_down(timeline: Timeline) -> None:
    def text(seconds: float) -> tuple[str, str]:
        look = orb_geometry(at(timeline, seconds), 0.0, False)
        return look.label, look.count

    assert text(INHALE_AT) == ("Breathe in", "4")
    assert text(INHALE_AT + 0.5) == ("Breathe in", "4")
    assert text(INHALE_AT + 1.2) == ("Breathe in", "3")
    assert text(HOLD_AT - 0.1) == ("Breathe in", "1")
    assert text(HOLD_AT + 0.3) == ("Hold", "2")
    assert text(EXHALE_AT) == ("Breathe out", "6")
    assert text(REST_AT + 1.5) == ("Rest", "1")
    assert text(1.0) == ("", "")


def test_between_breathing_steps_the_orb_breathes_slowly_by_itself(timeline: Timeline) -> None:
    scales = [look_at(timeline, k * 0.1)[0] for k in range(30)]
    assert MIN_SCALE <= min(scales) < max(scales) < (MIN_SCALE + MAX_SCALE) / 2
    # The idle breath follows the audio clock too: the same moment always looks the same.
    assert look_at(timeline, 1.3) == look_at(timeline, 1.3)


def test_with_nothing_loaded_the_idle_breath_follows_the_wall_clock() -> None:
    looks = [orb_geometry(None, t, False) for t in (0.0, 2.0, 5.0, 6.5)]
    assert len({look.scale for look in looks}) == 4
    assert orb_geometry(None, 3.0, False) == orb_geometry(None, 3.0 + IDLE_CYCLE_S, False)
    assert all(look.label == "" and look.count == "" for look in looks)
    # Continuous across the cycle boundary: no jump when the idle cycle wraps.
    before = orb_geometry(None, IDLE_CYCLE_S - 1e-3, False).scale
    after = orb_geometry(None, IDLE_CYCLE_S + 1e-3, False).scale
    assert abs(after - before) < 1e-3


def test_a_finished_practice_rests_in_the_idle_breath(timeline: Timeline) -> None:
    end = timeline.state_at(timeline.total + 10)
    assert end.finished
    assert orb_geometry(end, 4.0, False) == orb_geometry(None, 4.0, False)


def test_reduced_motion_keeps_one_size_and_breathes_in_light(timeline: Timeline) -> None:
    samples = [look_at(timeline, k * 0.2, reduced=True) for k in range(int(NEXT_INHALE_AT * 5))]
    assert {s[0] for s in samples} == {REDUCED_SCALE}
    empty = look_at(timeline, INHALE_AT, reduced=True)
    full = look_at(timeline, HOLD_AT, reduced=True)
    assert full[1] - empty[1] > 0.6, "the glow must carry the breath"
    assert full[2] - empty[2] > 0.5, "so must the brightness"
    # And more strongly than with motion, where size already carries it.
    moving = look_at(timeline, HOLD_AT)[1] - look_at(timeline, INHALE_AT)[1]
    assert full[1] - empty[1] > moving
    labels = orb_geometry(at(timeline, INHALE_AT), 0.0, True)
    assert labels.label == "Breathe in"


# ------------------------------------------------------------------------------ widget


@pytest.fixture
def orb_bridge(bridge: PlayerBridge, library: Library) -> PlayerBridge:
    """The real bridge and player, with the breath-only practice added and the clock running."""
    library.practices[BREATH.id] = BREATH
    bridge.player.open()
    return bridge


def _window_with_orb(qtbot: QtBot, bridge: PlayerBridge) -> tuple[QWidget, OrbWidget]:
    window = QWidget()
    qtbot.addWidget(window)
    layout = QVBoxLayout(window)
    orb = OrbWidget(bridge)
    layout.addWidget(orb)
    window.resize(300, 300)
    return window, orb


def test_the_repaint_timer_runs_only_while_the_orb_can_be_seen(
    qtbot: QtBot, bridge: PlayerBridge
) -> None:
    window, orb = _window_with_orb(qtbot, bridge)
    assert not orb.animating
    window.show()
    qtbot.waitExposed(window)
    assert orb.animating
    window.hide()
    assert not orb.animating
    window.show()
    qtbot.waitExposed(window)
    assert orb.animating
    window.setWindowState(Qt.WindowState.WindowMinimized)
    qtbot.waitUntil(lambda: not orb.animating)
    window.setWindowState(Qt.WindowState.WindowNoState)
    window.show()
    qtbot.waitUntil(lambda: orb.animating)


def test_a_hidden_page_does_not_animate(qtbot: QtBot, bridge: PlayerBridge) -> None:
    stack = QStackedWidget()
    qtbot.addWidget(stack)
    other = QWidget()
    orb = OrbWidget(bridge)
    stack.addWidget(other)
    stack.addWidget(orb)
    stack.setCurrentWidget(orb)
    stack.show()
    qtbot.waitExposed(stack)
    assert orb.animating
    stack.setCurrentWidget(other)
    assert not orb.animating
    stack.setCurrentWidget(orb)
    assert orb.animating


def test_the_orb_follows_the_audio_clock_and_pauses_with_it(
    qtbot: QtBot, orb_bridge: PlayerBridge, tmp_path: Path
) -> None:
    window, orb = _window_with_orb(qtbot, orb_bridge)
    window.show()
    qtbot.waitExposed(window)
    assert orb_bridge.play(BREATH.id)

    def phase() -> Phase | None:
        state = orb_bridge.state()
        return state.phase if state is not None else None

    qtbot.waitUntil(lambda: phase() is Phase.INHALE, timeout=15000)
    first = orb.look()
    qtbot.wait(600)
    second = orb.look()
    assert second.scale > first.scale, "the orb grows while the audio plays an inhale"
    assert second.label == "Breathe in"

    orb_bridge.pause()
    qtbot.waitUntil(lambda: orb_bridge.transport is Transport.PAUSED)
    # The pause fades out, and what is already on its way to the ears is still heard: the clock
    # (and the orb) stop once that has played.
    last = [-1.0]

    def clock_stopped() -> bool:
        state = orb_bridge.state()
        assert state is not None
        still, last[0] = state.t == last[0], state.t
        return still

    qtbot.waitUntil(clock_stopped, timeout=3000)
    qtbot.wait(round(BLEND_S * 1000) + 100)  # and any easing of the inhale's start has settled
    frozen = orb.look()
    shot = orb.grab().toImage()
    qtbot.wait(500)
    assert orb.look() == frozen, "a paused clock means a still orb"
    again = orb.grab().toImage()
    assert again == shot
    shot.save(str(tmp_path / "orb-paused.png"))

    orb_bridge.resume()
    qtbot.waitUntil(lambda: orb.look() != frozen, timeout=3000)


def _render(orb: OrbWidget, target: QImage | QPixmap) -> None:
    """Paint the orb alone onto a target (it fills its own background)."""
    orb.render(target, QPoint(), QRegion(), QWidget.RenderFlag.DrawChildren)


def _steps(image: QImage, y: int) -> list[int]:
    """Colour change between neighbouring pixels along row `y`."""
    colours = [image.pixelColor(x, y) for x in range(image.width())]
    return [
        abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue())
        for a, b in itertools.pairwise(colours)
    ]


def _body_width(image: QImage, y: int) -> int:
    """The body's edge is the one sharp step on each side (the glow around it is soft)."""
    steps = _steps(image, y)
    half = len(steps) // 2
    left = max(range(half), key=steps.__getitem__)
    right = max(range(half, len(steps)), key=steps.__getitem__)
    return right - left


def test_the_painted_body_has_the_size_the_geometry_says(
    qtbot: QtBot, bridge: PlayerBridge
) -> None:
    orb = OrbWidget(bridge)
    qtbot.addWidget(orb)
    orb.resize(300, 300)
    image = QImage(300, 300, QImage.Format.Format_ARGB32_Premultiplied)
    _render(orb, image)
    expected = 2 * 150 / 1.5 * orb.look().scale  # nothing loaded: the slow idle breath
    assert _body_width(image, 150) == pytest.approx(expected, abs=3)

    orb.reduced_motion = True
    _render(orb, image)
    assert _body_width(image, 150) == pytest.approx(2 * 100 * REDUCED_SCALE, abs=3)


def test_crisp_at_twice_the_pixel_density(qtbot: QtBot, bridge: PlayerBridge) -> None:
    orb = OrbWidget(bridge)
    qtbot.addWidget(orb)
    orb.reduced_motion = True  # a fixed size, so both renders show the same orb
    orb.resize(200, 200)
    hidpi = QPixmap(400, 400)
    hidpi.setDevicePixelRatio(2.0)
    _render(orb, hidpi)
    lowdpi = QPixmap(200, 200)
    _render(orb, lowdpi)
    upscaled = lowdpi.scaled(
        400, 400, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
    # A row through the orb's edge away from its widest point, where the circle (not a sprite's
    # border) makes the edge.
    radius_px = 2 * 100 / 1.5 * REDUCED_SCALE
    row = 200 + round(0.6 * radius_px)
    crisp = max(_steps(hidpi.toImage(), row))
    blurry = max(_steps(upscaled.toImage(), row))
    # Painted in logical coordinates onto a 2x device from 2x sprites, the edge is as sharp as a
    # 1x edge is at 1x, which an upscaled 1x picture (or 1x sprites stretched) cannot be.
    assert crisp > 1.7 * blurry
    assert _body_width(hidpi.toImage(), 200) == pytest.approx(2 * radius_px, abs=4)


def _blend(a: QColor, b: QColor, t: float) -> QColor:
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
    )


@pytest.mark.parametrize("dark", [False, True])
def test_colours_follow_the_palette_and_the_label_stays_readable(dark: bool) -> None:
    palette = theme.make_palette(theme.colors(dark))
    colours = OrbColours.from_palette(palette)
    other = OrbColours.from_palette(theme.make_palette(theme.colors(not dark)))
    assert colours.key() != other.key()
    window = palette.color(QPalette.ColorRole.Window)
    # The glow must show against the window: a halo the colour of the background is no glow.
    assert contrast(colours.halo, window) > 1.3
    # The label sits in the middle of the orb, over the inner part of the gradient (bright or dim).
    for inner, outer in ((colours.inner, colours.outer), (colours.dim_inner, colours.dim_outer)):
        under_label = _blend(inner, outer, 0.6)
        assert contrast(colours.text, inner) >= 4.5
        assert contrast(colours.text, under_label) >= 4.5
    assert math.isclose(colours.outer.hslHueF(), theme.colors(dark).accent.hslHueF(), abs_tol=0.05)


def test_the_count_can_be_hidden_and_the_words_stay(timeline: Timeline) -> None:
    counted = orb_geometry(at(timeline, INHALE_AT + 0.5), 0.0, False)
    quiet = orb_geometry(at(timeline, INHALE_AT + 0.5), 0.0, False, counts=False)
    assert counted.count and quiet.count == ""
    assert quiet.label == counted.label and quiet.scale == counted.scale


def test_a_second_breath_in_tops_up_from_where_the_first_ended() -> None:
    """Cyclic sighing: the short second breath in grows the orb from three quarters to full,
    instead of starting again from empty."""
    from coreg_desktop.practice.patterns import PatternBook
    from coreg_desktop.sources import PacerSource

    sigh = PatternBook(Path("/nonexistent/patterns.toml")).get("cyclic-sighing")
    items = PacerSource(sigh, 1).next_items().items
    line = compile_timeline(items, lambda _text: 0)
    first_end = orb_geometry(line.state_at(round(1.99 * SAMPLE_RATE)), 0.0, False).scale
    second_start = orb_geometry(line.state_at(round(2.01 * SAMPLE_RATE)), 0.0, False).scale
    second_end = orb_geometry(line.state_at(round(2.99 * SAMPLE_RATE)), 0.0, False).scale
    assert abs(first_end - second_start) < 0.01  # no jump back to small
    assert second_end > second_start
