"""The desktop app's composition root: one place that builds every service and wires them up.

Everything is built here and handed to whoever needs it (constructor injection); nothing reaches
for a global. The order matters in two ways:

* A second launch must hand its request to the running app in a blink, so `run` decides that
  before importing Qt, numpy or a voice: this module imports only the standard library and the
  Qt-free `single_instance` at the top, and the heavy parts inside `compose`.
* The quick reset must start the moment the tray icon is clicked, so right after start-up the app
  opens the sound stream (it plays silence) and prepares the quick reset's narration and ambience
  on worker threads, while the event loop is already running and any window is already shown.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from coreg_desktop.constants import (
    QUICK_RESET_ID,
    SYNTH_LAUNCHER_THREAD,
    SYNTH_LOG_THREAD_PREFIX,
)
from coreg_desktop.desktop import single_instance
from coreg_desktop.desktop.single_instance import Outcome, Request

if TYPE_CHECKING:
    from PySide6.QtCore import QFileSystemWatcher, QSocketNotifier, QTimer
    from PySide6.QtDBus import QDBusConnection
    from PySide6.QtWidgets import QApplication

    from coreg_desktop.audio.output import Output
    from coreg_desktop.core import Core
    from coreg_desktop.desktop.mpris import Mpris
    from coreg_desktop.desktop.reminders import Reminders
    from coreg_desktop.desktop.single_instance import InstanceServer
    from coreg_desktop.desktop.tray import Tray
    from coreg_desktop.settings import Settings
    from coreg_desktop.ui.bridge import PlayerBridge
    from coreg_desktop.ui.compact import CompactWindow
    from coreg_desktop.ui.main_window import MainWindow

log = logging.getLogger(__name__)

#: Logged when the quick reset can start without synthesis (the e2e tests wait for it).
READY_MESSAGE = "Quick reset is ready"
#: How long quitting waits for background work (a voice loading, a sentence being synthesized).
WORKERS_JOIN_S = 10.0
#: Coreg's worker threads are named like this; the audio ones end with the stream.
WORKER_PREFIX = "coreg-"
LONG_LIVED_THREADS = {"coreg-audio-watchdog", "coreg-null-output", "coreg-events",
                      SYNTH_LAUNCHER_THREAD}
#: The first-run voice choice is offered until it is answered, once; this many voices in it.
FLAG_VOICE_CARD = "voice-choice-card"
FEATURED_VOICES = 3
#: A settings file saved by another process is read this long after the last change to it (an
#: atomic save is a create and a rename; a burst of `config set` is read once).
SETTINGS_SETTLE_MS = 150
EXIT_OK = 0
EXIT_FAILED = 1


# ----------------------------------------------------------------------------- arguments


def request_from_args(args: argparse.Namespace) -> Request:
    """What this launch asks for, whether it becomes the app or hands it to the running one.

    `args` comes from the one command-line parser (`cli.build_parser`), which has already
    checked a practice id against the library.
    """
    if args.quit:
        return Request("quit")
    if args.practice:
        return Request("practice", args.practice)
    if args.quick_reset:
        return Request("quick-reset")
    if args.minimized:
        return Request("ping")  # e.g. autostart while Coreg already runs: do not pop a window
    return Request("show")


# ----------------------------------------------------------------------------- the app


class Notices:
    """Carries the audio layer's notices (any thread) to the bridge's GUI-thread signal.

    The player is built before the bridge that will carry its notices, so it gets this relay and
    the relay gets its target once the bridge exists. Emitting a signal from a worker thread to an
    object living in the GUI thread is delivered as a queued call by Qt.
    """

    def __init__(self) -> None:
        self.target: Callable[[str], None] | None = None
        self.early: list[str] = []

    def __call__(self, message: str) -> None:
        if self.target is None:
            self.early.append(message)
            return
        self.target(message)

    def connect(self, target: Callable[[str], None]) -> None:
        self.target = target
        for message in self.early:
            target(message)
        self.early.clear()


class Coreg:
    """The running app, holding what `compose` built.

    It owns what no single view should: the answers to other launches, the reaction to settings
    that reach beyond a view (start at login, a new voice to prepare the quick reset in), changes
    saved by another process (`config set` in a terminal), the warm-up at start-up, and an
    orderly quit (stop listening first, fade out, let background synthesis finish a sentence).
    """

    def __init__(
        self,
        qapp: QApplication,
        core: Core,
        bridge: PlayerBridge,
        main_window: MainWindow,
        compact: CompactWindow,
        tray: Tray,
        mpris: Mpris | None,
        server: InstanceServer | None,
        reminders: Reminders | None = None,
    ) -> None:
        self.qapp = qapp
        self.core = core
        self.settings = core.settings
        self.player = core.player
        self.bridge = bridge
        self.main_window = main_window
        self.compact = compact
        self.tray = tray
        self.mpris = mpris
        self.server = server
        self.reminders = reminders
        self.tray_shown = False
        self._quitting = False
        self._opener: threading.Thread | None = None
        from coreg_desktop.preparation import Preparer

        self.preparer = Preparer(
            core,
            on_progress=bridge.preparationChanged.emit,
            on_first=lambda: log.info("%s (narration and ambience prepared)", READY_MESSAGE),
        )
        core.keep_awake_while(lambda: self.preparer.busy)
        self._signal_notifier: QSocketNotifier | None = None
        self._signal_sockets: tuple[socket.socket, socket.socket] | None = None
        self._watcher: QFileSystemWatcher | None = None
        self._settle: QTimer | None = None

        tray.quitRequested.connect(self.quit)
        main_window.quitRequested.connect(self.quit)
        from coreg_desktop.ui.bridge import follow_settings

        # On the GUI thread, whichever thread changed the setting: the reaction touches Qt.
        self._unsubscribe = follow_settings(bridge, self.settings, self.settings_changed)
        bridge.noticeRaised.connect(self._notice)
        if server is not None:
            server.on_request = self.handle

    # ------------------------------------------------------------------ start

    def start(self, request: Request, minimized: bool) -> None:
        """Show what should be seen, then warm up in the background."""
        from PySide6.QtCore import QTimer

        from coreg_desktop.desktop import autostart

        self.qapp.setQuitOnLastWindowClosed(False)
        self.tray_shown = self.tray.show()
        self.main_window.close_hides_to_tray = self.tray_shown
        if not self.tray_shown:
            log.info("No system tray here: closing the window will minimise it")
            self.tray.explain_missing_tray()
            if minimized or request.action == "quick-reset":
                self.main_window.showMinimized()
            else:
                self.main_window.show()
        elif request.action == "show":
            self.main_window.show()
        if self.mpris is not None:
            self.mpris.register()
        if self.settings.flag("start_at_login"):
            try:
                autostart.apply(True)  # refresh the Exec path (the install may have moved)
            except OSError as exc:
                log.warning("Could not refresh the start-at-login entry: %s", exc)
        for problem in self.settings.problems:
            self._notice(problem)
        self.offer_voice_choice()
        self.watch_settings()
        self.warm_up()
        if request.action not in ("show", "ping"):
            # After the event loop starts, so a window shown above is painted first.
            QTimer.singleShot(0, lambda: self.handle(request))

    def offer_voice_choice(self) -> None:
        """On a first run, invite the listener to choose a voice by ear (once, ever).

        Only for someone who has not chosen a voice; the featured voices are the neural ones
        found without starting a child process, so the window appears as fast as ever.
        """
        from coreg_desktop.tts import DEFAULT_VOICE_ID, neural_voices

        if self.settings.text("voice") or self.tray.flags.seen(FLAG_VOICE_CARD):
            return
        voices = sorted(neural_voices(), key=lambda v: v.id != DEFAULT_VOICE_ID)  # default first
        featured = [v for v in voices if v.available][:FEATURED_VOICES]
        if len(featured) < 2:
            return  # nothing to choose between
        self.main_window.offer_voice_choice(
            featured, on_done=lambda: self.tray.flags.mark(FLAG_VOICE_CARD)
        )

    def warm_up(self) -> None:
        """Open the stream and prepare the narration on worker threads, the quick reset first."""
        self._opener = threading.Thread(target=self._open_stream, name="coreg-open-stream",
                                        daemon=True)
        self._opener.start()
        self.prepare_narration()

    def _open_stream(self) -> None:
        try:
            self.player.open()
        except Exception:  # the app must run even if sound cannot
            log.exception("Opening the sound stream failed")

    def prepare_narration(self) -> None:
        """Make the built-in practices' narration in the background (the quick reset first), so
        a click needs no synthesis; a new voice or name starts it again, quitting stops it."""
        if self.core.library.get(QUICK_RESET_ID) is None:
            log.warning("There is no %s practice to prepare first", QUICK_RESET_ID)
        if self._quitting:
            return
        self.preparer.start()

    def watch_settings(self) -> None:
        """Take in settings saved by another process (`coreg-desktop config set …`).

        The folder is watched, not the file: an atomic save replaces the file, and a watch on the
        old one would go quiet. Our own saves come back here too and change nothing.
        """
        from PySide6.QtCore import QFileSystemWatcher, QTimer

        folder = self.settings.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.info("Not watching %s for settings changes: %s", folder, exc)
            return
        settle = QTimer(self.bridge)
        settle.setSingleShot(True)
        settle.setInterval(SETTINGS_SETTLE_MS)
        settle.timeout.connect(self._reload_settings)
        watcher = QFileSystemWatcher([str(folder)], self.bridge)
        watcher.directoryChanged.connect(lambda _path: settle.start())
        self._watcher, self._settle = watcher, settle

    def _reload_settings(self) -> None:
        changed = self.settings.reload(report=self._notice)
        if changed:
            log.info("Settings changed elsewhere: %s", ", ".join(changed))

    # ------------------------------------------------------------------ requests

    def handle(self, request: Request) -> None:
        """A request from this launch's arguments or from a later launch."""
        if self._quitting:
            return
        if request.action == "quit":
            self.quit()
        elif request.action == "quick-reset":
            self.tray.quick_reset()
        elif request.action == "practice" and request.id:
            if not self.tray.play(request.id):
                self.main_window.bring_to_front()  # where the notice about the id shows
        elif request.action == "show":
            self.tray.open_main()

    def settings_changed(self, keys: list[str]) -> None:
        """What a change means beyond the views (they follow the settings themselves) and the
        engine (the core does): start at login, and the quick reset's narration."""
        from coreg_desktop.desktop import autostart

        if "start_at_login" in keys:
            try:
                autostart.apply(self.settings.flag("start_at_login"))
            except OSError as exc:
                self._notice(f"Coreg could not change the start-at-login entry ({exc}).")
        texts = ("voice", "rate", "name", "name_spoken", "speak_to", "safe_person.name",
                 "ambience")
        if any(k in keys for k in texts):
            self.prepare_narration()  # the core has a new narrator by now, if one was needed

    def _notice(self, text: str) -> None:
        """The main window shows notices in its banner; hidden in the tray, the tray says it."""
        log.info("Notice: %s", text)
        if not (self.main_window.isVisible() and not self.main_window.isMinimized()):
            self.tray.notify(text)

    # ------------------------------------------------------------------ stop

    def quit(self) -> None:
        if self._quitting:
            return
        self._quitting = True
        log.info("Quitting")
        if self.server is not None:
            self.server.close()  # new launches now start a fresh app instead of asking this one
        self.main_window.prepare_to_quit()
        self.qapp.quit()

    def shutdown(self) -> None:
        """After the event loop: fade out, close the stream, leave the bus and the tray."""
        if self.server is not None:
            self.server.close()
        if self.mpris is not None:
            self.mpris.close()
        if self.reminders is not None:
            self.reminders.close()
        self.tray.hide()
        self.compact.hide()
        self.main_window.hide()
        self.preparer.cancel()
        self._unsubscribe()
        session = self.player.session
        if session is not None and not session.ended:
            session.stop(fade_s=0.3)  # also stops its narration worker at the next clip
            session.wait_stopped(timeout=1.0)
        self.core.close()
        self._wait_for_workers()

    @staticmethod
    def _wait_for_workers(timeout: float = WORKERS_JOIN_S) -> None:
        """Let background work reach its next stopping point before the interpreter exits.

        The preparation and a session's narration worker stop at their next clip once cancelled
        or stopped. Native calls that must not be cut off are also guarded where they are made
        (`exit_guard`), but that guard does not cover everything a worker may be in (numpy
        generating an ambience, say): an app that quit seconds after starting still segfaulted
        now and then without this wait.
        """
        deadline = time.monotonic() + timeout
        for thread in threading.enumerate():
            if thread is threading.current_thread() or not thread.name.startswith(WORKER_PREFIX):
                continue
            if (thread.name in LONG_LIVED_THREADS
                    or thread.name.startswith(SYNTH_LOG_THREAD_PREFIX)):
                continue
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("Background work %r was still running at exit", thread.name)

    def quit_on_signals(self) -> None:
        """SIGTERM and Ctrl+C quit cleanly (exit 0) even while Qt's loop holds the thread.

        Python only runs signal handlers between bytecodes, which never happens while Qt waits
        in C++. The wakeup fd wakes a socket notifier in the loop, which then quits properly.
        """
        from PySide6.QtCore import QSocketNotifier

        reader, writer = socket.socketpair()
        reader.setblocking(False)
        writer.setblocking(False)
        signal.set_wakeup_fd(writer.fileno())
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: None)

        def woke() -> None:
            with contextlib.suppress(OSError):
                reader.recv(64)
            self.quit()

        notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, self.qapp)
        notifier.activated.connect(woke)
        self._signal_notifier = notifier
        self._signal_sockets = (reader, writer)


