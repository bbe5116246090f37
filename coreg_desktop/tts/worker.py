"""The synthesis child: one neural voice, in a process of its own, at its own priority.

`python -m coreg_desktop.tts.worker --spec JSON --klass ahead|soon --parent PID` is started by
`tts/remote.py`. It lowers itself first (the idle class for preparing ahead, nice 10 for lines a
session is about to play; the engine's threads inherit that), builds the voice with the same
classes the app would use in-process, and loads the model at once: it is only started when a line
is needed. Then it answers requests on stdin/stdout (framing in `tts/wire.py`):

    hello   {"hello": true, "pid", identity}            once the voice object is built
    ready   {"ready": true|false, identity, "error"?}   once the model is loaded (or failed)
    synth   {"op": "synth", "text", "rate"} -> {"ok": true, "rate", identity} + float32 samples
                                             | {"ok": false, "error"}

`identity` is the engine, engine_version and voice the clip is cached under, sent with every
answer: a Kokoro model that fails to load makes this child speak through Piper, and the app
must key that line as Piper's. Nothing here imports Qt.

The child ends itself when nobody needs it: at end of stdin (the app closed the pipe or died),
after IDLE_EXIT_S without a request, and by the kernel's parent-death signal if the app is
killed. It ignores the terminal's Ctrl-C, which is the app's to handle. Its log goes to stderr,
which the app reads into its own log; stdout carries only the protocol (anything a library
prints is sent to stderr instead).
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import logging
import os
import select
import signal
import sys
from collections.abc import Sequence
from typing import IO, Any, cast

log = logging.getLogger("coreg_desktop.tts.worker")

#: A child with nothing to do for this long exits; the next line starts another (a second or
#: so, well ahead of the playhead). The app stops it before then when it rests.
IDLE_EXIT_S = 120.0
_PR_SET_PDEATHSIG = 1
#: The log format the app parses back (`remote._forward_log`): the level name, a tab, the text.
LOG_FORMAT = "%(levelname)s\t%(name)s: %(message)s"


def _die_with_parent(parent: int) -> None:
    """Ask the kernel to kill us when the app goes (Linux), then make sure it has not already."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the closed pipe still ends us
    if parent and os.getppid() != parent:
        os._exit(0)  # the app died while we started


def _lower_priority(klass: str) -> None:
    from coreg_desktop import priority

    if klass == "ahead":
        priority.idle()
    else:
        priority.background()


def _build(spec: dict[str, Any]) -> Any:
    """The same synthesizer the app would have made in-process for this spec."""
    engine = spec.get("engine")
    if engine == "piper":
        from pathlib import Path

        from coreg_desktop.tts.piper import PiperSynthesizer

        tuning = {k: float(spec[k]) for k in ("noise_scale", "noise_w_scale") if k in spec}
        return PiperSynthesizer(Path(spec["model"]), voice_id=spec.get("voice"), **tuning)
    if engine == "kokoro":
        from coreg_desktop.tts import _piper_fallback
        from coreg_desktop.tts.kokoro import KokoroSynthesizer

        return KokoroSynthesizer(str(spec["name"]), fallback=_piper_fallback)
    raise ValueError(f"no engine {engine!r} runs in a synthesis child")


class _Server:
    def __init__(self, synth: Any, requests: IO[bytes], replies: IO[bytes]) -> None:
        self.synth = synth
        self.requests = requests
        self.replies = replies
        self.problem: str | None = None  # why a Kokoro voice speaks through Piper here
        if hasattr(synth, "on_fallback"):
            synth.on_fallback = self._fell_back

    def _fell_back(self, problem: str) -> None:
        self.problem = problem

    def identity(self) -> dict[str, Any]:
        out = {
            "engine": self.synth.engine,
            "engine_version": self.synth.engine_version,
            "voice": self.synth.voice,
        }
        if self.problem is not None:
            out["problem"] = self.problem
        return out

    def send(self, header: dict[str, Any], payload: bytes = b"") -> None:
        from coreg_desktop.tts import wire

        wire.send(cast("Any", self.replies), header, payload)

    def warm_up(self) -> None:
        from coreg_desktop.tts.base import SynthesisError

        try:
            warm = getattr(self.synth, "warm_up", None)
            if callable(warm):
                warm()
        except SynthesisError as exc:
            self.send({"ready": False, "error": str(exc), **self.identity()})
            return
        self.send({"ready": True, **self.identity()})

    def answer(self, request: dict[str, Any]) -> None:
        from coreg_desktop.tts import wire
        from coreg_desktop.tts.base import SynthesisError

        if request.get("op") != "synth":
            self.send({"ok": False, "error": f"unknown request {request.get('op')!r}"})
            return
        try:
            audio, rate = self.synth.synthesize(str(request["text"]), float(request["rate"]))
        except SynthesisError as exc:
            self.send({"ok": False, "error": str(exc), **self.identity()})
            return
        except Exception as exc:  # an engine bug must reach the app as a failed line
            log.exception("synthesis failed")
            self.send({"ok": False, "error": f"{type(exc).__name__}: {exc}", **self.identity()})
            return
        self.send({"ok": True, "rate": int(rate), **self.identity()},
                  wire.samples_to_bytes(audio))

    def serve(self, idle_exit_s: float) -> None:
        from coreg_desktop.tts import wire

        fd = self.requests.fileno()
        while True:
            readable, _, _ = select.select([fd], [], [], idle_exit_s)
            if not readable:
                log.debug("no request for %.0f s: exiting", idle_exit_s)
                return
            try:
                request, _ = wire.receive(cast("Any", self.requests))
            except wire.WireClosed:
                return
            self.answer(request)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coreg_desktop.tts.worker")
    parser.add_argument("--spec", required=True, help="the voice, as JSON (tts/remote.py)")
    parser.add_argument("--klass", choices=("ahead", "soon"), default="soon")
    parser.add_argument("--parent", type=int, default=0, help="the app's pid")
    parser.add_argument("--idle-exit", type=float, default=IDLE_EXIT_S)
    args = parser.parse_args(argv)

    _die_with_parent(args.parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _lower_priority(args.klass)  # before any engine thread exists: they inherit it
    # stdout is the protocol's: keep it on a private descriptor and send fd 1 to stderr, so a
    # stray print in an engine cannot put the stream out of step.
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    requests = os.fdopen(os.dup(0), "rb", buffering=0)  # unbuffered: select sees what is left
    logging.basicConfig(level=os.environ.get("COREG_WORKER_LOG", "INFO"), format=LOG_FORMAT,
                        stream=sys.stderr)

    try:
        synth = _build(json.loads(args.spec))
    except Exception as exc:  # before the hello: the app falls back to in-process synthesis
        log.error("cannot build the voice: %s", exc)
        return 2
    server = _Server(synth, requests, replies)
    try:
        server.send({"hello": True, "pid": os.getpid(), **server.identity()})
        server.warm_up()
        server.serve(args.idle_exit)
    except (BrokenPipeError, ConnectionError):
        pass  # the app has gone
    return 0


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    # No interpreter teardown: nothing here needs it, and a thread of the engine (Kokoro's
    # model check) must not be waited for or torn down mid-call.
    os._exit(code)
