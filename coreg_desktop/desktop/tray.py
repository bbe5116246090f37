"""The tray icon: one click to a quick reset, a small menu, and a tooltip that tells the time left.

The tray is where Coreg mostly lives, so it is built to be trusted in a hard moment: a single
left click starts the quick reset at once in the compact orb window beside the icon (its
narration was prepared at start-up), and nothing here ever asks a question first. A setting
turns the click into "open the window" for people who prefer that.

The tooltip follows the audio clock through the bridge, once a second and only while a practice
plays; idle in the tray, this module runs no timer at all.

One-time notices (the first hide to the tray, the missing-tray explanation) are remembered in a
small state file rather than in the settings: they are not choices anyone needs to make.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QRect, QTimer, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from coreg_desktop.audio.mixer import Transport
from coreg_desktop.constants import QUICK_RESET_ID
from coreg_desktop.desktop.desktop_entry import ICON_SVG, asset_path
from coreg_desktop.flags import OnceFlags
from coreg_desktop.practice.timeline import format_clock
from coreg_desktop.settings import TRAY_OPENS_WINDOW, Settings
from coreg_desktop.sleep_timer import format_left
from coreg_desktop.ui.bridge import PlayerBridge
from coreg_desktop.ui.compact import CompactWindow
from coreg_desktop.ui.main_window import NO_TRAY_NOTICE, MainWindow
from coreg_desktop.ui.sleep_menu import SleepMenu

log = logging.getLogger(__name__)

IDLE_TOOLTIP = "Coreg"
TOOLTIP_MS = 1000
MESSAGE_MS = 8000

HIDDEN_TITLE = "Coreg is still here"
HIDDEN_TEXT = (
    "Coreg keeps running in the tray, so a quick reset is always one click away. "
    "To close it completely, choose Quit from this icon's menu."
)
FLAG_HIDDEN_NOTICE = "hidden-to-tray-notice"
FLAG_NO_TRAY_NOTICE = "no-tray-notice"


def app_icon() -> QIcon:
    """Coreg's own icon (the SVG in assets/), for the tray and every window."""
    try:
        return QIcon(str(asset_path(ICON_SVG)))
    except FileNotFoundError:
        log.warning("Coreg's icon is missing; using a generic one")
        return QIcon.fromTheme("media-playback-start")


def tooltip_text(title: str | None, remaining: float | None, paused: bool = False,
                 sleep_left: float | None = None) -> str:
    """What the tray says: "Coreg" when idle, "<title> — 3:12 left" during a practice, and
    the sleep timer's time on a line of its own while it runs."""
    sleep = f"\nSleep timer: {format_left(sleep_left)}" if sleep_left is not None else ""
    if not title or remaining is None:
        return IDLE_TOOLTIP + sleep
    left = f"{format_clock(remaining)} left"
    return f"{title} \u2014 {'paused, ' if paused else ''}{left}{sleep}"


