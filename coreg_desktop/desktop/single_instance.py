"""One Coreg per user: later launches hand their request to the running app and exit.

Why the pieces look the way they do:

* The running app listens with a QLocalServer on a Unix socket whose full path we choose (in
  `$XDG_RUNTIME_DIR`, private to the user, or the temp folder with the uid in the name). Because
  the path is known, a second launch talks to it with the standard library's `socket`: it never
  loads Qt, numpy or a voice, so `coreg-desktop --quick-reset` from a launcher or a keyboard
  shortcut reaches the running app in a few tens of milliseconds.
* The socket name also carries a hash of the config folder. One user normally has one, so this is
  "one app per user"; tests and people who run a second profile with their own XDG folders get
  their own instance instead of talking to the real one.
* Deciding who is first is done under an flock on a small lock file. Without it, two launches
  that both find a stale socket could each remove it and listen, leaving two apps. The kernel
  drops the lock when a process dies, so a crash can never wedge later launches.
* The protocol is one JSON line each way: `{"action": ..., "id": ...}` and `{"ok": true}`. The
  app answers before it acts on the request, so the second process is never held up by, say,
  the first practice starting.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import fcntl
import hashlib
import json
import logging
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coreg_desktop import APP_NAME, paths

if TYPE_CHECKING:
    from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

ACTIONS = ("show", "quick-reset", "practice", "quit", "ping")
#: How long a second launch waits for the running app to answer. The app answers within
#: milliseconds once its event loop runs; the margin covers a first instance still starting up.
ACK_TIMEOUT_S = 5.0
#: How long a launch waits for another launch's election to finish (normally milliseconds).
LOCK_TIMEOUT_S = 10.0
MAX_LINE = 64 * 1024
#: sockaddr_un.sun_path holds 108 bytes including the terminator.
_MAX_SOCKET_PATH = 100


class Outcome(enum.Enum):
    DELIVERED = "delivered"  # the running app acknowledged the request
    NO_SERVER = "no-server"  # nobody is listening: this launch becomes the app
    NO_ANSWER = "no-answer"  # something listens but does not answer (hung or shutting down)


@dataclass(frozen=True)
class Request:
    action: str
    id: str | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown action {self.action!r}")
        if self.action == "practice" and not self.id:
            raise ValueError("a practice request needs an id")

    def encode(self) -> bytes:
        data: dict[str, Any] = {"action": self.action}
        if self.id is not None:
            data["id"] = self.id
        return json.dumps(data).encode("utf-8") + b"\n"

    @classmethod
    def decode(cls, line: bytes) -> Request:
        """Parse one request line; ValueError for anything malformed."""
        try:
            data = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a JSON request: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("action"), str):
            raise ValueError("a request is a JSON object with an 'action'")
        practice_id = data.get("id")
        if practice_id is not None and not isinstance(practice_id, str):
            raise ValueError("'id' must be a string")
        return cls(data["action"], practice_id)


# ----------------------------------------------------------------------------- where


def socket_path(config_dir: Path | None = None) -> Path:
    """The running app's socket for this user and this config folder."""
    key = hashlib.sha256(str(config_dir or paths.config_dir()).encode()).hexdigest()[:12]
    name = f"{APP_NAME}-{os.getuid()}-{key}.sock"
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    usable = os.path.isabs(runtime) and os.path.isdir(runtime) and os.access(runtime, os.W_OK)
    if runtime and usable:
        path = Path(runtime) / name
        if len(str(path)) <= _MAX_SOCKET_PATH:
            return path
    return Path(tempfile.gettempdir()) / name


