"""The practice library: a calm column of cards, a tag filter, and a quiet way to real help.

Cards are real widgets rather than a painted list: each one is a focusable, named control that a
screen reader can announce ("Stay Safe, about 8 minutes"), its text wraps naturally under a large
font, and its Play button is a normal button. Arrow keys move between cards, Enter plays one, and
the main window's Space plays the current card when nothing else is playing.
"""

from __future__ import annotations

import itertools
import logging

from PySide6.QtCore import QEvent, QMargins, QObject, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from coreg_desktop.core import uses_safe_person
from coreg_desktop.practice.loader import Library
from coreg_desktop.practice.model import Practice
from coreg_desktop.practice.timeline import practice_minutes
from coreg_desktop.ui.crisis import CRISIS_TITLE, show_crisis_note
from coreg_desktop.ui.theme import current_colors, play_icon, set_flag, set_role, spacing_scale

log = logging.getLogger(__name__)

TITLE_TEXT = "Take a moment"
SUBTITLE_TEXT = "Choose whatever feels right. You can pause or stop at any time."
ALL_TAGS = "All"


def length_text(practice: Practice) -> str:
    """Whole minutes ("7 min") read calmer than "7.4 min", and nothing is shorter than one."""
    return f"{max(1, round(practice_minutes(practice)))} min"


def length_spoken(practice: Practice) -> str:
    minutes = max(1, round(practice_minutes(practice)))
    return f"about {minutes} minute" + ("" if minutes == 1 else "s")


def tag_label(tag: str) -> str:
    return tag.replace("-", " ").replace("_", " ").capitalize()


class FlowLayout(QLayout):
    """Lays children out in rows that wrap, so tag chips never push the window wider."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 8) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._gap = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _arrange(self, rect: QRect, move: bool) -> int:
        m: QMargins = self.contentsMargins()
        area = rect.marginsRemoved(m)
        x, y, row_h = area.x(), area.y(), 0
        for item in self._items:
            widget = item.widget()
            if widget is not None and widget.isHidden():
                continue
            hint = item.sizeHint()
            if x + hint.width() > area.right() + 1 and row_h > 0:
                x = area.x()
                y += row_h + self._gap
                row_h = 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._gap
            row_h = max(row_h, hint.height())
        return y + row_h - rect.y() + m.bottom()


class PersonChip(QPushButton):
    """A name on a card: one click, Space or Enter plays the practice with that person.

    Enter is taken here, because a push button outside a dialog ignores it, and the card
    below would then play the practice with the default person instead of this one."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.isAutoRepeat():
            self.click()
            return
        super().keyPressEvent(event)


