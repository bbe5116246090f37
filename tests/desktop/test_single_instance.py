"""One Coreg per user: the request protocol, the election, stale sockets, and real launches."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from coreg_desktop.desktop import single_instance
from coreg_desktop.desktop.single_instance import InstanceServer, Outcome, Request

ALSA_NULL = "pcm.!default { type null }\nctl.!default { type hw card 0 }\n"


@pytest.fixture
def sock_path() -> Iterator[Path]:
    # Short and private: unix socket paths are limited to ~100 bytes, tmp_path can be longer.
    folder = Path(tempfile.mkdtemp(prefix="coreg-si-"))
    yield folder / "coreg-test.sock"
    for p in folder.iterdir():
        p.unlink()
    folder.rmdir()


def forward_in_thread(path: Path, request: Request, timeout: float = 5.0) -> list[Outcome]:
    """The client blocks until the server answers, and the server needs the Qt loop: so the
    client runs on a thread while the test spins the loop with qtbot.waitUntil."""
    result: list[Outcome] = []
    threading.Thread(
        target=lambda: result.append(single_instance.forward(path, request, timeout)),
        daemon=True,
    ).start()
    return result


# ----------------------------------------------------------------------------- protocol


@pytest.mark.parametrize(
    "request_",
    [Request("show"), Request("quick-reset"), Request("practice", "stay-safe"), Request("quit"),
     Request("ping")],
)
def test_requests_round_trip_as_one_json_line(request_: Request) -> None:
    line = request_.encode()
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert Request.decode(line.rstrip(b"\n")) == request_


@pytest.mark.parametrize(
    "line",
    [b"", b"not json", b"[1, 2]", b'{"id": "x"}', b'{"action": "dance"}',
     b'{"action": "practice"}', b'{"action": "practice", "id": 5}', b"\xff\xfe"],
)
def test_malformed_requests_are_refused(line: bytes) -> None:
    with pytest.raises(ValueError):
        Request.decode(line)


def test_socket_path_is_per_user_and_per_config(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # A short folder, as /run/user/1000 is (tmp_path can be longer than a socket path may be).
    runtime = Path(tempfile.mkdtemp(prefix="run-"))
    try:
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
        a = single_instance.socket_path(Path("/home/a/.config/coreg-desktop"))
        b = single_instance.socket_path(Path("/home/b/.config/coreg-desktop"))
        assert a != b
        assert a == single_instance.socket_path(Path("/home/a/.config/coreg-desktop"))
        assert str(os.getuid()) in a.name
        assert a.parent == runtime
    finally:
        runtime.rmdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "missing"))
    assert single_instance.socket_path(Path("/x")).parent == Path(tempfile.gettempdir())
    # A runtime folder too deep for a socket's path: the temporary folder instead.
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(deep))
    assert single_instance.socket_path(Path("/x")).parent == Path(tempfile.gettempdir())


# ----------------------------------------------------------------------------- in process


def test_nobody_listening_means_no_server(sock_path: Path) -> None:
    assert single_instance.forward(sock_path, Request("show"), timeout=1.0) is Outcome.NO_SERVER


def test_a_request_is_acknowledged_then_handled(qtbot: QtBot, sock_path: Path) -> None:
    got: list[Request] = []
    server = InstanceServer(sock_path, got.append)
    assert server.listen()
    try:
        result = forward_in_thread(sock_path, Request("practice", "stay-safe"))
        qtbot.waitUntil(lambda: bool(result) and bool(got), timeout=5000)
        assert result == [Outcome.DELIVERED]
        assert got == [Request("practice", "stay-safe")]
    finally:
        server.close()
    assert not sock_path.exists()
    assert single_instance.forward(sock_path, Request("show"), 1.0) is Outcome.NO_SERVER


def test_a_stale_socket_is_replaced(qtbot: QtBot, sock_path: Path) -> None:
    # What a crashed app leaves behind: the socket file, with nobody listening.
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(sock_path))
    dead.close()
    assert sock_path.exists()
    assert single_instance.forward(sock_path, Request("show"), 1.0) is Outcome.NO_SERVER
    got: list[Request] = []
    server = InstanceServer(sock_path, got.append)
    assert server.listen()
    try:
        result = forward_in_thread(sock_path, Request("quick-reset"))
        qtbot.waitUntil(lambda: bool(result), timeout=5000)
        assert result == [Outcome.DELIVERED] and got == [Request("quick-reset")]
    finally:
        server.close()


def test_garbage_gets_a_refusal_not_a_crash(qtbot: QtBot, sock_path: Path) -> None:
    got: list[Request] = []
    server = InstanceServer(sock_path, got.append)
    assert server.listen()
    replies: list[bytes] = []

    def talk() -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(str(sock_path))
            s.sendall(b'{"action": "dance"}\n')
            replies.append(s.recv(4096))

    threading.Thread(target=talk, daemon=True).start()
    try:
        qtbot.waitUntil(lambda: bool(replies), timeout=5000)
        assert replies[0].startswith(b'{"ok": false')
        assert got == []
        # ... and the server still serves the next launch.
        result = forward_in_thread(sock_path, Request("show"))
        qtbot.waitUntil(lambda: bool(result), timeout=5000)
        assert result == [Outcome.DELIVERED] and got == [Request("show")]
    finally:
        server.close()


def test_a_failing_handler_does_not_break_the_server(qtbot: QtBot, sock_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    calls: list[Request] = []

    def handler(request: Request) -> None:
        calls.append(request)
        raise RuntimeError("boom")

    server = InstanceServer(sock_path, handler)
    assert server.listen()
    try:
        for _ in range(2):
            result = forward_in_thread(sock_path, Request("show"))
            qtbot.waitUntil(lambda r=result: bool(r), timeout=5000)  # type: ignore[misc]
            assert result == [Outcome.DELIVERED]
    finally:
        server.close()
    assert len(calls) == 2
    assert "Handling" in caplog.text


def test_the_election_lock_is_exclusive(sock_path: Path) -> None:
    entered: list[str] = []
    # flock belongs to an open file description, so a second open waits even in-process.
    with (single_instance.election(sock_path), pytest.raises(TimeoutError),
          single_instance.election(sock_path, timeout=0.2)):
        entered.append("second")
    assert entered == []
    with single_instance.election(sock_path, timeout=0.2):
        entered.append("after release")
    assert entered == ["after release"]


# ----------------------------------------------------------------------------- real launches


@pytest.fixture(scope="session")
def app_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One narration cache for every launched app, so the quick reset is synthesized once."""
    return tmp_path_factory.mktemp("app-cache")


