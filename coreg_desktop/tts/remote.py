"""Neural synthesis in child processes, behind the same `Synthesizer` protocol.

Why a process and not a thread: a synthesis thread shares the interpreter lock with the GUI and
the audio callback. Lowered to the idle class so that it never competes for the CPU, it is
descheduled under load while holding that lock, and then the sound and the window wait for it
(13 s without an audio callback, measured with two busy loops on two cores); at exit it can be
torn down inside onnxruntime, which aborts the process. A child has its own interpreter, its own
priority (tts/worker.py), and its model's hundred and more megabytes go away with it, so an app
resting in the tray has never imported onnxruntime at all.

One child per priority class, chosen by what the calling thread said its work is for
(`priority.intent()`): the preparer's lines go to an idle-class child, a session's (and anything
someone waits for) to one at nice 10. Each is started on first use, or by `warm_up` as soon as a
line is known to be needed, so its start overlaps the app's own. Children exit by themselves
after a while unused, and are stopped when the app rests (`unload`) and at exit.

Failures keep the practice going: a child that dies during a line is replaced once for that line;
one that cannot start at all (no interpreter, an import that fails) makes this voice speak in the
app's own process, with one warning. Stopping never waits for a line: the pipes are closed and a
busy child is killed, then reaped.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import json
import logging
import queue
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, Literal, cast

import numpy as np

from coreg_desktop import priority
from coreg_desktop.constants import SYNTH_LAUNCHER_THREAD, SYNTH_LOG_THREAD_PREFIX
from coreg_desktop.exit_guard import exiting
from coreg_desktop.tts import wire
from coreg_desktop.tts.base import SynthesisError, Synthesizer, child_env

log = logging.getLogger(__name__)

Klass = Literal["ahead", "soon"]
KLASSES: tuple[Klass, ...] = ("ahead", "soon")
WORKER_MODULE = "coreg_desktop.tts.worker"
#: How long a child lives unused (it exits by itself; see tts/worker.py).
IDLE_EXIT_S = 120.0
#: A child this close to its own idle exit is replaced rather than sent a line it may not read.
IDLE_MARGIN_S = 2.0
#: How long an idle child is given to leave at end of input before it is killed.
STOP_GRACE_S = 0.5
_STDERR_KEPT = 20


class _CannotStart(Exception):
    """The child exited (or could not be run) before it said hello."""


class _Died(Exception):
    """The child went away after its hello: killed, crashed, or stopped."""


def klass_for(intent: priority.Intent) -> Klass:
    """Preparing ahead goes to the idle child; anything a person or a session waits for, not."""
    return "ahead" if intent == "ahead" else "soon"


class _Launcher:
    """Starts every child from one long-lived thread.

    Linux sends the parent-death signal when the *thread* that forked the child ends, not the
    process; a child started from a session's short-lived narration thread would be killed with
    that thread. This thread lives as long as the app.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[tuple[list[str], list[object], threading.Event]] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=SYNTH_LAUNCHER_THREAD,
                                                daemon=True)
                self._thread.start()

    def spawn(self, command: list[str]) -> subprocess.Popen[bytes]:
        self.start()
        box: list[object] = []
        done = threading.Event()
        self._queue.put((command, box, done))
        done.wait()
        result = box[0]
        if isinstance(result, BaseException):
            raise result
        return cast("subprocess.Popen[bytes]", result)

    def _run(self) -> None:
        while True:
            command, box, done = self._queue.get()
            try:
                box.append(subprocess.Popen(
                    command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, env=child_env(), close_fds=True,
                ))
            except BaseException as exc:  # handed to the caller
                box.append(exc)
            finally:
                done.set()


_LAUNCHER = _Launcher()
_SPAWNED = [0]  # children started in this process, ever (for tests and `doctor`)


def spawned() -> int:
    """How many synthesis children this process has started."""
    return _SPAWNED[0]


