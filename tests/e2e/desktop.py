"""Seeing and clicking what a user sees: a private X server with a tray, and Coreg launched on it.

Used by tests/e2e/test_desktop.py and scripts/bench_desktop.py. The recipes are DESIGN.md's:

* `Xvfb :N` plus `trayer` (a tray host, so QSystemTrayIcon.isSystemTrayAvailable() is true). The
  display number is always a free one of our own, never the developer's session.
* The tray icon is a child of trayer's "panel" window in `xwininfo -root -tree`.
* A click is `xdotool mousemove X Y`, a pause, then `xdotool click 1`: in one step the click gets
  lost.
* Closing a window like a window manager's close button means sending it WM_DELETE_WINDOW; there
  is no window manager here and xdotool cannot send that, so a few lines of ctypes do.

Debian packages: xvfb trayer xdotool x11-utils imagemagick.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TOOLS = {"Xvfb": "xvfb", "trayer": "trayer", "xdotool": "xdotool", "xwininfo": "x11-utils",
         "import": "imagemagick", "compare": "imagemagick"}
SCREEN = (1280, 800)
#: Logged by the app (coreg_desktop.desktop.app.READY_MESSAGE) once a click needs no synthesis.
READY_MESSAGE = "Quick reset is ready"

_GEOMETRY = re.compile(r"(\d+)x(\d+)\+(-?\d+)\+(-?\d+)\s+\+(-?\d+)\+(-?\d+)")


def missing_requirements() -> str | None:
    missing = sorted({pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None})
    if missing:
        return ("the desktop e2e tests need: " + ", ".join(missing)
                + f" (sudo apt-get install -y {' '.join(missing)})")
    return None


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    width: int
    height: int

    @property
    def center(self) -> tuple[int, int]:
        return self.x + self.width // 2, self.y + self.height // 2


def wait_until(condition: Callable[[], object], timeout: float) -> bool:
    """Polls: X tools and a child process give no event to wait on."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def end_process(proc: subprocess.Popen[Any], grace: float = 5.0) -> None:
    """Terminate, and kill only what ignores that for `grace` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


class XSession:
    """A private Xvfb with trayer on a free display number."""

    def __init__(self) -> None:
        self.display = ""
        self.xvfb: subprocess.Popen[bytes] | None = None
        self.trayer: subprocess.Popen[bytes] | None = None
        self.env: dict[str, str] = {}

    def start(self, timeout: float = 15.0, tray: bool = True) -> None:
        for number in range(140, 400):
            if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
                continue
            self.display = f":{number}"
            self.xvfb = subprocess.Popen(
                ["Xvfb", self.display, "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24",
                 "-nolisten", "tcp"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            self.env = {"DISPLAY": self.display}
            if wait_until(lambda: self.run("xwininfo", "-root").returncode == 0, timeout):
                break
            end_process(self.xvfb)  # lost a race for that number; try the next
        else:
            raise RuntimeError("no free X display number")
        if not tray:
            return  # a desktop without a tray (GNOME without the AppIndicator extension)
        self.trayer = subprocess.Popen(
            ["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
             "--height", "24", "--transparent", "false"],
            env={**os.environ, **self.env}, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        if not wait_until(lambda: self.panel() is not None, timeout):
            raise RuntimeError("trayer's panel did not appear")

    def stop(self) -> None:
        for proc in (self.trayer, self.xvfb):
            if proc is not None:
                end_process(proc)

    def run(self, *cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(cmd), env={**os.environ, **self.env}, capture_output=True,
                              text=True, timeout=30, check=False)

    # ------------------------------------------------------------------ looking

    def _tree(self) -> list[str]:
        return self.run("xwininfo", "-root", "-tree").stdout.splitlines()

    def panel(self) -> Rect | None:
        for line in self._tree():
            if '"panel"' in line:
                m = _GEOMETRY.search(line)
                if m:
                    w, h, _, _, ax, ay = map(int, m.groups())
                    return Rect(ax, ay, w, h)
        return None

    def tray_icon(self) -> Rect | None:
        """The first icon docked in trayer's panel (a descendant of the "panel" window)."""
        lines = self._tree()
        for i, line in enumerate(lines):
            if '"panel"' not in line:
                continue
            indent = len(line) - len(line.lstrip())
            for child in lines[i + 1:]:
                if child.strip() and len(child) - len(child.lstrip()) <= indent:
                    break
                m = _GEOMETRY.search(child)
                if m:
                    w, h, _, _, ax, ay = map(int, m.groups())
                    if w >= 12 and h >= 12 and ax >= 0 and ay >= 0:
                        return Rect(ax, ay, w, h)
        return None

    def visible_windows(self, name: str) -> dict[int, Rect]:
        """Mapped windows whose title matches `name` (a regex), with their geometry."""
        found = self.run("xdotool", "search", "--onlyvisible", "--name", name).stdout.split()
        windows: dict[int, Rect] = {}
        for wid in found:
            info = self.run("xwininfo", "-id", wid).stdout
            values = dict(re.findall(r"^\s*(Absolute upper-left [XY]|Width|Height):\s+(-?\d+)",
                                     info, re.M))
            if len(values) == 4:
                windows[int(wid)] = Rect(int(values["Absolute upper-left X"]),
                                         int(values["Absolute upper-left Y"]),
                                         int(values["Width"]), int(values["Height"]))
        return windows

    def screenshot(self, path: Path) -> Path:
        done = self.run("import", "-window", "root", str(path))
        if done.returncode != 0:
            raise RuntimeError(f"import failed: {done.stderr}")
        return path

    def differing_pixels(self, a: Path, b: Path, fuzz: str = "2%") -> int:
        done = self.run("compare", "-metric", "AE", "-fuzz", fuzz, str(a), str(b), "null:")
        return int(float(done.stderr.split()[0]))

    # ------------------------------------------------------------------ touching

    def move(self, x: int, y: int) -> None:
        self.run("xdotool", "mousemove", str(x), str(y))

    def click(self, button: int = 1) -> None:
        self.run("xdotool", "click", str(button))

    def move_and_click(self, x: int, y: int, button: int = 1) -> None:
        self.move(x, y)
        time.sleep(0.3)
        self.click(button)

    def key(self, *keys: str) -> None:
        self.run("xdotool", "key", *keys)

    def close_window(self, wid: int) -> None:
        """What a window manager's close button does: send WM_DELETE_WINDOW."""
        send_wm_delete(self.display, wid)


