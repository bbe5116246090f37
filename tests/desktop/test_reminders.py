"""Gentle reminders: one single-shot timer, never while a practice plays, a real notification
over a private session bus (with its two actions), and the tray's message without a server."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import shiboken6
from PySide6.QtCore import QObject, Slot
from PySide6.QtDBus import QDBusAbstractAdaptor, QDBusConnection
from pytestqt.qtbot import QtBot

from coreg_desktop.desktop import reminders as reminders_module
from coreg_desktop.desktop.mpris import _dbus_interface
from coreg_desktop.desktop.reminders import PATH, SERVICE, SNOOZE, Reminders
from coreg_desktop.settings import Settings
from coreg_desktop.ui.bridge import PlayerBridge

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 18, 18, 59, 58, tzinfo=BERLIN)  # a Wednesday, just before 19:00


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def connect(address: str, name: str) -> QDBusConnection:
    conn = QDBusConnection.connectToBus(address, name)
    assert conn.isConnected()
    return conn


class FakeServer(QObject):
    """A notification server on the private bus: records Notify calls, answers with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str, list[str]]] = []
        self.adaptor = _NotificationsAdaptor(self)


@_dbus_interface("org.freedesktop.Notifications")
class _NotificationsAdaptor(QDBusAbstractAdaptor):
    def __init__(self, server: FakeServer) -> None:
        super().__init__(server)
        self.server = server

    @Slot(str, int, str, str, str, "QStringList", "QVariantMap", int, result=int)
    def Notify(self, app: str, replaces: int, icon: str, summary: str, body: str,
               actions: list[str], hints: dict[str, object], timeout: int) -> int:
        self.server.calls.append((summary, body, list(actions)))
        return 41


@pytest.fixture
def quiet(settings: Settings) -> Settings:
    settings.update({"reminders.enabled": True, "reminders.times": ["19:00"]})
    return settings


def make(
    settings: Settings, bridge: PlayerBridge, clock: Clock, conn: QDBusConnection | None = None,
    tray_ok: bool = True,
) -> tuple[Reminders, list[str], list[tuple[str, str]]]:
    started: list[str] = []
    tray: list[tuple[str, str]] = []

    def tray_message(title: str, text: str) -> bool:
        tray.append((title, text))
        return tray_ok

    found = Reminders(settings, bridge, lambda: started.append("quick-reset"), tray_message,
                      conn if conn is not None else QDBusConnection("none"), clock, BERLIN)
    return found, started, tray


def test_off_by_default_no_timer_at_all(settings: Settings, bridge: PlayerBridge) -> None:
    found, _, _ = make(settings, bridge, Clock(NOW))
    assert not found.enabled and not found.timer_active and found.due is None


def test_one_single_shot_timer_to_the_next_due_time(
    quiet: Settings, bridge: PlayerBridge
) -> None:
    clock = Clock(datetime(2026, 3, 18, 10, 0, tzinfo=BERLIN))
    found, _, _ = make(quiet, bridge, clock)
    assert found.timer_active and found._timer.isSingleShot()
    assert found.due == datetime(2026, 3, 18, 19, 0, tzinfo=BERLIN)
    assert abs(found._timer.remainingTime() - 9 * 3600 * 1000) < 2000
    quiet.set("reminders.days", ["sat"])  # a settings change sets it again
    assert found.due == datetime(2026, 3, 21, 19, 0, tzinfo=BERLIN)
    quiet.set("reminders.enabled", False)
    assert not found.timer_active
    assert reminders_module.QTimer is not None  # one QTimer, not a polling loop:
    assert len(found.findChildren(reminders_module.QTimer)) == 1


def test_it_fires_shows_by_the_tray_without_a_server_and_sets_itself_again(
    qtbot: QtBot, quiet: Settings, bridge: PlayerBridge
) -> None:
    clock = Clock(NOW)
    found, started, tray = make(quiet, bridge, clock)
    clock.now = NOW + timedelta(seconds=2)
    qtbot.waitUntil(lambda: bool(tray), timeout=5000)
    assert tray == [(reminders_module.TITLE, reminders_module.BODY)]
    assert found.shown == ["tray"] and started == []
    assert found.due == datetime(2026, 3, 19, 19, 0, tzinfo=BERLIN)
    for text in tray[0]:
        assert "missed" not in text and "day" not in text  # never a count, never a nag


def test_never_while_a_practice_plays_it_waits_for_the_end(
    qtbot: QtBot, quiet: Settings, bridge: PlayerBridge
) -> None:
    clock = Clock(NOW)
    with qtbot.waitSignal(bridge.practiceStarted):
        bridge.play("quick-reset")
    found, _, tray = make(quiet, bridge, clock)
    clock.now = NOW + timedelta(seconds=2)
    qtbot.waitUntil(lambda: found.waiting, timeout=5000)
    assert tray == []
    with qtbot.waitSignal(bridge.ended, timeout=10_000):
        bridge.stop(0.05)
    qtbot.waitUntil(lambda: bool(tray), timeout=5000)
    assert not found.waiting


