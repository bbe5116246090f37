"""MPRIS2 on the session bus, so media keys and the desktop's media controls reach Coreg.

Desktops (GNOME's media applet, KDE's, playerctl, keyboard media keys via gsd-media-keys) look
for `org.mpris.MediaPlayer2.*` names. Coreg registers `org.mpris.MediaPlayer2.coreg` with the two
required interfaces. Commands go to the PlayerBridge like any other view's, and status changes
are announced with `PropertiesChanged`, which is how those applets stay in sync.

Choices:

* Play with nothing loaded starts the quick reset (through `on_play_idle`): a media key pressed
  in a hard moment should do the helpful thing, not nothing.
* Seeking, track lists and rate changes are not offered (CanSeek false, rate fixed at 1.0); a
  practice is paced by its breathing, not scrubbed.
* `mpris:length` is left out of Metadata: the spec types it as a 64-bit integer, and PySide6
  marshals a Python int below 2**31 inside a map as a 32-bit one, which strict clients reject.
  `Position` is a typed property (`qlonglong`), so it is correct.
* No session bus (a bare console, some containers): log once and carry on without MPRIS.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar, cast

import shiboken6
from PySide6.QtCore import ClassInfo, Property, QMetaType, QObject, Slot
from PySide6.QtDBus import (
    QDBusAbstractAdaptor,
    QDBusArgument,
    QDBusConnection,
    QDBusMessage,
    QDBusObjectPath,
)

from coreg_desktop import APP_NAME
from coreg_desktop.audio.mixer import Transport
from coreg_desktop.sleep_timer import format_left
from coreg_desktop.ui.bridge import PlayerBridge

log = logging.getLogger(__name__)

_T = TypeVar("_T")

BUS_NAME = "org.mpris.MediaPlayer2.coreg"
OBJECT_PATH = "/org/mpris/MediaPlayer2"
ROOT_IFACE = "org.mpris.MediaPlayer2"
PLAYER_IFACE = "org.mpris.MediaPlayer2.Player"
NO_TRACK = "/org/mpris/MediaPlayer2/TrackList/NoTrack"

#: Our transports as MPRIS PlaybackStatus values.
STATUS = {
    Transport.PLAYING.value: "Playing",
    Transport.PAUSED.value: "Paused",
}


def _dbus_interface(name: str) -> Callable[[type[_T]], type[_T]]:
    """Name the D-Bus interface an adaptor class exports (Qt's Q_CLASSINFO "D-Bus Interface").

    A wrapper only because PySide6's stub for ClassInfo lacks `__call__` and mistypes `**info`.
    """
    decorator = ClassInfo(**{"D-Bus Interface": name})  # type: ignore[arg-type]
    return cast("Callable[[type[_T]], type[_T]]", decorator)


def track_path(practice_id: str) -> str:
    """A D-Bus object path for a practice id (only [A-Za-z0-9_] are allowed in path elements)."""
    return "/org/coreg/practice/" + (re.sub(r"[^A-Za-z0-9_]", "_", practice_id) or "_")


class Mpris:
    """Owns the D-Bus registration and translates between MPRIS and the bridge."""

    def __init__(
        self,
        bridge: PlayerBridge,
        connection: QDBusConnection | None = None,
        on_raise: Callable[[], None] | None = None,
        on_quit: Callable[[], None] | None = None,
        on_play_idle: Callable[[], None] | None = None,
    ) -> None:
        self.bridge = bridge
        self.connection = connection if connection is not None else QDBusConnection.sessionBus()
        self.on_raise = on_raise
        self.on_quit = on_quit
        self.on_play_idle = on_play_idle
        self.registered = False
        self._status = STATUS.get(bridge.transport.value, "Stopped")
        # The adaptors hang off one plain QObject that is exported at OBJECT_PATH.
        self._holder = QObject()
        self.root = _RootAdaptor(self._holder, self)
        self.player = _PlayerAdaptor(self._holder, self)
        bridge.transportChanged.connect(self._transport_changed)
        bridge.practiceStarted.connect(self._practice_started)
        bridge.sleepChanged.connect(self._sleep_changed)

    # ------------------------------------------------------------------ registration

    def register(self) -> bool:
        """Export the object and claim the bus name; False (logged) when that is impossible."""
        if not self.connection.isConnected():
            log.info("No D-Bus session bus; media keys will not reach Coreg (%s)",
                     self.connection.lastError().message() or "not connected")
            return False
        options = QDBusConnection.RegisterOption.ExportAdaptors
        if not self.connection.registerObject(OBJECT_PATH, self._holder, options):
            log.warning("Could not export MPRIS at %s: %s", OBJECT_PATH,
                        self.connection.lastError().message())
            return False
        if not self.connection.registerService(BUS_NAME):
            log.warning("Could not claim %s on the session bus: %s", BUS_NAME,
                        self.connection.lastError().message())
            self.connection.unregisterObject(OBJECT_PATH)
            return False
        self.registered = True
        log.debug("MPRIS registered as %s", BUS_NAME)
        return True

    def unregister(self) -> None:
        if self.registered:
            self.connection.unregisterService(BUS_NAME)
            self.connection.unregisterObject(OBJECT_PATH)
            self.registered = False

    def close(self) -> None:
        """Unregister and destroy the exported object now, on the GUI thread.

        Left to Python's garbage collector, the holder could be destroyed on whichever thread
        happens to collect it (a synthesis worker, say); its adaptors would then relay
        `destroyed` from that thread, which QtDBus refuses with a warning.
        """
        self.unregister()
        for signal, slot in ((self.bridge.transportChanged, self._transport_changed),
                             (self.bridge.practiceStarted, self._practice_started),
                             (self.bridge.sleepChanged, self._sleep_changed)):
            with contextlib.suppress(RuntimeError, TypeError):  # already gone
                signal.disconnect(slot)
        if shiboken6.isValid(self._holder):
            shiboken6.delete(self._holder)

    # ------------------------------------------------------------------ state

    @property
    def status(self) -> str:
        return self._status

    def metadata(self) -> dict[str, Any]:
        practice = self.bridge.practice
        if practice is None:
            return {"mpris:trackid": QDBusObjectPath(NO_TRACK)}
        found: dict[str, Any] = {
            "mpris:trackid": QDBusObjectPath(track_path(practice.id)),
            "xesam:title": practice.title,
            "xesam:album": "Coreg",
        }
        left = self.bridge.sleep_left()
        if left is not None:
            # MPRIS has no field for a sleep timer; a comment is what media widgets show.
            found["xesam:comment"] = [f"Sleep timer: {format_left(left)}"]
        return found

    def position_us(self) -> int:
        state = self.bridge.state()
        return int(state.t * 1_000_000) if state is not None else 0

    # ------------------------------------------------------------------ commands

    def play(self) -> None:
        if self._status == "Paused":
            self.bridge.resume()
        elif self._status == "Stopped" and self.on_play_idle is not None:
            self.on_play_idle()

    def pause(self) -> None:
        if self._status == "Playing":
            self.bridge.pause()

    def play_pause(self) -> None:
        if self._status == "Stopped":
            self.play()
        else:
            self.bridge.toggle()

    def stop(self) -> None:
        if self._status != "Stopped":
            self.bridge.stop()

    # ------------------------------------------------------------------ announcements

    def _transport_changed(self, transport: str) -> None:
        status = STATUS.get(transport, "Stopped")
        if status != self._status:
            self._status = status
            self._announce({"PlaybackStatus": status})

    def _practice_started(self, _practice_id: str) -> None:
        self._announce({"Metadata": self.metadata()})

    def _sleep_changed(self, _left: object) -> None:
        if self.bridge.practice is not None:
            self._announce({"Metadata": self.metadata()})

    def _announce(self, changed: dict[str, Any]) -> None:
        if not self.registered:
            return
        message = QDBusMessage.createSignal(
            OBJECT_PATH, "org.freedesktop.DBus.Properties", "PropertiesChanged"
        )
        # The third argument must be typed `as`: a plain [] would be sent as `av`, and GDBus
        # clients (GNOME Shell, playerctl) drop a PropertiesChanged with the wrong signature.
        invalidated = QDBusArgument()
        invalidated.beginArray(QMetaType(QMetaType.Type.QString))
        invalidated.endArray()
        message.setArguments([PLAYER_IFACE, changed, invalidated])
        if not self.connection.send(message):
            log.debug("PropertiesChanged not sent: %s", self.connection.lastError().message())


@_dbus_interface(ROOT_IFACE)
class _RootAdaptor(QDBusAbstractAdaptor):
    def __init__(self, parent: QObject, mpris: Mpris) -> None:
        super().__init__(parent)
        self._mpris = mpris

    @Property(bool)
    def CanQuit(self) -> bool:
        return self._mpris.on_quit is not None

    @Property(bool)
    def CanRaise(self) -> bool:
        return self._mpris.on_raise is not None

    @Property(bool)
    def HasTrackList(self) -> bool:
        return False

    @Property(str)
    def Identity(self) -> str:
        return "Coreg"

    @Property(str)
    def DesktopEntry(self) -> str:
        return APP_NAME  # the launcher's file name without ".desktop"

    @Property("QStringList")  # type: ignore[arg-type]  # D-Bus "as", not "av"
    def SupportedUriSchemes(self) -> list[str]:
        return []

    @Property("QStringList")  # type: ignore[arg-type]  # D-Bus "as", not "av"
    def SupportedMimeTypes(self) -> list[str]:
        return []

    @Slot()
    def Raise(self) -> None:
        if self._mpris.on_raise is not None:
            self._mpris.on_raise()

    @Slot()
    def Quit(self) -> None:
        if self._mpris.on_quit is not None:
            self._mpris.on_quit()


@_dbus_interface(PLAYER_IFACE)
class _PlayerAdaptor(QDBusAbstractAdaptor):
    def __init__(self, parent: QObject, mpris: Mpris) -> None:
        super().__init__(parent)
        self._mpris = mpris

    @Property(str)
    def PlaybackStatus(self) -> str:
        return self._mpris.status

    @Property(float)
    def Rate(self) -> float:
        return 1.0

    @Property(float)
    def MinimumRate(self) -> float:
        return 1.0

    @Property(float)
    def MaximumRate(self) -> float:
        return 1.0

    @Property("QVariantMap")  # type: ignore[arg-type]  # D-Bus "a{sv}"
    def Metadata(self) -> dict[str, Any]:
        return self._mpris.metadata()

    @Property(float)
    def Volume(self) -> float:
        return self._mpris.bridge.settings.number("volume.voice")

    @Property("qlonglong")  # type: ignore[arg-type]  # D-Bus "x" (int64)
    def Position(self) -> int:
        return self._mpris.position_us()

    @Property(bool)
    def CanGoNext(self) -> bool:
        return False

    @Property(bool)
    def CanGoPrevious(self) -> bool:
        return False

    @Property(bool)
    def CanPlay(self) -> bool:
        return True

    @Property(bool)
    def CanPause(self) -> bool:
        return True

    @Property(bool)
    def CanSeek(self) -> bool:
        return False

    @Property(bool)
    def CanControl(self) -> bool:
        return True

    @Slot()
    def Play(self) -> None:
        self._mpris.play()

    @Slot()
    def Pause(self) -> None:
        self._mpris.pause()

    @Slot()
    def PlayPause(self) -> None:
        self._mpris.play_pause()

    @Slot()
    def Stop(self) -> None:
        self._mpris.stop()

    @Slot()
    def Next(self) -> None:
        """No track list: nothing to skip to."""

    @Slot()
    def Previous(self) -> None:
        """No track list: nothing to go back to."""

    @Slot("qlonglong")
    def Seek(self, _offset_us: int) -> None:
        """CanSeek is false; the spec says to ignore the call."""

    @Slot(QDBusObjectPath, "qlonglong")
    def SetPosition(self, _track: QDBusObjectPath, _position_us: int) -> None:
        """CanSeek is false; the spec says to ignore the call."""

    @Slot(str)
    def OpenUri(self, _uri: str) -> None:
        """No URI schemes are supported."""
