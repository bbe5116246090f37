"""The breathing orb: a soft, glowing circle that shows the pace of the breath.

Two rules shape this module:

* The orb's look is a pure function of the timeline state at the audio clock (`orb_geometry`).
  Nothing here counts timer ticks, so the orb can never drift from the voice, and when the audio
  pauses the orb pauses with it. The repaint timer only decides *when* to draw, never *what*.
* A safe person's photo may rest inside it (during a practice about them): cropped to a circle,
  washed toward the orb's own colour so it stays soft and low in contrast, and drawn with the
  body, so it grows and shrinks with the breath (and stays still under reduced motion). The
  phase label is painted over it, never under it.
* It must be cheap. The gradients are rendered once per size into pixmaps, and each frame only
  places and blends them; the repaint timer runs only while the orb can actually be seen (not in
  a hidden page, a hidden window, the tray, or a minimised window), and a frame that would not
  look different (a paused practice, a hold, the slowest parts of a breath) is not painted.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QHideEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPixmap,
    QRadialGradient,
    QShowEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from coreg_desktop.audio.mixer import Transport
from coreg_desktop.practice.model import Phase
from coreg_desktop.practice.timeline import IDLE_CYCLE_S, State
from coreg_desktop.ui import theme
from coreg_desktop.ui.bridge import PlayerBridge

log = logging.getLogger(__name__)

#: The orb's radius as a fraction of its largest size: empty lungs ... full lungs.
MIN_SCALE = 0.55
MAX_SCALE = 1.0
#: With reduced motion the orb keeps one size; breathing shows in glow and brightness only.
REDUCED_SCALE = 0.8
#: The idle breath (no breathing step running) moves gently in the lower part of the range, so it
#: reads as "resting", not as a cue to breathe in.
IDLE_LOW = 0.12
IDLE_DEPTH = 0.32
#: ~60 fps. A coarse timer is fine: what is drawn comes from the audio clock, not from the timer.
FRAME_MS = 16
#: While frames keep coming out identical, the timer slows to this (and is back at FRAME_MS on
#: the first frame that changes), so slow phases do not wake the process 60 times a second.
SLOW_FRAME_MS = 50
#: A sudden change of look (a breathing step starting, a seek, a practice starting) is eased over
#: this long instead of snapping, ...
BLEND_S = 0.9
#: ... where "sudden" means more than this change between two frames (the fastest real breath
#: moves the scale by well under 0.01 per frame).
JUMP = 0.05
#: A frame is painted only when it would look different from the last one: the orb's edge moves
#: by at least this many device pixels, or its glow or brightness by at least VISIBLE_LEVEL. The
#: middle of a quick breath gets nearly every frame; the slow idle breath, a hold or a pause cost
#: (almost) nothing. Half-pixel steps of an antialiased edge read as continuous motion.
VISIBLE_PX = 0.5
VISIBLE_LEVEL = 0.008
#: The glow reaches this far beyond the orb's edge (as a multiple of its radius).
HALO_FACTOR = 1.5
#: A photo fills this much of the orb's body, ...
PHOTO_FRACTION = 0.9
#: ... washed this far toward the orb's own light colour (low contrast, never a hard picture) ...
PHOTO_WASH = 0.38
#: ... and drawn at this opacity over the body, its edge fading into the orb's.
PHOTO_OPACITY = 0.62
#: Transparent room around each sprite's circle (logical px), so its antialiased edge is never
#: cut off by the sprite's own border when drawn.
SPRITE_PAD = 2.0


@dataclass(frozen=True)
class OrbLook:
    """What the orb looks like at one moment; everything `paintEvent` needs, nothing more."""

    scale: float  # MIN_SCALE..MAX_SCALE of the largest radius
    glow: float  # 0..1: opacity of the halo
    brightness: float  # 0..1: how much of the bright body shows over the dim one
    label: str  # "Breathe in", "Hold", "Breathe out", "Rest", or "" between breathing steps
    count: str  # whole seconds left in the phase ("4", "3", ...), or ""


def ease(p: float) -> float:
    """Sine ease-in-out: a breath starts and ends slowly, like lungs do."""
    p = min(max(p, 0.0), 1.0)
    return 0.5 - 0.5 * math.cos(math.pi * p)


def idle_level(progress: float) -> float:
    """One slow idle breath over `progress` 0..1; continuous across cycles (cosine)."""
    return IDLE_LOW + IDLE_DEPTH * (0.5 - 0.5 * math.cos(2.0 * math.pi * progress))


def breath_level(state: State | None, t_wall: float) -> float:
    """How full the lungs are, 0..1, at this state (or on the wall clock when nothing plays)."""
    if state is None or state.finished:
        return idle_level((t_wall % IDLE_CYCLE_S) / IDLE_CYCLE_S)
    p = state.phase_progress
    if state.fill is not None and state.phase in (Phase.INHALE, Phase.EXHALE):
        start, end = state.fill  # a second, shorter breath in tops up from where the first ended
        return start + (end - start) * ease(p)
    if state.phase is Phase.INHALE:
        return ease(p)
    if state.phase is Phase.HOLD:
        return 1.0
    if state.phase is Phase.EXHALE:
        return 1.0 - ease(p)
    if state.phase is Phase.REST:
        return 0.0
    return idle_level(p)  # Phase.IDLE: the timeline already cycles over IDLE_CYCLE_S


def orb_geometry(state: State | None, t_wall: float, reduced_motion: bool,
                 counts: bool = True) -> OrbLook:
    """The orb's look for a timeline state; `t_wall` only paces the idle breath when state is None.

    Pure, so every moment of a practice can be checked without a display.
    """
    level = breath_level(state, t_wall)
    if reduced_motion:
        scale = REDUCED_SCALE
        glow = 0.12 + 0.88 * level
        brightness = 0.25 + 0.75 * level
    else:
        # Size and glow carry the breath; the body stays at full brightness, which also spares
        # a second full-size blend on every frame.
        scale = MIN_SCALE + (MAX_SCALE - MIN_SCALE) * level
        glow = 0.45 + 0.55 * level
        brightness = 1.0
    label = ""
    count = ""
    if state is not None and not state.finished and state.phase is not Phase.IDLE:
        label = state.phase_label
        seconds = math.ceil(max(0.0, state.phase_remaining) - 1e-3)
        count = str(max(1, seconds)) if counts else ""
    return OrbLook(scale, glow, brightness, label, count)


def _mix(a: OrbLook, b: OrbLook, w: float) -> OrbLook:
    return OrbLook(
        a.scale + (b.scale - a.scale) * w,
        a.glow + (b.glow - a.glow) * w,
        a.brightness + (b.brightness - a.brightness) * w,
        b.label,
        b.count,
    )


def _distance(a: OrbLook, b: OrbLook) -> float:
    return max(abs(a.scale - b.scale), abs(a.glow - b.glow), abs(a.brightness - b.brightness))


# ------------------------------------------------------------------------------------ colours


@dataclass(frozen=True)
class OrbColours:
    """A soft teal body with a lavender rim, from the theme's accent for a light or dark window."""

    inner: QColor
    outer: QColor
    rim: QColor
    dim_inner: QColor
    dim_outer: QColor
    dim_rim: QColor
    halo: QColor
    halo_edge: QColor
    text: QColor

    @classmethod
    def from_palette(cls, palette: QPalette) -> OrbColours:
        dark = theme.palette_is_dark(palette)
        tones = theme.colors(dark)
        hue = tones.accent.hslHueF()
        lavender = tones.lavender

        def hsl(h: float, s: float, lum: float, a: float = 1.0) -> QColor:
            return QColor.fromHslF(h % 1.0, s, lum, a)

        lav = lavender.hslHueF()
        if dark:
            return cls(
                inner=hsl(hue - 0.02, 0.50, 0.84),
                outer=hsl(hue + 0.01, 0.40, 0.60),
                rim=hsl(lav, 0.36, 0.68),
                dim_inner=hsl(hue, 0.26, 0.64),
                dim_outer=hsl(hue + 0.02, 0.24, 0.50),
                dim_rim=hsl(lav, 0.20, 0.44),
                halo=hsl(hue, 0.55, 0.60, 0.6),
                halo_edge=hsl(lav, 0.45, 0.60, 0.0),
                text=hsl(hue + 0.03, 0.45, 0.11),
            )
        return cls(
            inner=hsl(hue - 0.02, 0.48, 0.88),
            outer=hsl(hue + 0.01, 0.38, 0.64),
            rim=hsl(lav, 0.34, 0.75),
            dim_inner=hsl(hue, 0.24, 0.80),
            dim_outer=hsl(hue + 0.02, 0.22, 0.66),
            dim_rim=hsl(lav, 0.18, 0.76),
            halo=hsl(hue, 0.50, 0.58, 0.62),
            halo_edge=hsl(lav, 0.45, 0.72, 0.0),
            text=hsl(hue + 0.03, 0.50, 0.15),
        )

    def key(self) -> tuple[int, ...]:
        return tuple(c.rgba() for c in (self.inner, self.outer, self.halo, self.text))


