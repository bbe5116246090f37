"""The Pacer page: breathing alone with the orb, a pattern, a length and how the changes are cued.

It starts the core's pacer through the bridge and hands over to the player, which shows the orb
as for any practice. A pattern of one's own is saved here, as with `coreg-desktop pattern add`,
into the same file; a mistake in it is one line under the fields, and nothing is saved.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from coreg_desktop.practice.model import Cue
from coreg_desktop.practice.patterns import (
    DEFAULT_PATTERN,
    PHASE_MAX_S,
    STEP_S,
    BreathPattern,
    PatternError,
    check_seconds,
    pattern_id_for,
)
from coreg_desktop.sources import PACER_MINUTES_RANGE
from coreg_desktop.ui.bridge import PlayerBridge
from coreg_desktop.ui.theme import set_role

log = logging.getLogger(__name__)

TITLE = "Breathing pacer"
WHY_TEXT = ("It starts with four seconds in and six out, because a breath out that is longer "
            "than the breath in is one of the simplest ways to tell your body it can slow down.")
CUES: tuple[tuple[Cue, str], ...] = (
    (Cue.TONE, "Soft tones"),
    (Cue.VOICE, "A spoken word (in, out)"),
    (Cue.SILENT, "Nothing: just the orb"),
)
DEFAULT_MINUTES = 5
MINUTES = (1, 2, 3, 5, 10, 15, 20, 30, 45, 60)
PHASES = (("inhale", "In"), ("hold", "Hold"), ("exhale", "Out"), ("hold_after", "Hold after"))


class PacerView(QWidget):
    started = Signal()  # the pacer plays: show the player
    backRequested = Signal()

    def __init__(self, bridge: PlayerBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.setObjectName("pacerView")
        em = self.fontMetrics().height()

        self.title = QLabel(TITLE, self)
        set_role(self.title, "title")
        self.title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.why = QLabel(WHY_TEXT, self)
        self.why.setWordWrap(True)
        self.why.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        set_role(self.why, "muted")

        self.pattern_combo = QComboBox(self)
        self.pattern_combo.setAccessibleName("Breathing pattern")
        self.pattern_combo.currentIndexChanged.connect(self._pattern_changed)
        self.pattern_summary = QLabel(self)
        self.pattern_summary.setWordWrap(True)
        set_role(self.pattern_summary, "small")
        # Choices rather than spin boxes: one click or key, in the theme, nothing to type wrong.
        self.minutes_combo = QComboBox(self)
        self.minutes_combo.setAccessibleName("How long")
        lo, hi = PACER_MINUTES_RANGE
        for minutes in MINUTES:
            if lo <= minutes <= hi:
                unit = "minute" if minutes == 1 else "minutes"
                self.minutes_combo.addItem(f"{minutes} {unit}", minutes)
        self.minutes_combo.setCurrentIndex(self.minutes_combo.findData(DEFAULT_MINUTES))
        self.cue_combo = QComboBox(self)
        self.cue_combo.setAccessibleName("How each change is cued")
        for cue, text in CUES:
            self.cue_combo.addItem(text, cue.value)
        self.start_button = QPushButton("Start breathing", self)
        self.start_button.setAccessibleName("Start breathing")
        set_role(self.start_button, "primary")
        self.start_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.start_button.clicked.connect(self.start)

        choose = QFrame(self)
        set_role(choose, "card")
        form = QFormLayout(choose)
        form.setContentsMargins(round(em * 1.1), round(em * 0.9), round(em * 1.1), round(em * 0.9))
        form.addRow("Pattern", self.pattern_combo)
        form.addRow("", self.pattern_summary)
        form.addRow("Length", self.minutes_combo)
        form.addRow("Cues", self.cue_combo)

        # A pattern of one's own.
        own = QFrame(self)
        set_role(own, "card")
        own_box = QVBoxLayout(own)
        own_box.setContentsMargins(round(em * 1.1), round(em * 0.8), round(em * 1.1),
                                   round(em * 0.8))
        heading = QLabel("Your own pattern", own)
        set_role(heading, "muted")
        own_box.addWidget(heading)
        self.name_edit = QLineEdit(own)
        self.name_edit.setPlaceholderText("A name, such as Slow evening")
        self.name_edit.setAccessibleName("Name of your pattern")
        own_box.addWidget(self.name_edit)
        phases = QHBoxLayout()
        self.phase_spins: dict[str, QComboBox] = {}
        steps = round(PHASE_MAX_S / STEP_S)
        for key, text in PHASES:
            spin = QComboBox(own)
            spin.setAccessibleName(f"{text}, seconds")
            for n in range(steps + 1):
                spin.addItem(f"{n * STEP_S:g} s", n * STEP_S)
            spin.setCurrentIndex(spin.findData({"inhale": 4.0, "exhale": 6.0}.get(key, 0.0)))
            label = QLabel(text, own)
            label.setBuddy(spin)
            set_role(label, "small")
            column = QVBoxLayout()
            column.addWidget(label)
            column.addWidget(spin)
            phases.addLayout(column)
            self.phase_spins[key] = spin
        own_box.addLayout(phases)
        save_row = QHBoxLayout()
        self.own_error = QLabel("", own)
        self.own_error.setWordWrap(True)
        set_role(self.own_error, "small")
        self.save_button = QPushButton("Save pattern", own)
        self.save_button.setAccessibleName("Save your pattern")
        self.save_button.clicked.connect(self.save_own)
        save_row.addWidget(self.own_error, 1)
        save_row.addWidget(self.save_button)
        own_box.addLayout(save_row)

        column = QVBoxLayout()
        column.setSpacing(round(em * 0.7))
        column.addWidget(self.title)
        column.addWidget(self.why)
        column.addSpacing(round(em * 0.3))
        column.addWidget(choose)
        column.addWidget(self.start_button, 0, Qt.AlignmentFlag.AlignHCenter)
        column.addSpacing(round(em * 0.6))
        column.addWidget(own)
        column.addStretch(1)
        inner = QWidget(self)
        inner.setLayout(column)
        inner.setMaximumWidth(round(em * 34))
        outer = QHBoxLayout(self)
        outer.setContentsMargins(round(em * 1.5), round(em * 1.2), round(em * 1.5), round(em))
        outer.addWidget(inner, 1, Qt.AlignmentFlag.AlignHCenter)
        self.reload()

    # ------------------------------------------------------------------ patterns

    def reload(self, select: str | None = None) -> None:
        """List the patterns afresh (a terminal may have added one)."""
        current = select or self.pattern_combo.currentData() or DEFAULT_PATTERN
        self.bridge.core.reload_patterns()
        self.pattern_combo.blockSignals(True)
        self.pattern_combo.clear()
        for pattern in self.bridge.core.patterns.all():
            mine = "" if pattern.builtin else " (yours)"
            self.pattern_combo.addItem(f"{pattern.title}{mine}: {pattern.describe()}",
                                       pattern.id)
        index = max(0, self.pattern_combo.findData(current))
        self.pattern_combo.setCurrentIndex(index)
        self.pattern_combo.blockSignals(False)
        self._pattern_changed()

    def _pattern_changed(self, *_: object) -> None:
        pattern_id = self.pattern_combo.currentData()
        if not isinstance(pattern_id, str):
            return
        try:
            pattern = self.bridge.core.patterns.get(pattern_id)
        except PatternError:
            return
        self.pattern_summary.setText(pattern.summary or
                                     f"About {pattern.breaths_per_minute:.1f} breaths a minute.")

    def start(self) -> bool:
        pattern_id = self.pattern_combo.currentData()
        cue = Cue(self.cue_combo.currentData())
        if not isinstance(pattern_id, str):
            return False
        minutes = float(self.minutes_combo.currentData())
        log.info("pacer %s for %g min, cues %s", pattern_id, minutes, cue.value)
        if not self.bridge.play_pacer(pattern_id, minutes, cue):
            return False
        self.started.emit()
        return True

    def save_own(self) -> bool:
        """Save the fields as one of the listener's patterns; one line under them if not."""
        name = self.name_edit.text().strip()
        try:
            if not name:
                raise PatternError("give your pattern a name first")
            seconds = {key: check_seconds(float(spin.currentData()), text.lower())
                       for (key, text), spin in zip(PHASES, self.phase_spins.values(),
                                                    strict=True)}
            pattern = BreathPattern(pattern_id_for(name), name, inhale=seconds["inhale"],
                                    hold=seconds["hold"], exhale=seconds["exhale"],
                                    hold_after=seconds["hold_after"], builtin=False)
            saved = self.bridge.core.patterns.add(pattern)
        except PatternError as exc:
            self.own_error.setText(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
            return False
        except OSError as exc:
            self.own_error.setText(f"It could not be saved ({exc.strerror or exc}).")
            return False
        self.own_error.setText(f"Saved: {saved.describe()}.")
        self.reload(select=saved.id)
        return True
