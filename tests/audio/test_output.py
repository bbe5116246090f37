"""The output's clock and its failure paths, without any sound server.

"No device" is produced for real: ALSA is pointed at a config whose only PCM is the pulse plugin,
and the plugin at a socket that does not exist, so PortAudio finds nothing to open on any machine.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from coreg_desktop.audio import output as output_mod
from coreg_desktop.audio.output import (
    LOST_DEVICE_NOTICE,
    NO_DEVICE_NOTICE,
    SILENT_DEVICE_NAME,
    NullOutput,
    SoundDeviceOutput,
    open_output,
)
from coreg_desktop.constants import CHANNELS, SAMPLE_RATE


class Counter:
    """A render function that remembers how many frames it was asked for and writes a marker."""

    def __init__(self, fail_every: int = 0) -> None:
        self.frames = 0
        self.calls = 0
        self.fail_every = fail_every
        self.threads: set[str] = set()

    def __call__(self, out: np.ndarray) -> None:
        self.calls += 1
        self.threads.add(threading.current_thread().name)
        out.fill(0.25)
        self.frames += len(out)
        if self.fail_every and self.calls % self.fail_every == 0:
            raise ValueError("render bug")


class FlakySource:
    """A render function whose voice source fails on some blocks, like a mixer bug would.

    At each call it notes whether the buffer it is handed still holds what the previous block
    left in it. NullOutput renders into one buffer, so that is the block the output handed out:
    0.25 after a good block, and it must be silence after a failed one.
    """

    def __init__(self, fail_every: int) -> None:
        self.fail_every = fail_every
        self.calls = 0
        self.failed_before: list[bool] = []  # per call: did the previous call fail?
        self.handed_out: list[float] = []  # per call: the largest sample the previous one left

    def __call__(self, out: np.ndarray) -> None:
        if self.calls:
            self.failed_before.append(self.calls % self.fail_every == 0)
            self.handed_out.append(float(np.abs(out).max()))
        self.calls += 1
        out.fill(0.25)  # half-written when the failure comes: the output must not play it
        if self.calls % self.fail_every == 0:
            self.mix_voice(self.calls)

    def mix_voice(self, block: int) -> None:
        raise KeyError(f"sentence clip for block {block} is missing")


def render_error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    name = output_mod.__name__
    return [r for r in caplog.records if r.name == name and r.levelno == logging.ERROR]


def reported_count(record: logging.LogRecord) -> int:
    match = re.search(r"failed (\d+) time", record.getMessage())
    assert match, record.getMessage()
    return int(match.group(1))


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


@pytest.fixture
def no_sound_device(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    try:
        import sounddevice  # noqa: F401
    except OSError as exc:
        pytest.skip(f"PortAudio is missing: {exc}")
    conf = tmp_path / "alsa-pulse-only.conf"
    conf.write_text("pcm.!default { type pulse }\nctl.!default { type pulse }\n")
    client = tmp_path / "client.conf"
    client.write_text("autospawn = no\n")
    with monkeypatch.context() as m:
        m.setenv("ALSA_CONFIG_PATH", str(conf))
        m.setenv("PULSE_SERVER", f"unix:{tmp_path}/no-such-server")
        m.setenv("PULSE_CLIENTCONFIG", str(client))
        yield
    # Leave PortAudio seeing this machine's real devices for whatever test runs next.
    output_mod._reinit_portaudio(output_mod._sounddevice())


def test_null_output_keeps_real_time_and_a_consistent_clock() -> None:
    render = Counter()
    out = NullOutput()
    assert out.frames_rendered() == 0
    assert out.position_frames() == 0
    t0 = time.monotonic()
    out.start(render)
    positions = []
    try:
        for _ in range(20):
            time.sleep(0.05)
            positions.append(out.position_frames())
            assert 0 <= out.latency_frames() <= 1024
            assert out.position_frames() <= out.frames_rendered()
        elapsed = time.monotonic() - t0
        rendered = out.frames_rendered()
    finally:
        out.close()
    assert rendered / SAMPLE_RATE == pytest.approx(elapsed, rel=0.10)
    assert positions == sorted(positions), "the clock ran backwards"
    assert render.frames == out.frames_rendered(), "the clock and the render calls disagree"
    assert out.underflows == 0 and out.recoveries == 0 and out.render_errors == 0
    assert out.device_name == SILENT_DEVICE_NAME
    # Closed means closed: nothing renders afterwards.
    after = render.frames
    time.sleep(0.1)
    assert render.frames == after


def test_a_render_function_that_raises_is_counted_and_does_not_stop_the_output() -> None:
    render = Counter(fail_every=3)
    out = NullOutput()
    out.start(render)
    try:
        assert wait_for(lambda: render.calls >= 12)
        errors = out.render_errors
    finally:
        out.close()
    assert errors >= 3
    assert render.calls >= 12  # it kept calling after the failures


def test_render_errors_play_silence_and_are_logged_with_their_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger=output_mod.__name__)
    source = FlakySource(fail_every=4)
    out = NullOutput()
    out.start(source)
    try:
        # The audio keeps flowing: the clock advances past the failures, which are counted.
        assert wait_for(lambda: out.render_errors >= 3 and bool(render_error_records(caplog)))
        assert out.frames_rendered() >= 12 * 1024
        assert wait_for(lambda: out.position_frames() > 0)
        logged_by = {r.threadName for r in render_error_records(caplog)}
    finally:
        out.close()
    assert logged_by == {"coreg-null-output"}, "logged by the output's thread"
    assert out.render_errors == source.calls // 4
    # What the output handed on after each block: silence for the failed ones, intact otherwise.
    assert any(source.failed_before) and not all(source.failed_before)
    for failed, level in zip(source.failed_before, source.handed_out, strict=True):
        assert level == (0.0 if failed else 0.25)
    # The log line carries the traceback: the exception's text and where it was raised.
    records = render_error_records(caplog)
    assert records[0].exc_info is not None
    assert "those blocks played as silence" in caplog.text
    assert "sentence clip for block" in caplog.text
    assert "in mix_voice" in caplog.text and "Traceback" in caplog.text
    # Every failure is accounted for once, the last ones by close().
    assert sum(reported_count(r) for r in records) == out.render_errors


def test_a_render_function_failing_in_every_block_is_not_logged_per_block(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger=output_mod.__name__)
    out = NullOutput()
    out.start(Counter(fail_every=1))
    try:
        time.sleep(1.5)
    finally:
        out.close()
    records = render_error_records(caplog)
    assert out.render_errors > 50  # ~47 blocks a second, all failed
    # About one line a second (the first at once, the next a second later, the rest at close),
    # each with how many blocks failed.
    assert 2 <= len(records) <= 3
    assert max(reported_count(r) for r in records) > 20  # a line stands for many blocks
    assert sum(reported_count(r) for r in records) == out.render_errors
    assert all("render bug" in (r.exc_text or "") for r in records)


def test_the_stream_callback_never_logs_render_errors_itself(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger=output_mod.__name__)
    out = SoundDeviceOutput()
    out._guard.render = Counter(fail_every=2)
    callback = out._make_callback(out._generation)
    when = SimpleNamespace(outputBufferDacTime=10.05, currentTime=10.0)
    buf = np.zeros((1024, CHANNELS), dtype=np.float32)
    for _ in range(10):
        callback(buf, len(buf), when, SimpleNamespace(output_underflow=False))
    assert out.render_errors == 5
    assert caplog.records == [], "the callback must not log"
    # The watchdog's report, from a normal thread: one line for the five, with the traceback.
    out._guard.report(time.monotonic())
    out._guard.report(time.monotonic())  # nothing new: nothing logged
    records = render_error_records(caplog)
    assert len(records) == 1 and reported_count(records[0]) == 5
    assert "render bug" in caplog.text and "in __call__" in caplog.text


@pytest.mark.usefixtures("no_sound_device")
def test_the_watchdog_logs_render_errors_while_playing_silently(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger=output_mod.__name__)
    out = SoundDeviceOutput()
    out.start(Counter(fail_every=3))
    try:
        assert wait_for(lambda: bool(render_error_records(caplog)))
        logged_by = {r.threadName for r in render_error_records(caplog)}
    finally:
        out.close()
    assert logged_by == {"coreg-audio-watchdog"}
    assert "render bug" in caplog.text


def test_the_stream_callback_fills_the_whole_buffer_whatever_render_does() -> None:
    out = SoundDeviceOutput()
    out._guard.render = Counter(fail_every=1)
    callback = out._make_callback(out._generation)
    status = SimpleNamespace(output_underflow=True)
    when = SimpleNamespace(outputBufferDacTime=10.05, currentTime=10.0)
    buf = np.full((700, CHANNELS), 7.0, dtype=np.float32)  # not the block size: PortAudio may vary
    callback(buf, len(buf), when, status)
    assert not buf.any(), "a failing render must leave silence, not garbage"
    assert out.render_errors == 1
    assert out.underflows == 1
    assert out.frames_rendered() == 700
    assert out.position_frames() == 0  # nothing has reached the ear yet

    # The clock: rendered minus what the device still holds (50 ms ahead of the DAC + this block).
    status.output_underflow = False
    for _ in range(9):
        callback(buf, len(buf), when, status)
    assert out.underflows == 1
    assert out.frames_rendered() == 7000
    assert out.latency_frames() == pytest.approx(0.05 * SAMPLE_RATE + 700, abs=SAMPLE_RATE * 0.01)
    position, latency = out.position_frames(), out.latency_frames()
    assert abs(position + latency - out.frames_rendered()) <= SAMPLE_RATE // 100

    # A callback of an abandoned stream must not render (another thread may be rendering).
    out._guard.render = Counter()
    stale = out._make_callback(out._generation - 1)
    buf.fill(7.0)
    stale(buf, len(buf), when, SimpleNamespace(output_underflow=False))
    assert not buf.any()
    assert out.frames_rendered() == 7000


def test_open_output_prefer_null_plays_silently_in_real_time() -> None:
    notices: list[str] = []
    out = open_output(prefer_null=True, on_notice=notices.append)
    assert isinstance(out, NullOutput)
    render = Counter()
    out.start(render)
    try:
        assert wait_for(lambda: out.position_frames() > SAMPLE_RATE // 10)
    finally:
        out.close()
    assert render.frames > 0
    assert notices == []  # the user chose silence; nothing to apologise for


def test_without_portaudio_open_output_says_so_once(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> object:
        raise OSError("PortAudio library not found")

    monkeypatch.setattr(output_mod, "_sounddevice", missing)
    notices: list[str] = []
    out = open_output(on_notice=notices.append)
    assert isinstance(out, NullOutput)
    assert notices == [NO_DEVICE_NOTICE]


@pytest.mark.usefixtures("no_sound_device")
def test_without_a_device_open_output_says_so_once_and_plays_silently() -> None:
    notices: list[str] = []
    out = open_output(on_notice=notices.append)
    assert isinstance(out, NullOutput)
    assert notices == [NO_DEVICE_NOTICE]
    render = Counter()
    out.start(render)
    try:
        assert wait_for(lambda: out.frames_rendered() > SAMPLE_RATE // 10)
    finally:
        out.close()
    assert notices == [NO_DEVICE_NOTICE]


@pytest.mark.usefixtures("no_sound_device")
def test_a_stream_that_cannot_open_keeps_the_clock_and_keeps_trying() -> None:
    notices: list[str] = []
    out = SoundDeviceOutput(on_notice=notices.append)
    render = Counter()
    out.start(render)  # must not raise
    try:
        assert out.playing_silently
        assert wait_for(lambda: out.frames_rendered() >= SAMPLE_RATE * 1.6, timeout=10)
        assert out._next_attempt > 0  # it is retrying
    finally:
        out.close()
    assert notices == [NO_DEVICE_NOTICE], "one notice per outage, not one per retry"
    assert LOST_DEVICE_NOTICE not in notices
    assert out.recoveries == 0
    assert render.frames == out.frames_rendered()
    assert out.device_name == SILENT_DEVICE_NAME


def test_null_output_holds_its_clock_in_standby_and_resumes() -> None:
    from coreg_desktop.audio.output import NullOutput

    calls: list[int] = []
    output = NullOutput()
    output.start(lambda out: calls.append(len(out)) or out.fill(0.0))  # type: ignore[func-returns-value]
    try:
        time.sleep(0.3)
        output.standby()
        time.sleep(0.1)
        held = output.frames_rendered()
        time.sleep(0.6)
        assert output.frames_rendered() == held
        output.wake()
        time.sleep(0.3)
        assert output.frames_rendered() > held
    finally:
        output.close()


def test_exiting_while_portaudio_loads_in_the_background_does_not_crash() -> None:
    """The CLI starts loading PortAudio early; a process that exits at once must not segfault."""
    import subprocess
    import sys

    code = ("import sys, time\n"
            "from coreg_desktop.audio.output import load_portaudio_in_background\n"
            "load_portaudio_in_background()\n"
            "time.sleep(float(sys.argv[1]))\n")  # exit somewhere inside the load
    delays = ("0.0", "0.01", "0.03", "0.06", "0.1")
    codes = [subprocess.run([sys.executable, "-c", code, d], capture_output=True, timeout=60
                            ).returncode for d in delays]
    assert codes == [0] * len(delays)