@dataclass
class _Sprites:
    """The orb's gradients, rendered once per size in device pixels; frames only place them."""

    halo: QPixmap
    dim: QPixmap
    bright: QPixmap
    scale: float = 1.0  # the orb scale these were rendered for


def _sprite_canvas(r: float, dpr: float) -> tuple[QPixmap, QPainter]:
    """A square for a circle of radius `r`, with SPRITE_PAD of room so no edge is clipped."""
    extent = r + SPRITE_PAD
    size = max(2, math.ceil(2 * extent * dpr))
    pixmap = QPixmap(size, size)
    pixmap.setDevicePixelRatio(dpr)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.scale(size / dpr / (2 * extent), size / dpr / (2 * extent))
    painter.translate(SPRITE_PAD, SPRITE_PAD)
    return pixmap, painter


def _render_sprites(
    radius: float, dpr: float, colours: OrbColours, halo_factor: float = HALO_FACTOR
) -> _Sprites:
    halo_r = radius * halo_factor
    halo, painter = _sprite_canvas(halo_r, dpr)
    g = QRadialGradient(QPointF(halo_r, halo_r), halo_r)
    inner = radius / halo_r
    g.setColorAt(0.0, colours.halo)
    g.setColorAt(inner * 0.9, colours.halo)
    for along, strength in ((0.15, 0.78), (0.35, 0.48), (0.6, 0.2), (0.85, 0.05)):
        tone = theme.mix(colours.halo, colours.halo_edge, along)
        tone.setAlphaF(colours.halo.alphaF() * strength)
        g.setColorAt(inner + (1 - inner) * along, tone)
    g.setColorAt(1.0, colours.halo_edge)
    painter.setBrush(g)
    painter.drawEllipse(QRectF(0, 0, 2 * halo_r, 2 * halo_r))
    painter.end()

    def body(inner: QColor, outer: QColor, rim: QColor) -> QPixmap:
        pixmap, p = _sprite_canvas(radius, dpr)
        c = QPointF(radius, radius)
        focal = QPointF(radius * 0.84, radius * 0.76)  # a soft light from the upper left
        grad = QRadialGradient(c, radius, focal)
        grad.setColorAt(0.0, inner)
        grad.setColorAt(0.78, outer)
        grad.setColorAt(0.93, theme.mix(outer, rim, 0.6))
        grad.setColorAt(1.0, rim)
        p.setBrush(grad)
        p.drawEllipse(QRectF(0, 0, 2 * radius, 2 * radius))
        p.end()
        return pixmap

    return _Sprites(
        halo=halo,
        dim=body(colours.dim_inner, colours.dim_outer, colours.dim_rim),
        bright=body(colours.inner, colours.outer, colours.rim),
    )