@contextlib.contextmanager
def election(path: Path, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the per-socket lock while deciding who is first (see the module docstring)."""
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() > deadline:
                    raise TimeoutError(f"another Coreg launch holds {lock_path}") from exc
                time.sleep(0.01)
        yield
    finally:
        os.close(fd)  # closing releases the flock


# ----------------------------------------------------------------------------- client


def forward(path: Path, request: Request, timeout: float = ACK_TIMEOUT_S) -> Outcome:
    """Hand `request` to the app listening on `path`, if there is one."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except OSError as exc:  # no file, refused (stale socket), not a socket, ...
            log.debug("No running Coreg at %s (%s)", path, exc)
            return Outcome.NO_SERVER
        try:
            sock.sendall(request.encode())
            reply = b""
            while b"\n" not in reply and len(reply) < MAX_LINE:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
        except OSError as exc:  # includes socket.timeout
            log.warning("The running Coreg did not answer (%s)", exc)
            return Outcome.NO_ANSWER
        try:
            answer = json.loads(reply.split(b"\n", 1)[0].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            log.warning("The running Coreg answered something unexpected: %r", reply[:200])
            return Outcome.NO_ANSWER
        if isinstance(answer, dict) and answer.get("ok") is True:
            return Outcome.DELIVERED
        log.warning("The running Coreg refused the request: %r", answer)
        return Outcome.NO_ANSWER
    finally:
        sock.close()


# ----------------------------------------------------------------------------- server


class InstanceServer:
    """The running app's end: a QLocalServer that acknowledges each request, then hands it on.

    Qt is imported when this is constructed, not when the module is, so the client side above
    stays Qt-free. Construct it inside `election()`, after the QApplication exists.
    """

    def __init__(self, path: Path, on_request: Callable[[Request], None] | None = None) -> None:
        from PySide6.QtNetwork import QLocalServer

        self.path = path
        #: Set by the app once it is built; requests only arrive once its event loop runs.
        self.on_request = on_request
        self._server: QLocalServer = QLocalServer()
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)
        self._buffers: dict[QLocalSocket, bytes] = {}

    def listen(self) -> bool:
        """Listen, replacing a stale socket file. Only call it while holding the election."""
        from PySide6.QtNetwork import QLocalServer

        QLocalServer.removeServer(str(self.path))
        if not self._server.listen(str(self.path)):
            log.error("Cannot listen on %s: %s", self.path, self._server.errorString())
            return False
        log.debug("Listening for other launches on %s", self.path)
        return True

    @property
    def listening(self) -> bool:
        return self._server.isListening()

    def close(self) -> None:
        """Stop listening (first thing on quit, so new launches start a fresh app)."""
        if self._server.isListening():
            self._server.close()
            with contextlib.suppress(OSError):
                self.path.unlink()

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            conn = self._server.nextPendingConnection()
            if conn is None:
                break
            self._buffers[conn] = b""
            conn.readyRead.connect(lambda c=conn: self._read(c))
            conn.disconnected.connect(lambda c=conn: self._forget(c))

    def _forget(self, conn: QLocalSocket) -> None:
        self._buffers.pop(conn, None)
        conn.deleteLater()

    def _read(self, conn: QLocalSocket) -> None:
        if conn not in self._buffers:
            return
        data = self._buffers[conn] + bytes(conn.readAll().data())
        if b"\n" not in data and len(data) < MAX_LINE:
            self._buffers[conn] = data
            return
        self._buffers[conn] = b""
        line = data.split(b"\n", 1)[0]
        try:
            request = Request.decode(line)
        except ValueError as exc:
            log.warning("Ignoring a malformed request from another launch: %s", exc)
            self._reply(conn, {"ok": False, "error": str(exc)})
            return
        self._reply(conn, {"ok": True})
        log.info("Another launch asks for %s%s", request.action,
                 f" {request.id}" if request.id else "")
        if self.on_request is None:
            log.warning("No one is handling %s yet", request)
            return
        try:
            self.on_request(request)
        except Exception:  # a request must never take the running app down
            log.exception("Handling %s failed", request)

    @staticmethod
    def _reply(conn: QLocalSocket, answer: dict[str, Any]) -> None:
        conn.write(json.dumps(answer).encode("utf-8") + b"\n")
        conn.flush()
        conn.disconnectFromServer()
