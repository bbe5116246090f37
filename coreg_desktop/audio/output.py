"""The real-time audio output: one sounddevice stream, the audio clock, and recovery.

Time in Coreg has one source, the frames that reach the listener, so this module owns the clock as
well as the stream. Three rules shape it:

* The PortAudio callback follows python-sounddevice's contract: it allocates nothing it can avoid,
  does no I/O, never logs and never blocks. It renders straight into PortAudio's buffer, always
  fills all of it (silence if the render function raises), and counts underflows and render errors
  in plain integers that the GUI reads. A render error is logged, with its traceback, by the
  thread that watches the output (never the callback), at most about once a second.
* The stream must survive a lost device or a restarted sound server. A watchdog thread (never the
  callback) notices the stream dying or falling silent, closes it, re-initialises PortAudio so the
  *current* default device is found, and retries with back-off. Meanwhile it keeps rendering in
  real time into a scratch buffer, exactly like :class:`NullOutput`, so the practice position
  carries on and the sound resumes from wherever the practice has got to.
* With no device at all, :func:`open_output` falls back to :class:`NullOutput`, which renders in
  real time with nowhere to send the sound, so captions and the orb still follow the timeline.

Notices (``on_notice``) are plain sentences for the listener, called from whichever thread noticed
the problem; a GUI must hand them to its own thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any, Protocol

import numpy as np

from coreg_desktop.constants import CHANNELS, SAMPLE_RATE
from coreg_desktop.exit_guard import ExitingError, native_work

log = logging.getLogger(__name__)

RenderFn = Callable[[np.ndarray], None]
NoticeFn = Callable[[str], None]

#: Said once when Coreg starts without any usable sound device.
NO_DEVICE_NOTICE = "No sound device found; playing silently with captions."
#: Said once per outage when a working device goes away mid-session.
LOST_DEVICE_NOTICE = (
    "The sound device went away. The practice carries on silently with captions, "
    "and the sound will come back by itself when a device is available."
)

#: Callback silence longer than this while the stream should run means the stream is dead.
STALL_S = 0.5
#: A freshly opened stream may legitimately be slow to start pulling (a sink waking up), so stall
#: detection waits this long after opening.
STARTUP_GRACE_S = 2.0
#: A reopened stream must run this long before a new outage counts as a new outage (one notice
#: per outage, not one per failed attempt on a flapping device).
HEALTHY_AFTER_S = 3.0
#: Reopen attempts: every RETRY_FIRST_S, growing to RETRY_MAX_S; after LONG_OUTAGE_S re-enumerating
#: devices every second would be wasted CPU on a machine that simply has no sound, so slow down.
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 1.0
LONG_OUTAGE_S = 60.0
RETRY_LONG_S = 5.0
#: If the silent clock falls this far behind (the machine was suspended, the process stopped), it
#: resumes from where it is instead of rendering the whole gap at once.
MAX_CATCH_UP_S = 1.0
#: Largest block the silent renderer hands to the render function.
NULL_BLOCK = 1024
#: Stream latency (seconds). Roomy enough that a Python callback on a busy two-core machine does not
#: underflow; small enough that pause and seek still feel immediate.
DEFAULT_LATENCY = 0.1
#: Render errors are logged at most this often: a render function that fails in every block
#: (about 47 a second) gives one line a second with the count, not a flood.
RENDER_ERROR_LOG_S = 1.0

SILENT_DEVICE_NAME = "none (playing silently)"


class Output(Protocol):
    """What the mixer and session need from an audio output."""

    sample_rate: int
    underflows: int
    recoveries: int
    device_name: str

    def start(self, render: RenderFn) -> None: ...

    def close(self) -> None: ...

    def frames_rendered(self) -> int: ...

    def latency_frames(self) -> int: ...

    def position_frames(self) -> int: ...

    def standby(self) -> None: ...

    def wake(self) -> None: ...


class _Clock:
    """Frames rendered and frames heard, written by one producer thread at a time.

    The producer (the PortAudio callback, or the thread rendering silently) publishes one tuple per
    block: ``(start, frames, wall, heard)`` = the block's first frame, its length, the
    ``time.monotonic()`` when it was rendered and the frame being heard at that instant. Assigning
    one tuple is atomic under the GIL, so readers never see a half-updated clock and no lock is
    shared with the GUI. Readers interpolate between blocks so a 60 fps orb moves smoothly instead
    of in block-sized steps, and the position never runs backwards (a reopened device's latency may
    briefly exceed the silent renderer's).
    """

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._snap: tuple[int, int, float, int] = (0, 0, time.monotonic(), 0)
        self._floor = 0

    def publish(self, frames: int, wall: float, latency: int) -> None:
        """Record a block of `frames` rendered at `wall`, starting `latency` frames from the ear."""
        snap = self._snap
        start = snap[0] + snap[1]
        self._snap = (start, frames, wall, start - latency)

    @property
    def snapshot(self) -> tuple[int, int, float, int]:
        return self._snap

    def rendered(self) -> int:
        snap = self._snap
        return snap[0] + snap[1]

    def position(self) -> int:
        start, frames, wall, heard = self._snap
        now_heard = heard + int((time.monotonic() - wall) * self.sample_rate)
        pos = min(now_heard, heard + frames, start + frames)
        pos = max(pos, self._floor, 0)
        self._floor = pos
        return pos

    def latency(self) -> int:
        return max(0, self.rendered() - self.position())


class _RenderGuard:
    """Calls the render function so that nothing it does can hurt the stream.

    It fills the buffer with silence when the function raises, counts that and keeps the latest
    exception: assigning a reference is all the callback does, and `report` logs it later from a
    normal thread. Its lock makes sure two threads never render (and advance the clock) at once:
    the silent renderer takes over from a dying stream whose last callback may still be running.
    The callback only ever *tries* the lock, so it cannot block; nothing else (the GUI included)
    ever takes it.
    """

    def __init__(self) -> None:
        self.render: RenderFn | None = None
        self.errors = 0
        self.last_error: Exception | None = None
        self.lock = threading.Lock()
        self._reported = 0  # errors already logged
        self._next_report = 0.0
        self._report_lock = threading.Lock()  # reporters only; the callback never takes it

    def call(self, out: np.ndarray) -> None:
        """Fill all of `out`, whatever the render function does. The caller holds the lock."""
        render = self.render
        if render is None:
            out.fill(0.0)
            return
        try:
            render(out)
        except Exception as exc:
            self.last_error = exc  # first: a report that sees the count sees this error too
            self.errors += 1
            out.fill(0.0)

    def report(self, now: float, force: bool = False) -> None:
        """Log the render errors since the last report, with the latest one's traceback.

        Called from the thread that watches the output, never from the callback and never with
        the render lock held. Between reports it waits RENDER_ERROR_LOG_S (unless `force`, for
        closing), so a render function failing in every block logs about once a second.
        """
        with self._report_lock:
            errors = self.errors
            if errors == self._reported or (now < self._next_report and not force):
                return
            exc = self.last_error
            new = errors - self._reported
            self._reported = errors
            self._next_report = now + RENDER_ERROR_LOG_S
        log.error(
            "Rendering audio failed %d time(s) since the last report (%d in all); "
            "those blocks played as silence",
            new,
            errors,
            exc_info=exc,
        )


class _SilentRenderer:
    """Renders in real time with nowhere to send the sound, so the clock keeps wall-clock pace.

    Blocks are rendered just in time: the block containing "now" is rendered when now reaches its
    first frame, so the reported latency stays under one block, like a very fast sound card.
    """

    def __init__(self, clock: _Clock, guard: _RenderGuard, block: int = NULL_BLOCK) -> None:
        self._clock = clock
        self._guard = guard
        self._buf = np.zeros((block, CHANNELS), dtype=np.float32)
        self._anchor_wall = time.monotonic()
        self._anchor_frame = 0

    def anchor(self, wall: float, heard_frame: int) -> None:
        """Continue the clock from `heard_frame` being heard at `wall`."""
        self._anchor_wall = wall
        self._anchor_frame = heard_frame

    def _target(self, now: float) -> int:
        return self._anchor_frame + int((now - self._anchor_wall) * self._clock.sample_rate)

    def run_due(self, now: float) -> float:
        """Render every block that real time has reached; return seconds until the next is due."""
        sr = self._clock.sample_rate
        target = self._target(now)
        rendered = self._clock.rendered()
        if target - rendered > MAX_CATCH_UP_S * sr:
            behind = (target - rendered) / sr
            log.info("Silent clock fell %.1f s behind; resuming from here", behind)
            self.anchor(now, rendered)
            target = rendered
        while rendered <= target:
            with self._guard.lock:
                self._guard.call(self._buf)
                self._clock.publish(len(self._buf), now, rendered - target)
            rendered += len(self._buf)
        due = self._anchor_wall + (rendered - self._anchor_frame) / sr
        return max(0.0, due - now)


class NullOutput:
    """An output without a device: a thread renders in real time so timelines still progress."""

    def __init__(self, sample_rate: int = SAMPLE_RATE, blocksize: int = NULL_BLOCK) -> None:
        self.sample_rate = sample_rate
        self.underflows = 0
        self.recoveries = 0
        self.device_name = SILENT_DEVICE_NAME
        self._clock = _Clock(sample_rate)
        self._guard = _RenderGuard()
        self._silent = _SilentRenderer(self._clock, self._guard, blocksize)
        self._stop = threading.Event()
        self._awake = threading.Event()
        self._awake.set()
        self._thread: threading.Thread | None = None

    @property
    def render_errors(self) -> int:
        """How often the render function raised (its blocks were played as silence)."""
        return self._guard.errors

    @property
    def playing_silently(self) -> bool:
        return True

    def standby(self) -> None:
        """Stop rendering while nothing plays; the clock simply holds still."""
        self._awake.clear()

    def wake(self) -> None:
        if not self._awake.is_set():
            self._silent.anchor(time.monotonic(), self._clock.rendered())
            self._awake.set()

    def start(self, render: RenderFn) -> None:
        if self._thread is not None:
            raise RuntimeError("NullOutput.start() called twice")
        self._guard.render = render
        self._silent.anchor(time.monotonic(), self._clock.rendered())
        self._thread = threading.Thread(target=self._run, name="coreg-null-output", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = 0.0
            if self._awake.wait(0.5):
                wait = self._silent.run_due(time.monotonic())
            self._guard.report(time.monotonic())
            self._stop.wait(wait)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        self._guard.report(time.monotonic(), force=True)

    def frames_rendered(self) -> int:
        return self._clock.rendered()

    def latency_frames(self) -> int:
        return self._clock.latency()

    def position_frames(self) -> int:
        return self._clock.position()


def _sounddevice() -> ModuleType:
    """Import sounddevice lazily: importing it loads PortAudio, which may be missing (OSError)."""
    import sounddevice

    return sounddevice


def load_portaudio_in_background() -> None:
    """Start loading PortAudio now, on a daemon thread, for a stream that opens a little later.

    Importing sounddevice initialises PortAudio, which enumerates every device: ~0.2 s that
    would otherwise sit between a cold start and its first sound. A missing library is only
    logged here; opening the stream reports it properly.
    """

    def load() -> None:
        try:
            with native_work():  # an exit while PortAudio initialises would crash
                _sounddevice()
        except (OSError, ExitingError) as exc:
            log.debug("PortAudio could not be loaded ahead of time: %s", exc)

    threading.Thread(target=load, name="coreg-portaudio", daemon=True).start()


def _reinit_portaudio(sd: ModuleType) -> None:
    """Make PortAudio enumerate devices afresh (it only does so in Pa_Initialize).

    All of our streams must be closed first. PortAudio counts initialisations, so terminate until
    the count is zero, or a leftover reference would keep the stale device list.
    """
    while sd._initialized > 0:
        sd._terminate()
    sd._initialize()


class SoundDeviceOutput:
    """A callback-based ``sounddevice.OutputStream`` (float32, CHANNELS) that recovers by itself."""

    def __init__(
        self,
        sample_rate: int = SAMPLE_RATE,
        blocksize: int = 1024,
        latency: float | str = DEFAULT_LATENCY,
        on_notice: NoticeFn | None = None,
    ) -> None:
        self.sample_rate = sample_rate
        self.blocksize = blocksize
        self.latency = latency
        self.underflows = 0
        self.recoveries = 0
        self.device_name = SILENT_DEVICE_NAME
        self._on_notice = on_notice
        self._clock = _Clock(sample_rate)
        self._guard = _RenderGuard()
        self._silent = _SilentRenderer(self._clock, self._guard, blocksize)
        self._stream: Any = None
        self._generation = 0  # bumped whenever a stream is abandoned; stale callbacks go silent
        self._finished = threading.Event()  # set by PortAudio when the stream ends on its own
        self._opened_at = 0.0
        self._fallback_latency = 0
        self._outage_since: float | None = None
        self._next_attempt = 0.0
        self._retry = RETRY_FIRST_S
        self._notified = False  # a notice went out for the current outage
        self._ever_opened = False
        self._closer: threading.Thread | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._standby = False

    @property
    def render_errors(self) -> int:
        """How often the render function raised (its blocks were played as silence)."""
        return self._guard.errors

    @property
    def playing_silently(self) -> bool:
        """True while no device is open (the clock runs on, the sound does not reach anyone)."""
        return self._stream is None

    @property
    def in_standby(self) -> bool:
        return self._standby

    def standby(self) -> None:
        """Stop (not close) the stream while nothing plays, so an idle app costs no CPU.

        Only call it when what the device still holds is silence: it is dropped.

        The stream stays connected to its device, and Pa_StartStream takes about a millisecond,
        so waking costs nothing a listener could hear; started after the practice is loaded, the
        first block the device asks for is already the voice.
        """
        stream = self._stream
        if stream is None or self._standby:
            return
        self._standby = True  # first, so the watchdog never mistakes the stop for a failure
        try:
            # Abort, not stop: what is queued is silence (callers make sure), and dropping it at
            # once means the next start plays its first block first, and standing by never
            # blocks for a buffer to drain.
            with native_work():
                stream.abort(ignore_errors=True)
        except Exception:
            log.debug("Stopping the stream for standby failed", exc_info=True)

    def wake(self) -> None:
        if not self._standby:
            return
        stream = self._stream
        self._opened_at = time.monotonic()  # a fresh start gets the start-up grace again
        self._finished.clear()  # set by our own stop(), not by a failure
        try:
            if stream is not None:
                with native_work():
                    stream.start()
        except Exception:
            log.info("The stream could not restart after standby; reopening", exc_info=True)
        finally:
            self._standby = False  # the watchdog takes over again, and reopens if need be

    # ------------------------------------------------------------------ public API

    def start(self, render: RenderFn) -> None:
        """Open the stream (or, failing that, play silently and keep trying) and keep it open."""
        if self._thread is not None:
            raise RuntimeError("SoundDeviceOutput.start() called twice")
        self._guard.render = render
        now = time.monotonic()
        self._silent.anchor(now, self._clock.rendered())
        if not self._try_open(now):
            self._begin_outage(now, first=True)
        self._thread = threading.Thread(target=self._run, name="coreg-audio-watchdog", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=3.0)
        self._drop_stream(wait=True)
        self._guard.report(time.monotonic(), force=True)

    def frames_rendered(self) -> int:
        return self._clock.rendered()

    def latency_frames(self) -> int:
        return self._clock.latency()

    def position_frames(self) -> int:
        return self._clock.position()

    # ------------------------------------------------------------------ audio thread

    def _make_callback(self, generation: int) -> Callable[[np.ndarray, int, Any, Any], None]:
        clock = self._clock
        guard = self._guard
        lock = guard.lock
        sample_rate = self.sample_rate
        monotonic = time.monotonic

        def callback(outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
            if not lock.acquire(False):  # the silent renderer has taken over
                outdata.fill(0.0)
                return
            try:
                if self._generation != generation:  # an abandoned stream
                    outdata.fill(0.0)
                    return
                if status.output_underflow:
                    self.underflows += 1
                guard.call(outdata)
                dac = time_info.outputBufferDacTime
                if dac > 0.0:
                    latency = int((dac - time_info.currentTime) * sample_rate)
                    if latency < 0:
                        latency = 0
                else:  # the host API does not report times
                    latency = self._fallback_latency
                clock.publish(frames, monotonic(), latency)
            finally:
                lock.release()

        return callback

    def _make_finished_callback(self, generation: int) -> Callable[[], None]:
        def finished() -> None:
            if self._generation == generation:
                self._finished.set()

        return finished

    # ------------------------------------------------------------------ watchdog thread

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self._tick(time.monotonic())
                # Render errors of the callback or of the silent renderer: logged here, outside
                # the render lock, since the callback may not log.
                self._guard.report(time.monotonic())
            except Exception:  # the watchdog must outlive anything
                log.exception("Audio watchdog hiccup")
                wait = RETRY_FIRST_S
            self._stop.wait(wait)

    def _tick(self, now: float) -> float:
        if self._standby:
            return 0.5
        if self._stream is not None:
            problem = self._stream_problem(now)
            if problem is None:
                if self._notified and now - self._opened_at > HEALTHY_AFTER_S:
                    self._notified = False
                return 0.1
            log.warning("Audio stream on %r failed (%s); playing silently", self.device_name,
                        problem)
            self._begin_outage(now, first=False)
        wait = self._silent.run_due(now)
        if now >= self._next_attempt:
            if self._try_open(time.monotonic()):
                return 0.1
            self._next_attempt = time.monotonic() + self._retry_interval(now)
            wait = self._silent.run_due(time.monotonic())
        return min(wait, max(0.0, self._next_attempt - time.monotonic()))

    def _stream_problem(self, now: float) -> str | None:
        if self._finished.is_set():
            return "the stream ended"
        try:
            active = bool(self._stream.active)
        except Exception as exc:
            return f"cannot query the stream: {exc}"
        if not active:
            return "the stream is no longer active"
        silent_for = now - self._clock.snapshot[2]
        if now - self._opened_at > STARTUP_GRACE_S and silent_for > STALL_S:
            return f"no callback for {silent_for:.1f} s"
        return None

    def _retry_interval(self, now: float) -> float:
        if self._outage_since is not None and now - self._outage_since > LONG_OUTAGE_S:
            return RETRY_LONG_S
        self._retry = min(self._retry * 1.5, RETRY_MAX_S)
        return self._retry

    def _begin_outage(self, now: float, first: bool) -> None:
        if self._stream is not None:
            # Carry the position on in real time from the stream's last sign of life (so the time
            # it took to notice is not lost); what was still buffered in the dead device is lost.
            _start, _frames, wall, heard = self._clock.snapshot
            self._silent.anchor(wall, heard)
            self._drop_stream(wait=False)
        self.device_name = SILENT_DEVICE_NAME
        self._outage_since = now
        self._retry = RETRY_FIRST_S
        self._next_attempt = now + RETRY_FIRST_S
        if not self._notified:
            self._notified = True
            self._notify(NO_DEVICE_NOTICE if first else LOST_DEVICE_NOTICE)

    def _notify(self, message: str) -> None:
        if self._on_notice is None:
            return
        try:
            self._on_notice(message)
        except Exception:
            log.exception("The audio notice handler failed")

    def _drop_stream(self, wait: bool) -> None:
        """Abandon the current stream; close it in a helper thread so a hung close cannot freeze
        the clock. PortAudio is only re-initialised once that close has finished."""
        stream = self._stream
        self._generation += 1
        self._stream = None
        if stream is None:
            return

        def close() -> None:
            try:
                with native_work():
                    stream.abort(ignore_errors=True)
                    stream.close(ignore_errors=True)
            except Exception:
                log.debug("Closing the old audio stream failed", exc_info=True)

        self._closer = threading.Thread(target=close, name="coreg-audio-close", daemon=True)
        self._closer.start()
        if wait:
            self._closer.join(timeout=2.0)

    def _try_open(self, now: float) -> bool:
        """Open a stream on the current default device; False (and silent rendering) on failure."""
        if self._closer is not None and self._closer.is_alive():
            log.debug("The old audio stream is still closing; not reopening yet")
            return False
        stream = None
        try:
            with native_work():  # PortAudio must not be cut off by an exit
                sd = _sounddevice()
                _reinit_portaudio(sd)
                generation = self._generation + 1
                stream = sd.OutputStream(
                    samplerate=self.sample_rate,
                    channels=CHANNELS,
                    dtype="float32",
                    blocksize=self.blocksize,
                    latency=self.latency,
                    callback=self._make_callback(generation),
                    finished_callback=self._make_finished_callback(generation),
                )
                name = str(sd.query_devices(stream.device)["name"])
                self._fallback_latency = int(stream.latency * self.sample_rate)
                self._finished.clear()
                # Render up to real time before the device starts pulling, so opening costs no time.
                if self._outage_since is not None:
                    self._silent.run_due(time.monotonic())
                self._generation = generation
                self._opened_at = time.monotonic()
                self._stream = stream
                stream.start()
        except Exception as exc:
            self._stream = None
            self._generation += 1
            if stream is not None:
                try:
                    stream.close(ignore_errors=True)
                except Exception:
                    log.debug("Closing a half-opened stream failed", exc_info=True)
            level = logging.DEBUG if self._outage_since is not None else logging.WARNING
            log.log(level, "Cannot open the sound device: %s", exc)
            return False
        self.device_name = name
        if self._ever_opened:
            self.recoveries += 1
            log.warning("Audio stream reopened on %r after %.1f s silent", name,
                        now - (self._outage_since or now))
        else:
            log.info("Audio stream open on %r (latency %.0f ms, block %d)", name,
                     stream.latency * 1000, self.blocksize)
        self._ever_opened = True
        self._outage_since = None
        return True


def _probe_device() -> str | None:
    """Why sounddevice cannot play here, or None if a default output device looks usable."""
    try:
        with native_work():
            return _probe_portaudio()
    except ExitingError as exc:
        return str(exc)


def _probe_portaudio() -> str | None:
    try:
        sd = _sounddevice()
    except (OSError, ImportError) as exc:
        return f"PortAudio is not available ({exc})"
    try:
        _reinit_portaudio(sd)
        info = sd.query_devices(kind="output")
        sd.check_output_settings(samplerate=SAMPLE_RATE, channels=CHANNELS, dtype="float32")
    except Exception as exc:
        return f"no usable output device ({exc})"
    if not info or int(info.get("max_output_channels", 0)) < 1:
        return "the default device has no outputs"
    return None


def open_output(prefer_null: bool = False, on_notice: NoticeFn | None = None) -> Output:
    """The best output available; never raises.

    Without a usable device it says so once, in a plain sentence, and plays silently, so a practice
    still runs with captions and the orb.
    """
    if prefer_null:
        return NullOutput()
    try:
        problem = _probe_device()
    except Exception as exc:  # anything at all: the app must still start
        problem = f"probing sound devices failed ({exc})"
    if problem is None:
        return SoundDeviceOutput(on_notice=on_notice)
    log.warning("No sound output: %s; playing silently", problem)
    if on_notice is not None:
        try:
            on_notice(NO_DEVICE_NOTICE)
        except Exception:
            log.exception("The audio notice handler failed")
    return NullOutput()