def render_photo(image: QImage, radius: float, dpr: float, colours: OrbColours) -> QPixmap:
    """The photo as a soft disc of `radius`: centre-cropped to a circle, washed toward the orb's
    light, its edge fading out, so it reads as a gentle presence rather than a picture."""
    pixmap, p = _sprite_canvas(radius, dpr)
    p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    disc = QRectF(0, 0, 2 * radius, 2 * radius)
    clip = QPainterPath()
    clip.addEllipse(disc)
    p.setClipPath(clip)
    side = min(image.width(), image.height())
    # A portrait's face is usually in its upper part: crop a little above the middle.
    top = max(0, round((image.height() - side) * 0.35))
    source = QRectF((image.width() - side) / 2, top, side, side)
    p.drawImage(disc, image, source)
    wash = QColor(colours.inner)
    wash.setAlphaF(PHOTO_WASH)
    p.fillRect(disc, wash)
    p.setClipping(False)
    fade = QRadialGradient(QPointF(radius, radius), radius)
    fade.setColorAt(0.0, QColor(0, 0, 0, 255))
    fade.setColorAt(0.72, QColor(0, 0, 0, 255))
    fade.setColorAt(1.0, QColor(0, 0, 0, 0))
    p.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationIn)
    p.fillRect(disc, fade)
    p.end()
    return pixmap


