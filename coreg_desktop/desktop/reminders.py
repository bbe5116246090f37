"""Gentle reminders: one quiet notification at the chosen times, with a quick reset one click away.

Off by default (`reminders.enabled`). The promises:

* **No polling.** One single-shot timer is set to the next due time (`reminder_schedule.
  next_due`, pure and tested), and set again after each firing, each change of the settings,
  a snooze, and a wake from suspend (logind's PrepareForSleep on the system bus, when there is
  one). Idle in the tray the process sleeps until then.
* **Never while a practice plays.** A reminder that falls due during one waits for its end.
* **Never a nag.** The text is the same kind line every time; nothing counts missed days, and an
  ignored reminder is simply gone.

The notification goes through `org.freedesktop.Notifications` over QtDBus with two actions,
"Start quick reset" and "Snooze 10 min" (their `ActionInvoked` signals are followed over QtDBus).
PySide6 cannot marshal a Python int as D-Bus `u` (it sends `i`), and servers built on GDBus
(dunst, GNOME Shell) refuse `Notify` with that signature; the same call is then made once more
by `gdbus call` (GLib's tool, which types arguments from the server's introspection), on the
same bus. Without a session bus or a notification server, or when both ways are refused, the
tray's own message says the same line (clicking it starts the quick reset).
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo

from PySide6.QtCore import SLOT, QObject, QProcess, QProcessEnvironment, Qt, QTimer, Slot
from PySide6.QtDBus import (
    QDBusConnection,
    QDBusMessage,
    QDBusPendingCall,
    QDBusPendingCallWatcher,
)

from coreg_desktop.reminder_schedule import next_due, seconds_until
from coreg_desktop.settings import Settings
from coreg_desktop.ui.bridge import PlayerBridge, follow_settings

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
IFACE = "org.freedesktop.Notifications"
ACTION_START = "quick-reset"
ACTION_SNOOZE = "snooze"
SNOOZE = timedelta(minutes=10)
TITLE = "A moment for you"
BODY = "If it would help, a quick reset is one click away."
KEYS = ("reminders.enabled", "reminders.times", "reminders.days")
#: A timer that fired this much early (the wall clock was changed) just sets itself again.
EARLY_S = 1.0
NOTIFY_TIMEOUT_MS = 3000
ACTIONS = [ACTION_START, "Start quick reset", ACTION_SNOOZE, "Snooze 10 min"]
#: What a GDBus server answers to the `i` PySide sends for replaces_id.
WRONG_SIGNATURE = "does not match expected type"
GDBUS_ID = re.compile(r"\(uint32 (\d+),\)")


class Reminders(QObject):
    """Owns the one timer and the notification. `start_quick_reset` is the tray's quick reset,
    `tray_message(title, text)` its fallback message (False when it cannot show one)."""

    def __init__(
        self,
        settings: Settings,
        bridge: PlayerBridge,
        start_quick_reset: Callable[[], None],
        tray_message: Callable[[str, str], bool],
        connection: QDBusConnection | None = None,
        clock: Callable[[], datetime] | None = None,
        zone: tzinfo | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._bridge = bridge
        self._start_quick_reset = start_quick_reset
        self._tray_message = tray_message
        self._bus = connection if connection is not None else QDBusConnection.sessionBus()
        self._clock = clock or (lambda: datetime.now().astimezone())
        self._zone = zone
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.CoarseTimer)
        self._timer.timeout.connect(self._fire)
        self.due: datetime | None = None  # when the timer fires next
        self._snoozed_until: datetime | None = None
        self.waiting = False  # due while a practice played: shown at its end
        self.notification_id: int | None = None
        self.shown: list[str] = []  # "dbus" or "tray", per reminder shown (tests, logs)
        self._watchers: list[QDBusPendingCallWatcher] = []
        self._listening = False
        #: The address of a private bus passed as `connection` (tests), for `gdbus`; None: the
        #: session bus, which gdbus finds by itself.
        self.bus_address: str | None = None
        bridge.transportChanged.connect(self._transport_changed)
        follow_settings(self, settings, self._settings_changed)
        self._watch_sleep()
        self.reschedule()

    # ------------------------------------------------------------------ scheduling

    @property
    def enabled(self) -> bool:
        return self._settings.flag("reminders.enabled")

    @property
    def timer_active(self) -> bool:
        return self._timer.isActive()

    def reschedule(self) -> datetime | None:
        """Set the one timer to the next due time (or a snooze's end), or stop it."""
        self._timer.stop()
        self.due = None
        if not self.enabled:
            self._snoozed_until = None
            return None
        now = self._clock()
        due = next_due(now, self._settings["reminders.times"], self._settings["reminders.days"],
                       self._zone or now.tzinfo)
        if self._snoozed_until is not None and (due is None or self._snoozed_until < due):
            due = self._snoozed_until
        if due is None:
            return None
        self.due = due
        self._timer.start(max(1, round(seconds_until(now, due) * 1000)))
        log.info("next gentle reminder at %s", due.isoformat(timespec="minutes"))
        return due

    def _settings_changed(self, keys: list[str]) -> None:
        if any(k in KEYS for k in keys):
            self.reschedule()

    def _fire(self) -> None:
        now = self._clock()
        if self.due is not None and seconds_until(now, self.due) > EARLY_S:
            self.reschedule()  # the clock was set back: not yet
            return
        self._snoozed_until = None
        if self.enabled:
            if self._bridge.active:
                log.info("a reminder is due while a practice plays: it waits for the end")
                self.waiting = True
            else:
                self.show()
        self.reschedule()

    def _transport_changed(self, *_: object) -> None:
        if self.waiting and not self._bridge.active:
            self.waiting = False
            if self.enabled:
                self.show()

    def snooze(self) -> None:
        """Ask again in ten minutes (once: a snooze is not repeated by itself)."""
        self._snoozed_until = self._clock() + SNOOZE
        self.reschedule()

    # ------------------------------------------------------------------ showing

    def show(self) -> None:
        """The notification over D-Bus, or the tray's message when that cannot be."""
        if self._bus.isConnected() and self._bus.interface() is not None and \
                self._bus.interface().isServiceRegistered(SERVICE).value():
            self._notify()
            return
        self._fallback("no notification server")

    def _notify(self) -> None:
        self._listen()
        message = QDBusMessage.createMethodCall(SERVICE, PATH, IFACE, "Notify")
        # replaces_id (0: a new notification) and the timeout (-1: the server's default).
        message.setArguments([
            "Coreg", 0, "coreg-desktop", TITLE, BODY, ACTIONS,
            {"category": "reminder", "desktop-entry": "coreg-desktop"}, -1,
        ])
        pending: QDBusPendingCall = self._bus.asyncCall(message, NOTIFY_TIMEOUT_MS)
        watcher = QDBusPendingCallWatcher(pending, self)
        watcher.finished.connect(self._notified)
        self._watchers.append(watcher)

    def _notified(self, watcher: QDBusPendingCallWatcher) -> None:
        self._watchers.remove(watcher)
        reply = watcher.reply()
        watcher.deleteLater()
        if reply.type() == QDBusMessage.MessageType.ErrorMessage:
            why = reply.errorMessage() or reply.errorName()
            if WRONG_SIGNATURE in why and self._notify_by_gdbus():
                return
            self._fallback(why)
            return
        values = reply.arguments()
        self._shown_as(int(values[0]) if values else None)

    def _shown_as(self, notification: int | None) -> None:
        self.notification_id = notification
        self.shown.append("dbus")
        log.info("gentle reminder shown as notification %s", notification)

    def _notify_by_gdbus(self) -> bool:
        """The same Notify, typed from introspection by GLib's `gdbus call`; False without it."""
        tool = shutil.which("gdbus")
        if tool is None:
            return False
        hints = "{'category': <'reminder'>, 'desktop-entry': <'coreg-desktop'>}"
        actions = "[" + ", ".join(repr(a) for a in ACTIONS) + "]"
        process = QProcess(self)
        address = self.bus_address
        if address:
            env = QProcessEnvironment.systemEnvironment()
            env.insert("DBUS_SESSION_BUS_ADDRESS", address)
            process.setProcessEnvironment(env)
        process.finished.connect(lambda code, _status: self._gdbus_done(process, code))
        process.start(tool, ["call", "--session", "--dest", SERVICE, "--object-path", PATH,
                             "--method", f"{IFACE}.Notify", "--", "Coreg", "0", "coreg-desktop",
                             TITLE, BODY, actions, hints, "-1"])
        return True

    def _gdbus_done(self, process: QProcess, code: int) -> None:
        out = bytes(process.readAllStandardOutput().data()).decode("utf-8", "replace")
        err = bytes(process.readAllStandardError().data()).decode("utf-8", "replace")
        process.deleteLater()
        found = GDBUS_ID.search(out)
        if code != 0 or found is None:
            self._fallback(err.strip() or f"gdbus exited with {code}")
            return
        self._shown_as(int(found.group(1)))

    def _fallback(self, why: str) -> None:
        log.info("gentle reminder shown by the tray instead (%s)", why)
        if self._tray_message(TITLE, BODY):
            self.shown.append("tray")
        else:
            log.info("no tray either: the reminder is skipped quietly")

    def _listen(self) -> None:
        """Follow ActionInvoked from any sender: only our own notification's id is acted on,
        and the worst a forged one could do is start a quick reset."""
        if self._listening:
            return
        self._listening = self._bus.connect(  # type: ignore[call-overload]  # SLOT() is untyped
            "", PATH, IFACE, "ActionInvoked", self, SLOT("_action_message(QDBusMessage)"))
        if not self._listening:
            log.info("cannot follow notification actions: %s", self._bus.lastError().message())

    @Slot(QDBusMessage)
    def _action_message(self, message: QDBusMessage) -> None:
        values = message.arguments()
        if len(values) == 2:
            self._action(int(values[0]), str(values[1]))

    def _action(self, notification: int, key: str) -> None:
        if self.notification_id is None or int(notification) != self.notification_id:
            return  # another app's notification, or an old one of ours
        log.info("reminder action: %s", key)
        if key in (ACTION_START, "default"):
            self._start_quick_reset()
        elif key == ACTION_SNOOZE:
            self.snooze()

    # ------------------------------------------------------------------ waking

    def _watch_sleep(self) -> None:
        """After a suspend the monotonic timer is late; logind says when the machine wakes."""
        system = QDBusConnection.systemBus()
        if not system.isConnected():
            return
        system.connect(  # type: ignore[call-overload]  # the SLOT() form is untyped
            "org.freedesktop.login1", "/org/freedesktop/login1",
                       "org.freedesktop.login1.Manager", "PrepareForSleep", self,
                       SLOT("_sleeping(bool)"))

    @Slot(bool)
    def _sleeping(self, going: bool) -> None:
        if not going:
            log.info("woke from sleep: the next reminder is worked out again")
            self.reschedule()

    def close(self) -> None:
        self._timer.stop()
