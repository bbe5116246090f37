"""The mouse wheel scrolls the page it is over, not the control that happens to be under the
pointer.

In a long scrolled page of settings, a combo box or slider passing under the pointer would
otherwise take the wheel: a person scrolling down to the next section found their narration
voice changed. A control still takes the wheel once it has been clicked or tabbed to, as a
person who means to change it would expect.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QScrollArea, QWidget


class PageWheel(QObject):
    """Forwards wheel events from unfocused controls to the page's scroll bar."""

    def __init__(self, area: QScrollArea) -> None:
        super().__init__(area)
        self._area = area

    def watch(self, *controls: QWidget) -> None:
        for control in controls:
            # WheelFocus (a combo box's default) would give it focus before the filter sees it.
            control.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            control.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget)
                and not watched.hasFocus()):
            QApplication.sendEvent(self._area.verticalScrollBar(), event)
            return True
        return super().eventFilter(watched, event)
