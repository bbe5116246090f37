"""The first-run card that invites a person to choose a voice by ear.

Whether a voice feels calm is personal, and nobody should have to find the setting to learn that
there is a choice. So on the first runs the library shows this small card above the practices:
two or three voices, each with a Preview and a "Choose" button. It goes away for good once a voice
is chosen or the card is dismissed, and never blocks anything: the practices are right below it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from coreg_desktop.tts.base import VoiceInfo
from coreg_desktop.ui.theme import set_role

TITLE = "Choose a voice"
TEXT = (
    "Which voice feels calmest to you? Listen to each, then choose one. "
    "You can change it any time in Settings."
)


class VoiceChoiceCard(QFrame):
    """Emits `previewRequested(id)`, `chosen(id)` and `dismissed()`; the window acts on them."""

    previewRequested = Signal(str)
    chosen = Signal(str)
    dismissed = Signal()

    def __init__(self, voices: list[VoiceInfo], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_role(self, "section")
        self.setAccessibleName(TITLE)
        m = self.fontMetrics().height()
        box = QVBoxLayout(self)
        box.setContentsMargins(round(m * 1.1), round(m * 0.9), round(m * 1.1), round(m * 0.9))
        box.setSpacing(round(m * 0.45))

        head = QHBoxLayout()
        title = QLabel(TITLE, self)
        set_role(title, "heading")
        title.setAccessibleName(TITLE)
        head.addWidget(title, 1)
        self.dismiss_button = QPushButton("Not now", self)
        set_role(self.dismiss_button, "link")
        self.dismiss_button.setAccessibleName("Close the voice choice")
        self.dismiss_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.dismiss_button.setAutoDefault(False)
        self.dismiss_button.clicked.connect(self.dismissed)
        head.addWidget(self.dismiss_button, 0, Qt.AlignmentFlag.AlignTop)
        box.addLayout(head)

        text = QLabel(TEXT, self)
        text.setWordWrap(True)
        set_role(text, "muted")
        text.setAccessibleName(TEXT)
        box.addWidget(text)

        self.preview_buttons: dict[str, QPushButton] = {}
        self.choose_buttons: dict[str, QPushButton] = {}
        for voice in voices:
            row = QHBoxLayout()
            row.setSpacing(round(m * 0.5))
            name = QLabel(voice.name, self)
            name.setAccessibleName(voice.name)
            name.setToolTip(voice.detail)
            row.addWidget(name, 1)
            preview = QPushButton("Preview", self)
            preview.setAccessibleName(f"Preview {voice.name}")
            preview.setAutoDefault(False)
            preview.clicked.connect(lambda _=False, vid=voice.id: self.previewRequested.emit(vid))
            choose = QPushButton("Choose", self)
            choose.setAccessibleName(f"Choose {voice.name}")
            choose.setAutoDefault(False)
            choose.clicked.connect(lambda _=False, vid=voice.id: self.chosen.emit(vid))
            row.addWidget(preview)
            row.addWidget(choose)
            box.addLayout(row)
            self.preview_buttons[voice.id] = preview
            self.choose_buttons[voice.id] = choose
