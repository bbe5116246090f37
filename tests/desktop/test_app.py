"""The composition root in process: built from real parts, started, asked things, shut down.

The sound output is a NullOutput and the D-Bus connection leads nowhere, so nothing plays on a
real device or appears on a real desktop bus; everything else is what `coreg-desktop` runs.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtDBus import QDBusConnection
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from coreg_desktop.audio.mixer import Transport
from coreg_desktop.audio.output import NullOutput
from coreg_desktop.cli import build_parser
from coreg_desktop.desktop import app as app_module
from coreg_desktop.desktop.app import (
    READY_MESSAGE,
    Coreg,
    Notices,
    compose,
    request_from_args,
)
from coreg_desktop.desktop.single_instance import InstanceServer, Request
from coreg_desktop.practice.timeline import plan, speech_texts
from coreg_desktop.settings import Settings
from coreg_desktop.ui.bridge import PlayerBridge
from coreg_desktop.ui.main_window import NO_TRAY_NOTICE
from coreg_desktop.ui.theme import _ThemeKeeper


class FakeQuit:
    """Stands in for QApplication.quit: the test's QApplication must outlive the test."""

    def __init__(self, real: QApplication) -> None:
        self.real = real
        self.calls = 0

    def quit(self) -> None:
        self.calls += 1

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


@pytest.fixture
def coreg(qtbot: QtBot, qapp: QApplication, shared_cache: Path,
          monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
          caplog: pytest.LogCaptureFixture) -> Iterator[Coreg]:
    # One narration cache for the run: the quick reset is synthesized once, not per test.
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared_cache / "app-xdg-cache"))
    palette, font, sheet = qapp.palette(), qapp.font(), qapp.styleSheet()
    style = qapp.style().name()
    bus_name = f"coreg-test-nobus-{id(tmp_path)}"
    bus = QDBusConnection.connectToBus("unix:path=/nonexistent/coreg-test-bus", bus_name)
    folder = Path(tempfile.mkdtemp(prefix="coreg-app-"))
    server = InstanceServer(folder / "s.sock")
    assert server.listen()
    # The settings live where a terminal's `config set` writes them (the test's XDG folders).
    built = compose(qapp, server, Settings.load(), NullOutput(), bus)
    qtbot.addWidget(built.main_window)
    qtbot.addWidget(built.compact)
    built.qapp = FakeQuit(qapp)  # type: ignore[assignment]
    yield built
    built.shutdown()
    # Quitting waits for work that ends; a thread that lives as long as the app would hold
    # every quit for the whole grace period.
    stuck = [r.getMessage() for r in caplog.records if "still running at exit" in r.getMessage()]
    assert not stuck, stuck
    QDBusConnection.disconnectFromBus(bus_name)
    for keeper in qapp.findChildren(_ThemeKeeper):
        keeper.setParent(None)
        keeper.deleteLater()
    qapp.setStyle(style)
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setFont(font)
    qapp.setQuitOnLastWindowClosed(True)
    for p in folder.iterdir():
        p.unlink()
    folder.rmdir()


def test_arguments_become_one_request() -> None:
    def req(*argv: str) -> Request:
        return request_from_args(build_parser().parse_args(list(argv)))

    assert req() == Request("show")
    assert req("--debug") == Request("show")
    assert req("--minimized") == Request("ping")
    assert req("--quick-reset") == Request("quick-reset")
    assert req("--quick-reset", "--minimized") == Request("quick-reset")
    assert req("--practice", "stay-safe") == Request("practice", "stay-safe")
    assert req("--quit", "--quick-reset") == Request("quit")


def test_start_shows_the_window_prepares_the_quick_reset_and_opens_the_stream(
    qtbot: QtBot, coreg: Coreg, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="coreg_desktop.desktop.app"):
        coreg.start(Request("show"), minimized=False)
        qtbot.waitUntil(lambda: READY_MESSAGE in caplog.text, timeout=120_000)
    assert coreg.main_window.isVisible()
    # The stream is running (silence) before anything was asked to play.
    qtbot.waitUntil(lambda: coreg.player.output.frames_rendered() > 0, timeout=5000)
    # Every line of the quick reset is in the cache: a click needs no synthesis.
    practice = coreg.bridge.library.get("quick-reset")
    assert practice is not None
    options = coreg.core.options()
    texts = speech_texts(plan(practice, options.values, options.rate))
    assert texts and all(coreg.player.narrator.cached(t) for t in texts)
    if not coreg.tray_shown:
        # No tray (offscreen): closing minimises, and the banner explains it, once ever.
        assert coreg.main_window.close_hides_to_tray is False
        assert coreg.main_window.banner_label.text() == NO_TRAY_NOTICE


def test_minimized_starts_hidden_when_there_is_a_tray(qtbot: QtBot, coreg: Coreg) -> None:
    coreg.start(Request("ping"), minimized=True)
    if coreg.tray_shown:
        assert not coreg.main_window.isVisible()
        assert coreg.main_window.close_hides_to_tray is True
    else:
        assert coreg.main_window.isMinimized()
    assert not coreg.compact.isVisible()


