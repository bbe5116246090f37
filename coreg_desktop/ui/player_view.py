"""The player: the orb, what is being said, how far along the practice is, and a few quiet controls.

Everything here reacts to the bridge's signals; the only polling is the progress text, which rides
on the orb's frame tick so it costs nothing while the view cannot be seen. Controls are few and
large because someone using this may be shaking.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QIcon, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from coreg_desktop.audio.ambience import AMBIENCES
from coreg_desktop.audio.mixer import Transport
from coreg_desktop.constants import AMBIENCE_IDS
from coreg_desktop.core import is_breathe_with, mix_book
from coreg_desktop.practice.timeline import format_clock
from coreg_desktop.settings import Settings
from coreg_desktop.sleep_timer import format_left
from coreg_desktop.ui import theme
from coreg_desktop.ui.bridge import PlayerBridge, follow_settings
from coreg_desktop.ui.export_dialog import ExportJob, ExportProgress, ask_path, check_path
from coreg_desktop.ui.orb import OrbWidget
from coreg_desktop.ui.sleep_menu import SleepMenu
from coreg_desktop.ui.theme import hex_rgb, mix
from coreg_desktop.ui.volume import SLIDER_MAX, gain_to_slider, slider_to_gain

log = logging.getLogger(__name__)

#: The progress line is refreshed at most this often (it rides on the orb's frame tick).
PROGRESS_INTERVAL_S = 0.2
#: Shown in the caption line when a practice ends by itself.
FINISHED_CAPTION = "That's the end. Take all the time you need."
#: Under the orb while Breathe with Me plays: the one rule for Space there.
TAP_HINT = "Tap Space, Enter or the orb each time you breathe in. The pause button pauses."
PAUSED_TAP_HINT = "Paused. Space resumes."

GLYPHS = ("play", "pause", "stop", "back", "close")


def glyph_icon(kind: str, colour: QColor, size: int = 20) -> QIcon:
    """A soft, rounded icon drawn by hand at 1x, 2x and 3x, so it is crisp at any scale.

    Standard style icons vary by desktop and look like a form; these match the orb.
    """
    if kind not in GLYPHS:
        raise ValueError(f"unknown glyph {kind!r}")
    icon = QIcon()
    for ratio in (1.0, 2.0, 3.0):
        pm = QPixmap(QSize(round(size * ratio), round(size * ratio)))
        pm.setDevicePixelRatio(ratio)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        s = float(size)
        if kind == "play":
            # A rounded triangle, nudged right so it looks centred in a circle.
            path = QPainterPath()
            path.moveTo(s * 0.34, s * 0.2)
            path.lineTo(s * 0.80, s * 0.5)
            path.lineTo(s * 0.34, s * 0.8)
            path.closeSubpath()
            pen = QPen(colour, s * 0.08)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            p.setPen(pen)
            p.setBrush(colour)
            p.drawPath(path)
        elif kind == "pause":
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(colour)
            w, h = s * 0.17, s * 0.56
            for x in (s * 0.3, s * 0.53):
                p.drawRoundedRect(QRectF(x, s * 0.22, w, h), w * 0.4, w * 0.4)
        elif kind == "stop":
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(colour)
            p.drawRoundedRect(QRectF(s * 0.28, s * 0.28, s * 0.44, s * 0.44), s * 0.09, s * 0.09)
        else:
            pen = QPen(colour, s * 0.1)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            p.setPen(pen)
            if kind == "back":
                points = [(0.6, 0.22), (0.32, 0.5), (0.6, 0.78)]
                p.drawPolyline([QPointF(s * x, s * y) for x, y in points])
            else:  # close
                p.drawLine(QPointF(s * 0.3, s * 0.3), QPointF(s * 0.7, s * 0.7))
                p.drawLine(QPointF(s * 0.7, s * 0.3), QPointF(s * 0.3, s * 0.7))
        p.end()
        icon.addPixmap(pm)
    return icon


class TransportButtons(QWidget):
    """Play/pause (large, filled) and stop (quiet), wired straight to the bridge.

    Shared by the player view and the compact window so both behave identically: play on a
    finished or stopped practice starts it again from the beginning.
    """

    def __init__(
        self, bridge: PlayerBridge, diameter_em: float = 3.2, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._diameter_em = diameter_em
        self.play_button = QToolButton(self)
        self.play_button.setObjectName("playPause")
        self.play_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.stop_button = QToolButton(self)
        self.stop_button.setObjectName("stop")
        self.stop_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.stop_button.setAccessibleName("Stop")
        self.stop_button.setToolTip("Stop (Esc)")
        self.play_button.clicked.connect(self._play_clicked)
        self.stop_button.clicked.connect(self._stop_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(round(self.fontMetrics().height() * 1.1))
        layout.addStretch(1)
        layout.addWidget(self.stop_button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.play_button, 0, Qt.AlignmentFlag.AlignVCenter)
        # Balance the stop button so play sits in the middle.
        self._spacer = QWidget(self)
        self._spacer.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout.addWidget(self._spacer)
        layout.addStretch(1)
        self.setTabOrder(self.play_button, self.stop_button)
        bridge.transportChanged.connect(self.refresh)
        bridge.practiceStarted.connect(self.refresh)
        self._restyle()
        self.refresh()

    def _play_clicked(self) -> None:
        bridge = self._bridge
        if bridge.active:
            bridge.toggle()
        elif bridge.practice is not None:
            bridge.play(bridge.practice.id)
        self.refresh()

    def _stop_clicked(self) -> None:
        if self._bridge.active:
            self._bridge.stop()

    def refresh(self, *_: object) -> None:
        bridge = self._bridge
        playing = bridge.active and bridge.transport is Transport.PLAYING
        name = "Pause" if playing else ("Resume" if bridge.active else "Play")
        self.play_button.setIcon(self._icons["pause" if playing else "play"])
        self.play_button.setAccessibleName(name)
        self.play_button.setToolTip(f"{name} (Space)")
        self.play_button.setEnabled(bridge.active or bridge.practice is not None)
        self.stop_button.setEnabled(bridge.active)

    def _restyle(self) -> None:
        tones = theme.current_colors(self)
        em = QFontMetrics(self.font()).height()
        big = max(48, round(em * self._diameter_em))
        small = max(40, round(big * 0.74))
        self._icons = {
            "play": glyph_icon("play", tones.accent_text, round(big * 0.46)),
            "pause": glyph_icon("pause", tones.accent_text, round(big * 0.46)),
        }
        self.play_button.setIconSize(QSize(round(big * 0.46), round(big * 0.46)))
        self.stop_button.setIcon(glyph_icon("stop", tones.text, round(small * 0.5)))
        self.stop_button.setIconSize(QSize(round(small * 0.5), round(small * 0.5)))
        hover = mix(tones.accent, tones.text if tones.dark else tones.window, 0.14)
        self.play_button.setStyleSheet(
            f"""
