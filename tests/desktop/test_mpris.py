"""MPRIS2 on a private D-Bus: what media keys and desktop media controls would send and read."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest
from PySide6.QtCore import SLOT, QObject, Slot
from PySide6.QtDBus import QDBusConnection, QDBusMessage
from pytestqt.qtbot import QtBot

from coreg_desktop.audio.mixer import Transport
from coreg_desktop.desktop.mpris import BUS_NAME, OBJECT_PATH, PLAYER_IFACE, ROOT_IFACE, Mpris
from coreg_desktop.ui.bridge import PlayerBridge


@pytest.fixture
def connection(bus_address: str) -> Iterator[QDBusConnection]:
    name = f"coreg-test-{id(bus_address)}"
    conn = QDBusConnection.connectToBus(bus_address, name)
    assert conn.isConnected()
    yield conn
    QDBusConnection.disconnectFromBus(name)


@pytest.fixture
def mpris(bridge: PlayerBridge, connection: QDBusConnection) -> Iterator[Mpris]:
    def play_idle() -> None:
        bridge.play("quick-reset")

    m = Mpris(bridge, connection, on_play_idle=play_idle)
    assert m.register()
    yield m
    m.close()
    if bridge.active:
        bridge.stop(fade_s=0.05)


def dbus_send(qtbot: QtBot, address: str, *args: str) -> str:
    """Run dbus-send like an outside client; the Qt loop keeps running so we can answer."""
    proc = subprocess.Popen(
        ["dbus-send", "--session", "--print-reply", f"--dest={BUS_NAME}", OBJECT_PATH, *args],
        env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": address},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=10_000)
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    return out


def get_property(qtbot: QtBot, address: str, iface: str, name: str) -> str:
    out = dbus_send(qtbot, address, "org.freedesktop.DBus.Properties.Get",
                    f"string:{iface}", f"string:{name}")
    return " ".join(out.split("\n", 1)[1].split())


class Listener(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[QDBusMessage] = []

    @Slot(QDBusMessage)
    def got(self, message: QDBusMessage) -> None:
        self.messages.append(message)


def test_play_pause_and_stop_drive_the_player_and_the_status(
    qtbot: QtBot, bus_address: str, mpris: Mpris, bridge: PlayerBridge
) -> None:
    status = get_property(qtbot, bus_address, PLAYER_IFACE, "PlaybackStatus")
    assert status == 'variant string "Stopped"'
    # A media key with nothing playing starts the quick reset.
    with qtbot.waitSignal(bridge.practiceStarted, timeout=10_000):
        dbus_send(qtbot, bus_address, f"{PLAYER_IFACE}.PlayPause")
    # The status follows the bridge's transport signal (at most one watch tick behind).
    qtbot.waitUntil(lambda: mpris.status == "Playing", timeout=10_000)
    assert bridge.transport is Transport.PLAYING
    assert get_property(qtbot, bus_address, PLAYER_IFACE, "PlaybackStatus") == (
        'variant string "Playing"')
    metadata = get_property(qtbot, bus_address, PLAYER_IFACE, "Metadata")
    assert 'string "xesam:title" variant string "Quick Reset"' in metadata
    assert 'object path "/org/coreg/practice/quick_reset"' in metadata

    dbus_send(qtbot, bus_address, f"{PLAYER_IFACE}.PlayPause")
    qtbot.waitUntil(lambda: mpris.status == "Paused", timeout=5000)
    assert bridge.transport is Transport.PAUSED
    assert get_property(qtbot, bus_address, PLAYER_IFACE, "PlaybackStatus") == (
        'variant string "Paused"')
    position = get_property(qtbot, bus_address, PLAYER_IFACE, "Position")
    assert position.startswith("variant int64 ")

    dbus_send(qtbot, bus_address, f"{PLAYER_IFACE}.Play")
    qtbot.waitUntil(lambda: mpris.status == "Playing", timeout=5000)
    dbus_send(qtbot, bus_address, f"{PLAYER_IFACE}.Stop")
    qtbot.waitUntil(lambda: mpris.status == "Stopped", timeout=10_000)
    assert get_property(qtbot, bus_address, PLAYER_IFACE, "PlaybackStatus") == (
        'variant string "Stopped"')


def test_status_changes_are_announced_with_the_right_signature(
    qtbot: QtBot, bus_address: str, connection: QDBusConnection, mpris: Mpris,
    bridge: PlayerBridge,
) -> None:
    listener = Listener()
    assert connection.connect(  # type: ignore[call-overload]  # the SLOT() form is untyped
        "", OBJECT_PATH, "org.freedesktop.DBus.Properties", "PropertiesChanged", listener,
        SLOT("got(QDBusMessage)"))
    bridge.play("quick-reset")
    # Metadata when the practice starts, PlaybackStatus when it plays.
    qtbot.waitUntil(lambda: len(listener.messages) >= 2, timeout=10_000)
    assert mpris.status == "Playing"
    for message in listener.messages:
        # GNOME Shell and playerctl ignore a PropertiesChanged that is not exactly (sa{sv}as).
        assert message.signature() == "sa{sv}as"
        assert message.arguments()[0] == PLAYER_IFACE


def test_the_root_interface_describes_coreg(qtbot: QtBot, bus_address: str,
                                            mpris: Mpris) -> None:
    assert get_property(qtbot, bus_address, ROOT_IFACE, "Identity") == 'variant string "Coreg"'
    assert get_property(qtbot, bus_address, ROOT_IFACE, "DesktopEntry") == (
        'variant string "coreg-desktop"')
    xml = dbus_send(qtbot, bus_address, "org.freedesktop.DBus.Introspectable.Introspect")
    for member in (f'interface name="{ROOT_IFACE}"', f'interface name="{PLAYER_IFACE}"',
                   'method name="PlayPause"', 'method name="Stop"',
                   'property name="PlaybackStatus" type="s"',
                   'property name="Metadata" type="a{sv}"', 'property name="Position" type="x"',
                   'property name="SupportedUriSchemes" type="as"'):
        assert member in xml


def test_raise_calls_back(qtbot: QtBot, bus_address: str, bridge: PlayerBridge,
                          connection: QDBusConnection) -> None:
    raised: list[bool] = []
    m = Mpris(bridge, connection, on_raise=lambda: raised.append(True))
    assert m.register()
    try:
        assert get_property(qtbot, bus_address, ROOT_IFACE, "CanRaise") == "variant boolean true"
        assert get_property(qtbot, bus_address, ROOT_IFACE, "CanQuit") == (
            "variant boolean false")
        dbus_send(qtbot, bus_address, f"{ROOT_IFACE}.Raise")
        assert raised == [True]
    finally:
        m.close()


def test_without_a_session_bus_it_is_skipped_quietly(
    bridge: PlayerBridge, caplog: pytest.LogCaptureFixture
) -> None:
    name = "coreg-test-nowhere"
    conn = QDBusConnection.connectToBus("unix:path=/nonexistent/coreg-bus", name)
    try:
        m = Mpris(bridge, conn)
        try:
            with caplog.at_level("INFO"):
                assert m.register() is False
            assert not m.registered
            assert "No D-Bus session bus" in caplog.text
        finally:
            m.close()  # left to the garbage collector, a worker thread could destroy it
    finally:
        QDBusConnection.disconnectFromBus(name)
