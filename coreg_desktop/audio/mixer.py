"""The real-time mixer: voice, cue tones, bell and ambience summed in numpy float32.

`Mixer.render(out)` is the audio callback's whole job, so it follows the callback contract in
DESIGN.md: every array it touches is allocated ahead of time (a `Program` is built by worker
threads, the scratch buffers in `__init__`), controls arrive through a deque of commands, and it
takes no locks, does no I/O and never logs.

Every envelope (ambience fades, ducking under the voice) is a function of the *practice frame*, not
of block boundaries, so rendering in any block size gives the same samples. That is what lets the
offline `render` command write exactly what `play` plays.

"Allocates nothing" is meant literally, and tests/audio/test_mixer.py checks it with tracemalloc:
every numpy operation writes into preallocated float32 scratch (`out=`), and nothing mixes dtypes,
because a float64 operand, a cast or a broadcast makes numpy allocate a temporary buffer. float32
holds a frame index exactly only up to 2**24 (about six minutes), so no ramp is computed from an
absolute frame: each is a clipped function of the integer distance to its own anchor (a fade's
start, a duck span's edge), kept in Python ints and turned into float32 only while it is shorter
than the ramp plus one block (`_ramp`). An hour into a practice sounds as exact as its first
second.
"""

from __future__ import annotations

import bisect
import collections
import enum
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coreg_desktop.constants import CHANNELS, SAMPLE_RATE, seconds_to_frames

#: Ambience sits this far under full scale before the user's own slider.
AMBIENCE_BASE_GAIN = 10 ** (-5.0 / 20)
#: How far ambience ducks under narration, and how fast.
DUCK_DB = 8.0
DUCK_RAMP_S = 0.3
#: Voice spans closer than this are ducked as one, so the ambience does not pump between sentences.
DUCK_MERGE_S = 1.2
#: Ambience fades in at the start of a practice and out at its end.
AMBIENCE_FADE_S = 3.0
#: When the listener picks another ambience mid-practice, the old one fades out over this long
#: while the new one fades in from where the practice is.
AMBIENCE_SWITCH_FADE_S = 1.5
#: Cue tones and the bell follow the voice slider, a little under it.
CUE_GAIN = 10 ** (-3.0 / 20)
#: Transport fades: short enough to feel immediate, long enough that nothing clicks.
PAUSE_FADE_S = 0.12
SEEK_FADE_S = 0.06
STOP_FADE_S = 1.0
#: Slider changes glide over this long, so dragging a slider never makes zipper noise.
GAIN_GLIDE_S = 0.05
#: Above this level the soft limiter bends peaks so the sum can never clip.
LIMIT_KNEE = 0.9
#: Largest block the callback may be asked for; PortAudio's variable blocks stay well under it.
MAX_BLOCK = 16_384
#: Entries of (device frame, practice frame) history kept for the audio clock.
CLOCK_HISTORY = 256

# The ramps in frames, as `Mixer._ramp` takes them.
_AMBIENCE_FADE = seconds_to_frames(AMBIENCE_FADE_S)
_SWITCH_FADE = seconds_to_frames(AMBIENCE_SWITCH_FADE_S)
_DUCK_RAMP = seconds_to_frames(DUCK_RAMP_S)


def _const(value: float) -> np.ndarray:
    """A read-only float32 0-d array. As a ufunc operand it costs nothing, where a Python float
    is turned into a new 0-d array on every call."""
    a = np.array(value, dtype=np.float32)
    a.flags.writeable = False
    return a


_ZERO = _const(0.0)
_ONE = _const(1.0)
_KNEE = _const(LIMIT_KNEE)
_ROOM = _const(1.0 - LIMIT_KNEE)
#: Ducking multiplies by 1 + depth * _DUCK_SLOPE: 1 at depth 0, DUCK_DB under at depth 1.
_DUCK_SLOPE = _const(10 ** (-DUCK_DB / 20) - 1.0)

BUS_VOICE = 0
BUS_CUE = 1


@dataclass(frozen=True)
class Scheduled:
    start: int
    data: np.ndarray  # mono float32
    bus: int

    @property
    def end(self) -> int:
        return self.start + len(self.data)


