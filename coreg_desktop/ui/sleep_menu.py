"""The sleep timer's menu, the same in the player and in the tray: 15, 30 or 60 minutes or a time
of one's own, five minutes more or fewer while it runs, and off.

One menu class for both places, so the two can never offer different things; the timer itself
lives in the core (`sleep_timer.py`), so the terminal, the player, the tray and MPRIS all show
and change the same one.
"""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog, QMenu, QWidget

from coreg_desktop.sleep_timer import CHOICES_MIN, RANGE_MIN, STEP_MIN, format_left
from coreg_desktop.ui.bridge import PlayerBridge

TITLE = "Sleep timer"


def menu_title(left: float | None) -> str:
    """ "Sleep timer" when off, "Sleep timer: 23 min left" while it runs."""
    return TITLE if left is None else f"{TITLE}: {format_left(left)}"


class SleepMenu(QMenu):
    def __init__(self, bridge: PlayerBridge, parent: QWidget | None = None) -> None:
        super().__init__(TITLE, parent)
        self.bridge = bridge
        self.setAccessibleName(TITLE)
        self.choices = []
        for minutes in CHOICES_MIN:
            action = self.addAction(f"{minutes} minutes")
            action.triggered.connect(lambda _=False, m=minutes: bridge.set_sleep(m))
            self.choices.append(action)
        self.custom_action = self.addAction("Another time…")
        self.custom_action.triggered.connect(self.ask_custom)
        self.addSeparator()
        self.more_action = self.addAction(f"{STEP_MIN} more minutes")
        self.more_action.triggered.connect(lambda: bridge.extend_sleep(STEP_MIN))
        self.fewer_action = self.addAction(f"{STEP_MIN} fewer minutes")
        self.fewer_action.triggered.connect(lambda: bridge.extend_sleep(-STEP_MIN))
        self.off_action = self.addAction("Turn off")
        self.off_action.triggered.connect(bridge.cancel_sleep)
        bridge.sleepChanged.connect(self.refresh)
        self.aboutToShow.connect(self.refresh)
        self.refresh()

    def ask_custom(self) -> None:
        lo, hi = RANGE_MIN
        minutes, ok = QInputDialog.getInt(
            self.parentWidget(), TITLE, "Fade out and stop after how many minutes?", 45,
            int(lo), int(hi), 5)
        if ok:
            self.bridge.set_sleep(minutes)

    def refresh(self, *_: object) -> None:
        left = self.bridge.sleep_left()
        running = left is not None
        self.setTitle(menu_title(left))
        for action in (self.more_action, self.fewer_action, self.off_action):
            action.setEnabled(running)
