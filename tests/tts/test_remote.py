"""Synthesis in child processes: the same speech, restarted when killed, never left behind.

Real Piper in real children throughout; the only thing swapped is, in one test, the command that
starts a child (one that cannot run), to see the app keep speaking in-process.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop import priority
from coreg_desktop.tts.base import SynthesisError
from coreg_desktop.tts.piper import PiperSynthesizer, bundled_model_path
from coreg_desktop.tts.remote import RemoteSynthesizer, spec_of

pytestmark = pytest.mark.skipif(bundled_model_path() is None, reason="needs the bundled voice")

LINE = "You are safe here. Let your breath slow down."
#: Long enough that a kill lands while the child is still speaking it (about 2 s of synthesis).
LONG_LINE = " ".join(["Let your shoulders soften, and feel the ground holding you up."] * 6)


def exact_piper() -> PiperSynthesizer:
    """Piper without its randomness: the same line gives the same samples in any process."""
    return PiperSynthesizer(noise_scale=0.0, noise_w_scale=0.0)


def remote_piper(**kwargs: object) -> RemoteSynthesizer:
    local = exact_piper()
    spec = spec_of(local)
    assert spec is not None
    return RemoteSynthesizer(local, spec, **kwargs)  # type: ignore[arg-type]


def gone(pid: int, timeout: float = 5.0) -> bool:
    """True once `pid` is neither running nor a zombie (it was reaped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return True
        time.sleep(0.05)
    return False


def test_a_child_speaks_exactly_as_the_app_would_in_process() -> None:
    synth = remote_piper()
    try:
        audio, rate = synth.synthesize(LINE, 1.0)
        (child,) = synth.processes()
        assert child.pid != os.getpid()
        expected, expected_rate = exact_piper().synthesize(LINE, 1.0)
        assert rate == expected_rate
        assert audio.dtype == np.float32 and len(audio) == len(expected)
        np.testing.assert_allclose(audio, expected, atol=1e-5)
        assert (synth.engine, synth.engine_version, synth.voice) == (
            "piper", exact_piper().engine_version, "en_US-joe-medium")
    finally:
        synth.close()


def test_the_callers_intent_picks_the_childs_priority_class() -> None:
    synth = remote_piper()
    results: dict[str, tuple[int, int, int]] = {}

    def speak(intent: str) -> None:
        (priority.ahead if intent == "ahead" else priority.background)()
        synth.synthesize("One line.", 1.0)
        (child,) = [c for c in synth.processes() if c.klass == intent]
        results[intent] = (child.pid, os.sched_getscheduler(child.pid),
                           os.getpriority(os.PRIO_PROCESS, child.pid))

    try:
        for intent in ("ahead", "soon"):
            thread = threading.Thread(target=speak, args=(intent,))
            thread.start()
            thread.join()
        assert results["ahead"][0] != results["soon"][0]
        if hasattr(os, "SCHED_IDLE"):
            assert results["ahead"][1] == os.SCHED_IDLE
        assert results["soon"][2] >= priority.BACKGROUND_NICE
    finally:
        synth.close()
    assert all(gone(pid) for pid, _, _ in results.values())


def test_a_child_killed_during_a_line_is_replaced_and_the_line_still_comes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    synth = remote_piper()
    try:
        synth.warm_up()
        (first,) = synth.processes()
        result: list[tuple[np.ndarray, int]] = []
        failure: list[BaseException] = []

        def speak() -> None:
            try:
                result.append(synth.synthesize(LONG_LINE, 1.0))
            except BaseException as exc:
                failure.append(exc)

        thread = threading.Thread(target=speak)
        with caplog.at_level(logging.WARNING, logger="coreg_desktop.tts.remote"):
            thread.start()
            deadline = time.monotonic() + 5
            while not first.busy and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(0.2)  # the request is in the child now, being spoken
            assert first.busy
            os.kill(first.pid, signal.SIGKILL)
            thread.join(60)
        assert not failure, failure
        audio, _ = result[0]
        expected, _ = exact_piper().synthesize(LONG_LINE, 1.0)
        np.testing.assert_allclose(audio, expected, atol=1e-5)
        (second,) = synth.processes()
        assert second.pid != first.pid
        assert gone(first.pid), "the killed child was not reaped"
        assert any("ended during a line" in r.getMessage() for r in caplog.records)
    finally:
        synth.close()


@pytest.mark.parametrize("command", [
    ["/nonexistent/python3"],  # cannot be run at all
    [sys.executable, "-c", "import sys; sys.exit(3)"],  # runs, and exits before its hello
])
def test_a_child_that_cannot_start_leaves_the_voice_speaking_in_process(
    command: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    synth = remote_piper(command=command)
    with caplog.at_level(logging.WARNING, logger="coreg_desktop.tts.remote"):
        first, _ = synth.synthesize(LINE, 1.0)
        second, _ = synth.synthesize("And again.", 1.0)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "cannot start" in warnings[0].getMessage()
    assert synth.in_process and not synth.processes()
    expected, _ = exact_piper().synthesize(LINE, 1.0)
    np.testing.assert_allclose(first, expected, atol=1e-5)
    assert len(second) > 0
    synth.close()


def test_unload_stops_the_children_and_the_next_line_starts_one_again() -> None:
    synth = remote_piper()
    try:
        synth.synthesize(LINE, 1.0)
        (child,) = synth.processes()
        synth.unload()
        assert not synth.processes() and gone(child.pid)
        synth.synthesize("Once more.", 1.0)
        (again,) = synth.processes()
        assert again.pid != child.pid
    finally:
        synth.close()
    assert gone(again.pid)
    with pytest.raises(SynthesisError):
        synth.synthesize("After closing.", 1.0)


def test_an_unused_child_leaves_by_itself_and_is_reaped() -> None:
    synth = remote_piper(idle_exit_s=3.0)
    try:
        synth.synthesize("One line.", 1.0)
        (child,) = synth.processes()
        assert gone(child.pid, timeout=10), "an idle child stayed (or was left a zombie)"
        synth.synthesize("And another, later.", 1.0)  # a new one, without a warning
        assert len(synth.processes()) == 1
    finally:
        synth.close()


SCRIPT = textwrap.dedent("""
    import os, sys, time
    from coreg_desktop.tts.piper import PiperSynthesizer
    from coreg_desktop.tts.remote import RemoteSynthesizer, spec_of
    local = PiperSynthesizer()
    synth = RemoteSynthesizer(local, spec_of(local))
    synth.synthesize("One line.", 1.0)
    print(synth.processes()[0].pid, flush=True)
    if sys.argv[1] == "killed":
        os.kill(os.getpid(), 9)
""")


@pytest.mark.parametrize("how", ["exits", "killed"])
def test_no_child_outlives_the_app(how: str) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, how], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(Path.cwd())})
    pid = int(done.stdout.split()[0])
    assert gone(pid), f"synthesis child {pid} outlived its app ({how})"
    if how == "exits":
        assert done.returncode == 0, done.stderr
        assert "terminate called" not in done.stderr


