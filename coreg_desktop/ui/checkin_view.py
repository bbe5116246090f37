"""The check-in panel: one calm question on the 0 to 10 scale, answered by one key or one click.

Someone may open this mid-panic, so the panel asks once, in plain words, and gets out of the way:

* a digit key answers at once (0 to 9; End, the far end of the scale, is 10, and Home is 0),
  as does a click on a number; Esc or "Skip" skips it, and skipping is never questioned;
* before a practice an optional word (shut down, on edge, settled, overwhelmed) can be picked
  first; it never delays the answer;
* after a practice the change is said as a fact ("From 7 to 4."), never as a score.

The panel is only a view: it says what was answered (`answered`, `skipped`, `closed`) and the
window or the compact orb window decides what that means (start the practice, record the
answer). The same widget serves both, `compact` making it fit the small window.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from coreg_desktop.checkin import ANCHORS, QUESTION, STATES, describe_change, scale_hint
from coreg_desktop.ui.theme import set_role

log = logging.getLogger(__name__)

BEFORE = "before"
AFTER = "after"
AFTER_QUESTION = "How activated do you feel now?"
KEYS_HINT = "Press a number key (End for 10), or Esc to skip."
STATE_LABEL = "If a word fits, pick it first (optional):"
THANKS = "Thank you for taking this time."
RESULT_TITLE = "{change}."
DONE_TEXT = "Done"
#: Digit keys (main row and keypad give the same Qt key) and the two ends of the scale.
DIGIT_KEYS = {getattr(Qt.Key, f"Key_{n}"): n for n in range(10)}
END_KEYS = {Qt.Key.Key_End: 10, Qt.Key.Key_Home: 0}


def result_text(before: int | None, after: int) -> str:
    """What the panel says after the after-answer: the change, or just the answer."""
    if before is None:
        return f"Now {after}."
    change = describe_change(before, after)
    return change[0].upper() + change[1:] + "."


class CheckInPanel(QWidget):
    """Emits `answered(rating, state)` (state: a word or None), `skipped()`, and `closed()`
    once the result line of an after check-in has been read (Done, Enter or Esc)."""

    answered = Signal(int, object)
    skipped = Signal()
    closed = Signal()

    def __init__(self, parent: QWidget | None = None, compact: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("checkInPanel")
        self.setAccessibleName("Check-in")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.compact = compact
        self.kind = BEFORE
        self.showing_result = False
        m = self.fontMetrics().height()

        self.context = QLabel(self)
        set_role(self.context, "muted")
        self.context.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.context.setWordWrap(True)
        self.question = QLabel(QUESTION, self)
        set_role(self.question, "heading" if compact else "title")
        self.question.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.question.setWordWrap(True)

        # The scale: eleven numbers in a row (two rows in the compact window), anchors below.
        self.scale = QWidget(self)
        self.scale.setAccessibleName("Scale from 0 to 10")
        grid = QGridLayout(self.scale)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(round(m * (0.25 if compact else 0.35)))
        grid.setVerticalSpacing(round(m * 0.3))
        self.numbers: list[QPushButton] = []
        per_row = 6 if compact else 11
        for n in range(11):
            button = QPushButton(str(n), self.scale)
            set_role(button, "chip")
            button.setAutoDefault(False)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            anchor = ANCHORS.get(n)
            button.setAccessibleName(f"{n}, {anchor}" if anchor else str(n))
            button.setToolTip(anchor or "")
            button.setMinimumWidth(round(m * (1.7 if compact else 2.2)))
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.clicked.connect(lambda _=False, value=n: self.answer(value))
            button.installEventFilter(self)
            grid.addWidget(button, n // per_row, n % per_row)
            self.numbers.append(button)

        self.anchors = QWidget(self)
        row = QHBoxLayout(self.anchors)
        row.setContentsMargins(0, 0, 0, 0)
        self.anchor_labels: list[QLabel] = []
        for value, words in ANCHORS.items():
            label = QLabel(f"{value} {words}", self.anchors)
            set_role(label, "small")
            label.setAccessibleName(f"{value}: {words}")
            align = (Qt.AlignmentFlag.AlignLeft if value == 0 else Qt.AlignmentFlag.AlignRight
                     if value == 10 else Qt.AlignmentFlag.AlignHCenter)
            label.setAlignment(align | Qt.AlignmentFlag.AlignVCenter)
            row.addWidget(label, 1)
            self.anchor_labels.append(label)

        # The optional word, before a practice only.
        self.states = QWidget(self)
        self.states.setAccessibleName("A word for how you feel")
        states_box = QVBoxLayout(self.states)
        states_box.setContentsMargins(0, round(m * 0.3), 0, 0)
        states_box.setSpacing(round(m * 0.35))
        state_label = QLabel(STATE_LABEL, self.states)
        set_role(state_label, "muted")
        state_label.setWordWrap(True)
        state_label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        states_box.addWidget(state_label)
        chips = QHBoxLayout()
        chips.setSpacing(round(m * 0.4))
        chips.addStretch(1)
        self._state_group = QButtonGroup(self)
        self._state_group.setExclusive(False)  # a second click takes the word back
        self.state_chips: dict[str, QPushButton] = {}
        for word in STATES:
            chip = QPushButton(word, self.states)
            set_role(chip, "chip")
            chip.setCheckable(True)
            chip.setAutoDefault(False)
            chip.setCursor(Qt.CursorShape.PointingHandCursor)
            chip.setAccessibleName(f"I feel {word}")
            chip.toggled.connect(lambda on, w=word: self._state_toggled(w, on))
            chip.installEventFilter(self)
            self._state_group.addButton(chip)
            chips.addWidget(chip)
            self.state_chips[word] = chip
        chips.addStretch(1)
        states_box.addLayout(chips)

        self.hint = QLabel(KEYS_HINT, self)
        set_role(self.hint, "small")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.hint.setWordWrap(True)
        self.skip_button = QPushButton("Skip", self)
        set_role(self.skip_button, "ghost")
        self.skip_button.setAccessibleName("Skip this question")
        self.skip_button.setAutoDefault(False)
        self.skip_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.skip_button.clicked.connect(self.skip)
        self.skip_button.installEventFilter(self)

        # After an after-answer: the change, a kind line, Done.
        self.result = QLabel(self)
        set_role(self.result, "title")
        self.result.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.result.setWordWrap(True)
        self.thanks = QLabel(THANKS, self)
        set_role(self.thanks, "subtitle")
        self.thanks.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.thanks.setWordWrap(True)
        self.done_button = QPushButton(DONE_TEXT, self)
        set_role(self.done_button, "primary")
        self.done_button.setAccessibleName("Done")
        self.done_button.setAutoDefault(False)
        self.done_button.clicked.connect(self.close_result)
        self.done_button.installEventFilter(self)

        column = QVBoxLayout()
        column.setSpacing(round(m * (0.45 if compact else 0.7)))
        column.addStretch(1)
        column.addWidget(self.context)
        column.addWidget(self.question)
        column.addSpacing(round(m * (0.2 if compact else 0.5)))
        column.addWidget(self.scale)
        column.addWidget(self.anchors)
        column.addWidget(self.states)
        column.addWidget(self.result)
        column.addWidget(self.thanks)
        column.addSpacing(round(m * 0.4))
        column.addWidget(self.hint)
        column.addWidget(self.skip_button, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addWidget(self.done_button, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addStretch(2)
        holder = QWidget(self)
        holder.setLayout(column)
        holder.setMaximumWidth(round(m * 36))
        outer = QHBoxLayout(self)
        margin = 0 if compact else round(m * 1.5)
        outer.setContentsMargins(margin, margin, margin, margin)
        outer.addStretch(1)
        outer.addWidget(holder, 100)
        outer.addStretch(1)
        if compact:  # no room for three labels under the numbers: one line that wraps
            for label in self.anchor_labels:
                label.hide()
            hint = QLabel(scale_hint(), self.anchors)
            set_role(hint, "small")
            hint.setWordWrap(True)
            hint.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            row.addWidget(hint, 1)
            self.hint.setText("Number keys answer (End for 10); Esc skips.")
        self.ask(BEFORE)

    # ------------------------------------------------------------------ asking

    @property
    def state(self) -> str | None:
        """The word picked so far, if any."""
        return next((w for w, chip in self.state_chips.items() if chip.isChecked()), None)

    def ask(self, kind: str, context: str = "") -> None:
        """Show the question: `kind` BEFORE (with the optional word) or AFTER."""
        if kind not in (BEFORE, AFTER):
            raise ValueError(f"unknown check-in {kind!r}")
        self.kind = kind
        self.showing_result = False
        for chip in self.state_chips.values():
            chip.setChecked(False)
        self.context.setText(context)
        self.context.setVisible(bool(context))
        self.question.setText(QUESTION if kind == BEFORE else AFTER_QUESTION)
        self.question.setAccessibleName(self.question.text())
        for widget in (self.question, self.scale, self.anchors, self.hint, self.skip_button):
            widget.show()
        self.states.setVisible(kind == BEFORE and not self.compact)
        for widget in (self.result, self.thanks, self.done_button):
            widget.hide()
        self.setAccessibleDescription(f"{self.question.text()} {KEYS_HINT}")

    def focus_scale(self) -> None:
        """Put the keyboard on the panel, so the next digit answers."""
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def answer(self, value: int) -> None:
        if self.showing_result or not 0 <= value <= 10:
            return
        log.info("check-in %s answered: %d%s", self.kind, value,
                 f" ({self.state})" if self.state else "")
        self.answered.emit(value, self.state if self.kind == BEFORE else None)

    def skip(self) -> None:
        if self.showing_result:
            self.close_result()
            return
        log.info("check-in %s skipped", self.kind)
        self.skipped.emit()

    def show_result(self, text: str) -> None:
        """The after-answer's line ("From 7 to 4."), the kind line and Done."""
        self.showing_result = True
        for widget in (self.question, self.scale, self.anchors, self.states, self.hint,
                       self.skip_button):
            widget.hide()
        self.result.setText(text)
        self.result.setAccessibleName(text)
        for widget in (self.result, self.thanks, self.done_button):
            widget.show()
        self.done_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def close_result(self) -> None:
        if self.showing_result:
            self.showing_result = False
            self.closed.emit()

    def _state_toggled(self, word: str, on: bool) -> None:
        if on:  # one word at most, but a click on the picked one takes it back
            for other, chip in self.state_chips.items():
                if other != word and chip.isChecked():
                    chip.setChecked(False)

    # ------------------------------------------------------------------ keys

    def handle_key(self, event: QKeyEvent) -> bool:
        """Digits, Home/End, Esc (and Enter on the result); True when the key was used."""
        key = Qt.Key(event.key())
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        if self.showing_result:
            if key in (Qt.Key.Key_Escape, Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.close_result()
                return True
            return False
        if key in DIGIT_KEYS:
            self.answer(DIGIT_KEYS[key])
            return True
        if key in END_KEYS:
            self.answer(END_KEYS[key])
            return True
        if key == Qt.Key.Key_Escape:
            self.skip()
            return True
        return False

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.handle_key(event):
            event.accept()
            return
        super().keyPressEvent(event)

    def event(self, event: QEvent) -> bool:
        # Esc is the window's "stop" shortcut; while the panel has the keyboard it means skip.
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) \
                and event.key() == Qt.Key.Key_Escape:
            event.accept()
            return True
        return super().event(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Keys pressed on a number, a word or a button still answer (and Esc still skips)."""
        if isinstance(event, QKeyEvent):
            if event.type() == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_Escape:
                event.accept()
                return True
            if event.type() == QEvent.Type.KeyPress and self.handle_key(event):
                return True
        return super().eventFilter(watched, event)
