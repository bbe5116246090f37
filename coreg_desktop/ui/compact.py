"""The compact orb window: what a click on the tray icon opens while the quick reset plays.

It is small, stays on top and sits next to the tray icon, so someone in the middle of a panic
attack gets the breathing guide at once without a whole window to find their way around. It goes
away by itself a few seconds after the practice ends.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QEvent, QPoint, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QGuiApplication,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QScreen,
)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

from coreg_desktop.events import EndReason
from coreg_desktop.practice.timeline import format_clock
from coreg_desktop.settings import Settings
from coreg_desktop.ui import theme
from coreg_desktop.ui.bridge import PlayerBridge, follow_settings
from coreg_desktop.ui.checkin_view import AFTER, CheckInPanel, result_text
from coreg_desktop.ui.orb import OrbWidget
from coreg_desktop.ui.player_view import (
    FINISHED_CAPTION,
    PROGRESS_INTERVAL_S,
    CaptionLabel,
    TransportButtons,
    glyph_icon,
)

log = logging.getLogger(__name__)

#: After a practice ends by itself the window lingers this long, so the end does not feel abrupt.
HIDE_AFTER_FINISH_MS = 5000
#: After the user stops it, it only waits for the fade-out.
HIDE_AFTER_STOP_MS = 1500
#: After the after check-in is answered, the change stays this long (Done hides it sooner).
HIDE_AFTER_RESULT_MS = 8000
#: Distance from the tray icon and from the screen edges, in pixels.
MARGIN = 8
#: Size in multiples of the font's line height (about 300 x 360 at a 10 pt font).
WIDTH_EM = 18.5
HEIGHT_EM = 23.0
#: The compact orb keeps a tighter glow so the orb itself can be bigger in the small window.
COMPACT_HALO = 1.3


class CompactWindow(QWidget):
    """A small always-on-top orb with the caption, pause/stop, and a way into the main window."""

    openMainRequested = Signal()

    def __init__(
        self, bridge: PlayerBridge, settings: Settings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowFlags(
            Qt.WindowType.Tool
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
        )
        self.setWindowTitle("Coreg")
        self.setAccessibleName("Coreg breathing window")
        # The window itself takes focus when shown, so Esc and Space work at once without a
        # focus ring appearing on a button nobody has tabbed to.
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._bridge = bridge
        self._settings = settings
        self._drag_from: QPoint | None = None
        self._time_at = -1.0

        self.title = QLabel(self)
        self.title.setAccessibleName("Practice")
        theme.set_role(self.title, "heading")
        self.time_left = QLabel(self)
        self.time_left.setAccessibleName("Time left")
        theme.set_role(self.time_left, "small")
        self.close_button = QToolButton(self)
        self.close_button.setAccessibleName("Hide this window")
        self.close_button.setToolTip("Hide (the practice keeps playing)")
        self.close_button.setCursor(Qt.CursorShape.PointingHandCursor)
        theme.set_role(self.close_button, "ghost")
        self.close_button.clicked.connect(self.hide)

        self.orb = OrbWidget(bridge, self, halo=COMPACT_HALO)
        self.orb.reduced_motion = settings.flag("reduced_motion")
        self.orb.counts = not settings.flag("hide_counts")
        self.orb.setMinimumSize(120, 120)
        self.caption = CaptionLabel(self, lines=2, scale=1.0)
        self.transport = TransportButtons(bridge, diameter_em=2.7, parent=self)
        self.play_button = self.transport.play_button
        self.stop_button = self.transport.stop_button
        self.open_button = QPushButton("Open Coreg", self)
        self.open_button.setAccessibleName("Open Coreg")
        self.open_button.setToolTip("Open the main window")
        self.open_button.setCursor(Qt.CursorShape.PointingHandCursor)
        theme.set_role(self.open_button, "link")
        self.open_button.clicked.connect(self._open_main)
        # The quick reset asks nothing first; when it ends, the after question takes the orb's
        # place here (unless turned off), and the window then goes as before.
        self.checkin_panel = CheckInPanel(self, compact=True)
        self.checkin_panel.hide()
        self.checkin_panel.answered.connect(self._checkin_answered)
        self.checkin_panel.skipped.connect(self._checkin_done)
        self.checkin_panel.closed.connect(self._checkin_done)
        self._after_session: int | None = None
        self._after_before: int | None = None

        em = self.fontMetrics().height()
        top = QHBoxLayout()
        top.setSpacing(round(em * 0.4))
        names = QVBoxLayout()
        names.setSpacing(0)
        names.addWidget(self.title)
        names.addWidget(self.time_left)
        top.addLayout(names, 1)
        top.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(round(em), round(em * 0.8), round(em), round(em * 0.6))
        layout.setSpacing(round(em * 0.35))
        layout.addLayout(top)
        layout.addWidget(self.orb, 1)
        layout.addWidget(self.checkin_panel, 1)
        layout.addWidget(self.caption)
        layout.addWidget(self.transport)
        layout.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignHCenter)

        self.setTabOrder(self.play_button, self.stop_button)
        self.setTabOrder(self.stop_button, self.open_button)
        self.setTabOrder(self.open_button, self.close_button)

        self._hide_timer = QTimer(self)
        self._hide_timer.setSingleShot(True)
        self._hide_timer.timeout.connect(self._hide_if_idle)

        bridge.practiceStarted.connect(self._practice_started)
        bridge.captionChanged.connect(self.caption.show_caption)
        bridge.ended.connect(self._ended)
        bridge.finished.connect(self._finished)
        bridge.stopped.connect(self._stopped)
        self.orb.ticked.connect(self._refresh_time)

        self.caption.setVisible(settings.flag("captions"))
        follow_settings(self, settings, lambda _keys: self.apply_settings())
        self._restyle()
        self.setFixedSize(self._preferred_size())
        self._practice_started()

    # ------------------------------------------------------------------ public

    def show_near(self, anchor: QRect | None) -> None:
        """Show next to `anchor` (the tray icon's rectangle), or at the bottom-right of the screen.

        The result is always fully inside the screen's available area, whatever the tray reports
        (some trays report an empty or off-screen rectangle).
        """
        self._hide_timer.stop()
        self.setFixedSize(self._preferred_size())
        screen = self._screen_for(anchor)
        area = screen.availableGeometry()
        w, h = self.width(), self.height()
        if anchor is not None and anchor.isValid() and not anchor.isEmpty():
            centre = anchor.center()
            if anchor.right() < area.left() or anchor.left() > area.right():
                # A vertical panel at the left or right edge: sit beside it.
                left_edge = anchor.right() < area.left()
                x = anchor.right() + MARGIN if left_edge else anchor.left() - w - MARGIN
                y = centre.y() - h // 2
            else:
                x = centre.x() - w // 2
                below = centre.y() < area.center().y()
                y = anchor.bottom() + MARGIN if below else anchor.top() - h - MARGIN
        else:
            x = area.right() - w - 2 * MARGIN
            y = area.bottom() - h - 2 * MARGIN
        x = max(area.left() + MARGIN, min(x, area.right() - w - MARGIN + 1))
        y = max(area.top() + MARGIN, min(y, area.bottom() - h - MARGIN + 1))
        self.move(x, y)
        self.show()
        self.raise_()
        self.activateWindow()
        self.setFocus(Qt.FocusReason.ActiveWindowFocusReason)
        log.debug("Compact window shown at %d,%d (anchor %s)", x, y, anchor)

    def apply_settings(self) -> None:
        """Re-read the options this window shows (called whenever the settings change)."""
        self.caption.setVisible(self._settings.flag("captions") and not self.asking)
        self.orb.reduced_motion = self._settings.flag("reduced_motion")
        self.orb.counts = not self._settings.flag("hide_counts")

    # ------------------------------------------------------------------ reactions

    @property
    def asking(self) -> bool:
        return self.checkin_panel.isVisibleTo(self)

    def _show_question(self, on: bool) -> None:
        self.checkin_panel.setVisible(on)
        for widget in (self.orb, self.transport):
            widget.setVisible(not on)
        self.caption.setVisible(not on and self._settings.flag("captions"))

    def _ended(self, _practice_id: str, _heard: float, reason: str) -> None:
        """Ask the after question here when this window is where the practice ended."""
        session = self._bridge.session_number
        if (reason == EndReason.FAILED.value or not self._settings.flag("checkin.after")
                or not self.isVisible() or session < 0
                or self._bridge.sleep_ending()):  # falling asleep: no question
            return
        self._after_session, self._after_before = session, self._bridge.before
        self.checkin_panel.ask(AFTER)
        self._show_question(True)
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def _checkin_answered(self, value: int, _state: object) -> None:
        if self._after_session is None:
            return
        try:
            self._bridge.record_after(self._after_session, value)
        except ValueError as exc:
            log.warning("after check-in not kept: %s", exc)
        self.checkin_panel.show_result(result_text(self._after_before, value))
        self._hide_timer.start(HIDE_AFTER_RESULT_MS)

    def _checkin_done(self) -> None:
        self._after_session = None
        self._hide_timer.start(0)

    def _practice_started(self, *_: object) -> None:
        self._hide_timer.stop()
        self._after_session = None
        if hasattr(self, "checkin_panel") and self.asking:
            self._show_question(False)
        practice = self._bridge.practice
        self.title.setText(practice.title if practice is not None else "Coreg")
        self.caption.setText("")
        self._refresh_time(force=True)

    def _finished(self, *_: object) -> None:
        self.caption.setText(FINISHED_CAPTION)
        self._refresh_time(force=True)
        if not self.asking:  # the question stays until it is answered or skipped
            self._hide_timer.start(HIDE_AFTER_FINISH_MS)

    def _stopped(self, *_: object) -> None:
        self._refresh_time(force=True)
        if not self.asking:
            self._hide_timer.start(HIDE_AFTER_STOP_MS)

    def _hide_if_idle(self) -> None:
        if not self._bridge.active:
            self.hide()
            if self.asking:
                self._show_question(False)
                self._after_session = None

    def _open_main(self) -> None:
        self.hide()
        self.openMainRequested.emit()

    def _refresh_time(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._time_at < PROGRESS_INTERVAL_S:
            return  # called on every orb frame; the text changes once a second
        self._time_at = now
        state = self._bridge.state() if self._bridge.active else None
        text = f"{format_clock(state.remaining)} left" if state is not None else ""
        if self.time_left.text() != text:
            self.time_left.setText(text)

    # ------------------------------------------------------------------ window behaviour

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.asking and self.checkin_panel.handle_key(event):
            return
        if event.key() == Qt.Key.Key_Escape:
            if self._bridge.active:
                self._bridge.stop()
            else:
                self.hide()
            return
        if event.key() == Qt.Key.Key_Space and self.play_button.isEnabled():
            self.play_button.click()
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Frameless, so the background is the handle for moving the window."""
        if event.button() == Qt.MouseButton.LeftButton:
            handle = self.windowHandle()
            if handle is not None and handle.startSystemMove():
                return
            self._drag_from = event.globalPosition().toPoint() - self.frameGeometry().topLeft()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_from is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self.move(event.globalPosition().toPoint() - self._drag_from)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag_from = None
        super().mouseReleaseEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        """A plain surface with a hairline border: it must read as a window without a frame."""
        tones = theme.current_colors(self)
        painter = QPainter(self)
        painter.fillRect(self.rect(), tones.window)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(tones.border, 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))
        painter.end()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            self._restyle()
            self.update()
        if event.type() == QEvent.Type.FontChange:
            self.caption.apply_font()
            self.setFixedSize(self._preferred_size())

    # ------------------------------------------------------------------ helpers

    def _restyle(self) -> None:
        tones = theme.current_colors(self)
        self.close_button.setIcon(glyph_icon("close", tones.muted, 16))

    def _preferred_size(self) -> QSize:
        em = self.fontMetrics().height()
        return QSize(max(290, round(em * WIDTH_EM)), max(360, round(em * HEIGHT_EM)))

    def _screen_for(self, anchor: QRect | None) -> QScreen:
        screen = None
        if anchor is not None and anchor.isValid():
            screen = QGuiApplication.screenAt(anchor.center())
        if screen is None:
            screen = self.screen() or QGuiApplication.primaryScreen()
        assert screen is not None
        return screen
