"""Export… from the player: the practice on screen written to a file, with a progress dialog
that can be cancelled.

The render and the encoding run on a worker thread, so the window stays responsive; the progress
comes back through a queued signal. Cancel stops the render between two lines (the render's
progress callback raises) and nothing is written: the file only appears, whole, when it is done
(`audio/export.py` writes to a temporary name and renames it).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog, QWidget

from coreg_desktop.audio.export import FORMATS, ExportError, export, format_for
from coreg_desktop.ui.bridge import PACER_PREFIX, PlayerBridge

log = logging.getLogger(__name__)

FILTER = ("Audio (*.mp3 *.ogg *.opus *.m4a *.flac *.wav);;MP3 (*.mp3);;Ogg Vorbis (*.ogg);;"
          "Opus (*.opus);;M4A (*.m4a);;FLAC (*.flac);;WAV (*.wav)")


class Cancelled(Exception):
    """The listener pressed Cancel: the render stops at its next line."""


class ExportJob(QObject):
    progressed = Signal(int)  # per mille
    done = Signal(str)  # the file written
    failed = Signal(str)  # one line
    cancelled = Signal()

    def __init__(self, bridge: PlayerBridge, path: Path) -> None:
        super().__init__()
        self.bridge = bridge
        self.path = path
        self._cancel = threading.Event()
        self.worker: threading.Thread | None = None

    def start(self) -> None:
        self.worker = threading.Thread(target=self._run, name="coreg-export", daemon=True)
        self.worker.start()

    def cancel(self) -> None:
        self._cancel.set()

    def _progress(self, fraction: float) -> None:
        if self._cancel.is_set():
            raise Cancelled
        self.progressed.emit(round(fraction * 900))

    def _run(self) -> None:
        bridge = self.bridge
        practice = bridge.practice
        if practice is None:
            self.failed.emit("There is nothing to export.")
            return
        core = bridge.core
        try:
            if practice.id.startswith(PACER_PREFIX) and bridge.pacer_request is not None:
                pattern, minutes, cue = bridge.pacer_request
                audio = core.render_pacer(core.pacer(pattern, minutes, cue), self._progress)
                soundscape = "none"
            else:
                audio = core.render(practice, progress=self._progress)
                soundscape = core.ambience_for(practice)
            if self._cancel.is_set():
                raise Cancelled
            self.progressed.emit(950)
            export(self.path, audio, title=practice.title,
                   comment=f"Voice: {core.narrator.voice_label}; soundscape: {soundscape}. "
                   "Made with Coreg.")
        except Cancelled:
            log.info("export of %s cancelled", practice.id)
            self.cancelled.emit()
            return
        except ExportError as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # a worker's failure is a line for the listener, not a crash
            log.exception("Exporting %s failed", practice.id)
            self.failed.emit(f"{practice.title} could not be exported ({exc}).")
            return
        self.progressed.emit(1000)
        self.done.emit(str(self.path))


def ask_path(parent: QWidget | None, bridge: PlayerBridge) -> Path | None:
    """Where to write it, from a save dialog; an unknown extension gets .mp3 added."""
    practice = bridge.practice
    if practice is None:
        return None
    folder = Path.home() / "Music"
    start = (folder if folder.is_dir() else Path.home()) / f"{practice.id.replace(':', '-')}.mp3"
    name, _ = QFileDialog.getSaveFileName(parent, f"Export {practice.title}", str(start), FILTER)
    if not name:
        return None
    path = Path(name)
    if path.suffix.lower() not in FORMATS:
        path = path.with_name(path.name + ".mp3")
    return path


class ExportProgress(QProgressDialog):
    """The progress dialog for one job: Cancel cancels it; its end is said in one line."""

    def __init__(self, job: ExportJob, title: str, parent: QWidget | None = None) -> None:
        super().__init__(f"Exporting {title}…", "Cancel", 0, 1000, parent)
        self.job = job
        self.setWindowTitle("Export")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumDuration(0)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.result_text = ""
        job.progressed.connect(self.setValue, Qt.ConnectionType.QueuedConnection)
        job.done.connect(self._done, Qt.ConnectionType.QueuedConnection)
        job.failed.connect(self._failed, Qt.ConnectionType.QueuedConnection)
        job.cancelled.connect(self._cancelled, Qt.ConnectionType.QueuedConnection)
        self.canceled.connect(job.cancel)

    def _done(self, path: str) -> None:
        self.result_text = f"Saved to {path}."
        self.setLabelText(self.result_text)
        self.setCancelButtonText("Close")
        self.canceled.disconnect(self.job.cancel)
        self.canceled.connect(self.close)

    def _failed(self, line: str) -> None:
        self.result_text = line
        self.close()
        QMessageBox.warning(self.parentWidget(), "Export", line)

    def _cancelled(self) -> None:
        self.result_text = "Cancelled; nothing was written."
        self.close()


def check_path(path: Path) -> str | None:
    """One line if the file cannot be written there, before any rendering starts."""
    try:
        format_for(path)
    except ExportError as exc:
        return str(exc)
    if not path.parent.is_dir():
        return f"{path}: the folder {path.parent} does not exist"
    return None