@dataclass(frozen=True)
class Program:
    """One practice, ready to play: built off the audio thread, swapped in whole."""

    sounds: tuple[Scheduled, ...] = ()
    ambience: np.ndarray | None = None  # (frames, CHANNELS) float32 loop
    known_end: int = 0  # the practice is laid out up to here
    end: int | None = None  # total length once every clip is known
    ambience_start: int = 0  # on the ambience clock: late ambience fades in from here
    duck_spans: tuple[tuple[int, int], ...] = ()
    starts: tuple[int, ...] = field(default=(), repr=False)
    max_len: int = 0

    @staticmethod
    def build(
        sounds: list[Scheduled],
        ambience: np.ndarray | None,
        known_end: int,
        end: int | None,
        ambience_start: int = 0,
    ) -> Program:
        ordered = tuple(sorted(sounds, key=lambda s: s.start))
        spans: list[tuple[int, int]] = []
        merge = seconds_to_frames(DUCK_MERGE_S)
        for s in ordered:
            if s.bus != BUS_VOICE:
                continue
            if spans and s.start - spans[-1][1] <= merge:
                spans[-1] = (spans[-1][0], max(spans[-1][1], s.end))
            else:
                spans.append((s.start, s.end))
        return Program(
            sounds=ordered,
            ambience=ambience,
            known_end=known_end,
            end=end,
            ambience_start=ambience_start,
            duck_spans=tuple(spans),
            starts=tuple(s.start for s in ordered),
            max_len=max((len(s.data) for s in ordered), default=0),
        )


def _glide(cur: float, target: float, step: float) -> float:
    """One step of a slider glide from `cur` toward `target`."""
    delta = target - cur
    return target if abs(delta) <= step else cur + math.copysign(step, delta)



#: What an idle mixer holds once an ended session is forgotten (made here, not in the
#: callback, which allocates nothing).
_EMPTY_PROGRAM = Program()


class _Scratch:
    """A preallocated float32 work array that hands out its first `n` rows.

    Slicing makes a new ndarray object (about 100 bytes) each time, and the callback asks for the
    same block size again and again, so the view is kept and remade only when the size changes.
    """

    __slots__ = ("_base", "_n", "_view")

    def __init__(self, base: np.ndarray | None = None) -> None:
        self._base = np.zeros(MAX_BLOCK, dtype=np.float32) if base is None else base
        self._n = 0
        self._view = self._base[:0]

    def first(self, n: int) -> np.ndarray:
        if n != self._n:
            self._view = self._base[:n]
            self._n = n
        return self._view


class Transport(enum.Enum):
    IDLE = "idle"  # nothing loaded: silence
    PLAYING = "playing"
    PAUSED = "paused"
    FINISHED = "finished"  # reached the end by itself
    STOPPED = "stopped"  # stopped by the user