# ----------------------------------------------------------------------------- building


def make_qapplication() -> QApplication:
    from PySide6.QtWidgets import QApplication

    from coreg_desktop.desktop.tray import app_icon

    existing = QApplication.instance()
    qapp = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0]])
    qapp.setApplicationName("coreg-desktop")
    qapp.setApplicationDisplayName("Coreg")
    qapp.setDesktopFileName("coreg-desktop")
    qapp.setWindowIcon(app_icon())
    return qapp


def compose(
    qapp: QApplication,
    server: InstanceServer | None,
    settings: Settings | None = None,
    output: Output | None = None,
    bus: QDBusConnection | None = None,
) -> Coreg:
    """Build every service and view, each given what it needs.

    The engine comes from the core, as in the terminal; this adds the desktop around it.
    `output` and `bus` default to the real sound device and session bus; tests pass a silent
    output and a private bus.
    """
    from coreg_desktop.core import Core
    from coreg_desktop.desktop.mpris import Mpris
    from coreg_desktop.desktop.reminders import Reminders
    from coreg_desktop.desktop.tray import Tray
    from coreg_desktop.settings import Settings
    from coreg_desktop.ui.bridge import PlayerBridge
    from coreg_desktop.ui.compact import CompactWindow
    from coreg_desktop.ui.main_window import MainWindow
    from coreg_desktop.ui.theme import apply_theme

    settings = settings or Settings.load()
    notices = Notices()
    core = Core(settings, output=output, on_notice=notices)
    bridge = PlayerBridge(core)
    notices.connect(bridge.noticeRaised.emit)
    apply_theme(qapp)
    main_window = MainWindow(bridge, settings)
    compact = CompactWindow(bridge, settings)
    tray = Tray(bridge, settings, main_window, compact)
    mpris = Mpris(bridge, bus, on_raise=tray.open_main, on_play_idle=tray.quick_reset)
    reminders = Reminders(settings, bridge, tray.quick_reset, tray.show_reminder, bus)
    app = Coreg(qapp, core, bridge, main_window, compact, tray, mpris, server, reminders)
    mpris.on_quit = app.quit
    return app