class PracticeCard(QFrame):
    """One practice: title, length and summary, focusable as a whole, with its own Play button.

    A practice about a safe person, when there are several, also shows their names ("With Ana
    Sam"): the default (the last used) is marked, and is who Enter and Play start it with."""

    activated = Signal(str)
    focused = Signal(str)
    personChosen = Signal(str, str)  # practice id, the safe person's name

    def __init__(self, practice: Practice, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.practice = practice
        set_role(self, "card")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.setAccessibleName(f"{practice.title}, {length_spoken(practice)}")
        self.setAccessibleDescription((practice.summary or "") + " Press Enter to play.")
        self.setToolTip("Double-click or press Enter to begin")

        m = self.fontMetrics().height()
        row = QHBoxLayout(self)
        row.setContentsMargins(round(m * 1.2), round(m * 0.95), round(m * 0.95), round(m * 0.95))
        row.setSpacing(round(m * 0.9))

        text = QVBoxLayout()
        text.setSpacing(round(m * 0.3))
        top = QHBoxLayout()
        top.setSpacing(round(m * 0.6))
        self.title = QLabel(practice.title, self)
        set_role(self.title, "heading")
        self.title.setAccessibleName(practice.title)
        self.length = QLabel(length_text(practice), self)
        set_role(self.length, "pill")
        self.length.setAccessibleName(length_spoken(practice))
        top.addWidget(self.title)
        top.addWidget(self.length, 0, Qt.AlignmentFlag.AlignVCenter)
        top.addStretch(1)
        text.addLayout(top)

        self.summary = QLabel(practice.summary, self)
        set_role(self.summary, "muted")
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName(practice.summary or practice.title)
        text.addWidget(self.summary)
        if practice.tags:
            tags = " · ".join(tag_label(t) for t in practice.tags)
            self.tags = QLabel(tags, self)
            set_role(self.tags, "small")
            self.tags.setAccessibleName(f"Tags: {tags}")
            self.tags.setWordWrap(True)
            text.addWidget(self.tags)
        self._text = text
        self.people_row: QWidget | None = None
        self.person_chips: dict[str, PersonChip] = {}
        self._people_group: QButtonGroup | None = None
        self._shown_people: tuple[list[str], str | None] = ([], None)
        row.addLayout(text, 1)

        self.play_button = QToolButton(self)
        set_role(self.play_button, "round")
        self._icon_px = round(22 * spacing_scale(self.font()))
        self.play_button.setIcon(play_icon(current_colors(self).accent, self._icon_px))
        self.play_button.setIconSize(QSize(self._icon_px, self._icon_px))
        self.play_button.setAccessibleName(f"Play {practice.title}")
        self.play_button.setToolTip(f"Play {practice.title}")
        # Enter on the card does the same; one tab stop per practice keeps Tab short.
        self.play_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.play_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.play_button.clicked.connect(lambda: self.activated.emit(self.practice.id))
        row.addWidget(self.play_button, 0, Qt.AlignmentFlag.AlignVCenter)

    def set_people(self, names: list[str], default: str | None) -> None:
        """Offer who this session is with: a chip per name, `default` marked; fewer than two
        names take the row away (with one person there is nothing to choose).

        Nothing is rebuilt when nothing changed (the window asks again each time it becomes
        active), and a name that had the keyboard focus keeps it, so focus is never lost."""
        shown = (list(names), default) if len(names) >= 2 else ([], None)
        if shown == self._shown_people:
            return
        self._shown_people = shown
        focused = next((n for n, c in self.person_chips.items() if c.hasFocus()), None)
        if self.people_row is not None:
            self._text.removeWidget(self.people_row)
            self.people_row.deleteLater()
            self.people_row, self._people_group = None, None
            self.person_chips = {}
        title = self.practice.title
        description = (self.practice.summary or "") + " Press Enter to play."
        if len(names) >= 2:
            m = self.fontMetrics().height()
            self.people_row = QWidget(self)
            self.people_row.setAccessibleName(f"Who {title} is with")
            flow = FlowLayout(self.people_row, spacing=round(m * 0.4))
            label = QLabel("With", self.people_row)
            set_role(label, "small")
            label.setAccessibleName("With")
            flow.addWidget(label)
            self._people_group = QButtonGroup(self.people_row)
            self._people_group.setExclusive(True)
            for name in names:
                chip = PersonChip(name, self.people_row)
                set_role(chip, "chip")
                chip.setCheckable(True)
                chip.setChecked(name == default)
                chip.setAutoDefault(False)
                chip.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
                chip.setCursor(Qt.CursorShape.PointingHandCursor)
                chip.setAccessibleName(f"Play {title} with {name}")
                chip.setToolTip(f"Play with {name}")
                chip.clicked.connect(
                    lambda _=False, n=name: self.personChosen.emit(self.practice.id, n))
                self._people_group.addButton(chip)
                flow.addWidget(chip)
                self.person_chips[name] = chip
            # The word sits level with the names, not at the top of their row.
            label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            label.setMinimumHeight(max(c.sizeHint().height() for c in self.person_chips.values()))
            flow.setContentsMargins(0, round(m * 0.2), 0, 0)
            self._text.addWidget(self.people_row)
            self.people_row.show()  # now, not when the layout gets to it: focus may go there
            if default in names:
                description += f" It is with {default}; a name below plays it with someone else."
            else:
                description += " A name below plays it with that person."
        self.setAccessibleDescription(description)
        if focused is not None:
            target: QWidget = self.person_chips.get(focused) or self
            target.setFocus(Qt.FocusReason.OtherFocusReason)

    def tab_stops(self) -> list[QWidget]:
        """The card, then its names: the order Tab takes."""
        return [self, *self.person_chips.values()]

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "play_button"):
            # Follow a light/dark switch: the icon is painted in the accent of the moment.
            self.play_button.setIcon(play_icon(current_colors(self).accent, self._icon_px))
        super().changeEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.HoverEnter:
            set_flag(self, "hovered", True)
        elif event.type() == QEvent.Type.HoverLeave:
            set_flag(self, "hovered", False)
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.activated.emit(self.practice.id)
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.focused.emit(self.practice.id)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.focused.emit(self.practice.id)  # chosen even if the window is not active yet
            self.setFocus(Qt.FocusReason.MouseFocusReason)
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.activated.emit(self.practice.id)
            return
        super().mouseDoubleClickEvent(event)


