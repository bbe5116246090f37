"""The main window: the library and the player in one stack, a quiet header, and the shortcuts.

The window owns no playback state. It asks the bridge to play, pause and stop and follows the
bridge's signals (a practice started from the tray or a second launch switches it to the player
just the same). Closing it never quits: with a tray it hides there, and without one it minimises,
because a desktop with no tray would otherwise leave no way back to the quick reset. Quitting is a
deliberate act (Ctrl+Q or the tray's Quit), which the app handles through `quitRequested`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from coreg_desktop.checkin import CheckIn, suggest
from coreg_desktop.constants import QUICK_RESET_ID
from coreg_desktop.events import EndReason
from coreg_desktop.settings import Settings
from coreg_desktop.tts import VoiceInfo
from coreg_desktop.ui.bridge import PlayerBridge, follow_settings
from coreg_desktop.ui.checkin_view import AFTER, BEFORE, CheckInPanel, result_text
from coreg_desktop.ui.crisis import CRISIS_TITLE, CrisisDialog, show_crisis_note
from coreg_desktop.ui.library_view import LibraryView
from coreg_desktop.ui.player_view import PlayerView
from coreg_desktop.ui.settings_dialog import SettingsDialog
from coreg_desktop.ui.theme import set_role
from coreg_desktop.ui.voice_card import VoiceChoiceCard

if TYPE_CHECKING:
    from coreg_desktop.ui.pacer_view import PacerView
    from coreg_desktop.ui.progress_view import ProgressView

log = logging.getLogger(__name__)

WINDOW_TITLE = "Coreg"
DEFAULT_SIZE = (860, 600)
#: The Progress page's charts (pyqtgraph, ~0.25 s to import) are imported on a worker thread
#: this long after the window first shows, so opening the page later does not wait for them.
PRELOAD_CHARTS_MS = 1500
#: The practice Space starts when nothing is chosen yet: the one made for a hard moment.
FALLBACK_PRACTICE = QUICK_RESET_ID

NO_TRAY_NOTICE = (
    "This desktop has no system tray, so closing Coreg minimises it instead. "
    "The quick reset is also in Coreg's launcher menu, and the command "
    "\u201ccoreg-desktop --quick-reset\u201d starts it from a terminal or a keyboard shortcut."
)

SHORTCUTS_TEXT = (
    "Space: play or pause (or start the chosen practice)\n"
    "In Breathe with Me: Space, Enter or a click on the orb taps a breath in\n"
    "Esc: stop; press again to go back to the library\n"
    "In a check-in: 0 to 9 answer (End is 10), Esc skips\n"
    "Up and Down: move between practices; Enter plays one\n"
    "Ctrl+,: settings\n"
    "Ctrl+W: close the window; Coreg keeps running\n"
    "Ctrl+Q: quit Coreg"
)

ABOUT_TEXT = (
    "Coreg plays short voice-guided practices to help your nervous system settle: grounding, "
    "slow breathing, kindness. Everything runs on this computer; nothing is sent anywhere."
)


class MainWindow(QMainWindow):
    quitRequested = Signal()
    hiddenToTray = Signal()
    #: Closing minimised the window because there is no tray. The app explains that once ever
    #: (with NO_TRAY_NOTICE in `show_notice`), so the window itself stays quiet about it.
    minimizedWithoutTray = Signal()
    #: The charts' module finished loading on its worker thread (carried to the GUI thread).
    _chartsLoaded = Signal()

    def __init__(
        self, bridge: PlayerBridge, settings: Settings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.settings = settings
        #: Set by the app: True when a system tray exists to hide into.
        self.close_hides_to_tray = False
        #: Voices for the settings dialog; None lets the dialog list them when it opens.
        self.voices: list[VoiceInfo] | None = None
        self.settings_dialog: SettingsDialog | None = None
        self.voice_card: VoiceChoiceCard | None = None
        self.crisis_dialog: CrisisDialog | None = None
        self.progress_view: ProgressView | None = None
        self.pacer_view: PacerView | None = None
        self._quitting = False
        #: A practice chosen in the library, waiting for its before check-in.
        self._pending: tuple[str, str | None] | None = None
        #: The session whose after check-in is showing, and what was said before it.
        self._after: tuple[int, int | None] | None = None
        self._last_checkin: CheckIn | None = None
        self._charts_preloaded = False
        self._chartsLoaded.connect(self._build_progress_view)

        self.setWindowTitle(WINDOW_TITLE)
        self.setAccessibleName(WINDOW_TITLE)

        central = QWidget(self)
        central.setObjectName("central")
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self._build_header(central))
        outer.addWidget(self._build_banner(central))

        self.stack = QStackedWidget(central)
        self.stack.setAccessibleName("Coreg views")
        self.library_view = LibraryView(bridge.library, self.stack)
        self.player_view = PlayerView(bridge, settings, self.stack)
        self.checkin_panel = CheckInPanel(self.stack)
        self.stack.addWidget(self.library_view)
        self.stack.addWidget(self.player_view)
        self.stack.addWidget(self.checkin_panel)
        outer.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.library_view.playRequested.connect(self.play)
        self.library_view.playWithRequested.connect(self.play)
        # Who the cards offer is read from the store only while the window shows (and soon
        # after, never during a click): a quick reset from the tray never waits for it.
        self._people_stale = True
        self._people_timer = QTimer(self)
        self._people_timer.setSingleShot(True)
        self._people_timer.setInterval(0)
        self._people_timer.timeout.connect(self._refresh_people_if_stale)
        follow_settings(self, settings, self._settings_changed)
        self.player_view.backRequested.connect(self.show_library)
        self.player_view.suggestionChosen.connect(self._suggestion_chosen)
        self.checkin_panel.answered.connect(self._checkin_answered)
        self.checkin_panel.skipped.connect(self._checkin_skipped)
        self.checkin_panel.closed.connect(self._after_closed)
        bridge.practiceStarted.connect(self._practice_started)
        bridge.ended.connect(self._practice_ended)
        bridge.noticeRaised.connect(self.show_notice)

        self._shortcuts: dict[str, QShortcut] = {}
        self._add_shortcut("stop", QKeySequence(Qt.Key.Key_Escape), self.stop_or_back)
        self._add_shortcut("hide", QKeySequence("Ctrl+W"), self.hide_to_tray)
        self._add_shortcut("quit", QKeySequence("Ctrl+Q"), self.request_quit)
        self._add_shortcut("settings", QKeySequence("Ctrl+,"), self.open_settings)

        m = self.fontMetrics().height()
        self.setMinimumSize(max(round(m * 30), 420), max(round(m * 26), 380))
        self.resize(self.default_size())
        self.show_library()

    # ------------------------------------------------------------------ building

    def default_size(self) -> QSize:
        """About 860x600, grown to fit a large font, shrunk to fit a small screen."""
        want = QSize(*DEFAULT_SIZE).expandedTo(self.minimumSizeHint())
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            want = want.boundedTo(screen.availableGeometry().size())
        return want

    def _build_header(self, parent: QWidget) -> QWidget:
        m = self.fontMetrics().height()
        header = QWidget(parent)
        header.setObjectName("header")
        header.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        set_role(header, "header")
        row = QHBoxLayout(header)
        row.setContentsMargins(round(m * 1.3), round(m * 0.45), round(m * 0.9), round(m * 0.45))
        row.setSpacing(round(m * 0.3))
        self.wordmark = QLabel("Coreg", header)
        set_role(self.wordmark, "wordmark")
        self.wordmark.setAccessibleName("Coreg")
        row.addWidget(self.wordmark)
        row.addStretch(1)

        self.pacer_button = QPushButton("Pacer", header)
        set_role(self.pacer_button, "ghost")
        self.pacer_button.setAccessibleName("Breathing pacer")
        self.pacer_button.setToolTip("Breathe with the orb alone, in a pattern you choose")
        self.pacer_button.setAutoDefault(False)
        self.pacer_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.pacer_button.clicked.connect(self.show_pacer)
        row.addWidget(self.pacer_button)

        self.progress_button = QPushButton("Progress", header)
        set_role(self.progress_button, "ghost")
        self.progress_button.setAccessibleName("Progress")
        self.progress_button.setToolTip("What you practised, and how you felt before and after")
        self.progress_button.setAutoDefault(False)
        self.progress_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.progress_button.clicked.connect(self.show_progress)
        row.addWidget(self.progress_button)

        self.settings_button = QPushButton("Settings", header)
        set_role(self.settings_button, "ghost")
        self.settings_button.setAccessibleName("Settings")
        self.settings_button.setToolTip("Your name, voice, sound and tray (Ctrl+,)")
        self.settings_button.setAutoDefault(False)
        self.settings_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.settings_button.clicked.connect(self.open_settings)
        row.addWidget(self.settings_button)

        self.help_button = QPushButton("Help", header)
        set_role(self.help_button, "ghost")
        self.help_button.setAccessibleName("Help")
        self.help_button.setToolTip("Crisis help, keyboard shortcuts, about Coreg")
        self.help_button.setAutoDefault(False)
        self.help_button.setCursor(Qt.CursorShape.PointingHandCursor)
        menu = QMenu(self.help_button)
        menu.setAccessibleName("Help")
        self.crisis_action = QAction(CRISIS_TITLE, menu)
        self.crisis_action.triggered.connect(self.show_crisis_note)
        self.shortcuts_action = QAction("Keyboard shortcuts", menu)
        self.shortcuts_action.triggered.connect(self.show_shortcuts)
        self.about_action = QAction("About Coreg", menu)
        self.about_action.triggered.connect(self.show_about)
        menu.addAction(self.crisis_action)
        menu.addAction(self.shortcuts_action)
        menu.addSeparator()
        menu.addAction(self.about_action)
        self.help_button.setMenu(menu)
        self.help_menu = menu
        row.addWidget(self.help_button)
        QWidget.setTabOrder(self.pacer_button, self.progress_button)
        QWidget.setTabOrder(self.progress_button, self.settings_button)
        QWidget.setTabOrder(self.settings_button, self.help_button)
        self.header = header
        return header

    def _build_banner(self, parent: QWidget) -> QWidget:
        """An inline notice (no sound device, no tray): calmer than a pop-up, and dismissable."""
        m = self.fontMetrics().height()
        holder = QWidget(parent)
        pad = QHBoxLayout(holder)
        pad.setContentsMargins(round(m * 1.3), round(m * 0.7), round(m * 1.3), 0)
        self.banner = QFrame(holder)
        set_role(self.banner, "banner")
        self.banner.setAccessibleName("Notice")
        row = QHBoxLayout(self.banner)
        row.setContentsMargins(round(m * 1.0), round(m * 0.55), round(m * 0.5), round(m * 0.55))
        self.banner_label = QLabel(self.banner)
        self.banner_label.setWordWrap(True)
        self.banner_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.banner_label, 1)
        self.banner_close = QPushButton("Dismiss", self.banner)
        set_role(self.banner_close, "ghost")
        self.banner_close.setAccessibleName("Dismiss this notice")
        self.banner_close.setAutoDefault(False)
        self.banner_close.clicked.connect(self.hide_notice)
        row.addWidget(self.banner_close, 0, Qt.AlignmentFlag.AlignTop)
        pad.addWidget(self.banner)
        self.banner_holder = holder
        holder.hide()
        return holder

    def _add_shortcut(self, name: str, keys: QKeySequence, slot: object) -> None:
        shortcut = QShortcut(keys, self)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(slot)
        self._shortcuts[name] = shortcut

    # ------------------------------------------------------------------ views

    def show_library(self) -> None:
        self.stack.setCurrentWidget(self.library_view)
        if self.isVisible():
            self.library_view.focus_first()

    def show_player(self) -> None:
        self.stack.setCurrentWidget(self.player_view)
        if self.isVisible():
            self.player_view.focus_target().setFocus(Qt.FocusReason.OtherFocusReason)

    def bring_to_front(self) -> None:
        """Show, un-minimise, raise and activate (from the tray or a second launch)."""
        state = self.windowState()
        if state & Qt.WindowState.WindowMinimized:
            self.setWindowState(
                (state & ~Qt.WindowState.WindowMinimized) | Qt.WindowState.WindowActive
            )
        self.show()
        self.raise_()
        self.activateWindow()

    def _build_progress_view(self) -> ProgressView:
        """Build the Progress page (hidden): soon after the window first shows, once its charts
        are loaded, so the first click on Progress only reads the history and draws."""
        if self.progress_view is None:
            from coreg_desktop.ui.progress_view import ProgressView

            core = self.bridge.core
            view = ProgressView(lambda: core.history, self.settings, self.stack)
            view.backRequested.connect(self.show_library)
            view.deleted.connect(lambda: self.show_notice("Your practice history was deleted."))
            self.stack.addWidget(view)
            self.progress_view = view
        return self.progress_view

    def show_pacer(self) -> PacerView:
        """The Pacer page (built on first use), with the patterns read afresh."""
        if self.pacer_view is None:
            from coreg_desktop.ui.pacer_view import PacerView

            self.pacer_view = PacerView(self.bridge, self.stack)
            self.pacer_view.started.connect(self.show_player)
            self.stack.addWidget(self.pacer_view)
        else:
            self.pacer_view.reload()
        self.stack.setCurrentWidget(self.pacer_view)
        if self.isVisible():
            self.pacer_view.start_button.setFocus(Qt.FocusReason.OtherFocusReason)
        return self.pacer_view

    def show_progress(self) -> ProgressView:
        """The Progress page, read afresh each time it is opened."""
        self._build_progress_view()
        assert self.progress_view is not None
        self.progress_view.refresh()
        self.stack.setCurrentWidget(self.progress_view)
        if self.isVisible():
            self.progress_view.back_button.setFocus(Qt.FocusReason.OtherFocusReason)
        return self.progress_view

    def _practice_started(self, _practice_id: str) -> None:
        self._pending = None  # the tray or a second launch started something meanwhile
        self._after = None
        self.show_player()

    # ------------------------------------------------------------------ check-ins

    def _ask_before(self, practice_id: str, person: str | None) -> bool:
        """Show the before question for a practice chosen here; False when it is not asked."""
        practice = self.bridge.library.get(practice_id)
        if practice is None or not self.settings.flag("checkin.before"):
            return False
        self._pending = (practice_id, person)
        self._after = None
        self.checkin_panel.ask(BEFORE, f"Before {practice.title}")
        self.stack.setCurrentWidget(self.checkin_panel)
        if self.isVisible():
            self.checkin_panel.focus_scale()
        return True

    def _checkin_answered(self, value: int, state: object) -> None:
        if self._pending is not None:
            practice_id, person = self._pending
            self._pending = None
            word = state if isinstance(state, str) else None
            self._start(practice_id, person, CheckIn(value, word))
            return
        if self._after is not None:
            session, before = self._after
            try:
                self.bridge.record_after(session, value)
            except ValueError as exc:  # out of range: the panel cannot give one, but be safe
                log.warning("after check-in not kept: %s", exc)
            self.checkin_panel.show_result(result_text(before, value))

    def _checkin_skipped(self) -> None:
        if self._pending is not None:
            practice_id, person = self._pending
            self._pending = None
            self._start(practice_id, person, None)
            return
        self._after_closed()

    def _after_closed(self) -> None:
        self._after = None
        self.show_library()

    def _practice_ended(self, _practice_id: str, _heard: float, reason: str) -> None:
        """Ask the after question where the practice was seen ending, if it is asked at all."""
        if reason == EndReason.FAILED.value or not self.settings.flag("checkin.after"):
            return
        if self.bridge.sleep_ending():
            return  # the sleep timer is fading it out: nobody should be asked anything
        if self.stack.currentWidget() is not self.player_view:
            return
        if not self.isVisible() or self.isMinimized():
            return  # the compact window asks instead, or nobody is looking
        session = self.bridge.session_number
        if session < 0:
            return
        practice = self.bridge.practice
        title = practice.title if practice is not None else "The practice"
        done = reason == EndReason.COMPLETED.value
        self._after = (session, self.bridge.before)
        self.player_view.show_suggestion(None)
        self.checkin_panel.ask(AFTER, f"{title} has ended." if done else f"{title} stopped.")
        self.stack.setCurrentWidget(self.checkin_panel)
        self.checkin_panel.focus_scale()

    def _start(self, practice_id: str, person: str | None, checkin: CheckIn | None) -> None:
        self._last_checkin = checkin
        if not self.bridge.play(practice_id, person, checkin):
            self.show_library()
            return
        found = None
        if checkin is not None:
            available = [p.id for p in self.bridge.library.all]
            found = suggest(checkin.before, checkin.state, available)
        other = self.bridge.library.get(found.practice_id) if found is not None else None
        if found is not None and other is not None and other.id != practice_id:
            self.player_view.show_suggestion(f"{other.title} may suit this moment. {found.why}",
                                             other.id, other.title)
        else:
            self.player_view.show_suggestion(None)

    def _suggestion_chosen(self, practice_id: str) -> None:
        """Switch to the suggested practice, keeping the answer already given."""
        self._start(practice_id, None, self._last_checkin)
        self.player_view.show_suggestion(None)

    def _preload_charts(self) -> None:
        if self._charts_preloaded:
            return
        self._charts_preloaded = True

        def load() -> None:
            try:
                import pyqtgraph  # noqa: F401
            except Exception:  # the page will say so when opened; nothing to do here
                log.exception("Could not load the charts")
                return
            self._chartsLoaded.emit()  # queued: the page is built on the GUI thread

        threading.Thread(target=load, name="coreg-preload-charts", daemon=True).start()

    # ------------------------------------------------------------------ safe people on cards

    def refresh_people_soon(self) -> None:
        """The people may have changed (here, in Settings, or in a terminal): read them again
        once the event loop is free, if the window shows; otherwise when it next does."""
        self._people_stale = True
        if self.isVisible():
            self._people_timer.start()

    def refresh_people(self) -> None:
        """Give the library's cards the safe people to choose from, the default marked."""
        self._people_stale = False
        names, default = self.bridge.core.people_to_choose()
        self.library_view.set_people(names, default)

    def _refresh_people_if_stale(self) -> None:
        if self._people_stale and self.isVisible():
            self.refresh_people()

    def _settings_changed(self, keys: list[str]) -> None:
        if "safe_person.name" in keys:
            self.refresh_people_soon()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh_people_soon()
        if not self._charts_preloaded:
            QTimer.singleShot(PRELOAD_CHARTS_MS, self, self._preload_charts)

    # ------------------------------------------------------------------ playback

    def play(self, practice_id: str, person: str | None = None) -> None:
        """Play a practice chosen here; `person` is its safe person for this session (a name on
        its card). The before check-in comes first, unless it is turned off."""
        log.info("playing %s from the window", practice_id)
        if not self._ask_before(practice_id, person):
            self._start(practice_id, person, None)

    def play_pause(self) -> None:
        """Space: pause or resume; with nothing loaded, start the practice the person chose.
        While Breathe with Me plays, Space is a tap instead (the pause button still pauses)."""
        if self.stack.currentWidget() is self.checkin_panel:
            return  # a question is open: Space neither answers nor starts anything
        if self.bridge.takes_taps and self.stack.currentWidget() is self.player_view:
            self.player_view.tap()
            return
        if self.bridge.active:
            self.bridge.toggle()
            return
        practice = self.bridge.practice
        if self.stack.currentWidget() is self.player_view and practice is not None:
            self.play(practice.id)
            return
        chosen = self.library_view.selected_id()
        if chosen is None:
            visible = self.library_view.visible_ids()
            chosen = FALLBACK_PRACTICE if FALLBACK_PRACTICE in visible else None
            chosen = chosen or (visible[0] if visible else None)
        if chosen is not None:
            self.play(chosen)

    def stop_or_back(self) -> None:
        """Esc: stop what plays; with nothing playing, go back to the library. In a check-in,
        Esc skips it (the panel normally takes the key itself)."""
        if self.stack.currentWidget() is self.checkin_panel:
            self.checkin_panel.skip()
        elif self.stack.currentWidget() in (self.progress_view, self.pacer_view):
            self.show_library()
        elif self.bridge.active:
            self.bridge.stop()
        elif self.stack.currentWidget() is self.player_view:
            self.show_library()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Space arrives here only when the focused control had no use for it.

        A QShortcut would steal Space from focused buttons, check boxes and combo boxes, which
        keyboard users press with Space; letting it bubble up keeps those working.
        """
        plain = not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if event.key() == Qt.Key.Key_Space and plain:
            self.play_pause()
            event.accept()
            return
        super().keyPressEvent(event)

    # ------------------------------------------------------------------ closing

    def hide_to_tray(self) -> None:
        """Ctrl+W and the close button: into the tray, or minimised when there is none."""
        if self.close_hides_to_tray:
            self.hide()
            log.info("main window hidden to the tray")
            self.hiddenToTray.emit()
            return
        self.showMinimized()
        log.info("main window minimised (no system tray)")
        self.minimizedWithoutTray.emit()

    def prepare_to_quit(self) -> None:
        """Let the next close really close (Qt closes every window when the app quits)."""
        self._quitting = True

    def request_quit(self) -> None:
        self.prepare_to_quit()
        self.quitRequested.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._quitting:
            event.accept()
            return
        event.ignore()
        self.hide_to_tray()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            self._quitting = False  # a quit that was cancelled must not disarm close-to-tray
            self.refresh_people_soon()  # a terminal may have added or removed someone

    # ------------------------------------------------------------------ notices and dialogs

    def offer_voice_choice(
        self, voices: list[VoiceInfo], on_done: Callable[[], None] | None = None
    ) -> VoiceChoiceCard:
        """Show the first-run "Choose a voice" card in the library; `on_done` is called once it
        has been answered (a voice chosen, or dismissed), so it is not offered again."""
        card = VoiceChoiceCard(voices)
        card.previewRequested.connect(self.bridge.preview)

        def done() -> None:
            self.library_view.show_top_card(None)
            if on_done is not None:
                on_done()

        def chosen(voice_id: str) -> None:
            name = next((v.name for v in voices if v.id == voice_id), voice_id)
            try:
                self.settings.set("voice", voice_id)
                self.settings.save()
            except (OSError, ValueError) as exc:
                log.warning("Could not save the chosen voice: %s", exc)
                self.show_notice("Coreg could not save the voice you chose; try Settings.")
                return
            self.show_notice(f"{name} will guide your practices. Settings can change it.")
            done()

        card.chosen.connect(chosen)
        card.dismissed.connect(done)
        self.library_view.show_top_card(card)
        self.voice_card = card
        return card

    def show_notice(self, text: str) -> None:
        self.banner_label.setText(text)
        self.banner_label.setAccessibleName(text)
        self.banner_holder.show()

    def hide_notice(self) -> None:
        self.banner_holder.hide()

    def open_settings(self) -> SettingsDialog:
        """Open the settings (window-modal, non-blocking); applied and announced on Save."""
        if self.settings_dialog is not None and self.settings_dialog.isVisible():
            self.settings_dialog.raise_()
            self.settings_dialog.activateWindow()
            return self.settings_dialog
        dialog = SettingsDialog(self.settings, self.voices, self, bridge=self.bridge)
        dialog.finished.connect(dialog.deleteLater)
        dialog.finished.connect(self.refresh_people_soon)  # people added or removed there
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    def show_crisis_note(self) -> CrisisDialog:
        self.crisis_dialog = show_crisis_note(self)
        return self.crisis_dialog

    def _info(self, title: str, text: str) -> QMessageBox:
        box = QMessageBox(
            QMessageBox.Icon.NoIcon, title, text, QMessageBox.StandardButton.Close, self
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def show_shortcuts(self) -> QMessageBox:
        return self._info("Keyboard shortcuts", SHORTCUTS_TEXT)

    def show_about(self) -> QMessageBox:
        return self._info("About Coreg", ABOUT_TEXT)
