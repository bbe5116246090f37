"""Settings' "Your safe people": add, edit and remove people, their photo and voice memos.

Unlike the rest of Settings, what is done here happens at once (a photo or a memo is a file
Coreg copies and cleans, not a value waiting for Save), and each step says plainly what it did
or, in one line, why it could not. Imports run on a worker thread: a three-minute memo takes a
second or two, and the window must never freeze under someone's hand.

Who practices use is still the `safe_person.name` setting: "Use in practices" fills the
dialog's field, and Save writes it as every other setting.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from coreg_desktop.safe_people import (
    RELATIONSHIP_MAX,
    Person,
    SafePeople,
    SafePersonError,
)
from coreg_desktop.settings import NAME_MAX
from coreg_desktop.ui.theme import set_role

if TYPE_CHECKING:
    from coreg_desktop.ui.bridge import PlayerBridge

log = logging.getLogger(__name__)

PHOTO_FILTER = "Photos (*.jpg *.jpeg *.png *.webp *.JPG *.JPEG *.PNG *.WEBP)"
MEMO_FILTER = ("Voice memos (*.mp3 *.m4a *.aac *.mp4 *.ogg *.oga *.opus *.flac *.wav *.webm "
               "*.MP3 *.M4A *.AAC *.OGG *.OPUS *.FLAC *.WAV)")
HELP = (
    "People who help you feel steady: a friend, a grandparent, a pet, a character. A photo and "
    "their voice can be part of \u201cA Safe Person\u201d. Everything stays on this computer."
)


class _Worker(QObject):
    """Carries a finished import from its thread back to the GUI thread."""

    done = Signal(object, str)  # the person's name (or None on failure), the line to show


def clock(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


class SafePeoplePanel(QWidget):
    """The list of safe people with what can be done to each, acting on the store at once."""

    #: A person was chosen for practices (the dialog's field follows).
    chosen = Signal(str)
    #: Anything changed in the store (the tests and the dialog wait on it).
    changed = Signal()
    #: A person was removed (the dialog's field lets go of them).
    removed = Signal(str)

    def __init__(
        self,
        store: SafePeople | None = None,
        bridge: PlayerBridge | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store or SafePeople(report=log.warning)
        self._bridge = bridge
        self._worker = _Worker(self)
        self._worker.done.connect(self._import_done)
        self.busy = False
        self.setAccessibleName("Your safe people")
        m = self.fontMetrics().height()
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(round(m * 0.45))

        help_label = QLabel(HELP)
        help_label.setWordWrap(True)
        set_role(help_label, "small")
        help_label.setAccessibleName(HELP)
        col.addWidget(help_label)

        self.people_list = QListWidget()
        self.people_list.setAccessibleName("Your safe people")
        self.people_list.setMaximumHeight(round(m * 6.5))
        self.people_list.currentItemChanged.connect(lambda *_: self._show_selected())
        col.addWidget(self.people_list)

        form = QGridLayout()
        form.setHorizontalSpacing(round(m * 0.6))
        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(NAME_MAX)
        self.name_edit.setAccessibleName("Safe person's name")
        self.name_edit.setPlaceholderText("Their name")
        self.relationship_edit = QLineEdit()
        self.relationship_edit.setMaxLength(RELATIONSHIP_MAX)
        self.relationship_edit.setAccessibleName("Who they are to you")
        self.relationship_edit.setPlaceholderText("grandmother, friend, my dog \u2026")
        name_label = QLabel("Name")
        name_label.setBuddy(self.name_edit)
        relationship_label = QLabel("Who they are to you")
        relationship_label.setBuddy(self.relationship_edit)
        form.addWidget(name_label, 0, 0)
        form.addWidget(self.name_edit, 0, 1)
        form.addWidget(relationship_label, 1, 0)
        form.addWidget(self.relationship_edit, 1, 1)
        col.addLayout(form)

        self.add_button = self._button("Add", "Add this safe person", self.add_person)
        self.save_button = self._button("Save changes", "Save changes to this person",
                                        self.save_person)
        self.use_button = self._button("Use in practices", "Use this person in practices",
                                       self.use_person)
        self.remove_button = self._button("Remove", "Remove this person, with their photo "
                                          "and memos", self.remove_person)
        col.addLayout(self._row(self.add_button, self.save_button, self.use_button,
                                self.remove_button))

        self.photo_label = QLabel()
        self.photo_label.setFixedSize(QSize(round(m * 4), round(m * 4)))
        self.photo_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        set_role(self.photo_label, "muted")
        self.photo_button = self._button("Choose photo\u2026", "Choose a photo of this person",
                                         self.choose_photo)
        self.remove_photo_button = self._button("No photo", "Remove this person's photo",
                                                self.remove_photo)
        photo_row = QHBoxLayout()
        photo_row.addWidget(self.photo_label)
        photo_row.addWidget(self.photo_button)
        photo_row.addWidget(self.remove_photo_button)
        photo_row.addStretch(1)
        col.addLayout(photo_row)

        memos_label = QLabel("Voice memos")
        col.addWidget(memos_label)
        self.memo_list = QListWidget()
        self.memo_list.setAccessibleName("Voice memos of this person")
        self.memo_list.setMaximumHeight(round(m * 5))
        memos_label.setBuddy(self.memo_list)
        col.addWidget(self.memo_list)
        self.import_button = self._button("Import memo\u2026", "Import a voice memo from a file",
                                          self.choose_memo)
        self.play_button = self._button("Play", "Play this voice memo", self.play_memo)
        self.remove_memo_button = self._button("Remove memo", "Remove this voice memo",
                                               self.remove_memo)
        self.record_button = self._button("Record…", "Record a voice memo",
                                          self.record_memo)
        col.addLayout(self._row(self.import_button, self.record_button, self.play_button,
                                self.remove_memo_button))

        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        set_role(self.status_label, "small")
        col.addWidget(self.status_label)
        self.refresh()

    def tab_order(self) -> list[QWidget]:
        """The panel's controls in reading order, for the dialog's Tab chain."""
        return [self.people_list, self.name_edit, self.relationship_edit, self.add_button,
                self.save_button, self.use_button, self.remove_button, self.photo_button,
                self.remove_photo_button, self.memo_list, self.import_button,
                self.record_button, self.play_button, self.remove_memo_button]

    # ------------------------------------------------------------------ building

    def _button(self, text: str, name: str, slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(name)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    @staticmethod
    def _row(*buttons: QPushButton) -> QHBoxLayout:
        row = QHBoxLayout()
        for button in buttons:
            row.addWidget(button)
        row.addStretch(1)
        return row

    # ------------------------------------------------------------------ showing

    def refresh(self, select: str | None = None) -> None:
        """Read the store again and show it, keeping (or moving to) a selection."""
        keep = select or self.selected_name()
        self.people_list.blockSignals(True)
        self.people_list.clear()
        for person in self.store.all():
            item = QListWidgetItem(self._describe(person))
            item.setData(Qt.ItemDataRole.UserRole, person.name)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, self._describe(person))
            self.people_list.addItem(item)
            if keep is not None and person.name.casefold() == keep.casefold():
                self.people_list.setCurrentItem(item)
        if self.people_list.currentItem() is None and self.people_list.count():
            self.people_list.setCurrentRow(0)
        self.people_list.blockSignals(False)
        self._show_selected()

    @staticmethod
    def _describe(person: Person) -> str:
        parts = [person.name + (f" \u2014 {person.relationship}" if person.relationship else "")]
        if person.photo:
            parts.append("photo")
        if person.memos:
            parts.append(f"{len(person.memos)} memo{'s' * (len(person.memos) != 1)}")
        return " \u00b7 ".join(parts)

    def selected_name(self) -> str | None:
        item = self.people_list.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def selected(self) -> Person | None:
        name = self.selected_name()
        return self.store.get(name) if name else None

    def _show_selected(self) -> None:
        person = self.selected()
        has = person is not None
        self.name_edit.setText(person.name if person else "")
        self.relationship_edit.setText(person.relationship if person else "")
        for button in (self.save_button, self.use_button, self.remove_button, self.photo_button,
                       self.import_button, self.record_button):
            button.setEnabled(has and not self.busy)
        self.add_button.setEnabled(not self.busy)
        self.remove_photo_button.setEnabled(has and bool(person and person.photo))
        self.memo_list.clear()
        for memo in person.memos if person else ():
            item = QListWidgetItem(f"{memo.label} ({clock(memo.seconds)})")
            item.setData(Qt.ItemDataRole.UserRole, memo.file)
            self.memo_list.addItem(item)
        if self.memo_list.count():
            self.memo_list.setCurrentRow(0)
        has_memo = self.memo_list.count() > 0
        self.play_button.setEnabled(has_memo and self._bridge is not None)
        self.remove_memo_button.setEnabled(has_memo)
        self._show_photo(person)

    def _show_photo(self, person: Person | None) -> None:
        path = person.photo_path if person else None
        pixmap = QPixmap(str(path)) if path is not None and path.is_file() else QPixmap()
        if pixmap.isNull():
            self.photo_label.setPixmap(QPixmap())
            self.photo_label.setText("No photo")
            self.photo_label.setAccessibleName("No photo")
            return
        side = self.photo_label.width()
        self.photo_label.setPixmap(pixmap.scaled(
            side, side, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation))
        self.photo_label.setAccessibleName(f"Photo of {person.name if person else ''}")

    def say(self, line: str) -> None:
        self.status_label.setText(line)
        self.status_label.setAccessibleName(line)

    # ------------------------------------------------------------------ doing

    def _do(self, work: Callable[[], str], select: str | None = None) -> bool:
        try:
            line = work()
        except SafePersonError as exc:
            self.say(str(exc))
            return False
        self.refresh(select)
        self.say(line)
        self.changed.emit()
        return True

    def add_person(self) -> bool:
        name, word = self.name_edit.text(), self.relationship_edit.text()

        def work() -> str:
            if self.store.get(name) is not None:
                raise SafePersonError(f'{name.strip()} is already here; change them with '
                                      '\u201cSave changes\u201d')
            person = self.store.add(name, word)
            return f"Added {person.name}."

        return self._do(work, name)

    def save_person(self) -> bool:
        current = self.selected_name()
        if current is None:
            return False
        name, word = self.name_edit.text(), self.relationship_edit.text()

        def work() -> str:
            person = self.store.update(current, new_name=name, relationship=word)
            return f"Saved {person.name}."

        return self._do(work, name)

    def use_person(self) -> None:
        name = self.selected_name()
        if name is not None:
            self.chosen.emit(name)
            self.say(f"Practices will use {name} once you save.")

    def remove_person(self) -> bool:
        name = self.selected_name()
        if name is None:
            return False
        if not self._do(lambda: f"Removed {self.store.remove(name).name}, with their photo "
                        "and memos."):
            return False
        self.removed.emit(name)
        return True

    def choose_photo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a photo", str(Path.home()),
                                              PHOTO_FILTER)
        if path:
            self.set_photo_from(Path(path))

    def set_photo_from(self, path: Path) -> bool:
        name = self.selected_name()
        if name is None:
            return False
        return self._do(lambda: f"The photo of {self.store.set_photo(name, path).name} is set.",
                        name)

    def remove_photo(self) -> bool:
        name = self.selected_name()
        if name is None:
            return False
        return self._do(lambda: f"{self.store.remove_photo(name).name} has no photo now.", name)

    def choose_memo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a voice memo", str(Path.home()),
                                              MEMO_FILTER)
        if path:
            self.import_memo_from(Path(path))

    def import_memo_from(self, path: Path) -> bool:
        """Start importing `path` for the selected person; `changed` (or a line) follows."""
        name = self.selected_name()
        if name is None or self.busy:
            return False
        self.busy = True
        self._show_selected()
        self.say(f"Importing {path.name}\u2026")

        def work() -> None:
            try:
                person, memo = self.store.add_memo(name, path)
            except SafePersonError as exc:
                self._worker.done.emit(None, str(exc))
            except Exception:  # a bug must not leave the panel busy for ever
                log.exception("Importing %s failed", path)
                self._worker.done.emit(None, f"{path}: could not be imported")
            else:
                self._worker.done.emit(person.name, f'Added "{memo.label}" '
                                                    f"({clock(memo.seconds)}) to {person.name}.")

        threading.Thread(target=work, name="coreg-memo-import", daemon=True).start()
        return True

    def _import_done(self, name: object, line: str) -> None:
        self.busy = False
        self.refresh(str(name) if name else None)
        self.say(line)
        self.changed.emit()

    def record_memo(self) -> None:
        """Open the recorder for the selected person (it says so if there is no microphone)."""
        from coreg_desktop.ui.record_dialog import RecordDialog

        name = self.selected_name()
        if name is None:
            return
        dialog = RecordDialog(self.store, name, self)
        dialog.saved.connect(self.added_recording)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.record_dialog = dialog
        dialog.open()

    def added_recording(self, name: str, line: str) -> None:
        """The recorder stored a memo for `name`."""
        self.refresh(name)
        self.say(line)
        self.changed.emit()

    def selected_memo(self) -> str | None:
        item = self.memo_list.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def play_memo(self) -> None:
        name, memo = self.selected_name(), self.selected_memo()
        if name is None or memo is None or self._bridge is None:
            return
        try:
            self._bridge.play_memo(name, memo)
        except SafePersonError as exc:
            self.say(str(exc))

    def remove_memo(self) -> bool:
        name, memo = self.selected_name(), self.selected_memo()
        if name is None or memo is None:
            return False
        return self._do(lambda: f"Removed the memo from {self.store.remove_memo(name, memo).name}.",
                        name)
