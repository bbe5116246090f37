"""The Progress page: what you practised and how you felt, shown calmly, never as a scoreboard.

The numbers come from `progress.summarize` (pure, tested without Qt); this module only shows
them. Charts are pyqtgraph: pure Python on top of QGraphicsView, light enough to ship (QtCharts
would pull in PySide6-Addons, a few hundred MB), and styled here from the theme's own colours so
they look like the rest of Coreg in light and dark. They are for reading, not exploring: no
zoom, no pan, no context menu, nothing that moves under a shaking hand.

Nothing here says what was not done: no missed days, no goals, no red. Streaks appear only when
the person turned them on (`progress.streaks`), and only as days in a row that include today or
yesterday.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import QDate, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QTextCharFormat, QTransform
from PySide6.QtWidgets import (
    QApplication,
    QCalendarWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from coreg_desktop import progress
from coreg_desktop.history import HistoryError
from coreg_desktop.progress import EMPTY_TEXT, Summary
from coreg_desktop.settings import Settings
from coreg_desktop.ui.bridge import follow_settings
from coreg_desktop.ui.player_view import glyph_icon
from coreg_desktop.ui.theme import Colors, current_colors, hex_rgb, mix, set_role

if TYPE_CHECKING:
    from coreg_desktop.history import History

log = logging.getLogger(__name__)

TITLE_TEXT = "Your progress"
SUBTITLE_TEXT = ("What you practised, and how you felt before and after. "
                 "It stays on this computer.")
WEEKS_HEADING = "Minutes each week"
CHANGE_HEADING = "Before and after, by practice"
CHANGE_HELP = ("0 is calm and settled, 10 as bad as it gets. Averages appear once a practice "
               "has 3 sessions with both answers.")
CALENDAR_HEADING = "Days with a practice"
RECENT_HEADING = "Recent sessions"
DELETE_TEXT = "Delete my data"
DELETE_QUESTION = "Delete your practice history?"
DELETE_DETAIL = ("Every session and every check-in answer kept on this computer will be removed. "
                 "Your settings, voices and safe people stay as they are. This cannot be undone.")
DELETED_TEXT = "Your practice history was deleted."
DELETE_FAILED_TEXT = ("Your history could not be deleted just now, so nothing was removed. "
                      "You can try again in a moment.")
NO_HISTORY_TEXT = ("Coreg could not open its history file, so nothing can be shown here right "
                   "now. Your practices still play as always.")


def week_label(day: date) -> str:
    return f"{day.day} {day:%b}"


def _hours_text(minutes: float) -> str:
    whole = round(minutes)
    if whole < 60:
        return f"{whole} min"
    hours, rest = divmod(whole, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def summary_text(summary: Summary) -> str:
    count = summary.sessions
    return (f"{count} session{'s' if count != 1 else ''}, "
            f"{_hours_text(summary.total_minutes)} in all.")


class _Chart(pg.PlotWidget):
    """A still pyqtgraph plot in Coreg's colours: no mouse, no menu, no auto-range buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseEnabled(x=False, y=False)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setFrameShape(QFrame.Shape.NoFrame)
        item = self.getPlotItem()
        item.setDefaultPadding(0.02)
        m = self.fontMetrics().height()
        self.setMinimumHeight(round(m * 11))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def restyle(self, c: Colors, font: QFont) -> None:
        self.setBackground(c.surface)
        small = QFont(font)
        small.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
        grid = QColor(c.border)
        for name in ("left", "bottom"):
            axis = self.getAxis(name)
            axis.setPen(pg.mkPen(grid))
            axis.setTextPen(pg.mkPen(c.muted))
            axis.setTickFont(small)
        self.getPlotItem().showGrid(x=False, y=True, alpha=0.35)
        self.getAxis("left").setZValue(-1000)  # the grid lines behind the bars, not across


