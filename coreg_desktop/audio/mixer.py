"""The real-time mixer: voice, cue tones, bell and ambience summed in numpy float32.

`Mixer.render(out)` is the audio callback's whole job, so it follows the callback contract in
DESIGN.md: every array it touches is allocated ahead of time (a `Program` is built by worker
threads, the scratch buffers in `__init__`), controls arrive through a deque of commands, and it
takes no locks, does no I/O and never logs.

Every envelope (ambience fades, ducking under the voice) is a function of the *practice frame*, not
of block boundaries, so rendering in any block size gives the same samples. That is what lets the
offline `render` command write exactly what `play` plays.
"""

from __future__ import annotations

import bisect
import collections
import enum
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
        self.pos = 0  # practice frame of the next sample rendered
        self.device_frames = 0  # all frames ever rendered, for the audio clock
        self.stalled_frames = 0  # frames spent waiting for narration
        self.quiet_frames = 0  # frames of silence rendered since anything last played
        self._stall_run = 0  # frames into the current wait
        self._stall_depth0 = 0.0  # how ducked the ambience was when the wait began
        self.errors = 0
        self.transport = Transport.IDLE
        self._ambience_offset = 0
        # An ambience being replaced: its loop, its loop position, and its fade-out gain.
        self._old_amb: np.ndarray | None = None
        self._old_amb_pos = 0
        self._old_amb_gain = 0.0
        self._voice = voice_gain
        self._voice_target = voice_gain
        self._amb = ambience_gain
        self._amb_target = ambience_gain
        # Transport gain: ramps toward a target; reaching 0 completes a pause/stop/seek.
        self._tgain = 0.0
        self._tgain_target = 0.0
        self._tstep = 1.0
        self._after_fade: tuple[str, int] | None = None
        # Preallocated scratch.
        self._ar = np.arange(MAX_BLOCK, dtype=np.float64)
        self._idx = np.zeros(MAX_BLOCK, dtype=np.float64)
        self._env = np.zeros(MAX_BLOCK, dtype=np.float64)
        self._tmp = np.zeros(MAX_BLOCK, dtype=np.float64)
        self._tmp2 = np.zeros(MAX_BLOCK, dtype=np.float64)
        self._mono = np.zeros(MAX_BLOCK, dtype=np.float32)
        self._gain = np.zeros(MAX_BLOCK, dtype=np.float32)
        self._clock_dev = np.zeros(CLOCK_HISTORY, dtype=np.int64)
        self._clock_pos = np.zeros(CLOCK_HISTORY, dtype=np.int64)
        self._clock_adv = np.zeros(CLOCK_HISTORY, dtype=np.int8)
        self._clock_n = 0

    # ------------------------------------------------------------------ controls (any thread)

    def load(self, program: Program, start: int = 0) -> None:
        self._commands.append(("load", (program, start)))

    def update(self, program: Program) -> None:
        """Swap in a longer program (narration caught up) without touching the playhead."""
        self._commands.append(("update", program))

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
        """Fill `out` (frames, CHANNELS) completely. Called from the audio callback."""
        n = out.shape[0]
        out.fill(0.0)
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
            self._mix(out[:playable], playable, self.pos, self.ambience_clock, prog)
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

    def _mix(self, out: np.ndarray, n: int, pos: int, amb_pos: int, prog: Program) -> None:
        idx = self._idx[:n]
        np.add(self._ar[:n], float(pos), out=idx)
        self._mix_sounds(out, n, pos, prog)
        if prog.ambience is None or len(prog.ambience) == 0:
            return
        env = self._env[:n]
        tmp = self._tmp[:n]
        # Fade in from the practice start, fade out into its end.
        self._fade_in(env, n, amb_pos, prog)
        if prog.end is not None:
            np.subtract(float(prog.end), idx, out=tmp)
            np.multiply(tmp, 1.0 / (AMBIENCE_FADE_S * SAMPLE_RATE), out=tmp)
            np.clip(tmp, 0.0, 1.0, out=tmp)
            np.multiply(env, tmp, out=env)
        self._duck(env, idx, n, pos, prog)
        self._add_ambience(out, n, amb_pos, prog.ambience, env)

    def _mix_ambience_only(self, out: np.ndarray, n: int, amb_pos: int, prog: Program) -> None:
        if prog.ambience is None or len(prog.ambience) == 0:
            return
        env = self._env[:n]
        self._fade_in(env, n, amb_pos, prog)
        # What comes after a wait is always a sentence starting at the playhead, where the
        # ambience would be fully ducked; glide there now so that it does not drop 8 dB at once
        # when the sentence arrives.
        ramp = DUCK_RAMP_S * SAMPLE_RATE
        depth = self._tmp2[:n]
        np.add(self._ar[:n], self._stall_run + self._stall_depth0 * ramp, out=depth)
        np.multiply(depth, 1.0 / ramp, out=depth)
        np.clip(depth, 0.0, 1.0, out=depth)
        np.multiply(depth, 10 ** (-DUCK_DB / 20) - 1.0, out=depth)
        np.add(depth, 1.0, out=depth)
        np.multiply(env, depth, out=env)
        self._add_ambience(out, n, amb_pos, prog.ambience, env)

    @staticmethod
    def _duck_depth_at(pos: int, prog: Program) -> float:
        """The ducking depth (0 none, 1 full) at one frame: `_duck`'s curve, for one sample."""
        ramp = DUCK_RAMP_S * SAMPLE_RATE
        depth = 0.0
        for start, end in prog.duck_spans:
            rise = (pos - (start - ramp)) / ramp
            fall = (end + ramp - pos) / ramp
            depth = max(depth, min(1.0, rise, fall))
        return max(0.0, depth)

    def _fade_in(self, env: np.ndarray, n: int, amb_pos: int, prog: Program) -> None:
        """The ambience fades in on its own clock, which keeps running while the playhead
        waits for narration: the first thing a cold start plays is the soundscape arriving."""
        np.add(self._ar[:n], float(amb_pos - prog.ambience_start), out=env)
        np.multiply(env, 1.0 / (AMBIENCE_FADE_S * SAMPLE_RATE), out=env)
        np.clip(env, 0.0, 1.0, out=env)

    def _mix_sounds(self, out: np.ndarray, n: int, pos: int, prog: Program) -> None:
        starts = prog.starts
        hi = bisect.bisect_left(starts, pos + n)
        j = hi - 1
        earliest = pos - prog.max_len
        while j >= 0 and starts[j] >= earliest:
            sound = prog.sounds[j]
            j -= 1
            a = max(pos, sound.start)
            b = min(pos + n, sound.end)
            if b <= a:
                continue
            gain = self._voice if sound.bus == BUS_VOICE else self._voice * CUE_GAIN
            k = b - a
            mono = self._mono[:k]
            np.multiply(sound.data[a - sound.start : b - sound.start], gain, out=mono)
            dst = out[a - pos : b - pos]
            for c in range(CHANNELS):
                dst[:, c] += mono

    def _duck(self, env: np.ndarray, idx: np.ndarray, n: int, pos: int, prog: Program) -> None:
        """Multiply `env` by the ducking curve: trapezoids around narration, ramps of 300 ms."""
        spans = prog.duck_spans
        if not spans:
            return
        ramp = DUCK_RAMP_S * SAMPLE_RATE
        lo, hi = pos - ramp, pos + n + ramp
        depth = self._tmp2[:n]
        depth.fill(0.0)
        tmp = self._tmp[:n]
        touched = False
        for start, end in spans:
            if end < lo or start > hi:
                continue
            touched = True
            # rising edge before the voice starts, falling edge after it ends
            np.subtract(idx, start - ramp, out=tmp)
            np.multiply(tmp, 1.0 / ramp, out=tmp)
            np.clip(tmp, 0.0, 1.0, out=tmp)
            fall = self._gain[:n]
            np.subtract(float(end + ramp), idx, out=fall, casting="unsafe")
            np.multiply(fall, 1.0 / ramp, out=fall)
            np.clip(fall, 0.0, 1.0, out=fall)
            np.minimum(tmp, fall, out=tmp)
            np.maximum(depth, tmp, out=depth)
        if not touched:
            return
        floor = 10 ** (-DUCK_DB / 20)
        np.multiply(depth, floor - 1.0, out=depth)
        np.add(depth, 1.0, out=depth)
        np.multiply(env, depth, out=env)

    def _add_ambience(
        self, out: np.ndarray, n: int, amb_pos: int, loop: np.ndarray, env: np.ndarray
    ) -> None:
        gain = self._gain[:n]
        np.multiply(env, self._amb * AMBIENCE_BASE_GAIN, out=gain, casting="unsafe")
        length = len(loop)
        start = amb_pos % length
        done = 0
        while done < n:
            take = min(n - done, length - start)
            seg = loop[start : start + take]
            g = gain[done : done + take]
            dst = out[done : done + take]
            for c in range(CHANNELS):
                col = self._mono[:take]
                np.multiply(seg[:, c % seg.shape[1]], g, out=col)
                dst[:, c] += col
            done += take
            start = 0

    def _fade_old_ambience(self, out: np.ndarray, n: int) -> None:
        loop = self._old_amb
        assert loop is not None
        env = self._env[:n]
        step = 1.0 / (AMBIENCE_SWITCH_FADE_S * SAMPLE_RATE)
        np.multiply(self._ar[:n], -step, out=env)
        np.add(env, self._old_amb_gain, out=env)
        np.clip(env, 0.0, 1.0, out=env)
        self._add_ambience(out, n, self._old_amb_pos, loop, env)
        self._old_amb_pos += n
        self._old_amb_gain = float(env[n - 1]) - step
        if self._old_amb_gain <= 0.0:
            self._old_amb = None

    def _limit(self, out: np.ndarray, n: int) -> None:
        """A memoryless soft knee above LIMIT_KNEE, so loud sliders bend instead of clipping.

        Memoryless keeps it block-size independent; it only engages when a peak needs it.
        """
        peak = max(float(out.max()), -float(out.min()))
        if peak <= LIMIT_KNEE:
            return
        room = 1.0 - LIMIT_KNEE
        excess = self._tmp[:n]
        squeezed = self._tmp2[:n]
        for c in range(CHANNELS):
            x = out[:, c]
            np.abs(x, out=excess)
            np.subtract(excess, LIMIT_KNEE, out=excess)
            np.maximum(excess, 0.0, out=excess)
            np.multiply(excess, 1.0 / room, out=squeezed)
            np.tanh(squeezed, out=squeezed)
            np.multiply(squeezed, room, out=squeezed)
            np.subtract(excess, squeezed, out=excess)  # how much to take off each sample
            np.sign(x, out=squeezed)
            np.multiply(excess, squeezed, out=excess)
            np.subtract(x, excess, out=x, casting="unsafe")

    # ------------------------------------------------------------------ transport

    def _apply_commands(self) -> None:
        while self._commands:
            try:
                name, arg = self._commands.popleft()
            except IndexError:
                return
            if name == "load":
                program, start = arg
                self._program = program
                self.pos = int(start)
                self._ambience_offset = 0
                self._old_amb = None
                self.stalled_frames = 0
                self._stall_run = 0
                self.transport = Transport.PLAYING
                self._tgain = 1.0  # start at once: the first syllable must not be faded away
                self._tgain_target = 1.0
                self._after_fade = None
            elif name == "update":
                old = self._program.ambience
                if old is not None and arg.ambience is not old and self.pos > 0:
                    self._old_amb = old
                    self._old_amb_pos = self._ambience_offset + self.pos
                    self._old_amb_gain = 1.0
                self._program = arg
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
        self._tstep = 1.0 / max(1.0, seconds * SAMPLE_RATE)
        self._after_fade = then

    def _apply_transport_gain(self, out: np.ndarray, n: int) -> None:
        cur, target = self._tgain, self._tgain_target
        if cur == target:
            if cur != 1.0:
                out *= np.float32(cur)
            self._finish_fade()
            return
        direction = 1.0 if target > cur else -1.0
        ramp = self._tmp[:n]
        np.multiply(self._ar[:n], direction * self._tstep, out=ramp)
        np.add(ramp, cur + direction * self._tstep, out=ramp)
        np.clip(ramp, min(cur, target), max(cur, target), out=ramp)
        gain = self._gain[:n]
        gain[:] = ramp
        for c in range(CHANNELS):
            out[:, c] *= gain
        self._tgain = float(ramp[n - 1])
        if abs(self._tgain - target) < 1e-9:
            self._tgain = target
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
        for name in ("_voice", "_amb"):
            cur = getattr(self, name)
            target = getattr(self, name + "_target")
            if cur != target:
                delta = target - cur
                setattr(self, name, target if abs(delta) <= step else cur + step * np.sign(delta))

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