class Mixer:
    """Owns the playhead. Lives as long as the output stream, across practices."""

    def __init__(self, voice_gain: float = 1.0, ambience_gain: float = 1.0) -> None:
        self._commands: collections.deque[tuple[str, Any]] = collections.deque()
        self._program = Program()
        self._loads = 0  # tokens handed out by load() (control threads only)
        self._loaded = 0  # the token of the program playing (written by the audio thread only)
        self.pos = 0  # practice frame of the next sample rendered
        self.device_frames = 0  # all frames ever rendered, for the audio clock
        self.stalled_frames = 0  # frames spent waiting for narration
        self.quiet_frames = 0  # frames of silence rendered since anything last played
        self._stall_run = 0  # frames into the current wait
        self._stall_depth0 = 0.0  # how ducked the ambience was when the wait began
        self.errors = 0
        self.transport = Transport.IDLE
        self._ambience_offset = 0
        # An ambience being replaced: its loop, its loop position, and how far into its fade-out.
        self._old_amb: np.ndarray | None = None
        self._old_amb_pos = 0
        self._old_amb_age = 0
        self._voice = voice_gain
        self._voice_target = voice_gain
        self._amb = ambience_gain
        self._amb_target = ambience_gain
        # Transport gain: ramps from `_tfrom` toward a target, a whole 0-to-1 fade taking `_tlen`
        # frames, `_tage` frames done; reaching 0 completes a pause/stop/seek.
        self._tgain = 0.0
        self._tgain_target = 0.0
        self._tfrom = 0.0
        self._tlen = 1.0
        self._tage = 0
        self._after_fade: tuple[str, int] | None = None
        # Preallocated scratch, all float32 like the audio (see the module docstring).
        self._ar = _Scratch(np.arange(MAX_BLOCK, dtype=np.float32))  # exact: MAX_BLOCK < 2**24
        self._env = _Scratch()
        self._tmp = _Scratch()
        self._tmp2 = _Scratch()
        self._mono = _Scratch()
        self._gain = _Scratch()
        frames = np.zeros((MAX_BLOCK, CHANNELS), dtype=np.float32)
        self._frames = _Scratch(frames)
        self._frame_channels = tuple(_Scratch(frames[:, c]) for c in range(CHANNELS))
        self._frames2 = _Scratch(np.zeros((MAX_BLOCK, CHANNELS), dtype=np.float32))
        # Scalar operands, filled in place: a Python number would become a new array per call.
        self._at = np.zeros((), dtype=np.float32)
        self._per = np.zeros((), dtype=np.float32)
        self._gain0 = np.zeros((), dtype=np.float32)
        self._bound = np.zeros((), dtype=np.float32)
        self._clock_dev = np.zeros(CLOCK_HISTORY, dtype=np.int64)
        self._clock_pos = np.zeros(CLOCK_HISTORY, dtype=np.int64)
        self._clock_adv = np.zeros(CLOCK_HISTORY, dtype=np.int8)
        self._clock_n = 0

    # ------------------------------------------------------------------ controls (any thread)

    def load(self, program: Program, start: int = 0) -> int:
        """Play `program` from `start`; returns the token its updates must carry."""
        self._loads += 1
        self._commands.append(("load", (program, start, self._loads)))
        return self._loads

    def update(self, program: Program, token: int | None = None) -> None:
        """Swap in a longer program (narration caught up) without touching the playhead.

        An update carrying the token of an earlier `load` is dropped: a replaced session whose
        narration worker was still finishing a sentence must never take the mixer back.
        """
        self._commands.append(("update", (program, token)))

    def forget(self) -> None:
        """Drop what an ended session left loaded (its clips and soundscape, tens of MB), so
        resting in the tray holds none of it; ignored while something plays or is paused.

        Done here, not as a command: at rest the stream is usually in standby, so a command
        would wait for the next practice. Swapping one reference is atomic, and the callback
        reads the program once per block; the caller (the player) makes sure no load is
        pending, by holding its play lock.
        """
        if self.transport not in (Transport.PLAYING, Transport.PAUSED) and not self._commands:
            self._program = _EMPTY_PROGRAM
            self._old_amb = None

    def pause(self) -> None:
        self._commands.append(("pause", None))

    def resume(self) -> None:
        self._commands.append(("resume", None))

    def seek(self, frame: int) -> None:
        self._commands.append(("seek", max(0, int(frame))))

    def stop(self, fade_s: float = STOP_FADE_S) -> None:
        self._commands.append(("stop", fade_s))

    def set_gains(self, voice: float | None = None, ambience: float | None = None) -> None:
        self._commands.append(("gains", (voice, ambience)))

    @property
    def program(self) -> Program:
        return self._program

    @property
    def loaded(self) -> int:
        """The token of the last `load` the audio thread has taken up. Until a session's own
        token is here, the transport and the clock still describe what played before it (the
        stream may even be waking from standby)."""
        return self._loaded

    @property
    def ambience_clock(self) -> int:
        """Frames of ambience played in this practice: the playhead plus time spent waiting
        for narration (ambience carries on through those waits)."""
        return self.pos + self._ambience_offset

    @property
    def busy(self) -> bool:
        """True while commands wait or a fade runs, so callers can wait for a stop to finish."""
        return bool(self._commands) or self._after_fade is not None

    def heard_position(self, latency_frames: int) -> int:
        """The practice frame reaching the listener's ears now: the one clock everything reads."""
        target = self.device_frames - max(0, latency_frames)
        n = self._clock_n
        if n == 0 or target <= 0:
            return 0 if n == 0 else int(self._clock_pos[0])
        lo = max(0, n - CLOCK_HISTORY)
        for k in range(n - 1, lo - 1, -1):
            i = k % CLOCK_HISTORY
            dev = int(self._clock_dev[i])
            if dev <= target:
                base = int(self._clock_pos[i])
                return base + (target - dev) if self._clock_adv[i] else base
        return int(self._clock_pos[lo % CLOCK_HISTORY])

    # ------------------------------------------------------------------ audio thread

    def render(self, out: np.ndarray) -> None:
        """Fill `out` (frames, CHANNELS) float32 completely. Called from the audio callback."""
        n = out.shape[0]
        out.fill(0.0)
        if n <= MAX_BLOCK:
            self._render_block(out, n)
            return
        done = 0
        while done < n:
            chunk = min(n - done, MAX_BLOCK)
            self._render_block(out[done : done + chunk], chunk)
            done += chunk

    def _render_block(self, out: np.ndarray, n: int) -> None:
        self._apply_commands()
        prog = self._program
        state = self.transport
        # A pause or stop keeps the playhead moving until its fade-out has finished.
        advancing = state is Transport.PLAYING or (
            state in (Transport.PAUSED, Transport.STOPPED) and self._tgain > 0.0
        )
        # Record where this block sits on the practice clock before anything moves.
        i = self._clock_n % CLOCK_HISTORY
        self._clock_dev[i] = self.device_frames
        self._clock_pos[i] = self.pos
        self._clock_adv[i] = 1 if advancing else 0
        self._clock_n += 1
        self.device_frames += n

        if not advancing:
            self.quiet_frames += n
            return
        self.quiet_frames = 0

        # Narration not ready yet: render what is laid out, then hold the playhead (ambience
        # carries on), instead of letting the playhead run past sounds that will arrive late.
        playable = n
        if prog.end is None:
            playable = max(0, min(n, prog.known_end - self.pos))
        if playable > 0:
            part = out if playable == n else out[:playable]
            self._mix(part, playable, self.pos, self.ambience_clock, prog)
            self._stall_run = 0
        if playable < n:
            stall = n - playable
            if self._stall_run == 0:
                self._stall_depth0 = self._duck_depth_at(self.pos + playable, prog)
            amb_pos = self._ambience_offset + self.pos + playable
            self._mix_ambience_only(out[playable:], stall, amb_pos, prog)
            self._ambience_offset += stall
            self.stalled_frames += stall
            self._stall_run += stall
        if self._old_amb is not None:
            self._fade_old_ambience(out, n)
        self._apply_transport_gain(out, n)
        self._limit(out, n)
        self._glide_done(n)
        if advancing:
            self.pos += playable
        if prog.end is not None and self.pos >= prog.end and state is Transport.PLAYING:
            self.transport = Transport.FINISHED

    def _ramp(self, dst: np.ndarray, n: int, dist: int, direction: int, length: int) -> float:
        """Write ``clip((dist + direction * k) / length, 0, 1)`` for k < n into `dst`.

        `dist` is the distance in frames of the block's first frame from the ramp's zero point,
        `direction` +1 for a ramp that rises with the frame and -1 for one that falls. A block
        lying wholly past either end is filled with that end, which is returned (1.0 or 0.0) so
        callers can skip multiplying by it. Otherwise every distance is under `length` plus a
        block, which float32 holds exactly, and -1.0 is returned. Either way a frame's value
        depends on its distance alone, never on where the block starts.
        """
        last = dist + direction * (n - 1)
        if min(dist, last) >= length:
            dst.fill(1.0)
            return 1.0
        if max(dist, last) <= 0:
            dst.fill(0.0)
            return 0.0
        at, per = self._at, self._per
        at.fill(dist)
        per.fill(length)
        if direction > 0:
            np.add(self._ar.first(n), at, out=dst)
        else:
            np.subtract(at, self._ar.first(n), out=dst)
        # Division, not a multiplication by 1/length: it is correctly rounded, so a distance of
        # `length` or more gives exactly 1.0, as a filled block does.
        np.divide(dst, per, out=dst)
        np.maximum(dst, _ZERO, out=dst)
        np.minimum(dst, _ONE, out=dst)
        return -1.0

    def _stereo(self, mono: np.ndarray, n: int, scale: np.ndarray = _ONE) -> np.ndarray:
        """`mono` (n,) times `scale`, in every channel of a scratch (n, CHANNELS) array.

        Multiplying frames by ``mono[:, None]`` would make numpy buffer the broadcast: it would
        allocate, and take twice as long as these strided writes and one contiguous operation.
        """
        for channel in self._frame_channels:
            np.multiply(mono, scale, out=channel.first(n))
        return self._frames.first(n)

    def _mix(self, out: np.ndarray, n: int, pos: int, amb_pos: int, prog: Program) -> None:
        self._mix_sounds(out, n, pos, prog)
        loop = prog.ambience
        if loop is None or len(loop) == 0:
            return
        env = self._env.first(n)
        # Fade in from the practice start, fade out into its end.
        if self._fade_in(env, n, amb_pos, prog) == 0.0 or not self._fade_out(env, n, pos, prog):
            return
        self._duck(env, n, pos, prog)
        self._add_ambience(out, n, amb_pos, loop, env)

    def _mix_ambience_only(self, out: np.ndarray, n: int, amb_pos: int, prog: Program) -> None:
        loop = prog.ambience
        if loop is None or len(loop) == 0:
            return
        env = self._env.first(n)
        if self._fade_in(env, n, amb_pos, prog) == 0.0:
            return
        # What comes after a wait is always a sentence starting at the playhead, where the
        # ambience would be fully ducked; glide there now so that it does not drop 8 dB at once
        # when the sentence arrives. The glide starts from the depth the wait began at (to the
        # nearest frame, so that it too is a function of whole frames).
        depth = self._tmp2.first(n)
        start = self._stall_run + round(self._stall_depth0 * _DUCK_RAMP)
        self._ramp(depth, n, start, 1, _DUCK_RAMP)
        np.multiply(depth, _DUCK_SLOPE, out=depth)
        np.add(depth, _ONE, out=depth)
        np.multiply(env, depth, out=env)
        self._add_ambience(out, n, amb_pos, loop, env)

    @staticmethod
    def _duck_depth_at(pos: int, prog: Program) -> float:
        """The ducking depth (0 none, 1 full) at one frame: `_duck`'s curve, for one sample."""
        ramp = _DUCK_RAMP
        depth = 0.0
        for start, end in prog.duck_spans:
            rise = (pos - (start - ramp)) / ramp
            fall = (end + ramp - pos) / ramp
            depth = max(depth, min(1.0, rise, fall))
        return max(0.0, depth)

    def _fade_in(self, env: np.ndarray, n: int, amb_pos: int, prog: Program) -> float:
        """The ambience fades in on its own clock, which keeps running while the playhead
        waits for narration: the first thing a cold start plays is the soundscape arriving.

        Returns what `_ramp` does: 0.0 while the whole block is still silent."""
        return self._ramp(env, n, amb_pos - prog.ambience_start, 1, _AMBIENCE_FADE)

    def _fade_out(self, env: np.ndarray, n: int, pos: int, prog: Program) -> bool:
        """Multiply `env` by the fade into the practice's end; False once the block is past it."""
        if prog.end is None:
            return True
        fade = self._tmp.first(n)
        level = self._ramp(fade, n, prog.end - pos, -1, _AMBIENCE_FADE)
        if level < 0.0:
            np.multiply(env, fade, out=env)
        return level != 0.0

    def _mix_sounds(self, out: np.ndarray, n: int, pos: int, prog: Program) -> None:
        starts = prog.starts
        hi = bisect.bisect_left(starts, pos + n)
        j = hi - 1
        earliest = pos - prog.max_len
        gain = self._gain0
        while j >= 0 and starts[j] >= earliest:
            sound = prog.sounds[j]
            j -= 1
            a = max(pos, sound.start)
            b = min(pos + n, sound.end)
            if b <= a:
                continue
            gain.fill(self._voice if sound.bus == BUS_VOICE else self._voice * CUE_GAIN)
            k = b - a
            mono = self._mono.first(k)
            np.multiply(sound.data[a - sound.start : b - sound.start], gain, out=mono)
            dst = out if k == n else out[a - pos : b - pos]
            np.add(dst, self._stereo(mono, k), out=dst)

    def _duck(self, env: np.ndarray, n: int, pos: int, prog: Program) -> None:
        """Multiply `env` by the ducking curve: trapezoids around narration, ramps of 300 ms."""
        spans = prog.duck_spans
        if not spans:
            return
        ramp = _DUCK_RAMP
        lo, hi = pos - ramp, pos + n + ramp
        depth = self._tmp2.first(n)
        rise = self._tmp.first(n)
        fall = self._gain.first(n)
        touched = False
        for start, end in spans:
            if end < lo or start > hi:
                continue
            # rising edge before the voice starts, falling edge after it ends
            up = self._ramp(rise, n, pos - (start - ramp), 1, ramp)
            down = self._ramp(fall, n, end + ramp - pos, -1, ramp)
            if up == 0.0 or down == 0.0:
                continue
            if up == 1.0:  # past the rising edge: the curve is the falling one (or all 1)
                curve = fall
            elif down == 1.0:
                curve = rise
            else:  # the block reaches both edges
                curve = np.minimum(rise, fall, out=rise)
            if touched:
                np.maximum(depth, curve, out=depth)
            else:
                depth[:] = curve
                touched = True
        if not touched:
            return
        np.multiply(depth, _DUCK_SLOPE, out=depth)
        np.add(depth, _ONE, out=depth)
        np.multiply(env, depth, out=env)

    def _add_ambience(
        self, out: np.ndarray, n: int, amb_pos: int, loop: np.ndarray, env: np.ndarray
    ) -> None:
        """Add `loop` from `amb_pos` on (wrapping), times `env` and the slider."""
        self._gain0.fill(self._amb * AMBIENCE_BASE_GAIN)
        gain = self._stereo(env, n, self._gain0)
        seg = self._looped(loop, amb_pos % len(loop), n)
        if seg.shape[1] == CHANNELS:
            np.multiply(gain, seg, out=gain)
        else:  # a mono loop plays in every channel (a broadcast would allocate)
            for c in range(CHANNELS):
                np.multiply(gain[:, c], seg[:, 0], out=gain[:, c])
        np.add(out, gain, out=out)

    def _looped(self, loop: np.ndarray, start: int, n: int) -> np.ndarray:
        """`n` frames of `loop` from `start` on: a view, or where the loop wraps, a copy."""
        length = len(loop)
        if start + n <= length:
            return loop[start : start + n]
        frames = self._frames2.first(n)
        block = frames if loop.shape[1] == CHANNELS else frames[:, :1]
        done = 0
        while done < n:
            take = min(n - done, length - start)
            block[done : done + take] = loop[start : start + take]
            done += take
            start = 0
        return block

    def _fade_old_ambience(self, out: np.ndarray, n: int) -> None:
        loop = self._old_amb
        assert loop is not None
        env = self._env.first(n)
        if self._ramp(env, n, _SWITCH_FADE - self._old_amb_age, -1, _SWITCH_FADE) != 0.0:
            self._add_ambience(out, n, self._old_amb_pos, loop, env)
        self._old_amb_pos += n
        self._old_amb_age += n
        if self._old_amb_age >= _SWITCH_FADE:
            self._old_amb = None

    def _limit(self, out: np.ndarray, n: int) -> None:
        """A memoryless soft knee above LIMIT_KNEE, so loud sliders bend instead of clipping.

        Memoryless keeps it block-size independent; it only engages when a peak needs it. A
        sample x becomes ``sign(x) * (min(|x|, knee) + room * tanh(max(|x| - knee, 0) / room))``:
        exactly x below the knee, and never past full scale (the sum is under 1.0 before float32
        rounds it).
        """
        size = self._frames.first(n)
        np.abs(out, out=size)
        # argmax, not max(): a reduction allocates its iterator on every call.
        if size.item(size.argmax()) <= LIMIT_KNEE:
            return
        soft = self._frames2.first(n)
        np.subtract(size, _KNEE, out=soft)
        np.maximum(soft, _ZERO, out=soft)
        np.divide(soft, _ROOM, out=soft)
        np.tanh(soft, out=soft)
        np.multiply(soft, _ROOM, out=soft)
        np.minimum(size, _KNEE, out=size)
        np.add(size, soft, out=size)
        np.copysign(size, out, out=out)

    # ------------------------------------------------------------------ transport

    def _apply_commands(self) -> None:
        while self._commands:
            try:
                name, arg = self._commands.popleft()
            except IndexError:
                return
            if name == "load":
                program, start, token = arg
                self._loaded = token
                self._program = program
                self.pos = int(start)
                # The heard clock starts again with this program: entries of the one before,
                # still within the output latency, are not this program's frames.
                self._clock_n = 0
                self._ambience_offset = 0
                self._old_amb = None
                self.stalled_frames = 0
                self._stall_run = 0
                self.transport = Transport.PLAYING
                self._tgain = 1.0  # start at once: the first syllable must not be faded away
                self._tgain_target = 1.0
                self._after_fade = None
            elif name == "update":
                program, token = arg
                if token is not None and token != self._loaded:
                    continue  # from a session that has been replaced
                old = self._program.ambience
                if old is not None and program.ambience is not old and self.pos > 0:
                    self._old_amb = old
                    self._old_amb_pos = self._ambience_offset + self.pos
                    self._old_amb_age = 0
                self._program = program
            elif name == "pause" and self.transport is Transport.PLAYING:
                self.transport = Transport.PAUSED
                self._fade_to(0.0, PAUSE_FADE_S, None)
            elif name == "resume" and self.transport is Transport.PAUSED:
                self.transport = Transport.PLAYING
                self._fade_to(1.0, PAUSE_FADE_S, None)
            elif name == "seek" and self.transport in (Transport.PLAYING, Transport.PAUSED):
                target = int(arg)
                if self._program.end is not None:
                    target = min(target, self._program.end)
                target = min(target, max(self._program.known_end, 0))
                if self._tgain > 0.0:
                    self._fade_to(0.0, SEEK_FADE_S, ("seek", target))
                else:
                    self.pos = target
            elif name == "stop" and self.transport in (Transport.PLAYING, Transport.PAUSED):
                self.transport = Transport.STOPPED
                fade = float(arg)
                self._fade_to(0.0, max(fade, 0.01), ("stop", 0))
            elif name == "gains":
                voice, amb = arg
                if voice is not None:
                    self._voice_target = float(voice)
                if amb is not None:
                    self._amb_target = float(amb)

    def _fade_to(self, target: float, seconds: float, then: tuple[str, int] | None) -> None:
        self._tgain_target = target
        self._tfrom = self._tgain
        self._tlen = max(1.0, seconds * SAMPLE_RATE)
        self._tage = 0
        self._after_fade = then

    def _apply_transport_gain(self, out: np.ndarray, n: int) -> None:
        cur, target = self._tgain, self._tgain_target
        if cur == target:
            if cur != 1.0:
                self._gain0.fill(cur)
                np.multiply(out, self._gain0, out=out)
            self._finish_fade()
            return
        # The fade as a function of the frames since it began (exact in float32: a fade is far
        # shorter than 2**24 frames), so where the blocks fall does not change it.
        origin = self._tfrom
        self._at.fill(self._tage + 1)
        self._per.fill(self._tlen)
        self._gain0.fill(origin)
        self._bound.fill(target)
        ramp = self._tmp.first(n)
        np.add(self._ar.first(n), self._at, out=ramp)
        np.divide(ramp, self._per, out=ramp)
        if target > origin:
            np.add(ramp, self._gain0, out=ramp)
            np.minimum(ramp, self._bound, out=ramp)
        else:
            np.subtract(self._gain0, ramp, out=ramp)
            np.maximum(ramp, self._bound, out=ramp)
        np.multiply(out, self._stereo(ramp, n), out=out)
        self._tage += n
        self._tgain = ramp.item(n - 1)
        if self._tgain == target:
            self._finish_fade()

    def _finish_fade(self) -> None:
        then = self._after_fade
        if then is None or self._tgain != self._tgain_target:
            return
        self._after_fade = None
        action, value = then
        if action == "seek":
            self.pos = value
            if self.transport is Transport.PLAYING:
                self._fade_to(1.0, SEEK_FADE_S, None)
        elif action == "stop":
            self.transport = Transport.STOPPED

    def _glide_done(self, n: int) -> None:
        """Move slider gains toward their targets; whole-block steps are below audibility."""
        step = n / (GAIN_GLIDE_S * SAMPLE_RATE)
        self._voice = _glide(self._voice, self._voice_target, step)
        self._amb = _glide(self._amb, self._amb_target, step)

    # ------------------------------------------------------------------ offline

    def render_program(self, program: Program, block: int = 4096) -> np.ndarray:
        """Render a complete program exactly as playback would, for `render` and tests."""
        if program.end is None:
            raise ValueError("program is not complete")
        out = np.zeros((program.end, CHANNELS), dtype=np.float32)
        self.load(program)
        pos = 0
        while pos < program.end:
            k = min(block, program.end - pos)
            self.render(out[pos : pos + k])
            pos += k
        return out