class SynthesisChild:
    """One running synthesis process: its pipes, its hello, and its log forwarded to ours."""

    def __init__(self, command: list[str], klass: Klass) -> None:
        self.klass = klass
        try:
            self.proc = _LAUNCHER.spawn(command)
        except OSError as exc:
            raise _CannotStart(f"cannot run {command[0]}: {exc.strerror or exc}") from exc
        _SPAWNED[0] += 1
        self.pid = self.proc.pid
        self.hello: dict[str, Any] | None = None
        self.ready: dict[str, Any] | None = None
        self.busy = False
        self.stopping = False
        self.last_used = time.monotonic()
        self._stderr: collections.deque[str] = collections.deque(maxlen=_STDERR_KEPT)
        self._reaped = threading.Event()
        threading.Thread(target=self._forward_log, name=f"{SYNTH_LOG_THREAD_PREFIX}{self.pid}",
                         daemon=True).start()
        log.debug("started synthesis process %d (%s)", self.pid, klass)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def idle_for(self) -> float:
        return time.monotonic() - self.last_used

    def rss_mb(self) -> float | None:
        """Resident size from /proc (Linux), None once it has gone."""
        try:
            with open(f"/proc/{self.pid}/statm", encoding="ascii") as fh:
                pages = int(fh.read().split()[1])
        except (OSError, ValueError, IndexError):
            return None
        import resource

        return pages * resource.getpagesize() / 1e6

    # ------------------------------------------------------------------ talking to it

    def _receive(self) -> tuple[dict[str, Any], bytes]:
        assert self.proc.stdout is not None
        try:
            return wire.receive(cast("Any", self.proc.stdout))
        except (wire.WireClosed, OSError, ValueError) as exc:
            raise _Died(str(exc)) from exc

    def _why(self) -> str:
        code = self.proc.poll()
        last = [line for line in self._stderr if line.strip()]
        detail = f": {last[-1].split(chr(9))[-1]}" if last else ""
        return (f"exit {code}" if code is not None else "closed its pipe") + detail

    def wait_hello(self) -> dict[str, Any]:
        if self.hello is None:
            try:
                header, _ = self._receive()
            except _Died as exc:
                self._reaped.wait(1.0)  # its last words are in the log by then
                raise _CannotStart(self._why()) from exc
            if not header.get("hello"):
                raise _CannotStart(f"it said {header!r} instead of hello")
            self.hello = header
        return self.hello

    def wait_ready(self) -> dict[str, Any]:
        self.wait_hello()
        if self.ready is None:
            self.busy = True
            try:
                header, _ = self._receive()
            finally:
                self.busy = False
                self.last_used = time.monotonic()
            self.ready = header
        return self.ready

    def synthesize(self, text: str, rate: float) -> tuple[dict[str, Any], bytes]:
        self.wait_ready()
        assert self.proc.stdin is not None
        self.busy = True
        try:
            try:
                wire.send(cast("Any", self.proc.stdin),
                          {"op": "synth", "text": text, "rate": float(rate)})
            except (OSError, ValueError) as exc:  # a closed or broken pipe: it has gone
                raise _Died(str(exc)) from exc
            return self._receive()
        finally:
            self.busy = False
            self.last_used = time.monotonic()

    # ------------------------------------------------------------------ ending it

    def stop(self) -> None:
        """End the child without waiting for a line: close its input, kill it if busy, reap."""
        self.stopping = True
        with contextlib.suppress(OSError, ValueError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        if self.busy:
            self.proc.kill()
        try:
            self.proc.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if not self.busy and self.proc.stdout is not None:
            with contextlib.suppress(OSError, ValueError):
                self.proc.stdout.close()
        log.debug("stopped synthesis process %d (exit %s)", self.pid, self.proc.returncode)

    def _forward_log(self) -> None:
        """The child's log lines into ours, at their own level; reap the child at its end."""
        stream = cast("IO[bytes]", self.proc.stderr)
        level = logging.INFO
        try:
            for raw in stream:
                line = raw.decode("utf-8", "replace").rstrip()
                if not line:
                    continue
                self._stderr.append(line)
                name, tab, text = line.partition("\t")
                if tab and name in logging.getLevelNamesMapping():
                    level = logging.getLevelNamesMapping()[name]
                else:
                    text = line  # a traceback's continuation, or a library's own print
                log.log(level, "[synthesis %s %d] %s", self.klass, self.pid, text)
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError, ValueError):
                stream.close()
            with contextlib.suppress(OSError):
                self.proc.wait()  # reaped: no zombie, whoever ended it
            self._reaped.set()


def spec_of(synth: Synthesizer) -> dict[str, Any] | None:
    """What a child needs to build the same voice, or None for a voice that stays in-process."""
    from coreg_desktop.tts.kokoro import KokoroSynthesizer
    from coreg_desktop.tts.piper import PiperSynthesizer

    if isinstance(synth, PiperSynthesizer):
        return {"engine": "piper", "model": str(synth.model_path), "voice": synth.voice,
                "noise_scale": synth.noise_scale, "noise_w_scale": synth.noise_w_scale}
    if isinstance(synth, KokoroSynthesizer) and not synth.fell_back:
        return {"engine": "kokoro", "name": synth.name}
    return None


