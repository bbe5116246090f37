"""The settings dialog: every option in `settings.OPTIONS`, grouped the way a person thinks of them.

Nothing is written until Save, so Cancel (or Esc, or closing the window) leaves the file exactly as
it was. On Save only what the person actually touched is written: a volume slider that merely
shows a stored gain on its perceptual curve must not round that gain into a "change", and
`changed_keys()` tells the app precisely which options to apply (a new voice means a new narrator;
start-at-login means writing an autostart file; the rest is cheap).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSlider,
    QStyle,
    QStyleOptionButton,
    QVBoxLayout,
    QWidget,
)

from coreg_desktop import names
from coreg_desktop.audio.ambience import AMBIENCES
from coreg_desktop.core import NAME_PREVIEW_LINE, mix_book
from coreg_desktop.settings import (
    OPTIONS,
    SPEAK_TO_NAME,
    SPEAK_TO_YOU,
    TRAY_OPENS_WINDOW,
    TRAY_QUICK_RESET,
    WEEKDAYS,
    SettingError,
    Settings,
    parse,
)
from coreg_desktop.settings import (
    option as option_of,
)
from coreg_desktop.tts import DEFAULT_VOICE_ID, VoiceInfo
from coreg_desktop.ui.safe_people_panel import SafePeoplePanel
from coreg_desktop.ui.theme import set_role

if TYPE_CHECKING:
    from coreg_desktop.preparation import Progress
    from coreg_desktop.ui.bridge import PlayerBridge
from coreg_desktop.ui.volume import SLIDER_MAX, gain_to_slider, slider_to_gain
from coreg_desktop.ui.wheel import PageWheel

log = logging.getLogger(__name__)

NAME_HELP = (
    "Some practices say your name, gently. Leave it empty and they simply won't. "
    "It stays on this computer."
)
NAME_SPOKEN_HELP = (
    "If the voice says your name wrongly, write it the way it sounds, for example "
    "\u201cSheer\u2011sha\u201d for Saoirse. The voice says this; the screen still shows your name."
)
SPEAK_TO_HELP = (
    "Self-Compassion can say its kind words to you by name, or simply to \u201cyou\u201d."
)
#: A pasted page of text still reaches the check, which says how long it is, instead of being
#: cut silently at the limit.
NAME_FIELD_MAX = 1000
SAFE_PERSON_HELP = (
    "Someone who feels safe to you: a friend, a grandparent, even a pet. "
    "\u201cA Safe Person\u201d invites you to picture them. It stays on this computer."
)
REDUCED_MOTION_HELP = "The orb glows brighter and softer instead of growing and shrinking."
TRAY_CLICK_HELP = "Otherwise one click on the tray icon starts a quick reset straight away."
LOGIN_HELP = "Coreg waits quietly in the tray, ready when you need it."
CHECKIN_BEFORE_HELP = (
    "One quick question, 0 to 10, before a practice you start in the window. One key answers "
    "it and Esc skips it; the tray's quick reset never waits for it."
)
CHECKIN_AFTER_HELP = "The same question when a practice ends, so you can see what helps you."
STREAKS_HELP = "Off by default: some people find counting days stressful."
REMINDERS_HELP = (
    "A quiet notification with a quick reset one click away. It waits while a practice plays, "
    "and never counts the days you did not practise."
)
TIMES_HELP = "24-hour times, separated by commas, for example 08:30, 19:00."
DAY_NAMES = {"mon": "Mon", "tue": "Tue", "wed": "Wed", "thu": "Thu", "fri": "Fri",
             "sat": "Sat", "sun": "Sun"}

#: Values for the ambience picker: "" follows each practice, "none" is silence.
AMBIENCE_CHOICES: tuple[tuple[str, str], ...] = (
    ("", "Each practice's own"),
    *((info.id, info.title) for info in AMBIENCES.values()),
    ("none", "Silence"),
)

#: Speaking-rate slider positions are hundredths of the rate, in steps of 0.05.
RATE_STEP = 5


def _is_default_voice(voice_id: str) -> bool:
    return voice_id.removeprefix("piper:") in ("", DEFAULT_VOICE_ID)


def offered_voices(voices: list[VoiceInfo], current: str) -> list[VoiceInfo]:
    """The few voices worth offering: every Piper voice, English system voices, and the current one.

    A system with espeak lists a hundred languages; the practices are written in English, so the
    rest would only make the choice harder.
    """
    chosen: list[VoiceInfo] = []
    for voice in voices:
        english = voice.language.lower().replace("_", "-").startswith("en")
        if voice.engine == "piper" or english or voice.id == current:
            chosen.append(voice)
    return chosen


def rate_text(rate: float) -> str:
    if abs(rate - 1.0) < 1e-6:
        return "Normal"
    word = "Slower" if rate < 1.0 else "Faster"
    return f"{word} ({round(rate, 2):g}\u00d7)"


def _volume_text(position: int) -> str:
    return f"{position}%"


class SettingsDialog(QDialog):
    """Edits a `Settings` in place on Save; `changed_keys()` lists what the Save changed."""

    def __init__(
        self,
        settings: Settings,
        voices: list[VoiceInfo] | None = None,
        parent: QWidget | None = None,
        bridge: PlayerBridge | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self._changed: list[str] = []
        self.setWindowTitle("Coreg settings")
        self.setAccessibleName("Settings")
        if voices is None:
            voices = self._load_voices()

        m = self.fontMetrics().height()
        self._m = m
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)

        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        scroll.verticalScrollBar().setAccessibleName("Scroll the settings")
        contents = QWidget()
        contents.setObjectName("scrollContents")
        scroll.setWidget(contents)
        self.scroll_area = scroll
        outer.addWidget(scroll, 1)

        col = QVBoxLayout(contents)
        col.setContentsMargins(round(m * 1.6), round(m * 1.4), round(m * 1.6), round(m * 0.8))
        col.setSpacing(round(m * 0.9))
        title = QLabel("Settings", contents)
        set_role(title, "title")
        col.addWidget(title)

        # -- about you
        about = self._section(col, "About you")
        self._bridge = bridge
        self.name_edit = self._line_edit(about, "Your first name", "name", NAME_HELP)
        # Hearing your own name said right: the name (or how to say it) in the voice shown.
        self.name_preview_button = QPushButton("Preview")
        self.name_preview_button.setAccessibleName("Hear your name")
        self.name_preview_button.setToolTip(
            "Hear the voice say \u201cIt\u2019s okay\u201d with your name"
        )
        self.name_preview_button.clicked.connect(self.preview_name)
        self._beside(self.name_edit, self.name_preview_button)
        self.name_spoken_edit = self._line_edit(
            about, "Say it like", "name_spoken", NAME_SPOKEN_HELP
        )
        self.speak_to_combo = QComboBox()
        self.speak_to_combo.setAccessibleName("Kind words in Self-Compassion")
        self.speak_to_combo.addItem("", SPEAK_TO_NAME)
        self.speak_to_combo.addItem("", SPEAK_TO_YOU)
        self.speak_to_combo.setCurrentIndex(
            max(0, self.speak_to_combo.findData(settings.text("speak_to")))
        )
        self._field(about, "Kind words in Self-Compassion", self.speak_to_combo, SPEAK_TO_HELP)
        self.safe_person_edit = self._line_edit(
            about, "A safe person", "safe_person.name", SAFE_PERSON_HELP
        )
        #: Says, in one line under the fields, what a name cannot hold; Save waits for a fix.
        self.name_problem_label = QLabel()
        self.name_problem_label.setWordWrap(True)
        self.name_problem_label.setVisible(False)
        about.addWidget(self.name_problem_label)
        self._name_fields = (
            ("Your first name", self.name_edit),
            ("Say it like", self.name_spoken_edit),
            ("A safe person", self.safe_person_edit),
        )
        for _label, edit in self._name_fields:
            edit.textChanged.connect(self._names_changed)

        people = self._section(col, "Your safe people")
        self.safe_people_panel = SafePeoplePanel(bridge=bridge)
        self.safe_people_panel.chosen.connect(self.safe_person_edit.setText)
        self.safe_people_panel.removed.connect(self._person_removed)
        people.addWidget(self.safe_people_panel)

        # -- voice
        voice = self._section(col, "Voice")
        self.voice_combo = QComboBox()
        self.voice_combo.setAccessibleName("Narration voice")
        self._fill_voices(offered_voices(voices, str(settings["voice"])))
        # Choosing by ear: the preview says one calm line in the voice shown, before Save.
        self.preview_button = QPushButton("Preview")
        self.preview_button.setAccessibleName("Preview this voice")
        self.preview_button.setToolTip("Hear this voice say one line")
        self.preview_button.setEnabled(bridge is not None)
        self.preview_button.clicked.connect(self.preview_voice)
        picker = QWidget()
        row = QHBoxLayout(picker)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.voice_combo, 1)
        row.addWidget(self.preview_button)
        self._field(voice, "Narration voice", picker).setBuddy(self.voice_combo)
        # How far the background preparation has got (a new voice makes every line again).
        self.preparation_label = QLabel()
        self.preparation_label.setWordWrap(True)
        set_role(self.preparation_label, "small")
        voice.addWidget(self.preparation_label)
        self.show_preparation(bridge.preparation if bridge is not None else None)
        if bridge is not None:
            bridge.preparationChanged.connect(self.show_preparation)
        self.rate_slider, self.rate_value = self._slider(
            voice,
            "Speaking pace",
            60,
            150,
            round(float(settings["rate"]) * 100),
            lambda v: rate_text(v / 100),
        )
        self.rate_slider.setSingleStep(RATE_STEP)
        self.rate_slider.setPageStep(RATE_STEP * 2)

        # -- sound
        sound = self._section(col, "Sound")
        self.voice_volume_slider, self.voice_volume_value = self._slider(
            sound,
            "Voice volume",
            0,
            SLIDER_MAX,
            gain_to_slider(settings.number("volume.voice")),
            _volume_text,
        )
        self.ambience_volume_slider, self.ambience_volume_value = self._slider(
            sound,
            "Ambience volume",
            0,
            SLIDER_MAX,
            gain_to_slider(settings.number("volume.ambience")),
            _volume_text,
        )
        self.ambience_combo = QComboBox()
        self.ambience_combo.setAccessibleName("Ambience for every practice")
        for value, text in AMBIENCE_CHOICES:
            self.ambience_combo.addItem(text, value)
        for mix in mix_book(quiet=True).mixes:  # the listener's own, from `mix add`
            self.ambience_combo.addItem(f"Mix: {mix.title}", mix.ambience_id)
        index = self.ambience_combo.findData(str(settings["ambience"]))
        if index < 0:  # hand-edited to something unknown: show it rather than hide it
            self.ambience_combo.addItem(str(settings["ambience"]), str(settings["ambience"]))
            index = self.ambience_combo.count() - 1
        self.ambience_combo.setCurrentIndex(index)
        self._field(sound, "Ambience", self.ambience_combo)

        # -- display
        display = self._section(col, "While you practise")
        self.captions_check = self._check(
            display, "Show captions of what is being said", settings.flag("captions")
        )
        self.reduced_motion_check = self._check(
            display, "Reduce motion", settings.flag("reduced_motion"), REDUCED_MOTION_HELP
        )
        self.hide_counts_check = self._check(
            display, "Hide the seconds counted in the orb", settings.flag("hide_counts"),
            "Counting can make some people strain; the orb and the words still lead the breath."
        )

        # -- tray and start-up
        tray = self._section(col, "Tray and start-up")
        self.tray_click_check = self._check(
            tray,
            "Clicking the tray icon opens Coreg",
            settings.text("tray.click") == TRAY_OPENS_WINDOW,
            TRAY_CLICK_HELP,
        )
        self.start_at_login_check = self._check(
            tray, "Start Coreg when I log in", settings.flag("start_at_login"), LOGIN_HELP
        )

        # -- check-ins and progress
        checkins = self._section(col, "Check-ins and progress")
        self.checkin_before_check = self._check(
            checkins, "Ask how I feel before a practice", settings.flag("checkin.before"),
            CHECKIN_BEFORE_HELP,
        )
        self.checkin_after_check = self._check(
            checkins, "Ask again when it ends", settings.flag("checkin.after"),
            CHECKIN_AFTER_HELP,
        )
        self.streaks_check = self._check(
            checkins, "Show days in a row on the Progress page",
            settings.flag("progress.streaks"), STREAKS_HELP,
        )

        # -- reminders
        reminders = self._section(col, "Gentle reminders")
        self.reminders_check = self._check(
            reminders, "Remind me to take a moment", settings.flag("reminders.enabled"),
            REMINDERS_HELP,
        )
        self.times_edit = QLineEdit(", ".join(settings["reminders.times"]))
        self.times_edit.setAccessibleName("Reminder times")
        self.times_edit.setPlaceholderText("19:00")
        self._field(reminders, "At", self.times_edit, TIMES_HELP)
        self.times_problem_label = QLabel()
        self.times_problem_label.setWordWrap(True)
        self.times_problem_label.setVisible(False)
        reminders.addWidget(self.times_problem_label)
        self.day_checks: dict[str, QPushButton] = {}
        days_row = QWidget()
        days_row.setAccessibleName("Reminder days")
        day_layout = QHBoxLayout(days_row)
        day_layout.setContentsMargins(0, 0, 0, 0)
        day_layout.setSpacing(round(m * 0.3))
        chosen_days = set(settings["reminders.days"])
        for day in WEEKDAYS:
            chip = QPushButton(DAY_NAMES[day], days_row)
            set_role(chip, "chip")
            chip.setCheckable(True)
            chip.setChecked(day in chosen_days)
            chip.setAutoDefault(False)
            chip.setAccessibleName(f"Remind me on {DAY_NAMES[day]}")
            day_layout.addWidget(chip)
            self.day_checks[day] = chip
        day_layout.addStretch(1)
        self._field(reminders, "On", days_row)
        self.times_edit.textChanged.connect(self._times_changed)
        col.addStretch(1)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.save_button.setAccessibleName("Save settings")
        self.cancel_button.setAccessibleName("Cancel without saving")
        self.save_button.setDefault(True)
        for button in (self.save_button, self.cancel_button):
            button.setIcon(QIcon())  # some desktops add stock icons; plain words are calmer
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        bottom = QWidget(self)
        set_role(bottom, "header")  # a hairline above the buttons, like the header's below
        bottom_row = QHBoxLayout(bottom)
        bottom_row.setContentsMargins(
            round(m * 1.6), round(m * 0.7), round(m * 1.6), round(m * 0.8)
        )
        bottom_row.addWidget(self.buttons)
        outer.addWidget(bottom)

        order: list[QWidget] = [
            self.name_edit,
            *([self.name_preview_button] if bridge is not None else []),
            self.name_spoken_edit,
            self.speak_to_combo,
            self.safe_person_edit,
            *self.safe_people_panel.tab_order(),
            self.voice_combo,
            *([self.preview_button] if self.preview_button.isEnabled() else []),
            self.rate_slider,
            self.voice_volume_slider,
            self.ambience_volume_slider,
            self.ambience_combo,
            self.captions_check,
            self.reduced_motion_check,
            self.hide_counts_check,
            self.tray_click_check,
            self.start_at_login_check,
            self.checkin_before_check,
            self.checkin_after_check,
            self.streaks_check,
            self.reminders_check,
            self.times_edit,
            *self.day_checks.values(),
            self.cancel_button,
            self.save_button,
        ]
        for first, second in pairwise(order):
            QWidget.setTabOrder(first, second)
        self.tab_order = [w for w in order if w.isEnabled()]  # Tab passes over the rest
        # Scrolling the page never changes a setting under the pointer (see ui/wheel.py).
        PageWheel(scroll).watch(*contents.findChildren(QComboBox),
                                *contents.findChildren(QSlider))
        self._names_changed()
        self._initial = self._snapshot()
        self.name_edit.setFocus()

        width = round(m * 40)
        self.setMinimumWidth(round(m * 24))
        self.resize(width, min(round(m * 46), self._available_height()))

    def preview_voice(self) -> None:
        """Say the preview line in the voice the picker shows (saved or not)."""
        if self._bridge is not None:
            self._bridge.preview(str(self.voice_combo.currentData() or ""))

    def preview_name(self) -> None:
        """Say "It's okay, <name>." in the voice shown, as the fields read now (unsaved), with
        the respelling when there is one: the way to find a respelling that sounds right."""
        if self._bridge is not None and self.name_problem(fields=2) is None:
            self._bridge.preview(
                str(self.voice_combo.currentData() or ""),
                NAME_PREVIEW_LINE,
                name=self.name_edit.text(),
                name_spoken=self.name_spoken_edit.text(),
            )

    def times_problem(self) -> str | None:
        """One sentence about the reminder times as typed, or None when they can be saved."""
        try:
            self._times()
        except SettingError:
            return ("Reminder times need to look like 08:30 or 19:00 (24-hour), separated by "
                    "commas.")
        return None

    def _times(self) -> list[str]:
        """The typed times as the setting stores them; SettingError for a wrong one."""
        times = parse(option_of("reminders.times"), self.times_edit.text())
        assert isinstance(times, list)
        return times

    def _times_changed(self) -> None:
        problem = self.times_problem()
        self.times_problem_label.setText(problem or "")
        self.times_problem_label.setAccessibleName(problem or "")
        self.times_problem_label.setVisible(problem is not None)
        self._names_changed()  # Save waits for both

    def name_problem(self, fields: int = 3) -> str | None:
        """One sentence about the first name field (of the first `fields`) that cannot be
        saved as it is, or None."""
        for label, edit in self._name_fields[:fields]:
            wrong = names.problem(names.clean(edit.text()))
            if wrong:
                return f"{label} {wrong}."
        return None

    def _names_changed(self) -> None:
        problem = self.name_problem()
        self.name_problem_label.setText(problem or "")
        self.name_problem_label.setAccessibleName(problem or "")
        self.name_problem_label.setVisible(problem is not None)
        self.save_button.setEnabled(problem is None and self.times_problem() is None)
        name = names.clean(self.name_edit.text())
        self.name_preview_button.setEnabled(  # a safe person's typo does not stop it
            self._bridge is not None and bool(name) and self.name_problem(fields=2) is None
        )
        example = name if name and names.problem(name) is None else "Sam"
        self.speak_to_combo.setItemText(0, f"By my name: \u201cIt\u2019s okay, {example}.\u201d")
        self.speak_to_combo.setItemText(1, "As \u201cyou\u201d: \u201cIt\u2019s okay.\u201d")

    def show_preparation(self, progress: Progress | None) -> None:
        """The preparer's progress in one quiet line, shown only while it works."""
        busy = progress is not None and not progress.finished
        self.preparation_label.setText(progress.sentence() if busy and progress else "")
        self.preparation_label.setAccessibleName(self.preparation_label.text())
        self.preparation_label.setVisible(busy)

    # ------------------------------------------------------------------ building

    def _available_height(self) -> int:
        screen = self.screen() or QGuiApplication.primaryScreen()
        return screen.availableGeometry().height() - 80 if screen else 720

    @staticmethod
    def _load_voices() -> list[VoiceInfo]:
        """Voices from the TTS layer; listing system voices runs a child process once."""
        from coreg_desktop.tts import list_voices

        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            return list_voices()
        except Exception:
            log.exception("could not list voices")
            return []
        finally:
            QGuiApplication.restoreOverrideCursor()

    def _section(self, col: QVBoxLayout, heading: str) -> QVBoxLayout:
        m = self._m
        label = QLabel(heading)
        set_role(label, "heading")
        label.setAccessibleName(heading)
        col.addSpacing(round(m * 0.3))
        col.addWidget(label)
        frame = QFrame()
        set_role(frame, "section")
        frame.setAccessibleName(heading)
        box = QVBoxLayout(frame)
        box.setContentsMargins(round(m * 1.1), round(m * 0.9), round(m * 1.1), round(m * 1.0))
        box.setSpacing(round(m * 0.35))
        col.addWidget(frame)
        return box

    def _gap(self, box: QVBoxLayout) -> None:
        if box.count():
            box.addSpacing(round(self._m * 0.6))

    def _field(self, box: QVBoxLayout, text: str, field: QWidget, help_text: str = "") -> QLabel:
        self._gap(box)
        label = QLabel(text)
        label.setBuddy(field)
        label.setAccessibleName(text)
        box.addWidget(label)
        box.addWidget(field)
        if help_text:
            self._help(box, help_text, field)
        return label

    def _help(self, box: QVBoxLayout, text: str, field: QWidget) -> QLabel:
        help_label = QLabel(text)
        help_label.setWordWrap(True)
        set_role(help_label, "small")
        help_label.setAccessibleName(text)
        field.setAccessibleDescription(text)
        box.addWidget(help_label)
        return help_label

    def _line_edit(self, box: QVBoxLayout, text: str, key: str, help_text: str) -> QLineEdit:
        edit = QLineEdit(str(self.settings[key]))
        edit.setMaxLength(NAME_FIELD_MAX)
        edit.setPlaceholderText("Optional")
        edit.setAccessibleName(text)
        self._field(box, text, edit, help_text)
        return edit

    @staticmethod
    def _beside(field: QWidget, button: QPushButton) -> None:
        """Put `button` at the end of `field`'s row, where `_field` placed the field."""
        parent = field.parentWidget()
        box = parent.layout() if parent is not None else None
        if not isinstance(box, QVBoxLayout):
            return
        index = box.indexOf(field)
        row = QHBoxLayout()
        box.insertLayout(index, row)
        box.removeWidget(field)
        row.addWidget(field, 1)
        row.addWidget(button)

    def _slider(
        self,
        box: QVBoxLayout,
        text: str,
        low: int,
        high: int,
        value: int,
        describe: Callable[[int], str],
    ) -> tuple[QSlider, QLabel]:
        self._gap(box)
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(low, high)
        slider.setValue(min(max(value, low), high))
        slider.setAccessibleName(text)
        value_label = QLabel(describe(slider.value()))
        set_role(value_label, "muted")
        value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        value_label.setMinimumWidth(
            max(value_label.fontMetrics().horizontalAdvance(describe(v)) for v in (low, high))
        )

        def changed(v: int) -> None:
            value_label.setText(describe(v))
            slider.setAccessibleDescription(describe(v))

        slider.valueChanged.connect(changed)
        changed(slider.value())
        label = QLabel(text)
        label.setBuddy(slider)
        label.setAccessibleName(text)
        head = QHBoxLayout()
        head.addWidget(label, 1)
        head.addWidget(value_label)
        box.addLayout(head)
        box.addWidget(slider)
        return slider, value_label

    def _check(
        self, box: QVBoxLayout, text: str, checked: bool, help_text: str = ""
    ) -> QCheckBox:
        self._gap(box)
        check = QCheckBox(text)
        check.setChecked(checked)
        check.setAccessibleName(text)
        box.addWidget(check)
        if help_text:
            help_label = self._help(box, help_text, check)
            # Line the helper text up with the checkbox's own text, not its box.
            check.ensurePolished()
            option = QStyleOptionButton()
            check.initStyleOption(option)
            option.rect = QRect(QPoint(0, 0), check.sizeHint())
            text_rect = check.style().subElementRect(
                QStyle.SubElement.SE_CheckBoxContents, option, check
            )
            help_label.setContentsMargins(max(0, text_rect.left()), 0, 0, 0)
        return check

    def _fill_voices(self, voices: list[VoiceInfo]) -> None:
        combo = self.voice_combo
        current = str(self.settings["voice"])
        model = combo.model()
        default = next((v for v in voices if v.id == DEFAULT_VOICE_ID), None)
        combo.addItem(
            (default.name if default else "Joe (US English, bundled)") + " \u2014 default", ""
        )
        if default is not None:
            combo.setItemData(0, default.detail, Qt.ItemDataRole.ToolTipRole)
        system_started = False
        for voice in voices:
            if voice.id == DEFAULT_VOICE_ID:
                continue
            if voice.engine == "system" and not system_started:
                combo.insertSeparator(combo.count())
                system_started = True
            suffix = " (system voice)" if voice.engine == "system" else ""
            if not voice.available:
                suffix += " \u2014 unavailable"
            combo.addItem(voice.name + suffix, voice.id)
            index = combo.count() - 1
            combo.setItemData(index, voice.detail, Qt.ItemDataRole.ToolTipRole)
            if not voice.available and isinstance(model, QStandardItemModel):
                item = model.item(index)
                if item is not None:
                    item.setEnabled(False)
        if _is_default_voice(current):
            combo.setCurrentIndex(0)
            return
        index = combo.findData(current)
        if index < 0:
            combo.addItem(f"{current} \u2014 not installed", current)
            index = combo.count() - 1
        combo.setCurrentIndex(index)

    # ------------------------------------------------------------------ values

    def _snapshot(self) -> dict[str, Any]:
        """What each control shows, in control terms (slider positions, combo data)."""
        return {
            "name": names.clean(self.name_edit.text()),
            "name_spoken": names.clean(self.name_spoken_edit.text()),
            "speak_to": self.speak_to_combo.currentData(),
            "safe_person.name": names.clean(self.safe_person_edit.text()),
            "voice": self.voice_combo.currentData(),
            "rate": self.rate_slider.value(),
            "volume.voice": self.voice_volume_slider.value(),
            "volume.ambience": self.ambience_volume_slider.value(),
            "ambience": self.ambience_combo.currentData(),
            "captions": self.captions_check.isChecked(),
            "reduced_motion": self.reduced_motion_check.isChecked(),
            "hide_counts": self.hide_counts_check.isChecked(),
            "tray.click": self.tray_click_check.isChecked(),
            "start_at_login": self.start_at_login_check.isChecked(),
            "checkin.before": self.checkin_before_check.isChecked(),
            "checkin.after": self.checkin_after_check.isChecked(),
            "progress.streaks": self.streaks_check.isChecked(),
            "reminders.enabled": self.reminders_check.isChecked(),
            "reminders.times": self._times() if self.times_problem() is None
            else self.times_edit.text(),
            "reminders.days": [d for d, chip in self.day_checks.items() if chip.isChecked()],
        }

    def _value_for(self, key: str, shown: Any) -> Any:
        if key == "rate":
            return round(shown / 100, 2)
        if key in ("volume.voice", "volume.ambience"):
            return slider_to_gain(shown)
        if key == "tray.click":
            return TRAY_OPENS_WINDOW if shown else TRAY_QUICK_RESET
        return shown

    def pending_changes(self) -> dict[str, Any]:
        """Option values the controls would save now: only the ones the person changed."""
        now = self._snapshot()
        changes: dict[str, Any] = {}
        for option in OPTIONS:
            key = option.key
            if key not in now or now[key] == self._initial[key]:
                continue
            value = self._value_for(key, now[key])
            if value != self.settings[key]:
                changes[key] = value
        return changes

    def changed_keys(self) -> list[str]:
        """Option names the last Save changed, in OPTIONS order ([] after Cancel)."""
        return list(self._changed)

    def accept(self) -> None:
        if self.name_problem() is not None:
            self.name_problem_label.setVisible(True)
            return  # the line under the fields says what to change; nothing is lost
        if self.times_problem() is not None:
            self.times_problem_label.setVisible(True)
            return
        changes = self.pending_changes()
        before = self.settings.snapshot()
        try:
            self.settings.update(changes)
            self.settings.save()
        except (OSError, ValueError) as exc:
            self.settings.restore(before)
            log.error("could not save settings: %s", exc)
            self._show_save_problem(str(exc))
            return
        self._changed = list(changes)
        self._make_chosen_person(str(changes.get("safe_person.name", "")))
        if changes:
            log.info("settings changed: %s", ", ".join(changes))
        super().accept()

    def _person_removed(self, name: str) -> None:
        """The person practices used is gone: the one used most recently takes their place."""
        if self.safe_person_edit.text().strip().casefold() == name.casefold():
            following = self.safe_people_panel.store.last_used()
            self.safe_person_edit.setText(following.name if following else "")

    def _make_chosen_person(self, name: str) -> None:
        """A safe person typed in by name gets a profile, as `config set` gives one."""
        from coreg_desktop.safe_people import SafePersonError

        if not name:
            return
        store = self.safe_people_panel.store
        try:
            if store.get(name) is None:
                store.add(name)
            store.mark_used(name)
        except SafePersonError as exc:
            log.warning("%s", exc)

    def reject(self) -> None:
        self._changed = []
        super().reject()

    def _show_save_problem(self, detail: str) -> None:
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Settings not saved",
            "Coreg could not save your settings. Nothing was changed.",
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setInformativeText(detail)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.save_problem_box = box