def test_a_core_at_rest_and_a_cached_play_never_import_the_engines(tmp_path: Path) -> None:
    """The parent makes a line through a child, rests, and plays it cached: no engine module
    is ever imported in the parent, the child is gone after the rest, and the cached play
    starts none."""
    script = textwrap.dedent("""
        import sys
        from coreg_desktop.audio.output import NullOutput
        from coreg_desktop.core import Core
        from coreg_desktop.practice.model import Practice, Say
        from coreg_desktop.settings import Settings
        from coreg_desktop.tts import remote
        core = Core(Settings.load(), output=NullOutput())
        line = Practice(id="line", title="Line", steps=(Say("Resting well, Sam."),))
        heavy = ("onnxruntime", "piper", "kokoro_onnx", "espeakng_loader", "phonemizer",
                 "PySide6")
        def loaded():
            return sorted({m.split(".")[0] for m in sys.modules} & set(heavy))
        if sys.argv[1] == "make":
            core.narrator.clip("Resting well, Sam.")
            made = [c.pid for c in remote.running()]
            core.rest()
            print("made", made, "after-rest", [c.pid for c in remote.running()], loaded())
        else:
            core.player.open()
            session = core.play(line, ambience="none")
            assert session.wait_narrated(timeout=30)
            print("played", remote.spawned(), loaded())
            session.stop(fade_s=0.05)
        core.close()
    """)
    env = {**os.environ, "PYTHONPATH": str(Path.cwd())}
    made = subprocess.run([sys.executable, "-c", script, "make"], capture_output=True,
                          text=True, timeout=120, env=env, check=True).stdout.split(maxsplit=1)
    assert made[0] == "made"
    pids = [int(p) for p in made[1].split("]")[0].strip("[").split(",") if p.strip()]
    assert len(pids) == 1
    assert made[1].endswith("after-rest [] []\n") or "after-rest [] []" in made[1], made
    assert gone(pids[0])
    played = subprocess.run([sys.executable, "-c", script, "play"], capture_output=True,
                            text=True, timeout=120, env=env, check=True).stdout.strip()
    assert played == "played 0 []", played