class RemoteSynthesizer:
    """A neural voice spoken by child processes; `local` is the same voice, for the fallback.

    `engine`, `engine_version` and `voice` start as `local`'s and follow what the child says it
    spoke with, so a clip is always cached as what it is. `on_fallback` is told (once) when a
    Kokoro voice has to speak through Piper, as `KokoroSynthesizer.on_fallback` is.
    """

    def __init__(
        self,
        local: Synthesizer,
        spec: dict[str, Any],
        *,
        command: Sequence[str] | None = None,
        idle_exit_s: float = IDLE_EXIT_S,
    ) -> None:
        self._local = local
        self._spec = dict(spec)
        self.engine = local.engine
        self.engine_version = local.engine_version
        self.voice = local.voice
        self.on_fallback: Callable[[str], None] | None = None
        self._told_fallback = False
        if hasattr(local, "on_fallback"):
            local.on_fallback = self._local_fell_back
        self._idle_exit_s = float(idle_exit_s)
        base = list(command) if command else [sys.executable, "-m", WORKER_MODULE]
        self._command = base
        self._children: dict[Klass, SynthesisChild] = {}
        self._locks: dict[Klass, threading.Lock] = {k: threading.Lock() for k in KLASSES}
        self._state = threading.Lock()
        self._in_process: str | None = None  # why the children could not start, once they not
        self._closed = False
        _ALL.add(self)
        _LAUNCHER.start()  # from the thread making the voice, not a lowered worker's

    @property
    def in_process(self) -> bool:
        """True once this voice speaks in the app's own process (its children cannot start)."""
        return self._in_process is not None

    def processes(self) -> list[SynthesisChild]:
        """The children running now (for `doctor` and tests)."""
        with self._state:
            return [c for c in self._children.values() if c.alive]

    # ------------------------------------------------------------------ the protocol

    def warm_up(self) -> None:
        """Start the child for the calling thread's class and wait until its model is loaded."""
        klass = klass_for(priority.intent())
        with self._locks[klass]:
            if self._in_process is None:
                try:
                    child = self._child(klass)
                    ready = child.wait_ready()
                except _CannotStart as exc:
                    self._go_in_process(str(exc))
                except _Died as exc:
                    self._forget(klass)
                    raise SynthesisError(f"the synthesis process ended while loading ({exc})"
                                         ) from exc
                else:
                    self._adopt(ready)
                    if not ready.get("ready"):
                        raise SynthesisError(str(ready.get("error") or "the voice did not load"))
                    return
        warm = getattr(self._local, "warm_up", None)
        if callable(warm):
            warm()
            self._follow_local()

    def synthesize(self, text: str, rate: float) -> tuple[np.ndarray, int]:
        if not text.strip():
            raise SynthesisError("nothing to say")
        klass = klass_for(priority.intent())
        with self._locks[klass]:
            restarted = False
            while self._in_process is None:
                try:
                    child = self._child(klass)
                    header, payload = child.synthesize(text, rate)
                except _CannotStart as exc:
                    self._go_in_process(str(exc))
                    break
                except _Died as exc:
                    stopped = child.stopping or self._closed or exiting()
                    self._forget(klass)
                    if stopped:
                        raise SynthesisError("synthesis was stopped (Coreg is resting or "
                                             "quitting)") from exc
                    if restarted:
                        raise SynthesisError(f"the synthesis process died twice on "
                                             f"{text[:40]!r}") from exc
                    log.warning("The synthesis process %d (%s) ended during a line (%s); "
                                "starting another for it", child.pid, klass, child._why())
                    restarted = True
                    continue
                self._adopt(header)
                if not header.get("ok"):
                    raise SynthesisError(str(header.get("error") or "the voice failed"))
                return wire.bytes_to_samples(payload), int(header["rate"])
        audio, sample_rate = self._local.synthesize(text, rate)
        self._follow_local()
        return audio, sample_rate

    def unload(self) -> None:
        """Stop the children (their models go with them); the next line starts one again."""
        with self._state:
            children = list(self._children.values())
            self._children.clear()
        for child in children:
            child.stop()
        if self._in_process is not None:
            unload = getattr(self._local, "unload", None)
            if callable(unload):
                unload()
        if children:
            log.info("stopped %d synthesis process%s", len(children),
                     "" if len(children) == 1 else "es")

    def close(self) -> None:
        """Stop for good (the app is quitting): no child is started again."""
        self._closed = True
        self.unload()

    # ------------------------------------------------------------------ inside

    def _child(self, klass: Klass) -> SynthesisChild:
        with self._state:
            child = self._children.get(klass)
            if child is not None and (
                not child.alive or child.idle_for() > self._idle_exit_s - IDLE_MARGIN_S
            ):
                self._children.pop(klass)
            else:
                if child is not None:
                    return child
                child = None
        if child is not None:
            child.stop()  # it has exited by itself, or is about to: reap it
        if self._closed or exiting():
            raise SynthesisError("Coreg is quitting")
        command = [*self._command, "--spec", json.dumps(self._spec), "--klass", klass,
                   "--parent", str(_pid()), "--idle-exit", str(self._idle_exit_s)]
        child = SynthesisChild(command, klass)
        with self._state:
            self._children[klass] = child
        return child

    def _forget(self, klass: Klass) -> None:
        with self._state:
            child = self._children.pop(klass, None)
        if child is not None:
            child.stop()

    def _go_in_process(self, reason: str) -> None:
        with self._state:
            first = self._in_process is None
            self._in_process = reason
        self._forget_all_quietly()
        if first:
            log.warning("The synthesis process for %s cannot start (%s); speaking in Coreg's "
                        "own process instead", self.voice, reason)

    def _forget_all_quietly(self) -> None:
        with self._state:
            children = list(self._children.values())
            self._children.clear()
        for child in children:
            child.stop()

    def _adopt(self, header: dict[str, Any]) -> None:
        """Take the identity the child spoke with; a Kokoro voice turned Piper is told once."""
        engine = header.get("engine")
        if not engine:
            return
        was = self.engine
        self.engine = str(engine)
        self.engine_version = str(header.get("engine_version") or self.engine_version)
        self.voice = str(header.get("voice") or self.voice)
        problem = header.get("problem")
        if was == "kokoro" and self.engine != "kokoro" and problem:
            from coreg_desktop.tts import kokoro

            if kokoro.record_problem(str(problem)):
                log.warning("Kokoro is unavailable (%s); using %s", problem, self.voice)
            self._tell_fallback(str(problem))

    def _follow_local(self) -> None:
        self.engine = self._local.engine
        self.engine_version = self._local.engine_version
        self.voice = self._local.voice

    def _local_fell_back(self, problem: str) -> None:
        self._follow_local()
        self._tell_fallback(problem)

    def _tell_fallback(self, problem: str) -> None:
        if self._told_fallback or self.on_fallback is None:
            return
        self._told_fallback = True
        try:
            self.on_fallback(problem)
        except Exception:
            log.exception("The fallback notice failed")


