"""Hearing what the listener hears: a private PulseAudio with a null sink, a hum, and a recorder.

The server is started exactly as DESIGN.md describes::

    pulseaudio -n --daemonize=no --exit-idle-time=-1 \\
        --load="module-null-sink sink_name=out" --load=module-native-protocol-unix
    pactl set-default-sink out

but with its own runtime directory (``XDG_RUNTIME_DIR``, ``PULSE_RUNTIME_PATH``, ``HOME`` and
``PULSE_STATE_PATH`` under a fresh temporary directory), so it never meets a desktop's sound server
or another test run's. Client autospawn is switched off (``PULSE_CLIENTCONFIG``), so a client that
looks for a killed server gets "connection refused" instead of quietly starting a different one.

How sounddevice reaches it. PortAudio (Debian ``libportaudio2``) is built with the ALSA host API
only, so the path is PortAudio -> ALSA ``default`` PCM -> ALSA's pulse plugin (Debian
``libasound2-plugins``, ``libasound_module_pcm_pulse.so``) -> the server named by ``PULSE_SERVER``.
On Debian the ``pulseaudio`` package also ships ``/etc/alsa/conf.d/99-pulse.conf``, a hook that
points ALSA's ``default`` at pulse *if a server answers when PortAudio initialises*; that alone
works here. The tests do not rely on it, though, because a developer's machine may route ``default``
elsewhere (PipeWire's ``99-pipewire-default.conf``, a sound card, an ``~/.asoundrc``) and the tests
must never play on real speakers. Instead they set::

    ALSA_CONFIG_PATH=/usr/share/alsa/alsa.conf:<tmp>/coreg-pulse.conf

where the second file is ``pcm.!default { type pulse }`` and ``ctl.!default { type pulse }``. ALSA
reads the system file first (with all its hooks), then ours, so ``default`` always means "the pulse
server in PULSE_SERVER". No ``~/.asoundrc`` is written. PortAudio must be (re)initialised after
these variables are set; SoundDeviceOutput does that whenever it opens a stream.

Debian packages: ``pulseaudio pulseaudio-utils libasound2-plugins libportaudio2``.

Timing from a recording. A null sink's monitor delivers nothing while nothing plays, which would
silently drop silences from a recording, so white noise at about -66 dBFS (the "hum") plays all the
time and keeps the monitor flowing in real time. The recorder writes raw 16 kHz mono s16le, so a
file size pins a moment: bytes / 32000 = seconds into the recording.
"""

from __future__ import annotations

import contextlib
import glob
import math
import os
import shutil
import signal
import subprocess
import threading
import time
import wave
from pathlib import Path

import numpy as np

#: What the harness needs, as Debian packages.
DEBIAN_PACKAGES = ("pulseaudio", "pulseaudio-utils", "libasound2-plugins", "libportaudio2")
TOOLS = {"pulseaudio": "pulseaudio", "pactl": "pulseaudio-utils", "paplay": "pulseaudio-utils",
         "parec": "pulseaudio-utils"}
SINK = "out"
MONITOR = "out.monitor"

REC_RATE = 16_000
BYTES_PER_SECOND = REC_RATE * 2  # s16le mono
HUM_DBFS = -66.0
HUM_SECONDS = 120

#: pcm/ctl "default" forced to the pulse plugin, appended after the system alsa.conf.
ALSA_PULSE_CONF = """\
pcm.!default {
    type pulse
    hint { show on description "Coreg test PulseAudio (null sink)" }
}
ctl.!default {
    type pulse
}
"""


def _alsa_conf() -> Path:
    return Path(os.environ.get("ALSA_CONFIG_DIR", "/usr/share/alsa")) / "alsa.conf"


def missing_requirements() -> str | None:
    """Why the PulseAudio e2e tests cannot run here, with the install command; None if they can."""
    missing = sorted({pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None})
    plugin = glob.glob("/usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so") + glob.glob(
        "/usr/lib*/alsa-lib/libasound_module_pcm_pulse.so"
    )
    if not plugin:
        missing.append("libasound2-plugins")
    try:
        import sounddevice  # noqa: F401
    except OSError:
        missing.append("libportaudio2")
    if not _alsa_conf().is_file():
        missing.append(f"libasound2 (no {_alsa_conf()})")
    if missing:
        return ("PulseAudio e2e tests need: " + ", ".join(sorted(set(missing)))
                + f" (sudo apt-get install -y {' '.join(DEBIAN_PACKAGES)})")
    return None