def test_a_real_notification_with_start_and_snooze_actions(
    qtbot: QtBot, quiet: Settings, bridge: PlayerBridge, bus_address: str
) -> None:
    server_conn = connect(bus_address, "notifications-server")
    server = FakeServer()
    assert server_conn.registerObject(PATH, server, QDBusConnection.RegisterOption.ExportAdaptors)
    assert server_conn.registerService(SERVICE)
    morning = datetime(2026, 3, 18, 10, 0, tzinfo=BERLIN)  # the 19:00 one is hours away
    clock = Clock(morning)
    found, started, tray = make(quiet, bridge, clock, connect(bus_address, "coreg-reminders"))
    found.show()
    qtbot.waitUntil(lambda: found.notification_id == 41, timeout=5000)
    summary, body, actions = server.calls[0]
    assert (summary, body) == (reminders_module.TITLE, reminders_module.BODY)
    assert actions == ["quick-reset", "Start quick reset", "snooze", "Snooze 10 min"]
    assert tray == [] and found.shown == ["dbus"]

    def invoke(key: str, notification: int = 41) -> None:
        subprocess.run(["dbus-send", "--session", "--type=signal", PATH,
                        "org.freedesktop.Notifications.ActionInvoked",
                        f"uint32:{notification}", f"string:{key}"],
                       env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": bus_address},
                       check=True, timeout=10)

    assert found._listening, "not listening"
    invoke("quick-reset", notification=40)  # someone else's notification: not ours
    qtbot.wait(300)
    assert started == []
    invoke("quick-reset")
    qtbot.waitUntil(lambda: started == ["quick-reset"], timeout=5000)
    invoke("snooze")
    qtbot.waitUntil(lambda: found.due == morning + SNOOZE, timeout=5000)
    assert found.timer_active
    QDBusConnection.disconnectFromBus("notifications-server")
    QDBusConnection.disconnectFromBus("coreg-reminders")
    # Destroyed here on the GUI thread: a worker thread's garbage collection would make its
    # adaptor relay `destroyed` from that thread, which QtDBus refuses with a warning.
    shiboken6.delete(server)


def test_no_server_on_the_bus_falls_back_to_the_tray(
    qtbot: QtBot, quiet: Settings, bridge: PlayerBridge, bus_address: str
) -> None:
    found, _, tray = make(quiet, bridge, Clock(NOW), connect(bus_address, "coreg-lonely"))
    found.show()
    assert tray and found.shown == ["tray"]
    QDBusConnection.disconnectFromBus("coreg-lonely")


def test_a_clock_set_back_just_sets_the_timer_again(
    qtbot: QtBot, quiet: Settings, bridge: PlayerBridge
) -> None:
    clock = Clock(NOW)
    found, _, tray = make(quiet, bridge, clock)
    clock.now = NOW - timedelta(hours=1)  # the timer fires, but by the wall clock it is early
    qtbot.wait(2500)
    assert tray == [] and found.timer_active
    assert found.due == datetime(2026, 3, 18, 19, 0, tzinfo=BERLIN)


def test_a_real_notification_server_shows_it(
    qtbot: QtBot, quiet: Settings, bridge: PlayerBridge, bus_address: str
) -> None:
    """dunst (GDBus) refuses the `i` PySide sends for replaces_id; the gdbus retry is typed."""
    if shutil.which("dunst") is None or shutil.which("gdbus") is None or not os.environ.get(
            "DISPLAY"):
        pytest.skip("needs dunst, gdbus and a display (apt-get install -y dunst)")
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": bus_address}
    dunst = subprocess.Popen(["dunst"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        conn = connect(bus_address, "coreg-dunst")
        qtbot.waitUntil(lambda: bool(conn.interface().isServiceRegistered(SERVICE).value()),
                        timeout=10_000)
        found, _, tray = make(quiet, bridge, Clock(NOW), conn)
        found.bus_address = bus_address
        found.show()
        qtbot.waitUntil(lambda: found.notification_id is not None, timeout=10_000)
        assert found.shown == ["dbus"] and tray == []
        qtbot.wait(500)
        if shutil.which("import"):
            shots = Path(os.environ.get("COREG_SHOTS", tempfile.gettempdir()))
            shots.mkdir(parents=True, exist_ok=True)
            subprocess.run(["import", "-window", "root", str(shots / "reminder-dunst.png")],
                           check=False, timeout=20)
        QDBusConnection.disconnectFromBus("coreg-dunst")
    finally:
        dunst.terminate()
        dunst.wait(timeout=10)