class Tray(QObject):
    quitRequested = Signal()

    def __init__(
        self,
        bridge: PlayerBridge,
        settings: Settings,
        main_window: MainWindow,
        compact: CompactWindow,
        parent: QObject | None = None,
        flags: OnceFlags | None = None,
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.settings = settings
        self.main_window = main_window
        self.compact = compact
        self.flags = flags or OnceFlags()
        self.icon = QSystemTrayIcon(app_icon(), self)
        self.icon.setToolTip(IDLE_TOOLTIP)
        self.icon.activated.connect(self._activated)
        self.icon.messageClicked.connect(self._message_clicked)
        self._reminding = False  # the message showing is a gentle reminder

        self.menu = QMenu()
        self.menu.setAccessibleName("Coreg menu")
        self.quick_action = self._action("Quick reset", self.quick_reset)
        self.open_action = self._action("Open Coreg", self.open_main)
        self.menu.addSeparator()
        self.practices_menu = self.menu.addMenu("Practices")
        self.practices_menu.setAccessibleName("Practices")
        self.menu.addSeparator()
        self.pause_action = self._action("Pause", self.bridge.toggle)
        self.stop_action = self._action("Stop", self.bridge.stop)
        self.sleep_menu = SleepMenu(bridge)
        self.menu.addMenu(self.sleep_menu)
        self.menu.addSeparator()
        self.quit_action = self._action("Quit", self.quitRequested.emit)
        self.icon.setContextMenu(self.menu)
        self.rebuild_practices()

        self._ticker = QTimer(self)
        self._ticker.setInterval(TOOLTIP_MS)
        self._ticker.timeout.connect(self.refresh)

        bridge.transportChanged.connect(self.refresh)
        bridge.practiceStarted.connect(self.refresh)
        bridge.sleepChanged.connect(self.refresh)
        main_window.hiddenToTray.connect(self.hidden_to_tray)
        compact.openMainRequested.connect(self.open_main)
        self.refresh()

    def _action(self, text: str, slot: Callable[[], object]) -> QAction:
        action = self.menu.addAction(text)
        action.triggered.connect(lambda _checked=False: slot())  # never pass `checked` on
        return action

    # ------------------------------------------------------------------ showing

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> bool:
        """Show the icon if the desktop has a tray; False when it has none."""
        if not self.available():
            return False
        self.icon.show()
        return True

    def hide(self) -> None:
        self.icon.hide()

    def anchor(self) -> QRect | None:
        """Where the icon is on screen, for placing the compact window beside it."""
        if not self.icon.isVisible():
            return None
        rect = self.icon.geometry()
        return rect if rect.isValid() and not rect.isEmpty() else None

    # ------------------------------------------------------------------ what the user asks

    def quick_reset(self) -> None:
        """Start the quick reset now (or keep the one already running) and show it."""
        practice = self.bridge.practice
        running = self.bridge.active and practice is not None and practice.id == QUICK_RESET_ID
        if not running and not self.bridge.play(QUICK_RESET_ID):
            return
        if self._main_window_in_view():
            self.main_window.show_player()
            self.main_window.bring_to_front()
        else:
            self.compact.show_near(self.anchor())

    def open_main(self) -> None:
        self.compact.hide()
        if self.bridge.active:
            self.main_window.show_player()
        self.main_window.bring_to_front()

    def play(self, practice_id: str) -> bool:
        """A practice chosen from the menu (or `--practice ID`) plays in the main window, which
        asks the before question first as for any practice started there (unless it is turned
        off); False for an unknown id. Only the quick reset never waits for a question."""
        if self.bridge.library.get(practice_id) is None:
            self.bridge.noticeRaised.emit(f'There is no practice called "{practice_id}".')
            return False
        self.open_main()
        self.main_window.play(practice_id)
        return True

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason is QSystemTrayIcon.ActivationReason.Trigger:
            if self.settings.text("tray.click") == TRAY_OPENS_WINDOW:
                self.open_main()
            else:
                self.quick_reset()
        elif reason is QSystemTrayIcon.ActivationReason.MiddleClick and self.bridge.active:
            self.bridge.toggle()

    def _main_window_in_view(self) -> bool:
        return self.main_window.isVisible() and not self.main_window.isMinimized()

    # ------------------------------------------------------------------ keeping up

    def rebuild_practices(self) -> None:
        self.practices_menu.clear()
        for practice in self.bridge.library.all:
            action = self.practices_menu.addAction(practice.title)
            action.setToolTip(practice.summary)
            action.triggered.connect(lambda _=False, pid=practice.id: self.play(pid))
        self.practices_menu.setEnabled(bool(self.bridge.library.all))

    def refresh(self, *_: object) -> None:
        """Tooltip, menu labels and the 1 Hz ticker, from the bridge's current state."""
        transport = self.bridge.transport
        active = self.bridge.active
        playing = active and transport is Transport.PLAYING
        paused = active and transport is Transport.PAUSED
        practice = self.bridge.practice
        state = self.bridge.state() if active else None
        sleep_left = self.bridge.sleep_left()
        if practice is not None and state is not None:
            self.icon.setToolTip(tooltip_text(practice.title, state.remaining, paused,
                                              sleep_left))
        else:
            self.icon.setToolTip(tooltip_text(None, None, sleep_left=sleep_left))
        self.pause_action.setText("Resume" if paused else "Pause")
        self.pause_action.setEnabled(active)
        self.stop_action.setEnabled(active)
        if playing and not self._ticker.isActive():
            self._ticker.start()
        elif not playing and self._ticker.isActive():
            self._ticker.stop()

    @property
    def ticking(self) -> bool:
        return self._ticker.isActive()

    # ------------------------------------------------------------------ notices

    def hidden_to_tray(self) -> None:
        """The window went to the tray: say so gently, the first time only."""
        if self.flags.first_time(FLAG_HIDDEN_NOTICE) and self.icon.isVisible():
            self.icon.showMessage(HIDDEN_TITLE, HIDDEN_TEXT, app_icon(), MESSAGE_MS)

    def notify(self, text: str) -> bool:
        """A passing notice from the tray; False when there is no tray to say it from."""
        if not self.icon.isVisible() or not QSystemTrayIcon.supportsMessages():
            return False
        self._reminding = False
        self.icon.showMessage("Coreg", text, app_icon(), MESSAGE_MS)
        return True

    def show_reminder(self, title: str, text: str) -> bool:
        """A gentle reminder as the tray's message (no notification server): a click on it
        starts the quick reset. False when there is no tray to say it from."""
        if not self.icon.isVisible() or not QSystemTrayIcon.supportsMessages():
            return False
        self._reminding = True
        self.icon.showMessage(title, text, app_icon(), MESSAGE_MS)
        return True

    def _message_clicked(self) -> None:
        if self._reminding:
            self._reminding = False
            self.quick_reset()

    def explain_missing_tray(self) -> bool:
        """Without a tray, explain once (ever) where the quick reset went.

        The explanation is the main window's quiet banner, not a dialog: this runs at start-up,
        possibly at login, and a box demanding a click is the opposite of calming.
        """
        if not self.flags.first_time(FLAG_NO_TRAY_NOTICE):
            return False
        self.main_window.show_notice(NO_TRAY_NOTICE)
        return True