def write_hum(path: Path, seconds: int = HUM_SECONDS, dbfs: float = HUM_DBFS) -> Path:
    """White noise at `dbfs` RMS: loud enough to keep the monitor flowing, far below any signal."""
    rng = np.random.default_rng(1234)
    rms = 10 ** (dbfs / 20) * 32768
    noise = np.clip(rng.normal(0.0, rms, seconds * REC_RATE), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(REC_RATE)
        w.writeframes(noise.tobytes())
    return path


class PulseServer:
    """One private PulseAudio daemon that can be killed and restarted on the same socket."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runtime = root / "run"
        self.socket = self.runtime / "pulse" / "native"
        self.log_path = root / "pulseaudio.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        for d in (self.runtime, root / "home", root / "state"):
            d.mkdir(parents=True, exist_ok=True)
        self.runtime.chmod(0o700)
        client_conf = root / "client.conf"
        client_conf.write_text("autospawn = no\n")
        alsa_conf = root / "coreg-pulse.conf"
        alsa_conf.write_text(ALSA_PULSE_CONF)
        self.hum_path = write_hum(root / "hum.wav")
        #: Variables that point clients (pactl, parec, ALSA's pulse plugin) at this server only.
        self.client_env: dict[str, str] = {
            "PULSE_SERVER": f"unix:{self.socket}",
            "XDG_RUNTIME_DIR": str(self.runtime),
            "PULSE_RUNTIME_PATH": str(self.runtime / "pulse"),
            "PULSE_STATE_PATH": str(root / "state"),
            "PULSE_CLIENTCONFIG": str(client_conf),
            "PULSE_COOKIE": str(root / "state" / "cookie"),
            "ALSA_CONFIG_PATH": f"{_alsa_conf()}:{alsa_conf}",
        }
        #: Full environment for subprocesses (the daemon also gets a private HOME).
        self.env = {**os.environ, **self.client_env}
        self._daemon_env = {**self.env, "HOME": str(root / "home")}
        self._hum_stop = threading.Event()
        self._hum_thread: threading.Thread | None = None
        self._hum_proc: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self, timeout: float = 10.0, hum: bool = True) -> None:
        """Start the daemon, wait until it answers, make `out` the default sink, start the hum."""
        if self.alive():
            raise RuntimeError("the test PulseAudio is already running")
        with contextlib.suppress(FileNotFoundError):
            (self.runtime / "pulse" / "pid").unlink()
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1",
             f"--load=module-null-sink sink_name={SINK}", "--load=module-native-protocol-unix"],
            env=self._daemon_env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )
        log.close()
        self.starts += 1
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"pulseaudio exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            if self.pactl("info").returncode == 0:
                break
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(
                    f"pulseaudio did not answer within {timeout} s:\n{self.log_tail()}"
                )
            time.sleep(0.05)
        done = self.pactl("set-default-sink", SINK)
        if done.returncode != 0:
            raise RuntimeError(f"pactl set-default-sink {SINK} failed: {done.stderr!r}")
        if hum:
            self._start_hum()
            self._warm_up(deadline)

    def _warm_up(self, deadline: float) -> None:
        """Make the fresh null sink run at the hum's low latency now rather than in ~2 s.

        A new null sink sleeps for its default 2 s latency before it first wakes up and notices
        that a stream asked for less, so every stream opened in its first ~2 s stalls (and the
        monitor, hence parec, delivers nothing). Once the hum is connected, a suspend/resume
        restarts the sink's timer at the hum's latency.
        """
        while "coreg-test-hum" not in self.sink_inputs():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the hum did not start:\n{self.log_tail()}")
            time.sleep(0.02)
        for state in ("1", "0"):
            done = self.pactl("suspend-sink", SINK, state)
            if done.returncode != 0:
                raise RuntimeError(f"pactl suspend-sink {SINK} {state} failed: {done.stderr!r}")

    def kill(self) -> None:
        """Kill the daemon the hard way (as a crash would) and reap it.

        Reaping matters: a zombie keeps its pid "alive", and the next daemon would read the pid
        file, believe a server is already running, and refuse to start.
        """
        self._stop_hum()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """Stop the daemon politely (at teardown)."""
        self._stop_hum()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def restart(self, timeout: float = 10.0) -> None:
        """A crashed-and-restarted sound server: same socket path, new daemon."""
        self.kill()
        self.start(timeout=timeout)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # ------------------------------------------------------------------ helpers

    def pactl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True,
                              timeout=10, check=False)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def sink_inputs(self) -> list[str]:
        """Application names of the streams playing into the server right now."""
        out = self.pactl("list", "sink-inputs").stdout
        return [line.split("=", 1)[1].strip().strip('"') for line in out.splitlines()
                if line.strip().startswith("application.name =")]

    # ------------------------------------------------------------------ hum

    def _start_hum(self) -> None:
        self._hum_stop.clear()
        self._hum_thread = threading.Thread(target=self._hum_loop, name="test-hum", daemon=True)
        self._hum_thread.start()

    def _hum_loop(self) -> None:
        # A low requested latency keeps the null sink running with short periods, so a new stream
        # starts flowing at once instead of after the sink's default 2 s buffer.
        while not self._hum_stop.is_set():
            self._hum_proc = subprocess.Popen(
                ["paplay", "--latency-msec=40", "--client-name=coreg-test-hum", str(self.hum_path)],
                env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            self._hum_proc.wait()
            self._hum_stop.wait(0.05)

    def _stop_hum(self) -> None:
        self._hum_stop.set()
        proc = self._hum_proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
        if self._hum_thread is not None:
            self._hum_thread.join(timeout=5)
            self._hum_thread = None
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)


class Recorder:
    """Records the null sink's monitor as raw 16 kHz mono s16le, so file size is a clock."""

    def __init__(self, server: PulseServer, path: Path) -> None:
        self.server = server
        self.base = path
        self.segment = 0
        self.path = path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Start parec and wait until data flows (parec takes about a second to get going)."""
        self.proc = self._spawn()
        deadline = time.monotonic() + timeout
        while self._size() < BYTES_PER_SECOND // 10:  # 0.1 s of audio arrived
            if self.proc.poll() is not None:
                raise RuntimeError(f"parec exited with {self.proc.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"no audio from {MONITOR} within {timeout} s")
            time.sleep(0.02)

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self.path.open("wb") as f:
            return subprocess.Popen(
                ["parec", "-d", MONITOR, "--raw", "--format=s16le", f"--rate={REC_RATE}",
                 "--channels=1", "--latency-msec=20", "--client-name=coreg-test-recorder"],
                env=self.server.env, stdin=subprocess.DEVNULL, stdout=f,
                stderr=subprocess.DEVNULL,
            )

    def restart(self, timeout: float = 10.0) -> None:
        """Record into a new file (e.g. after the server was restarted; the old parec died)."""
        self.stop()
        self.segment += 1
        self.path = self.base.with_name(f"{self.base.stem}-{self.segment}{self.base.suffix}")
        self.start(timeout=timeout)

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)
            self.proc = None

    def _size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    # ------------------------------------------------------------------ analysis

    def mark(self) -> float:
        """Seconds into the current recording, right now."""
        return self._size() / BYTES_PER_SECOND

    def wait_until(self, seconds: float, timeout: float = 30.0) -> None:
        """Wait until the recording is at least `seconds` long (it grows in real time)."""
        deadline = time.monotonic() + timeout
        while self.mark() < seconds:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"recording stuck at {self.mark():.2f} s, wanted {seconds:.2f} s"
                )
            time.sleep(0.02)

    def samples(self) -> np.ndarray:
        """The recording so far as float32 in [-1, 1)."""
        raw = self.path.read_bytes()
        raw = raw[: len(raw) // 2 * 2]
        return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0

    @staticmethod
    def _dbfs(x: np.ndarray) -> float:
        """RMS level re full scale = 1.0 (so a full-scale sine is -3.01 dBFS)."""
        if len(x) == 0:
            return -math.inf
        rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
        return 20 * math.log10(rms) if rms > 0 else -math.inf

    def rms_dbfs(self, a: float, b: float) -> float:
        """Level of the recording between `a` and `b` seconds."""
        s = self.samples()
        return self._dbfs(s[int(a * REC_RATE) : int(b * REC_RATE)])

    def onset_after(self, t: float, threshold_dbfs: float = -40.0,
                    window: float = 0.010) -> float | None:
        """Start (seconds) of the first `window` after `t` louder than `threshold_dbfs`."""
        s = self.samples()
        n = int(window * REC_RATE)
        i = int(t * REC_RATE)
        while i + n <= len(s):
            if self._dbfs(s[i : i + n]) > threshold_dbfs:
                return i / REC_RATE
            i += n
        return None

    def dominant_hz(self, a: float, b: float) -> float:
        """The strongest frequency between `a` and `b` seconds (what the listener would hear)."""
        s = self.samples()[int(a * REC_RATE) : int(b * REC_RATE)].astype(np.float64)
        if len(s) < 64:
            return 0.0
        spectrum = np.abs(np.fft.rfft(s * np.hanning(len(s))))
        return float(np.argmax(spectrum) * REC_RATE / len(s))