QToolButton#playPause {{
    background: {hex_rgb(tones.accent)}; border: 2px solid {hex_rgb(tones.accent)};
    border-radius: {big // 2}px; padding: 0px;
    min-width: {big}px; max-width: {big}px; min-height: {big}px; max-height: {big}px;
}}
QToolButton#playPause:hover {{ background: {hex_rgb(hover)}; border-color: {hex_rgb(hover)}; }}
QToolButton#playPause:focus {{ border: 2px solid {hex_rgb(tones.text)}; }}
QToolButton#playPause:disabled {{
    background: {hex_rgb(tones.surface_alt)}; border-color: {hex_rgb(tones.surface_alt)};
}}
"""
        )
        self.stop_button.setStyleSheet(
            f"""
QToolButton#stop {{
    background: {hex_rgb(tones.surface)}; border: 1px solid {hex_rgb(tones.border)};
    border-radius: {small // 2}px; padding: 0px;
    min-width: {small}px; max-width: {small}px; min-height: {small}px; max-height: {small}px;
}}
QToolButton#stop:hover {{ background: {hex_rgb(tones.surface_alt)}; }}
QToolButton#stop:focus {{ border: 2px solid {hex_rgb(tones.focus)}; }}
QToolButton#stop:disabled {{ background: transparent; }}
"""
        )
        self._spacer.setFixedSize(small, small)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            self._restyle()
            self.refresh()


class CaptionLabel(QLabel):
    """The sentence being spoken. Keeps room for two lines so the layout never jumps."""

    def __init__(self, parent: QWidget | None = None, lines: int = 2, scale: float = 1.15) -> None:
        super().__init__(parent)
        self._lines = lines
        self._scale = scale
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.setAccessibleName("Caption")
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.apply_font()

    def apply_font(self) -> None:
        """Size the caption from the application's font; call again when that font changes.

        The application font, not the parent's: with the app stylesheet in place, a parent's
        font can lag behind a desktop font change, and the caption must follow the desktop.
        """
        font = QFont(self.font())
        base = QApplication.font()
        if base.pointSizeF() > 0:
            font.setPointSizeF(base.pointSizeF() * self._scale)
        elif base.pixelSize() > 0:
            font.setPixelSize(round(base.pixelSize() * self._scale))
        self.setFont(font)
        self.setFixedHeight(math.ceil(QFontMetrics(font).lineSpacing() * self._lines + 6))

    def show_caption(self, text: str) -> None:
        """What the bridge says is being said; its blank after the last words keeps the goodbye."""
        if text or self.text() != FINISHED_CAPTION:
            self.setText(text)


class PlayerView(QWidget):
    """The orb with its caption, progress, transport, volumes and ambience for one practice."""

    backRequested = Signal()
    #: The listener took the suggestion made from their before answer (a practice id).
    suggestionChosen = Signal(str)

    def __init__(
        self, bridge: PlayerBridge, settings: Settings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._suggested: str | None = None
        self._settings = settings
        self._ambience_unsynced = True
        self._progress_at = -1.0
        self.setObjectName("playerView")

        # Header: back to the library.
        self.back_button = QToolButton(self)
        self.back_button.setText("Library")
        self.back_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.back_button.setAccessibleName("Back to the library")
        self.back_button.setToolTip("Back to the library")
        self.back_button.setCursor(Qt.CursorShape.PointingHandCursor)
        theme.set_role(self.back_button, "ghost")
        self.back_button.clicked.connect(self.backRequested)

        # Header, right: export to a file, and the sleep timer (the same menu as the tray's).
        self.export_button = QToolButton(self)
        self.export_button.setText("Export…")
        self.export_button.setAccessibleName("Export to a file")
        self.export_button.setToolTip("Save this practice as an audio file to play anywhere")
        self.export_button.setCursor(Qt.CursorShape.PointingHandCursor)
        theme.set_role(self.export_button, "ghost")
        self.export_button.clicked.connect(self.export_to_file)
        self.export_progress: ExportProgress | None = None

        self.sleep_menu = SleepMenu(bridge, self)
        self.sleep_button = QToolButton(self)
        self.sleep_button.setMenu(self.sleep_menu)
        self.sleep_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.sleep_button.setAccessibleName("Sleep timer")
        self.sleep_button.setToolTip("Fade out and stop after a while")
        self.sleep_button.setCursor(Qt.CursorShape.PointingHandCursor)
        theme.set_role(self.sleep_button, "ghost")
        bridge.sleepChanged.connect(self._sleep_changed)
        self._sleep_changed(bridge.sleep_left())

        self.title = QLabel(self)
        self.title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.title.setWordWrap(True)
        self.title.setAccessibleName("Practice")
        theme.set_role(self.title, "title")

        # A quiet line under the title, from the before answer: it only suggests, and the
        # practice chosen goes on playing unless the link is taken.
        self.suggestion = QWidget(self)
        self.suggestion.setAccessibleName("A suggestion")
        suggestion_row = QVBoxLayout(self.suggestion)
        suggestion_row.setContentsMargins(0, 0, 0, 0)
        suggestion_row.setSpacing(0)
        self.suggestion_label = QLabel(self.suggestion)
        self.suggestion_label.setWordWrap(True)
        self.suggestion_label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        theme.set_role(self.suggestion_label, "small")
        self.suggestion_button = QPushButton(self.suggestion)
        theme.set_role(self.suggestion_button, "link")
        self.suggestion_button.setAutoDefault(False)
        self.suggestion_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.suggestion_button.setAccessibleName("Switch to the suggested practice")
        self.suggestion_button.clicked.connect(self._take_suggestion)
        suggestion_row.addWidget(self.suggestion_label)
        suggestion_row.addWidget(self.suggestion_button, 0, Qt.AlignmentFlag.AlignHCenter)
        self.suggestion.hide()

        self.orb = OrbWidget(bridge, self)
        self.orb.reduced_motion = settings.flag("reduced_motion")
        self.orb.counts = not settings.flag("hide_counts")

        self.caption = CaptionLabel(self)

        # Breathe with Me only: how to tap, and how the taps are going.
        self.tap_hint = QLabel(self)
        self.tap_hint.setWordWrap(True)
        self.tap_hint.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.tap_hint.setAccessibleName("How to tap")
        theme.set_role(self.tap_hint, "small")
        self.tap_hint.hide()
        self.orb.tapped.connect(self.tap)

        # Progress: a slim bar between elapsed and remaining time.
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName("Progress")
        self.progress.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.elapsed_label = QLabel("", self)
        self.elapsed_label.setAccessibleName("Time elapsed")
        theme.set_role(self.elapsed_label, "small")
        self.remaining_label = QLabel("", self)
        self.remaining_label.setAccessibleName("Time left")
        self.remaining_label.setAlignment(
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        )
        theme.set_role(self.remaining_label, "small")

        self.transport = TransportButtons(bridge, parent=self)
        self.play_button = self.transport.play_button
        self.stop_button = self.transport.stop_button

        # Sound: voice and ambience volume, and the soundscape.
        self.sound_card = QFrame(self)
        theme.set_role(self.sound_card, "card")
        self.voice_slider = self._volume_slider("Voice volume")
        self.ambience_slider = self._volume_slider("Ambience volume")
        self.voice_slider.setValue(gain_to_slider(settings.number("volume.voice")))
        self.ambience_slider.setValue(gain_to_slider(settings.number("volume.ambience")))
        self.voice_slider.valueChanged.connect(self._voice_changed)
        self.ambience_slider.valueChanged.connect(self._ambience_volume_changed)
        self.voice_slider.sliderReleased.connect(self._save_settings)
        self.ambience_slider.sliderReleased.connect(self._save_settings)
        self.ambience_picker = QComboBox(self.sound_card)
        self.ambience_picker.setAccessibleName("Ambience")
        self.ambience_picker.setToolTip("The sound underneath the voice")
        self._fill_ambience_choices()
        self.ambience_picker.activated.connect(self._ambience_picked)
        voice_label = QLabel("Voice", self.sound_card)
        voice_label.setBuddy(self.voice_slider)
        ambience_label = QLabel("Ambience", self.sound_card)
        ambience_label.setBuddy(self.ambience_slider)
        picker_label = QLabel("Soundscape", self.sound_card)
        picker_label.setBuddy(self.ambience_picker)
        for label in (voice_label, ambience_label, picker_label):
            theme.set_role(label, "muted")
        grid = QGridLayout(self.sound_card)
        em = self.fontMetrics().height()
        grid.setContentsMargins(round(em * 1.1), round(em * 0.8), round(em * 1.1), round(em * 0.8))
        grid.setHorizontalSpacing(round(em * 0.9))
        grid.setVerticalSpacing(round(em * 0.45))
        grid.addWidget(voice_label, 0, 0)
        grid.addWidget(self.voice_slider, 0, 1)
        grid.addWidget(ambience_label, 1, 0)
        grid.addWidget(self.ambience_slider, 1, 1)
        grid.addWidget(picker_label, 0, 3, Qt.AlignmentFlag.AlignBottom)
        grid.addWidget(self.ambience_picker, 1, 3)
        grid.setColumnMinimumWidth(2, round(em * 0.6))
        grid.setColumnStretch(1, 1)

        # Layout: one calm column, never wider than is comfortable to read.
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.back_button)
        header.addStretch(1)
        header.addWidget(self.export_button)
        header.addWidget(self.sleep_button)

        progress_row = QHBoxLayout()
        progress_row.setSpacing(round(em * 0.7))
        progress_row.addWidget(self.elapsed_label)
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.remaining_label)

        column = QVBoxLayout()
        column.setSpacing(round(em * 0.5))
        column.addWidget(self.title)
        column.addWidget(self.suggestion)
        column.addWidget(self.orb, 1)
        column.addWidget(self.tap_hint)
        column.addWidget(self.caption)
        column.addSpacing(round(em * 0.4))
        column.addLayout(progress_row)
        column.addSpacing(round(em * 0.5))
        column.addWidget(self.transport)
        column.addSpacing(round(em * 0.9))
        column.addWidget(self.sound_card)
        self._column = QWidget(self)
        self._column.setLayout(column)
        column.setContentsMargins(0, 0, 0, 0)
        self._column.setMaximumWidth(round(em * 34))
        self._column.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        centred = QHBoxLayout()
        centred.addStretch(0)
        centred.addWidget(self._column, 1)
        centred.addStretch(0)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(round(em * 1.2), round(em * 0.8), round(em * 1.2), round(em * 1.4))
        outer.setSpacing(round(em * 0.3))
        outer.addLayout(header)
        outer.addLayout(centred, 1)

        self.setTabOrder(self.back_button, self.play_button)
        self.setTabOrder(self.play_button, self.stop_button)
        self.setTabOrder(self.stop_button, self.voice_slider)
        self.setTabOrder(self.voice_slider, self.ambience_slider)
        self.setTabOrder(self.ambience_slider, self.ambience_picker)

        bridge.practiceStarted.connect(self._practice_started)
        bridge.transportChanged.connect(self._transport_changed)
        bridge.captionChanged.connect(self.caption.show_caption)
        bridge.finished.connect(self._finished)
        self.orb.ticked.connect(self.refresh_progress)

        self._restyle()
        self.set_captions_visible(settings.flag("captions"))
        follow_settings(self, settings, lambda _keys: self.apply_settings())
        self._practice_started()

    # ------------------------------------------------------------------ public

    def show_suggestion(
        self, text: str | None, practice_id: str | None = None, title: str = ""
    ) -> None:
        """One line suggesting another practice (None hides it)."""
        self._suggested = practice_id if text else None
        self.suggestion.setVisible(bool(text))
        self.suggestion_label.setText(text or "")
        self.suggestion_label.setAccessibleName(text or "")
        label = f"Switch to {title}" if title else "Switch"
        self.suggestion_button.setText(label)
        self.suggestion_button.setAccessibleName(label)

    def _take_suggestion(self) -> None:
        if self._suggested is not None:
            self.suggestionChosen.emit(self._suggested)

    def set_captions_visible(self, visible: bool) -> None:
        self.caption.setVisible(visible)

    def apply_settings(self) -> None:
        """Re-read the options this view shows (called whenever the settings change)."""
        self.set_captions_visible(self._settings.flag("captions"))
        self.orb.reduced_motion = self._settings.flag("reduced_motion")
        self.orb.counts = not self._settings.flag("hide_counts")
        for slider, key in (
            (self.voice_slider, "volume.voice"),
            (self.ambience_slider, "volume.ambience"),
        ):
            if slider.isSliderDown():
                continue  # the person is dragging it: it is the source of the change
            slider.blockSignals(True)
            slider.setValue(gain_to_slider(self._settings.number(key)))
            slider.blockSignals(False)

    @property
    def follows_taps(self) -> bool:
        """The practice on screen is Breathe with Me."""
        practice = self._bridge.practice
        return practice is not None and is_breathe_with(practice)

    def focus_target(self) -> QWidget:
        """What should have focus when the player is shown: the orb while it takes taps (so
        Space taps instead of pressing the pause button), the play button otherwise."""
        return self.orb if self.orb.takes_taps else self.play_button

    def tap(self) -> bool:
        """Space, Enter or a click on the orb while Breathe with Me plays."""
        if not self._bridge.takes_taps:
            return False
        counted = self._bridge.tap()
        self._show_taps()
        return counted

    def _show_taps(self) -> None:
        """The hint under the orb, for Breathe with Me only (and only while it is on)."""
        follows = self.follows_taps and self._bridge.active
        takes = follows and self._bridge.takes_taps
        had_focus = self.orb.hasFocus()
        self.orb.takes_taps = takes
        if takes and had_focus is False and self.play_button.hasFocus():
            self.orb.setFocus(Qt.FocusReason.OtherFocusReason)
        if not follows:
            self.tap_hint.hide()
            return
        if takes:
            status = self._bridge.tap_status()
            text = f"{TAP_HINT}\n{status}" if status else TAP_HINT
        else:
            text = PAUSED_TAP_HINT
        if self.tap_hint.text() != text:
            self.tap_hint.setText(text)
        self.tap_hint.show()

    def refresh_progress(self, force: bool = False) -> None:
        """Elapsed and remaining time at the audio clock; a no-op when nothing would change."""
        now = time.monotonic()
        if not force and now - self._progress_at < PROGRESS_INTERVAL_S:
            return  # called on every orb frame: the text changes once a second at most
        self._progress_at = now
        state = self._bridge.state() if self._bridge.practice is not None else None
        if state is None:
            value, elapsed, left = 0, "", ""
        else:
            total = max(state.total, 0.001)
            done = state.finished or (
                not self._bridge.active and self._bridge.transport is Transport.FINISHED
            )
            fraction = 1.0 if done else min(1.0, state.t / total)
            value = round(fraction * 1000)
            elapsed = format_clock(min(state.t, state.total))
            left = "Finished" if done else f"{format_clock(state.remaining)} left"
        if self.progress.value() != value:
            self.progress.setValue(value)
            self.progress.setAccessibleDescription(f"{value // 10} percent")
        if self.elapsed_label.text() != elapsed:
            self.elapsed_label.setText(elapsed)
        if self.remaining_label.text() != left:
            self.remaining_label.setText(left)

    # ------------------------------------------------------------------ reactions

    def _practice_started(self, *_: object) -> None:
        practice = self._bridge.practice
        self.title.setText(practice.title if practice is not None else "Nothing playing")
        self.caption.setText("" if practice is not None else "Choose a practice in the library.")
        self._show_taps()
        self._fill_ambience_choices()
        self._sync_ambience()
        self.refresh_progress(force=True)

    def _transport_changed(self, *_: object) -> None:
        if self._ambience_unsynced:
            self._sync_ambience()
        self.ambience_picker.setEnabled(self._bridge.active)
        self._show_taps()
        self.refresh_progress(force=True)

    def _finished(self, *_: object) -> None:
        self.caption.setText(FINISHED_CAPTION)
        self._show_taps()
        self.refresh_progress(force=True)

    def _fill_ambience_choices(self) -> None:
        """The soundscapes, then the listener's own mixes, read again each time a practice is
        shown: a mix added in a terminal (`mix add`) is offered without a restart."""
        picker = self.ambience_picker
        chosen = picker.currentData()
        picker.clear()
        for ambience_id in AMBIENCE_IDS:
            if ambience_id in AMBIENCES:
                picker.addItem(AMBIENCES[ambience_id].title, ambience_id)
        for saved in mix_book(quiet=True).mixes:
            picker.addItem(f"Mix: {saved.title}", saved.ambience_id)
        picker.addItem("Silence", "none")  # the word Settings uses
        index = picker.findData(chosen) if chosen is not None else -1
        if index >= 0:
            picker.setCurrentIndex(index)

    def _sync_ambience(self) -> None:
        """Show the practice's soundscape once it is playing (the session knows it only then)."""
        current = self._bridge.current_ambience if self._bridge.active else None
        if current is not None and self.ambience_picker.findData(current) < 0:
            self._fill_ambience_choices()  # a mix added since the list was last read
        self._ambience_unsynced = current is None
        index = self.ambience_picker.findData(current) if current else -1
        if index >= 0:
            self.ambience_picker.setCurrentIndex(index)
        self.ambience_picker.setEnabled(self._bridge.active)

    def export_to_file(self, path: Path | None = None) -> ExportProgress | None:
        """Export… : ask where (unless `path` is given), then render and write it with a
        progress dialog that can be cancelled."""
        practice = self._bridge.practice
        if practice is None:
            return None
        path = path or ask_path(self, self._bridge)
        if path is None:
            return None
        problem = check_path(path)
        if problem is not None:
            QMessageBox.warning(self, "Export", problem)
            return None
        job = ExportJob(self._bridge, path)
        self.export_progress = ExportProgress(job, practice.title, self)
        self.export_progress.show()
        job.start()
        return self.export_progress

    def _sleep_changed(self, left: object) -> None:
        seconds = left if isinstance(left, float | int) else None
        self.sleep_button.setText("Sleep timer" if seconds is None else
                                  f"Sleep: {format_left(seconds).removesuffix(' left')}")

    def _ambience_picked(self, index: int) -> None:
        ambience_id = self.ambience_picker.itemData(index)
        if isinstance(ambience_id, str):
            log.info("Ambience switched to %s", ambience_id)
            self._bridge.set_ambience(ambience_id)

    # ------------------------------------------------------------------ volumes

    def _volume_slider(self, name: str) -> QSlider:
        slider = QSlider(Qt.Orientation.Horizontal, self.sound_card)
        slider.setRange(0, SLIDER_MAX)
        slider.setSingleStep(2)
        slider.setPageStep(10)
        slider.setAccessibleName(name)
        slider.setToolTip(name)
        slider.setMinimumWidth(self.fontMetrics().horizontalAdvance("m") * 8)
        return slider

    def _voice_changed(self, value: int) -> None:
        gain = slider_to_gain(value)
        self._settings.set("volume.voice", gain)  # the core turns the player's volume to it
        if not self.voice_slider.isSliderDown():
            self._save_settings()

    def _ambience_volume_changed(self, value: int) -> None:
        gain = slider_to_gain(value)
        self._settings.set("volume.ambience", gain)
        if not self.ambience_slider.isSliderDown():
            self._save_settings()

    def _save_settings(self) -> None:
        """Saved on release, not on every step of a drag: each save is an fsync."""
        try:
            self._settings.save()
        except OSError as exc:
            log.warning("Could not save the volume settings: %s", exc)

    # ------------------------------------------------------------------ look

    def _restyle(self) -> None:
        tones = theme.current_colors(self)
        self.back_button.setIcon(glyph_icon("back", tones.muted, 18))
        track = mix(tones.border, tones.window, 0.2)
        h = max(4, round(self.fontMetrics().height() * 0.3))
        self.progress.setFixedHeight(h)
        self.progress.setStyleSheet(
            f"""
QProgressBar {{ background: {hex_rgb(track)}; border: none; border-radius: {h // 2}px; }}
QProgressBar::chunk {{ background: {hex_rgb(tones.accent)}; border-radius: {h // 2}px; }}
"""
        )
        self.caption.setStyleSheet(f"color: {hex_rgb(mix(tones.text, tones.muted, 0.35))};")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            self._restyle()
        if event.type() == QEvent.Type.FontChange:
            self.caption.apply_font()