def app_env(tmp_path: Path, cache: Path) -> dict[str, str]:
    """A private everything: XDG folders, no session bus, ALSA's null device, offscreen Qt."""
    alsa = tmp_path / "alsa-null.conf"
    alsa.write_text(ALSA_NULL)
    runtime = Path(tempfile.mkdtemp(prefix="coreg-rt-"))
    runtime.chmod(0o700)
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CACHE_HOME": str(cache),
        "XDG_RUNTIME_DIR": str(runtime),
        "QT_QPA_PLATFORM": "offscreen",
        "DBUS_SESSION_BUS_ADDRESS": f"unix:path={runtime}/no-bus",
        "ALSA_CONFIG_PATH": f"/usr/share/alsa/alsa.conf:{alsa}",
        "PULSE_SERVER": f"unix:{runtime}/no-pulse",
    }
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


def launch(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "coreg_desktop", *args],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def log_text(tmp_path: Path) -> str:
    log = tmp_path / "state" / "coreg-desktop" / "logs" / "coreg-desktop.log"
    return log.read_text(errors="replace") if log.exists() else ""


@pytest.mark.slow
def test_many_launches_leave_exactly_one_app_and_quit_ends_it(tmp_path: Path,
                                                              app_cache: Path) -> None:
    env = app_env(tmp_path, app_cache)
    procs = [launch(env, "--minimized") for _ in range(3)]
    time.sleep(0.3)
    procs += [launch(env, "--minimized") for _ in range(3)]
    try:
        wait_for(lambda: sum(p.poll() is None for p in procs) == 1, 30,
                 "all but one launch to hand over and exit")
        time.sleep(1.0)  # and it stays that way
        alive = [p for p in procs if p.poll() is None]
        assert len(alive) == 1, log_text(tmp_path)
        for p in procs:
            if p is not alive[0]:
                assert p.returncode == 0, p.stderr.read() if p.stderr else ""
        # A second wave goes to the same app, each exiting 0 at once.
        for args in (["--minimized"], []):
            started = time.monotonic()
            done = subprocess.run([sys.executable, "-m", "coreg_desktop", *args], env=env,
                                  capture_output=True, timeout=30, check=False)
            assert done.returncode == 0, done.stderr.decode()
            assert time.monotonic() - started < 5.0
        # A mistyped practice is refused here, as it is when nothing runs: one line, exit 2.
        done = subprocess.run([sys.executable, "-m", "coreg_desktop", "--practice", "stay-saf"],
                              env=env, capture_output=True, timeout=30, check=False)
        assert done.returncode == 2
        assert done.stderr.decode().strip().splitlines() == [
            'coreg-desktop: no practice named "stay-saf"; did you mean \'stay-safe\'?'
        ]
        assert alive[0].poll() is None
        text = log_text(tmp_path)
        assert "Another launch asks for ping" in text
        assert "Another launch asks for show" in text
        # --quit ends the running app cleanly.
        done = subprocess.run([sys.executable, "-m", "coreg_desktop", "--quit"], env=env,
                              capture_output=True, timeout=30, check=False)
        assert done.returncode == 0, done.stderr.decode()
        code = alive[0].wait(timeout=20)
        assert code == 0, alive[0].stderr.read().decode() if alive[0].stderr else code
        # With nobody running, --quit says so and starts nothing.
        done = subprocess.run([sys.executable, "-m", "coreg_desktop", "--quit"], env=env,
                              capture_output=True, timeout=30, check=False)
        assert done.returncode == 0
        assert b"not running" in done.stderr
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