def test_requests_from_other_launches(qtbot: QtBot, coreg: Coreg) -> None:
    coreg.start(Request("ping"), minimized=True)
    bridge = coreg.bridge
    with qtbot.waitSignal(bridge.practiceStarted, timeout=10_000) as started:
        coreg.handle(Request("quick-reset"))
    assert started.args == ["quick-reset"]
    qtbot.waitUntil(lambda: bridge.transport is Transport.PLAYING, timeout=10_000)

    # A practice asked for by a launch opens in the window, which asks before it (only the
    # quick reset never waits); skipping the question plays it.
    coreg.handle(Request("practice", "stay-safe"))
    assert coreg.main_window.stack.currentWidget() is coreg.main_window.checkin_panel
    with qtbot.waitSignal(bridge.practiceStarted, timeout=10_000) as started:
        coreg.main_window.checkin_panel.skip()
    assert started.args == ["stay-safe"]
    assert coreg.main_window.isVisible()
    assert coreg.main_window.stack.currentWidget() is coreg.main_window.player_view

    coreg.main_window.hide()
    coreg.handle(Request("practice", "no-such-thing"))
    assert coreg.main_window.isVisible()
    assert "no-such-thing" in coreg.main_window.banner_label.text()

    coreg.main_window.hide()
    coreg.handle(Request("show"))
    assert coreg.main_window.isVisible()


def test_quit_closes_the_door_for_new_launches_first(coreg: Coreg) -> None:
    coreg.start(Request("ping"), minimized=True)
    assert coreg.server is not None and coreg.server.listening
    coreg.handle(Request("quit"))
    assert not coreg.server.listening
    assert coreg.qapp.calls == 1
    coreg.handle(Request("quick-reset"))  # too late: ignored while quitting
    assert coreg.bridge.practice is None


def test_start_at_login_follows_the_setting(coreg: Coreg, tmp_path: Path) -> None:
    autostart = tmp_path / "xdg_config_home" / "autostart" / "coreg-desktop.desktop"
    coreg.settings.set("start_at_login", True)
    assert "--minimized" in autostart.read_text()
    coreg.settings.set("start_at_login", False)
    assert not autostart.exists()


def test_a_new_voice_rate_renews_the_narrator(qtbot: QtBot, coreg: Coreg) -> None:
    old = coreg.player.narrator
    coreg.settings.set("rate", 0.8)
    assert coreg.player.narrator is not old
    assert coreg.player.narrator.rate == 0.8
    assert coreg.player.narrator.cache is old.cache


def test_a_change_made_in_a_terminal_reaches_the_running_app_within_2_s(
    qtbot: QtBot, coreg: Coreg
) -> None:
    import subprocess
    import sys

    coreg.start(Request("ping"), minimized=True)
    view = coreg.main_window.player_view
    assert view.caption.isVisibleTo(view)
    coreg.settings.set("name", "Sam")  # changed here, and saved: a terminal must not undo it
    coreg.settings.save()
    for key, value in (("captions", "false"), ("volume.voice", "0.3")):
        command = [sys.executable, "-m", "coreg_desktop", "config", "set", key, value]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
    qtbot.waitUntil(lambda: coreg.settings.flag("captions") is False
                    and coreg.settings.number("volume.voice") == 0.3, timeout=2000)
    qtbot.waitUntil(lambda: not view.caption.isVisibleTo(view), timeout=500)
    coreg.player.output.wake()  # an idle stream stands by; gains apply at its next block
    qtbot.waitUntil(lambda: coreg.player.mixer._voice_target == pytest.approx(0.3), timeout=2000)
    assert coreg.settings.text("name") == "Sam"


def test_audio_notices_reach_the_gui_thread_from_any_thread(qtbot: QtBot,
                                                            bridge: PlayerBridge) -> None:
    relay = Notices()
    relay("No sound device found; playing silently with captions.")  # before the bridge exists
    received: list[tuple[str, bool]] = []
    gui = threading.current_thread()
    bridge.noticeRaised.connect(
        lambda text: received.append((text, threading.current_thread() is gui)))
    relay.connect(bridge.noticeRaised.emit)
    assert received == [("No sound device found; playing silently with captions.", True)]
    worker = threading.Thread(target=relay, args=("The sound device went away.",))
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(received) == 2, timeout=5000)
    assert received[1] == ("The sound device went away.", True)  # queued to the GUI thread


def test_module_import_stays_light() -> None:
    """A second launch imports this module before handing over; it must not pull in Qt."""
    import subprocess
    import sys

    code = ("import sys, coreg_desktop.desktop.app; "
            "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'numpy'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
    assert app_module.READY_MESSAGE


def test_a_first_run_offers_the_voice_choice_until_it_is_answered(
    qtbot: QtBot, coreg: Coreg
) -> None:
    from coreg_desktop.tts import DEFAULT_VOICE_ID

    coreg.start(Request("show"), minimized=False)
    card = coreg.main_window.voice_card
    assert card is not None and coreg.main_window.library_view.top_card is card
    ids = list(card.choose_buttons)
    assert ids[0] == DEFAULT_VOICE_ID and len(ids) >= 2
    assert any(i.startswith("kokoro:") for i in ids)
    qtbot.mouseClick(card.dismiss_button, Qt.MouseButton.LeftButton)
    assert coreg.main_window.library_view.top_card is None
    assert coreg.tray.flags.seen(app_module.FLAG_VOICE_CARD)
    coreg.main_window.voice_card = None
    coreg.offer_voice_choice()  # a later start: answered once is enough
    assert coreg.main_window.voice_card is None