class LibraryView(QWidget):
    """Emits `playRequested(id)`, or `playWithRequested(id, person)` for a name picked on a
    card; the main window decides what playing means."""

    playRequested = Signal(str)
    playWithRequested = Signal(str, str)

    def __init__(self, library: Library, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Practice library")
        self.library = library
        self.cards: dict[str, PracticeCard] = {}
        self.chips: dict[str, QPushButton] = {}
        self._tag: str | None = None
        self._current: str | None = None
        self._people: tuple[list[str], str | None] = ([], None)

        m = self.fontMetrics().height()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)

        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scroll_area.setAccessibleName("Practices")
        self.scroll_area.verticalScrollBar().setAccessibleName("Scroll the practices")
        contents = QWidget()
        contents.setObjectName("scrollContents")
        self.scroll_area.setWidget(contents)
        outer.addWidget(self.scroll_area, 1)

        # A readable column, centred, however wide the window gets.
        centre = QHBoxLayout(contents)
        centre.setContentsMargins(round(m * 2), round(m * 1.6), round(m * 2), round(m * 1.2))
        self.column = QWidget(contents)
        self.column.setMaximumWidth(m * 44)
        centre.addStretch(1)
        centre.addWidget(self.column, 100)
        centre.addStretch(1)

        col = QVBoxLayout(self.column)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(round(m * 0.75))
        self.title = QLabel(TITLE_TEXT, self.column)
        set_role(self.title, "title")
        self.title.setAccessibleName(TITLE_TEXT)
        self.subtitle = QLabel(SUBTITLE_TEXT, self.column)
        set_role(self.subtitle, "subtitle")
        self.subtitle.setWordWrap(True)
        self.subtitle.setAccessibleName(SUBTITLE_TEXT)
        col.addWidget(self.title)
        col.addWidget(self.subtitle)
        col.addSpacing(round(m * 0.4))
        # A card above the practices (the first-run voice choice), when there is one.
        self.top_slot = QVBoxLayout()
        self.top_slot.setContentsMargins(0, 0, 0, round(m * 0.3))
        col.addLayout(self.top_slot)
        self.top_card: QWidget | None = None

        self.filter_row = QWidget(self.column)
        self.filter_row.setAccessibleName("Filter practices by tag")
        self._flow = FlowLayout(self.filter_row, spacing=round(m * 0.45))
        self._chip_group = QButtonGroup(self)
        self._chip_group.setExclusive(True)
        col.addWidget(self.filter_row)
        col.addSpacing(round(m * 0.3))

        self.cards_box = QVBoxLayout()
        self.cards_box.setSpacing(round(m * 0.75))
        col.addLayout(self.cards_box)

        self.empty = QLabel(
            "No practices here yet. Practice files you add to your practices folder appear here.",
            self.column,
        )
        self.empty.setWordWrap(True)
        set_role(self.empty, "muted")
        self.empty.setAccessibleName("No practices")
        col.addWidget(self.empty)
        self.issues = QLabel(self.column)
        self.issues.setWordWrap(True)
        set_role(self.issues, "small")
        col.addWidget(self.issues)
        col.addStretch(1)

        footer = QHBoxLayout()
        footer.setContentsMargins(round(m * 1.5), round(m * 0.3), round(m * 1.5), round(m * 0.6))
        footer.addStretch(1)
        self.crisis_link = QPushButton(CRISIS_TITLE, self)
        set_role(self.crisis_link, "link")
        self.crisis_link.setAccessibleName(CRISIS_TITLE)
        self.crisis_link.setAccessibleDescription("Where to find urgent help, right now")
        self.crisis_link.setToolTip("Where to find urgent help, right now")
        self.crisis_link.setCursor(Qt.CursorShape.PointingHandCursor)
        self.crisis_link.setAutoDefault(False)
        self.crisis_link.clicked.connect(self.show_crisis_note)
        footer.addWidget(self.crisis_link)
        outer.addLayout(footer)

        self.set_library(library)

    # ------------------------------------------------------------------ content

    def show_top_card(self, card: QWidget | None) -> None:
        """Put `card` above the practices (None removes the one there)."""
        if self.top_card is not None:
            self.top_slot.removeWidget(self.top_card)
            self.top_card.deleteLater()
        self.top_card = card
        if card is not None:
            card.setParent(self.column)
            self.top_slot.addWidget(card)
            card.show()

    def set_library(self, library: Library) -> None:
        """Rebuild chips and cards (the user may have added a practice file)."""
        self.library = library
        previous = self._current
        for chip in self.chips.values():
            self._chip_group.removeButton(chip)
            chip.deleteLater()
        self.chips.clear()
        while self._flow.count():
            self._flow.takeAt(0)
        for card in self.cards.values():
            card.deleteLater()
        self.cards.clear()

        tags = sorted({t for p in library.all for t in p.tags}, key=str.casefold)
        for tag in [ALL_TAGS, *tags]:
            chip = QPushButton(ALL_TAGS if tag == ALL_TAGS else tag_label(tag), self.filter_row)
            set_role(chip, "chip")
            chip.setCheckable(True)
            chip.setAutoDefault(False)
            chip.setCursor(Qt.CursorShape.PointingHandCursor)
            chip.setAccessibleName(
                "Show all practices" if tag == ALL_TAGS else f"Show practices tagged {tag}"
            )
            chip.setChecked(tag == ALL_TAGS)
            self._chip_group.addButton(chip)
            chip.clicked.connect(
                lambda _=False, t=tag: self.set_tag_filter(None if t == ALL_TAGS else t)
            )
            self._flow.addWidget(chip)
            self.chips[tag] = chip

        for practice in library.all:
            card = PracticeCard(practice, self.column)
            card.activated.connect(self.playRequested)
            card.personChosen.connect(self.playWithRequested)
            card.focused.connect(self.set_current)
            card.installEventFilter(self)
            self.cards_box.addWidget(card)
            self.cards[practice.id] = card
        self.set_people(*self._people)

        self.empty.setVisible(not self.cards)
        problems = len(library.issues)
        self.issues.setVisible(problems > 0)
        if problems:
            what = "One practice file has" if problems == 1 else f"{problems} practice files have"
            self.issues.setText(f"{what} a problem and could not be loaded.")
            self.issues.setToolTip("\n".join(str(i) for i in library.issues))
            self.issues.setAccessibleName(self.issues.text())
        self._tag = self._tag if self._tag in tags else None
        self.set_tag_filter(self._tag)
        self._current = None
        if previous in self.cards:
            self.set_current(previous)

    def set_people(self, names: list[str], default: str | None) -> None:
        """The safe people the cards of practices about someone offer (see `Core.
        people_to_choose`); kept for cards built later, when practice files change."""
        self._people = (list(names), default)
        for card in self.cards.values():
            card.set_people(names if uses_safe_person(card.practice) else [], default)
        self._chain_tabs()

    def _chain_tabs(self) -> None:
        """Tab goes card by card (with a card's names right after it), then to the crisis
        link, which was built before the cards."""
        stops: list[QWidget] = [w for card in self.cards.values() for w in card.tab_stops()]
        for before, after in itertools.pairwise(stops):
            QWidget.setTabOrder(before, after)
        last: QWidget | None = stops[-1] if stops else (
            list(self.chips.values())[-1] if self.chips else None)
        if last is not None:
            QWidget.setTabOrder(last, self.crisis_link)

    # ------------------------------------------------------------------ filter

    @property
    def tag_filter(self) -> str | None:
        return self._tag

    def tags(self) -> list[str]:
        return [t for t in self.chips if t != ALL_TAGS]

    def set_tag_filter(self, tag: str | None) -> None:
        """Show only practices with `tag` (None: all of them)."""
        if tag is not None and tag not in self.chips:
            raise ValueError(f"no practice is tagged {tag!r}")
        self._tag = tag
        chip = self.chips.get(tag or ALL_TAGS)
        if chip is not None and not chip.isChecked():
            chip.setChecked(True)
        for card in self.cards.values():
            card.setVisible(tag is None or tag in card.practice.tags)
        if self._current is not None and self._current not in self.visible_ids():
            self.set_current(None)

    def visible_ids(self) -> list[str]:
        """Practice ids in display order that pass the filter."""
        return [
            pid
            for pid, card in self.cards.items()
            if self._tag is None or self._tag in card.practice.tags
        ]

    # ------------------------------------------------------------------ selection

    def selected_id(self) -> str | None:
        """The practice Space should start: the card last focused or clicked."""
        return self._current

    def set_current(self, practice_id: str | None) -> None:
        if practice_id == self._current:
            return
        self._current = practice_id
        for pid, card in self.cards.items():
            set_flag(card, "current", pid == practice_id)
        if practice_id is not None:
            self.scroll_area.ensureWidgetVisible(self.cards[practice_id])

    def focus_first(self) -> None:
        ids = self.visible_ids()
        target = self._current if self._current in ids else (ids[0] if ids else None)
        if target is not None:
            self.set_current(target)
            self.cards[target].setFocus(Qt.FocusReason.OtherFocusReason)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Up/Down/Home/End on a card move between visible cards, like a list.

        Filtered here because the scroll area would otherwise take the arrows to scroll.
        """
        if isinstance(event, QKeyEvent) and isinstance(watched, PracticeCard):
            key = event.key()
            ids = self.visible_ids()
            nav = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Home, Qt.Key.Key_End)
            pressed = event.type() == QEvent.Type.KeyPress
            if pressed and key in nav and ids and watched.practice.id in ids:
                here = ids.index(watched.practice.id)
                if key == Qt.Key.Key_Home:
                    target = 0
                elif key == Qt.Key.Key_End:
                    target = len(ids) - 1
                else:
                    target = min(max(here + (-1 if key == Qt.Key.Key_Up else 1), 0), len(ids) - 1)
                self.set_current(ids[target])
                self.cards[ids[target]].setFocus(Qt.FocusReason.TabFocusReason)
                return True
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------------ help

    def show_crisis_note(self) -> None:
        self.crisis_dialog = show_crisis_note(self.window())