class ProgressView(QWidget):
    """Emits `backRequested` (to the library) and `deleted` (the history was emptied)."""

    backRequested = Signal()
    deleted = Signal()

    def __init__(
        self,
        history: Callable[[], History | None],
        settings: Settings,
        parent: QWidget | None = None,
        today: Callable[[], date] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("progressView")
        self.setAccessibleName("Progress")
        self._history = history
        self._settings = settings
        self._today = today or date.today
        self.summary: Summary | None = None
        self.delete_box: QMessageBox | None = None
        self.last_refresh_ms = 0.0
        m = self.fontMetrics().height()

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scroll_area.verticalScrollBar().setAccessibleName("Scroll the progress page")
        contents = QWidget()
        contents.setObjectName("scrollContents")
        self.scroll_area.setWidget(contents)
        outer.addWidget(self.scroll_area, 1)

        centre = QHBoxLayout(contents)
        centre.setContentsMargins(round(m * 2), round(m * 0.8), round(m * 2), round(m * 1.2))
        self.column = QWidget(contents)
        self.column.setMaximumWidth(m * 46)
        centre.addStretch(1)
        centre.addWidget(self.column, 100)
        centre.addStretch(1)
        col = QVBoxLayout(self.column)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(round(m * 0.7))

        self.back_button = QToolButton(self.column)
        self.back_button.setText("Library")
        self.back_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.back_button.setAccessibleName("Back to the library")
        self.back_button.setToolTip("Back to the library (Esc)")
        self.back_button.setCursor(Qt.CursorShape.PointingHandCursor)
        set_role(self.back_button, "ghost")
        self.back_button.clicked.connect(self.backRequested)
        col.addWidget(self.back_button, 0, Qt.AlignmentFlag.AlignLeft)

        self.title = QLabel(TITLE_TEXT, self.column)
        set_role(self.title, "title")
        self.subtitle = QLabel(SUBTITLE_TEXT, self.column)
        set_role(self.subtitle, "subtitle")
        self.subtitle.setWordWrap(True)
        col.addWidget(self.title)
        col.addWidget(self.subtitle)

        self.empty = QLabel(EMPTY_TEXT, self.column)
        set_role(self.empty, "muted")
        self.empty.setWordWrap(True)
        self.empty.setAccessibleName(EMPTY_TEXT)
        col.addWidget(self.empty)

        self.totals = QLabel(self.column)
        set_role(self.totals, "muted")
        self.streak = QLabel(self.column)
        set_role(self.streak, "muted")
        col.addWidget(self.totals)
        col.addWidget(self.streak)

        self.content = QWidget(self.column)
        body = QVBoxLayout(self.content)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(round(m * 0.7))
        col.addWidget(self.content)

        weeks_card, weeks_box = self._card(body, WEEKS_HEADING)
        self.weeks_chart = _Chart(weeks_card)
        self.weeks_chart.setAccessibleName("Minutes each week, the last 12 weeks")
        self.weeks_chart.getPlotItem().setLabel("left", "min")
        self.weeks_bars = pg.BarGraphItem(x=[], height=[], width=0.62)
        self.weeks_chart.addItem(self.weeks_bars)
        self.weeks_chart.getPlotItem().disableAutoRange()
        weeks_box.addWidget(self.weeks_chart)

        change_card, change_box = self._card(body, CHANGE_HEADING)
        self.change_help = QLabel(CHANGE_HELP, change_card)
        set_role(self.change_help, "small")
        self.change_help.setWordWrap(True)
        change_box.addWidget(self.change_help)
        self.change_chart = _Chart(change_card)
        self.change_chart.setAccessibleName("Average before and after, by practice")
        self.before_bars = pg.BarGraphItem(x=[], height=[], width=0.34)
        self.after_bars = pg.BarGraphItem(x=[], height=[], width=0.34)
        self.change_chart.addItem(self.before_bars)
        self.change_chart.addItem(self.after_bars)
        self.change_chart.getPlotItem().disableAutoRange()
        self.change_chart.setYRange(0, 10.5, padding=0)
        self.change_chart.getAxis("left").setTicks([[(v, str(v)) for v in (0, 5, 10)]])
        self.legend = self.change_chart.getPlotItem().addLegend(offset=(-6, 2))
        change_box.addWidget(self.change_chart)
        self.change_rows = QVBoxLayout()
        self.change_rows.setSpacing(round(m * 0.25))
        change_box.addLayout(self.change_rows)
        self.change_labels: list[QLabel] = []

        calendar_card, calendar_box = self._card(body, CALENDAR_HEADING)
        self.calendar = QCalendarWidget(calendar_card)
        self.calendar.setAccessibleName("Calendar of days with a practice")
        self.calendar.setGridVisible(False)
        self.calendar.setVerticalHeaderFormat(
            QCalendarWidget.VerticalHeaderFormat.NoVerticalHeader)
        self.calendar.setFirstDayOfWeek(Qt.DayOfWeek.Monday)
        self.calendar.setMaximumDate(QDate.currentDate().addYears(1))
        # The wheel scrolls the page, as everywhere else on it: over the calendar it would turn
        # the months instead, and a person scrolling down would find themselves in 2027.
        for part in (self.calendar, *self.calendar.findChildren(QWidget)):
            part.installEventFilter(self)
        self.calendar.setMinimumHeight(round(m * 14))
        self._marked: set[date] = set()
        calendar_box.addWidget(self.calendar)
        bar = self.calendar.findChild(QWidget, "qt_calendar_navigationbar")
        if bar is not None:  # room for the month's name, whatever the font
            bar.setMinimumHeight(round(m * 1.9))
        for button in self.calendar.findChildren(QToolButton):  # month, year, back, forward
            if not button.accessibleName():
                button.setAccessibleName(button.toolTip() or "Change the month")

        recent_card, recent_box = self._card(body, RECENT_HEADING)
        self.recent_rows = recent_box
        self.recent_labels: list[QLabel] = []
        del recent_card

        foot = QHBoxLayout()
        foot.addStretch(1)
        self.delete_button = QPushButton(DELETE_TEXT, self.column)
        set_role(self.delete_button, "link")
        self.delete_button.setAccessibleName(DELETE_TEXT)
        self.delete_button.setToolTip("Remove every session kept on this computer")
        self.delete_button.setAutoDefault(False)
        self.delete_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.delete_button.clicked.connect(self.ask_to_delete)
        foot.addWidget(self.delete_button)
        col.addLayout(foot)
        col.addStretch(1)

        self._restyle()
        follow_settings(self, settings, self._settings_changed)

    # ------------------------------------------------------------------ building

    def _card(self, box: QVBoxLayout, heading: str) -> tuple[QFrame, QVBoxLayout]:
        m = self.fontMetrics().height()
        card = QFrame(self.content)
        set_role(card, "section")
        card.setAccessibleName(heading)
        inner = QVBoxLayout(card)
        inner.setContentsMargins(round(m * 1.1), round(m * 0.8), round(m * 1.1), round(m * 0.9))
        inner.setSpacing(round(m * 0.45))
        label = QLabel(heading, card)
        set_role(label, "heading")
        label.setAccessibleName(heading)
        inner.addWidget(label)
        box.addWidget(card)
        return card, inner

    # ------------------------------------------------------------------ content

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and watched is not self.scroll_area:
            QApplication.sendEvent(self.scroll_area.verticalScrollBar(), event)
            return True
        return super().eventFilter(watched, event)

    def refresh(self) -> Summary | None:
        """Read the history and show it; the time it took is kept in `last_refresh_ms`."""
        started = time.perf_counter()
        history = self._history()
        if history is None:
            self.summary = None
            self.empty.setText(NO_HISTORY_TEXT)
            self._show_empty(True)
            self.delete_button.setEnabled(False)
            return None
        try:
            records = history.sessions()
        except HistoryError as exc:  # locked, unreadable: say so, never a traceback
            log.warning("Could not read the history: %s", exc)
            self.summary = None
            self.empty.setText(NO_HISTORY_TEXT)
            self._show_empty(True)
            self.delete_button.setEnabled(False)
            return None
        summary = progress.summarize(
            records, self._today(), streaks=self._settings.flag("progress.streaks"),
            fallback=datetime.now().astimezone().tzinfo,
        )
        self.summary = summary
        self.empty.setText(EMPTY_TEXT)
        self.delete_button.setEnabled(not summary.empty)
        self._show_empty(summary.empty)
        if not summary.empty:
            self._show_weeks(summary)
            self._show_changes(summary)
            self._show_days(summary.days)
            self._show_recent(summary)
        self.totals.setText(summary_text(summary) if not summary.empty else "")
        streak = progress.streak_text(summary.streak or 0) if summary.streak is not None else None
        self.streak.setText(streak or "")
        self.streak.setVisible(streak is not None)
        self.last_refresh_ms = (time.perf_counter() - started) * 1000
        log.debug("progress page refreshed in %.0f ms (%d sessions)", self.last_refresh_ms,
                  summary.sessions)
        return summary

    def _show_empty(self, empty: bool) -> None:
        self.empty.setVisible(empty)
        self.content.setVisible(not empty)
        self.totals.setVisible(not empty)
        self.delete_button.setVisible(not empty)

    def _show_weeks(self, summary: Summary) -> None:
        xs = list(range(len(summary.weeks)))
        heights = [w.minutes for w in summary.weeks]
        self.weeks_bars.setOpts(x=xs, height=heights, width=0.62)
        ticks = [(i, week_label(w.start)) for i, w in enumerate(summary.weeks) if i % 3 == 2]
        self.weeks_chart.getAxis("bottom").setTicks([ticks, []])
        top = max([*heights, 10.0])
        self.weeks_chart.setXRange(-0.6, len(xs) - 0.4, padding=0)
        self.weeks_chart.setYRange(0, top * 1.1, padding=0)

    def _show_changes(self, summary: Summary) -> None:
        for label in self.change_labels:
            self.change_rows.removeWidget(label)
            label.deleteLater()
        self.change_labels = []
        shown = [c for c in summary.changes if c.enough]
        xs = list(range(len(shown)))
        self.before_bars.setOpts(x=[x - 0.18 for x in xs], height=[c.before for c in shown],
                                 width=0.34)
        self.after_bars.setOpts(x=[x + 0.18 for x in xs], height=[c.after for c in shown],
                                width=0.34)
        ticks = [(float(x), c.title) for x, c in enumerate(shown)]
        self.change_chart.getAxis("bottom").setTicks([ticks])
        self.change_chart.setXRange(-0.6, max(len(xs), 1) - 0.4, padding=0)
        self.change_chart.setYRange(0, 10.5, padding=0)
        self.change_chart.setVisible(bool(shown))
        for change in summary.changes:
            label = QLabel(f"{change.title}: {change.text()}", self.content)
            set_role(label, "small")
            label.setWordWrap(True)
            label.setAccessibleName(label.text())
            self.change_rows.addWidget(label)
            self.change_labels.append(label)

    def _show_days(self, days: set[date]) -> None:
        """A soft tint on each day with a practice (and only those: a blank day is just a day)."""
        plain = QTextCharFormat()
        for day in self._marked - days:
            self.calendar.setDateTextFormat(QDate(day.year, day.month, day.day), plain)
        mark = self._mark_format()
        for day in days:
            self.calendar.setDateTextFormat(QDate(day.year, day.month, day.day), mark)
        self._marked = set(days)
        today = self._today()
        self.calendar.setSelectedDate(QDate(today.year, today.month, today.day))

    def _mark_format(self) -> QTextCharFormat:
        c = current_colors(self)
        mark = QTextCharFormat()
        mark.setBackground(QBrush(mix(c.surface, c.accent, 0.3 if c.dark else 0.22)))
        mark.setForeground(QBrush(c.text))
        return mark

    def _show_recent(self, summary: Summary) -> None:
        for label in self.recent_labels:
            self.recent_rows.removeWidget(label)
            label.deleteLater()
        self.recent_labels = []
        zone = datetime.now().astimezone().tzinfo
        for record in summary.recent:
            label = QLabel(progress.session_line(record, zone), self.content)
            label.setWordWrap(True)
            label.setAccessibleName(label.text())
            self.recent_rows.addWidget(label)
            self.recent_labels.append(label)

    # ------------------------------------------------------------------ deleting

    def ask_to_delete(self) -> QMessageBox:
        """Confirm first (Cancel is the default button): deleting cannot be undone."""
        box = QMessageBox(QMessageBox.Icon.NoIcon, DELETE_QUESTION, DELETE_QUESTION,
                          QMessageBox.StandardButton.Cancel, self)
        box.setInformativeText(DELETE_DETAIL)
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        delete.setAccessibleName("Delete my practice history")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda b: self._delete() if b is delete else None)
        box.open()
        self.delete_box = box
        return box

    def _delete(self) -> None:
        history = self._history()
        if history is None:
            return
        try:
            removed = history.delete_all()
        except HistoryError as exc:
            log.warning("Could not delete the history: %s", exc)
            self.refresh()
            self.empty.setText(DELETE_FAILED_TEXT)
            self._show_empty(True)
            return
        log.info("history deleted at the listener's request (%d sessions)", removed)
        self.refresh()
        self.deleted.emit()

    # ------------------------------------------------------------------ keeping up

    def _settings_changed(self, keys: list[str]) -> None:
        if "progress.streaks" in keys and self.summary is not None:
            self.refresh()

    def _restyle(self) -> None:
        c = current_colors(self)
        font = self.font()
        # The calendar's month bar: the app's button padding would squeeze its words, and its
        # default blue bar is the one loud thing on the page.
        self.calendar.setStyleSheet(
            "QCalendarWidget QWidget#qt_calendar_navigationbar"
            f" {{ background: {hex_rgb(c.surface)}; }}"
            f"QCalendarWidget QToolButton {{ padding: 2px 8px; border: none;"
            f" min-height: {self.fontMetrics().height() + 4}px;"
            f" background: transparent; color: {hex_rgb(c.text)}; font-weight: 600; }}"
            f"QCalendarWidget QToolButton:hover {{ background: {hex_rgb(c.surface_alt)}; }}"
            f"QCalendarWidget QAbstractItemView {{ background: {hex_rgb(c.surface)};"
            f" selection-background-color: {hex_rgb(c.accent_soft)};"
            f" selection-color: {hex_rgb(c.text)}; outline: 0px; }}"
        )
        weekend = QTextCharFormat()  # weekends are days like any other: no red
        weekend.setForeground(QBrush(c.text))
        for day in (Qt.DayOfWeek.Saturday, Qt.DayOfWeek.Sunday):
            self.calendar.setWeekdayTextFormat(day, weekend)
        size = round(16 * font.pointSizeF() / 10) if font.pointSizeF() > 0 else 16
        back = glyph_icon("back", c.muted, size)
        self.back_button.setIcon(back)
        # The month arrows in the theme's colour (the style's own are black, lost on dark).
        ahead = QIcon(back.pixmap(size, size).transformed(QTransform().scale(-1, 1)))
        for name, icon in (("qt_calendar_prevmonth", back), ("qt_calendar_nextmonth", ahead)):
            arrow = self.calendar.findChild(QToolButton, name)
            if arrow is not None:
                arrow.setIcon(icon)
        for chart in (self.weeks_chart, self.change_chart):
            chart.restyle(c, font)
        none = pg.mkPen(None)
        self.weeks_bars.setOpts(brush=pg.mkBrush(c.accent), pen=none)
        before = mix(c.surface, c.lavender, 0.75)
        self.before_bars.setOpts(brush=pg.mkBrush(before), pen=none)
        self.after_bars.setOpts(brush=pg.mkBrush(c.accent), pen=none)
        self.legend.clear()
        self.legend.setLabelTextColor(c.muted)
        self.legend.setBrush(pg.mkBrush(c.surface))
        self.legend.setPen(pg.mkPen(c.border))
        self.legend.addItem(self.before_bars, "before")
        self.legend.addItem(self.after_bars, "after")
        if self._marked:
            self._show_days(set(self._marked))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "legend"):
            self._restyle()  # follow a light/dark switch
        super().changeEvent(event)