class _XClientMessageEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong),
        ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int),
        ("data", ctypes.c_long * 5),
    ]


class _XEvent(ctypes.Union):
    _fields_ = [("xclient", _XClientMessageEvent), ("pad", ctypes.c_long * 24)]


def send_wm_delete(display: str, wid: int) -> None:
    name = ctypes.util.find_library("X11")
    if name is None:
        raise RuntimeError("libX11 is not installed")
    x11 = ctypes.cdll.LoadLibrary(name)
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long,
                               ctypes.POINTER(_XEvent)]
    x11.XFlush.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = x11.XOpenDisplay(display.encode())
    if not dpy:
        raise RuntimeError(f"cannot open display {display}")
    try:
        event = _XEvent()
        event.xclient.type = 33  # ClientMessage
        event.xclient.window = wid
        event.xclient.message_type = x11.XInternAtom(dpy, b"WM_PROTOCOLS", 0)
        event.xclient.format = 32
        event.xclient.data[0] = x11.XInternAtom(dpy, b"WM_DELETE_WINDOW", 0)
        event.xclient.data[1] = 0  # CurrentTime
        x11.XSendEvent(dpy, wid, 0, 0, ctypes.byref(event))
        x11.XFlush(dpy)
    finally:
        x11.XCloseDisplay(dpy)


# ----------------------------------------------------------------------------- the app


class CoregApp:
    """`python -m coreg_desktop` on the private display and sound server, with its own folders."""

    def __init__(self, home: Path, env: dict[str, str], cache: Path | None = None) -> None:
        self.home = home
        runtime = Path(tempfile.mkdtemp(prefix="coreg-rt-"))  # short: unix socket paths
        runtime.chmod(0o700)
        self.runtime = runtime
        self.env = {
            **env,
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_STATE_HOME": str(home / "state"),
            "XDG_CACHE_HOME": str(cache or home / "cache"),
            "XDG_RUNTIME_DIR": str(runtime),
            "PYTHONUNBUFFERED": "1",
        }
        self.env.setdefault("DBUS_SESSION_BUS_ADDRESS", f"unix:path={runtime}/no-bus")
        self.env.pop("QT_QPA_PLATFORM", None)
        self.proc: subprocess.Popen[str] | None = None
        self.stderr_path = home / "app-stderr.txt"

    @property
    def log_path(self) -> Path:
        return self.home / "state" / "coreg-desktop" / "logs" / "coreg-desktop.log"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def start(self, *args: str) -> subprocess.Popen[str]:
        self.home.mkdir(parents=True, exist_ok=True)
        err = self.stderr_path.open("a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "coreg_desktop", *args], env=self.env, text=True,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
        )
        err.close()
        return self.proc

    def second(self, *args: str, timeout: float = 30.0) -> tuple[subprocess.CompletedProcess[str],
                                                                  float]:
        """Another launch, as from a launcher or a terminal: its result and wall time."""
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "coreg_desktop", *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout, check=False)
        return done, time.perf_counter() - started

    def wait_ready(self, timeout: float = 240.0) -> None:
        """Until the quick reset is prepared (first run: the whole narration is synthesized)."""
        deadline = time.monotonic() + timeout
        while READY_MESSAGE not in self.log():
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"Coreg exited with {self.proc.returncode}:\n{self.stderr()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Coreg was not ready within {timeout} s:\n{self.log()[-3000:]}")
            time.sleep(0.1)

    def stderr(self) -> str:
        with contextlib.suppress(FileNotFoundError):
            return self.stderr_path.read_text(errors="replace")
        return ""

    def report(self, tail: int = 6000) -> str:
        """What to show when the app misbehaved: its terminal output and the end of its log,
        where a crash's traceback is (the terminal gets one line, by design)."""
        return f"stderr:\n{self.stderr()}\nlog (end):\n{self.log()[-tail:]}"

    def stop(self) -> None:
        if self.proc is not None:
            end_process(self.proc, grace=15)
        shutil.rmtree(self.runtime, ignore_errors=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc, in seconds)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_percent(pid: int, seconds: float) -> float:
    """Average CPU use of `pid` over the next `seconds`, in % of one core."""
    before = cpu_seconds(pid)
    start = time.monotonic()
    time.sleep(seconds)
    return 100.0 * (cpu_seconds(pid) - before) / (time.monotonic() - start)
