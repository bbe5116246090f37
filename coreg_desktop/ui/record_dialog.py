"""Record a memo of your safe person, with a level meter: for the times you are together.

The meter and clock are read from the recorder twenty times a second while it records (the
input callback itself only copies samples). Keeping the recording cleans and stores it on a
worker thread, as an import does; closing the dialog without keeping it keeps nothing.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from coreg_desktop.audio.memo import MAX_SECONDS
from coreg_desktop.audio.record import METER_FLOOR_DB, MemoRecorder, RecordError
from coreg_desktop.safe_people import SafePeople, SafePersonError
from coreg_desktop.ui.theme import set_role

log = logging.getLogger(__name__)

METER_MS = 50


def _clock(seconds: float) -> str:
    whole = max(0, int(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


class _Done(QObject):
    done = Signal(bool, str)  # kept, the line to show


class RecordDialog(QDialog):
    """Records one memo for `person`; `saved(name, line)` once it is kept."""

    saved = Signal(str, str)

    def __init__(self, store: SafePeople, person: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.person = person
        self.recorder = MemoRecorder()
        self.audio: np.ndarray | None = None
        self._done = _Done(self)
        self._done.done.connect(self._kept)
        self.setWindowTitle(f"Record a memo of {person}")
        self.setAccessibleName(f"Record a memo of {person}")
        col = QVBoxLayout(self)
        intro = QLabel(f"Ask {person} to say something kind to you, in their own words. "
                       f"Up to {int(MAX_SECONDS // 60)} minutes.")
        intro.setWordWrap(True)
        intro.setAccessibleName(intro.text())
        col.addWidget(intro)
        self.meter = QProgressBar()
        self.meter.setRange(0, int(-METER_FLOOR_DB))
        self.meter.setTextVisible(False)
        self.meter.setAccessibleName("Input level")
        col.addWidget(self.meter)
        self.clock_label = QLabel(f"0:00 / {_clock(MAX_SECONDS)}")
        set_role(self.clock_label, "muted")
        col.addWidget(self.clock_label)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        set_role(self.status_label, "small")
        col.addWidget(self.status_label)
        self.record_button = QPushButton("Start recording")
        self.record_button.setAccessibleName("Start recording")
        self.record_button.clicked.connect(self.toggle)
        self.keep_button = QPushButton("Keep it")
        self.keep_button.setAccessibleName("Keep this recording")
        self.keep_button.setEnabled(False)
        self.keep_button.clicked.connect(self.keep)
        self.discard_button = QPushButton("Close")
        self.discard_button.setAccessibleName("Close without keeping")
        self.discard_button.clicked.connect(self.reject)
        row = QHBoxLayout()
        for button in (self.record_button, self.keep_button, self.discard_button):
            row.addWidget(button)
        col.addLayout(row)
        self._timer = QTimer(self)
        self._timer.setInterval(METER_MS)
        self._timer.timeout.connect(self._tick)

    def say(self, line: str) -> None:
        self.status_label.setText(line)
        self.status_label.setAccessibleName(line)

    def toggle(self) -> None:
        if self.recorder.recording:
            self.stop()
        else:
            self.start()

    def start(self) -> bool:
        try:
            self.recorder.start()
        except RecordError as exc:
            self.say(str(exc))
            return False
        self.audio = None
        self.keep_button.setEnabled(False)
        self.record_button.setText("Stop")
        self.record_button.setAccessibleName("Stop recording")
        self.say(f"Recording from {self.recorder.device_name}\u2026")
        self._timer.start()
        return True

    def stop(self) -> None:
        self._timer.stop()
        self.audio = self.recorder.stop()
        self.meter.setValue(0)
        self.record_button.setText("Record again")
        self.record_button.setAccessibleName("Record again")
        self.keep_button.setEnabled(len(self.audio) > 0)
        self.say(f"Recorded {_clock(self.recorder.seconds)}. Keep it, or record again.")

    def _tick(self) -> None:
        level = self.recorder.level_db()
        self.meter.setValue(round(level - METER_FLOOR_DB))
        self.meter.setAccessibleDescription(f"{level:.0f} dB")
        self.clock_label.setText(f"{_clock(self.recorder.seconds)} / {_clock(MAX_SECONDS)}")
        if self.recorder.full or not self.recorder.recording:
            self.stop()

    def keep(self) -> None:
        audio = self.audio
        if audio is None:
            return
        self.keep_button.setEnabled(False)
        self.record_button.setEnabled(False)
        self.say("Keeping it\u2026")
        label = f"Recorded {time.strftime('%Y-%m-%d %H:%M')}"

        def work() -> None:
            try:
                person, memo = self.store.add_recording(self.person, audio, label)
            except SafePersonError as exc:
                self._done.done.emit(False, str(exc))
            except Exception:  # a bug must not leave the dialog waiting for ever
                log.exception("Keeping a recording failed")
                self._done.done.emit(False, "The recording could not be kept.")
            else:
                self._done.done.emit(True, f'Added "{memo.label}" ({_clock(memo.seconds)}) '
                                           f"to {person.name}.")

        threading.Thread(target=work, name="coreg-keep-recording", daemon=True).start()

    def _kept(self, kept: bool, line: str) -> None:
        self.record_button.setEnabled(True)
        if not kept:
            self.say(line)
            self.keep_button.setEnabled(self.audio is not None)
            return
        self.saved.emit(self.person, line)
        self.accept()

    def done(self, result: int) -> None:
        if self.recorder.recording:
            self._timer.stop()
            self.recorder.stop()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.recorder.recording:
            self._timer.stop()
            self.recorder.stop()
        super().closeEvent(event)