def _pid() -> int:
    import os

    return os.getpid()


def out_of_process(synth: Synthesizer | None) -> Synthesizer | None:
    """`synth` spoken by child processes when it is a neural voice; others as they are.

    The system voice already runs in a child of its own (tts/system.py). COREG_SYNTH_IN_PROCESS=1
    keeps everything in-process (for comparing the two).
    """
    import os

    if synth is None or os.environ.get("COREG_SYNTH_IN_PROCESS") == "1":
        return synth
    spec = spec_of(synth)
    return synth if spec is None else RemoteSynthesizer(synth, spec)


_ALL: weakref.WeakSet[RemoteSynthesizer] = weakref.WeakSet()


def running() -> list[SynthesisChild]:
    """Every synthesis child of this process that is running now."""
    return [child for synth in list(_ALL) for child in synth.processes()]


def stop_all() -> None:
    """Stop every child (the app rests): any voice made before a change of voice too."""
    for synth in list(_ALL):
        synth.unload()


def close_all() -> None:
    """At exit: stop every child and start none again."""
    for synth in list(_ALL):
        synth.close()


def worker_command() -> list[str]:
    """How a child is started (for `doctor`, which looks for them by this)."""
    return [sys.executable, "-m", WORKER_MODULE]


def find_workers() -> list[tuple[int, float]]:
    """(pid, RSS MB) of every synthesis child on this machine of this user (Linux /proc).

    For `doctor`, which runs in another process than the app whose children they are.
    """
    import os

    found: list[tuple[int, float]] = []
    me = os.getuid()
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != me:
                continue
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if WORKER_MODULE.encode() not in argv:
                continue
            pages = int((entry / "statm").read_text().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        import resource

        found.append((int(entry.name), pages * resource.getpagesize() / 1e6))
    return found


atexit.register(close_all)