# ----------------------------------------------------------------------------- entry


def run(args: argparse.Namespace) -> int:
    """`coreg-desktop [--minimized] [--quick-reset] [--practice ID] [--quit]`, parsed by the CLI."""
    request = request_from_args(args)
    path = single_instance.socket_path()
    try:
        with single_instance.election(path):
            outcome = single_instance.forward(path, request)
            if outcome is Outcome.DELIVERED:
                log.info("Handed %s to the running Coreg", request.action)
                return EXIT_OK
            if outcome is Outcome.NO_ANSWER:
                log.error("Coreg is running but not answering; if it stays stuck, end it and "
                          "start it again.")
                return EXIT_FAILED
            if request.action == "quit":
                log.warning("Coreg is not running, so there is nothing to quit.")
                return EXIT_OK
            qapp = make_qapplication()
            from coreg_desktop.desktop.single_instance import InstanceServer

            listener = InstanceServer(path)
            # Without it Coreg still runs; later launches would just start their own app.
            server = listener if listener.listen() else None
    except TimeoutError as exc:
        log.error("%s", exc)
        return EXIT_FAILED
    app = compose(qapp, server)
    app.quit_on_signals()
    app.start(request, minimized=args.minimized)
    code = qapp.exec()
    app.shutdown()
    return EXIT_OK if code == 0 else EXIT_FAILED
