"""The crisis note: where to get real help, reachable from every view and shown without a network.

Coreg is a comfort, not a treatment. Someone reaching for it may be in danger, so the note is
short, plain and kind, names emergency numbers directly, and never needs a connection to show.
Keep it consistent with the crisis note at the top of the README.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from coreg_desktop.ui.theme import set_role

log = logging.getLogger(__name__)

CRISIS_TITLE = "If you are in crisis"

#: Paragraphs separated by blank lines; shown as-is and read out by screen readers.
CRISIS_TEXT = """\
Coreg is a comfort, not a treatment, and it is not an emergency service.

If you might hurt yourself or someone else, or you feel unsafe right now, please call your local \
emergency number: 112 in Europe, 911 in North America, 999 in the UK, 000 in Australia. Or go to \
the nearest emergency department.

In the US you can call or text 988, any time. Elsewhere, your local crisis line is listed at \
findahelpline.com.

If you can, reach out to someone you trust and tell them how you are. Reaching out is a strong \
thing to do."""


class CrisisDialog(QDialog):
    """A plain dialog rather than a message box: room for the text to breathe, one Close button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(CRISIS_TITLE)
        self.setAccessibleName(CRISIS_TITLE)
        self.setModal(True)

        layout = QVBoxLayout(self)
        m = self.fontMetrics().height()
        layout.setContentsMargins(round(m * 1.6), round(m * 1.4), round(m * 1.6), round(m * 1.1))
        layout.setSpacing(round(m * 0.9))

        title = QLabel(CRISIS_TITLE, self)
        set_role(title, "heading")
        title.setAccessibleName(CRISIS_TITLE)
        layout.addWidget(title)

        self.paragraphs: list[QLabel] = []
        for text in CRISIS_TEXT.split("\n\n"):
            label = QLabel(text, self)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setAccessibleName(text)
            layout.addWidget(label)
            self.paragraphs.append(label)
        layout.addStretch(1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName("Close this note")
        close.setDefault(True)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.close_button = close

        self.setMinimumWidth(m * 26)
        self.resize(m * 30, self.heightForWidth(m * 30) if self.hasHeightForWidth() else m * 22)


def show_crisis_note(parent: QWidget | None = None) -> CrisisDialog:
    """Open the note window-modally without blocking; returned so callers and tests can close it."""
    dialog = CrisisDialog(parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    log.info("crisis note shown")
    return dialog