# ------------------------------------------------------------------------------------- widget


class OrbWidget(QWidget):
    """Paints `orb_geometry(bridge.state(), ...)`, checking about 60 times a second while it can be
    seen, and painting whenever the picture would change."""

    #: Every frame tick while animating, so a view can refresh its progress text without a timer
    #: of its own (and so without waking up while the orb cannot be seen).
    ticked = Signal()
    #: A click on the orb, or Space or Enter while it has focus, with `takes_taps` on: the
    #: listener marking the start of a breath in (Breathe with Me).
    tapped = Signal()

    def __init__(
        self, bridge: PlayerBridge, parent: QWidget | None = None, *, halo: float = HALO_FACTOR
    ) -> None:
        """`halo` is how far the glow reaches beyond the largest orb (a multiple of its radius);
        a small window trades some glow for a bigger orb."""
        super().__init__(parent)
        self._bridge = bridge
        self._halo = max(1.05, halo)
        self._reduced_motion = False
        self._counts = True
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._tick)
        self._watched: QWidget | None = None
        self._last: OrbLook | None = None  # what the last frame showed
        self._last_paused = False
        self._still_ticks = 0
        self._blend_from: OrbLook | None = None
        self._blend_t0 = 0.0
        self._sprites: _Sprites | None = None
        self._colour_cache: tuple[int, OrbColours] | None = None
        self._sprites_key: tuple[object, ...] = ()
        self._fonts: tuple[QFont, QFont] | None = None
        self._fonts_key: tuple[object, ...] = ()
        self._described = ""
        self._photo: QImage | None = None
        self._photo_path: str | None = None
        self._photo_sprite: tuple[tuple[object, ...], QPixmap] | None = None
        bridge.practiceStarted.connect(lambda _id: self.show_photo_of_practice())
        bridge.stopped.connect(lambda _id: self.set_photo(None))
        self._takes_taps = False
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(140, 140)
        # The orb fills its own background with the window colour, so Qt need not repaint the
        # widgets beneath it on every frame.
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAccessibleName("Breathing guide")
        self.setAccessibleDescription(
            "The orb grows as you breathe in and shrinks as you breathe out."
        )
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    # ------------------------------------------------------------------ public

    @property
    def reduced_motion(self) -> bool:
        return self._reduced_motion

    @reduced_motion.setter
    def reduced_motion(self, value: bool) -> None:
        if value != self._reduced_motion:
            self._reduced_motion = value
            self._last = None  # a deliberate change of mode shows at once, not eased in
            self._blend_from = None
            self.update()

    @property
    def counts(self) -> bool:
        """Whether the seconds of each phase are counted down inside the orb."""
        return self._counts

    @counts.setter
    def counts(self, value: bool) -> None:
        if value != self._counts:
            self._counts = value
            self.update()

    @property
    def photo_path(self) -> str | None:
        """The photo shown inside the orb, if any."""
        return self._photo_path

    def set_photo(self, path: Path | None) -> None:
        """Show a photo softly inside the orb (None: none). One that cannot be read is no
        photo: the orb is the same without it."""
        key = str(path) if path is not None else None
        if key == self._photo_path:
            return
        image = QImage(key) if key is not None else None
        if image is not None and image.isNull():
            log.warning("The photo %s could not be shown", key)
            image, key = None, None
        self._photo, self._photo_path = image, key
        self._photo_sprite = None
        self.update()

    def show_photo_of_practice(self) -> None:
        """The current practice's photo (its safe person's), or none."""
        self.set_photo(self._bridge.photo())

    @property
    def takes_taps(self) -> bool:
        return self._takes_taps

    @takes_taps.setter
    def takes_taps(self, value: bool) -> None:
        """While on, the orb is a button for taps: it can take focus (so Space and Enter reach
        it before the play button), and a click on it taps."""
        if value == self._takes_taps:
            return
        self._takes_taps = value
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus if value else Qt.FocusPolicy.NoFocus)
        if value:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
            self.setToolTip("Tap here (or press Space or Enter) each time you breathe in")
        else:
            self.unsetCursor()
            self.setToolTip("")

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._takes_taps and event.button() == Qt.MouseButton.LeftButton:
            self.tapped.emit()
            event.accept()
            return
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        plain = not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        keys = (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if self._takes_taps and plain and event.key() in keys:
            if not event.isAutoRepeat():  # a held key is one tap, not a drum roll
                self.tapped.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    @property
    def animating(self) -> bool:
        """True only while the repaint timer runs (the orb is visible and not minimised)."""
        return self._timer.isActive()

    def look(self) -> OrbLook:
        """The look the orb shows right now (its target, before any easing of a jump)."""
        return orb_geometry(self._state(), time.monotonic(), self._reduced_motion, self._counts)

    def sizeHint(self) -> QSize:
        return QSize(320, 320)

    def minimumSizeHint(self) -> QSize:
        return QSize(140, 140)

    # ------------------------------------------------------------------ timer life

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._watch_window()
        self._sync_timer()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._sync_timer()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # getattr: Qt may still deliver events while Python tears the widget down at exit.
        if watched is getattr(self, "_watched", None) and event.type() in (
            QEvent.Type.WindowStateChange,
            QEvent.Type.Show,
            QEvent.Type.Hide,
        ):
            self._sync_timer()
        return False

    def _watch_window(self) -> None:
        """Follow the top-level window's state: a minimised window must not keep us painting."""
        window = self.window()
        if window is self._watched:
            return
        if self._watched is not None:
            with contextlib.suppress(RuntimeError):  # that window is gone, and its filters too
                self._watched.removeEventFilter(self)
        self._watched = window
        if window is not self:
            window.installEventFilter(self)

    def _sync_timer(self) -> None:
        window = self.window()
        should_run = self.isVisible() and not window.isMinimized()
        if should_run and not self._timer.isActive():
            log.debug("Orb animation started")
            self._last = None  # whatever was shown before may be long out of date
            self._timer.start(FRAME_MS)
            self.update()
        elif not should_run and self._timer.isActive():
            log.debug("Orb animation stopped")
            self._timer.stop()

    # ------------------------------------------------------------------ frames

    def _state(self) -> State | None:
        return self._bridge.state() if self._bridge.active else None

    def _paused(self) -> bool:
        return self._bridge.active and self._bridge.transport is Transport.PAUSED

    def _displayed(self, now: float) -> OrbLook:
        """The target look, with any sudden jump eased over BLEND_S of wall time."""
        target = orb_geometry(self._state(), now, self._reduced_motion, self._counts)
        look = target
        if self._blend_from is not None:
            w = ease((now - self._blend_t0) / BLEND_S)
            look = _mix(self._blend_from, target, w)
            if w >= 1.0:
                self._blend_from = None
        if self._last is not None and _distance(self._last, look) > JUMP:
            self._blend_from = self._last
            self._blend_t0 = now
            look = _mix(self._last, target, 0.0)
        return look

    def _tick(self) -> None:
        look = self._displayed(time.monotonic())
        last = self._last
        if last is None or self._paused() != self._last_paused or self._differs(last, look):
            self.update(self._dirty_rect(last, look))
            self._still_ticks = 0
            if self._timer.interval() != FRAME_MS:
                self._timer.setInterval(FRAME_MS)
        else:
            # Nothing visible changed: while the orb moves this slowly (a hold, the top of a
            # breath, the idle breath, a pause) look less often; any visible change restores 60 Hz.
            self._still_ticks += 1
            if self._still_ticks >= 2 and self._timer.interval() != SLOW_FRAME_MS:
                self._timer.setInterval(SLOW_FRAME_MS)
        self.ticked.emit()

    def _differs(self, a: OrbLook, b: OrbLook) -> bool:
        """Would `b` look different from the painted `a`? Frames that would not are skipped."""
        edge_px = abs(a.scale - b.scale) * self._max_radius() * self.devicePixelRatioF()
        return (
            edge_px >= VISIBLE_PX
            or abs(a.glow - b.glow) >= VISIBLE_LEVEL
            or abs(a.brightness - b.brightness) >= VISIBLE_LEVEL
            or a.label != b.label
            or a.count != b.count
        )

    def _dirty_rect(self, a: OrbLook | None, b: OrbLook) -> QRect:
        """Only the square the glow covers (now or in the last frame) needs repainting."""
        if a is None:
            return self.rect()
        scale = max(a.scale, b.scale)
        extent = (self._max_radius() * self._halo + SPRITE_PAD) * scale + 2.0
        centre = QRectF(self.rect()).center()
        square = QRectF(centre.x() - extent, centre.y() - extent, 2 * extent, 2 * extent)
        return square.toAlignedRect().intersected(self.rect())

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            self._sprites = None
            self._fonts = None
            self.update()
        super().changeEvent(event)

    def _max_radius(self) -> float:
        side = min(self.width(), self.height())
        return side / 2.0 / self._halo

    def _colours(self) -> OrbColours:
        """Derived once per palette: building the tones every frame showed up in profiles."""
        key = self.palette().cacheKey()
        if self._colour_cache is None or self._colour_cache[0] != key:
            self._colour_cache = (key, OrbColours.from_palette(self.palette()))
        return self._colour_cache[1]

    def _sprites_for(self, radius: float, dpr: float) -> _Sprites:
        colours = self._colours()
        scale = REDUCED_SCALE if self._reduced_motion else MAX_SCALE
        key = (round(radius * dpr), dpr, self._halo, scale, colours.key())
        if self._sprites is None or key != self._sprites_key:
            self._sprites = _render_sprites(radius * scale, dpr, colours, self._halo)
            self._sprites.scale = scale
            self._sprites_key = key
        return self._sprites

    def _photo_for(self, radius: float, dpr: float) -> QPixmap | None:
        if self._photo is None:
            return None
        colours = self._colours()
        scale = REDUCED_SCALE if self._reduced_motion else MAX_SCALE
        key = (round(radius * dpr), dpr, scale, colours.key(), self._photo_path)
        if self._photo_sprite is None or self._photo_sprite[0] != key:
            sprite = render_photo(self._photo, radius * scale * PHOTO_FRACTION, dpr, colours)
            self._photo_sprite = (key, sprite)
        return self._photo_sprite[1]

    def _fonts_for(self, radius: float) -> tuple[QFont, QFont]:
        """Label and count fonts that fit inside the orb at its smallest."""
        key = (round(radius), self.font().key())
        if self._fonts is None or key != self._fonts_key:
            base = QFont(self.font())
            room = 2 * radius * MIN_SCALE * 0.9
            size = max(9.0, min(radius * 0.16, 24.0))
            label = QFont(base)
            label.setPixelSize(round(size))
            label.setWeight(QFont.Weight.DemiBold)
            label.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 102)
            while size > 9 and QFontMetricsF(label).horizontalAdvance("Breathe out") > room:
                size -= 1
                label.setPixelSize(round(size))
            count = QFont(base)
            count.setPixelSize(max(9, round(size * 1.25)))
            count.setWeight(QFont.Weight.Light)
            self._fonts = (label, count)
            self._fonts_key = key
        return self._fonts

    def paintEvent(self, event: QPaintEvent) -> None:
        now = time.monotonic()
        look = self._displayed(now)
        self._last = look
        paused = self._paused()
        self._last_paused = paused
        radius = self._max_radius()
        if radius < 4:
            return
        painter = QPainter(self)
        # Device pixels per logical pixel as the painter really maps them: the screen's ratio on a
        # HiDPI display, and the target's when rendered into a 2x pixmap, so sprites stay crisp.
        xf = painter.deviceTransform()
        dpr = max(1.0, math.hypot(xf.m11(), xf.m12()))
        sprites = self._sprites_for(radius, dpr)
        colours = self._colours()
        centre = QRectF(self.rect()).center()
        r = radius * look.scale
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.fillRect(event.rect(), self.palette().color(QPalette.ColorRole.Window))
        relative = look.scale / sprites.scale
        exact = abs(relative - 1.0) < 1e-9
        pad = SPRITE_PAD * relative

        def draw(pixmap: QPixmap, radius_: float) -> None:
            if exact:
                # At the sprites' own scale (always, with reduced motion) a sprite is blended
                # pixel for pixel at a whole-pixel position: no resampling at all.
                half = pixmap.width() / dpr / 2
                x = round((centre.x() - half) * dpr) / dpr
                y = round((centre.y() - half) * dpr) / dpr
                painter.drawPixmap(QPointF(x, y), pixmap)
                return
            extent = radius_ + pad
            target = QRectF(centre.x() - extent, centre.y() - extent, 2 * extent, 2 * extent)
            painter.drawPixmap(target, pixmap, QRectF(pixmap.rect()))

        painter.setOpacity(look.glow)
        draw(sprites.halo, r * self._halo)
        if look.brightness < 0.999:
            painter.setOpacity(1.0)
            draw(sprites.dim, r)
        painter.setOpacity(look.brightness)
        draw(sprites.bright, r)
        photo = self._photo_for(radius, dpr)
        if photo is not None:  # under the label, with the body: it breathes as the orb does
            painter.setOpacity(PHOTO_OPACITY * look.brightness)
            draw(photo, r * PHOTO_FRACTION)
        painter.setOpacity(1.0)
        body = QRectF(centre.x() - r, centre.y() - r, 2 * r, 2 * r)

        count = "Paused" if paused and look.label else look.count
        if look.label:
            label_font, count_font = self._fonts_for(radius)
            lm = QFontMetricsF(label_font)
            cm = QFontMetricsF(count_font)
            gap = lm.height() * 0.1
            total = lm.height() + (gap + cm.height() if count else 0.0)
            top = centre.y() - total / 2
            painter.setPen(colours.text)
            painter.setFont(label_font)
            painter.drawText(
                QRectF(body.left(), top, body.width(), lm.height()),
                Qt.AlignmentFlag.AlignCenter,
                look.label,
            )
            if count:
                faded = QColor(colours.text)
                faded.setAlphaF(0.85)
                painter.setPen(faded)
                painter.setFont(count_font)
                painter.drawText(
                    QRectF(body.left(), top + lm.height() + gap, body.width(), cm.height()),
                    Qt.AlignmentFlag.AlignCenter,
                    count,
                )
        painter.end()

        if look.label != self._described:
            self._described = look.label
            self.setAccessibleDescription(look.label or "Resting between breaths.")
