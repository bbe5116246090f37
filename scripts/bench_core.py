#!/usr/bin/env python3
"""Figures for the headless core (issue: headless core, section 9; issue 7, section 5), measured
the way a user hears them.

Every timing comes from a recording of a private PulseAudio null sink (tests/e2e/pulse.py), and
each is set against a reference measured in the same run (mpv playing the same audio), because
these machines are shared and noisy. Kokoro (af_heart) and Piper (joe-medium) are measured in the
same run, interleaved. Prints medians over several runs, each run's value beside them.

* `play quick-reset --no-gui`, process start -> first audible sample and speech onset, per voice:
  cold (fresh narration and ambience cache; Kokoro's model already joined into the cache, as
  after installation or a first use), narration cached, and Kokoro's very first use (the model
  joined from its four parts on the way); the one-time join itself, timed alone.
* `render stay-safe`, Piper, uncached and cached.
* CPU over steady playback against mpv; peak RSS of `play --no-gui` per voice, narration cached
  and uncached (the voice model loaded and speaking).
* `--long`: an uncached `play stay-safe --no-gui` played to the end per voice (about 8 minutes
  each): the output's underflows (from the log line `play` writes when it ends), and the
  recording compared with `render` of the same lines for gaps (a stretch where the script has
  speech but the recording holds only the hum), plus the process's peak RSS.

* `--stalls` (alone): while uncached Kokoro narrates six lines on a session-like thread, how late
  5 ms ticks on the main thread come (they need the interpreter lock, as the audio callback
  does): synthesis in-process against synthesis in its child process, each in a fresh process.

    python scripts/bench_core.py [--runs 5] [--cpu-seconds 20] [--long]
    python scripts/bench_core.py --stalls [--runs 5]
    python scripts/bench_core.py --onsets-only --in-process-too [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from tests.e2e.desktop import cpu_percent  # noqa: E402
from tests.e2e.pulse import (  # noqa: E402
    HUM_DBFS,
    REC_RATE,
    PulseServer,
    Recorder,
    missing_requirements,
)

AUDIBLE_DBFS = -50.0  # anything the listener could hear over a quiet room; the hum is -66
SPEECH_DBFS = -38.0  # the narrator's voice (about -20 dBFS RMS) crossing in
#: The voices compared (label, id), Kokoro first: it is the one with targets to meet.
VOICES = (("kokoro", "kokoro:af_heart"), ("piper", "en_US-joe-medium"))
TARGETS = {
    ("kokoro", "cold"): 1.5,
    ("kokoro", "cached"): 0.5,
    ("piper", "cold"): 1.2,
    ("piper", "cached"): 0.5,
}
PLAYED = re.compile(r"Played (\S+) on (.+?): (\d+) output underflows, (\d+) recoveries")
KOKORO_LOADED = "loaded the Kokoro model"
KOKORO_FAILED = "Kokoro is unavailable"

# ----------------------------------------------------------------------------- homes and runs


def _env(server: PulseServer, home: Path) -> dict[str, str]:
    env = dict(server.env)
    for var in ("XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        env[var] = str(home / var.lower())
    env["PYTHONPATH"] = str(ROOT)
    return env


def _kokoro_dir(home: Path) -> Path:
    return home / "xdg_cache_home" / "coreg-desktop" / "kokoro"


def _home(path: Path, model_from: Path | None = None) -> Path:
    """A fresh user; with `model_from`, Kokoro's joined model (and its stamp) already in its cache
    (hard links: the same file, so its stamp still matches, and no 92 MB copy per run)."""
    path.mkdir(parents=True)
    if model_from is not None:
        target = _kokoro_dir(path)
        target.mkdir(parents=True)
        for name in ("kokoro-v1.0.int8.onnx", "kokoro-v1.0.int8.onnx.stamp.json"):
            os.link(model_from / name, target / name)
    return path


def _log_text(home: Path) -> str:
    path = home / "xdg_state_home" / "coreg-desktop" / "logs" / "coreg-desktop.log"
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def _played(home: Path) -> list[tuple[int, int]]:
    """(underflows, recoveries) of every `play` logged in this home."""
    return [(int(m[3]), int(m[4])) for m in PLAYED.finditer(_log_text(home))]


def _check_kokoro(home: Path, must_load: bool) -> None:
    """A Kokoro figure is only one if Kokoro spoke: no fallback, and the model loaded if asked."""
    text = _log_text(home)
    if KOKORO_FAILED in text:
        raise RuntimeError(f"Kokoro fell back to Piper in {home}:\n{text[-2000:]}")
    if must_load and KOKORO_LOADED not in text:
        raise RuntimeError(f"the Kokoro model never loaded in {home}:\n{text[-2000:]}")


def _coreg(*args: str) -> list[str]:
    return [sys.executable, "-m", "coreg_desktop", *args]


def _play(practice: str, voice: str) -> list[str]:
    return _coreg("play", practice, "--no-gui", "--voice", voice)


JOIN_CHILD = """
import sys, time
from coreg_desktop.tts import kokoro
start = time.perf_counter()
kokoro.prepare_model()
print(time.perf_counter() - start)
"""


def _join_model(env: dict[str, str]) -> float:
    """Join Kokoro's model into this environment's cache in a fresh process; seconds it took."""
    done = subprocess.run([sys.executable, "-c", JOIN_CHILD], env=env, capture_output=True,
                          text=True, check=True, timeout=120, cwd=ROOT)
    return float(done.stdout.split()[-1])


def _peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return float("nan")


def _interrupt(proc: subprocess.Popen[bytes]) -> None:
    """Ctrl+C, as a user stops `play`; kill only if it does not end by itself."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _onsets(rec: Recorder, cmd: list[str], env: dict[str, str], listen: float = 6.0
            ) -> tuple[float, float]:
    """(first audible sample, speech onset) in seconds after the process was started."""
    t0 = rec.mark()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        rec.wait_until(t0 + listen, timeout=listen + 30)
    finally:
        _interrupt(proc)
    audible = rec.onset_after(t0, AUDIBLE_DBFS)
    speech = rec.onset_after(t0, SPEECH_DBFS)
    nan = float("nan")
    return (audible - t0 if audible is not None else nan,
            speech - t0 if speech is not None else nan)


def _cpu_over(cmd: list[str], env: dict[str, str], seconds: float, settle: float = 3.0
              ) -> tuple[float, float]:
    """(CPU % of one core over `seconds` of steady playback, peak RSS in MB)."""
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        time.sleep(settle)
        cpu = cpu_percent(proc.pid, seconds)
        rss = _peak_rss_mb(proc.pid)
    finally:
        _interrupt(proc)
    return cpu, rss


def _peak_over(cmd: list[str], env: dict[str, str], seconds: float) -> tuple[float, float]:
    """Peak RSS (MB) of `cmd` over its first `seconds` (it is then stopped with Ctrl+C): its
    own, and sampled with its synthesis processes (which hold the voice model)."""
    from benchlib import tree_rss_mb

    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=ROOT)
    peak = tree = float("nan")
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and proc.poll() is None:
            value = _peak_rss_mb(proc.pid)
            peak = value if peak != peak else max(peak, value)
            total = tree_rss_mb(proc.pid)
            tree = total if tree != tree else max(tree, total)
            time.sleep(0.25)
    finally:
        _interrupt(proc)
    return peak, tree


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=900, cwd=ROOT)
    return time.perf_counter() - start


# ----------------------------------------------------------------------------- gaps


WINDOW_S = 0.010
#: A 10 ms window of the recording at most this loud holds only the hum (-66 dBFS): no voice,
#: no ambience, nothing of ours.
HUM_ONLY_DBFS = HUM_DBFS + 8.0
#: Where the script has speech: the rendered reference this loud in a window and both its
#: neighbours (so a 10 ms misalignment still lands inside the word).
REF_SPEECH_DBFS = -40.0
#: Where the script has any sound of ours (ambience included).
REF_SOUND_DBFS = -55.0


def _levels(x: np.ndarray, rate: int) -> np.ndarray:
    n = int(WINDOW_S * rate)
    frames = len(x) // n
    blocks = x[: frames * n].astype(np.float64).reshape(frames, n)
    return 10 * np.log10(np.mean(blocks * blocks, axis=1) + 1e-12)


@dataclass
class GapReport:
    speech_windows: int  # 10 ms windows of the script with speech that were checked
    gaps_in_speech: list[tuple[float, float]]  # (seconds into the play, length s)
    gaps_in_sound: list[tuple[float, float]]  # hum only where the script has ambience
    drift_ms: float  # how much later the end played than the script has it
    lags_ms: list[float]  # the alignment found along the way, for the curious

    def summary(self) -> str:
        speech = ", ".join(f"{t:.2f} s ({d * 1000:.0f} ms)" for t, d in self.gaps_in_speech[:8])
        sound = ", ".join(f"{t:.2f} s ({d * 1000:.0f} ms)" for t, d in self.gaps_in_sound[:8])
        return (f"{len(self.gaps_in_speech)} gaps inside speech"
                f"{' at ' + speech if speech else ''}; {len(self.gaps_in_sound)} hum-only "
                f"stretches where the ambience should be{' at ' + sound if sound else ''}; "
                f"end {self.drift_ms:+.0f} ms against the script; "
                f"{self.speech_windows * WINDOW_S:.0f} s of speech checked")


def find_gaps(recorded: np.ndarray, start_s: float, reference: np.ndarray, ref_rate: int,
              chunk_s: float = 5.0, search_s: float = 1.0) -> GapReport:
    """Compare the recording (16 kHz mono, from `start_s`) with the rendered practice.

    `render` makes exactly what `play` plays, so without a gap the recording is the reference
    shifted by the start-up time. The shift is found at the first sound and followed chunk by
    chunk (an underflow or a late line pushes everything after it later); then every window
    where the reference speaks and the recording holds only the hum is a gap.
    """
    mono = reference.mean(axis=1) if reference.ndim == 2 else reference
    ref = _levels(mono, ref_rate)
    rec = _levels(recorded[int(start_s * REC_RATE):], REC_RATE)
    ref_on = int(np.argmax(ref > AUDIBLE_DBFS))
    rec_on = int(np.argmax(rec > AUDIBLE_DBFS))
    lag = rec_on - ref_on
    chunk = int(chunk_s / WINDOW_S)
    search = int(search_s / WINDOW_S)
    floor = HUM_DBFS - 4.0
    ref_c = np.maximum(ref, floor)
    rec_c = np.maximum(rec, floor)
    lags: list[int] = []
    speech_mask = np.zeros(len(ref), dtype=bool)
    speech_mask[1:-1] = ((ref[1:-1] > REF_SPEECH_DBFS) & (ref[:-2] > REF_SPEECH_DBFS)
                         & (ref[2:] > REF_SPEECH_DBFS))
    sound_mask = ref > REF_SOUND_DBFS
    gap_speech = np.zeros(len(ref), dtype=bool)
    gap_sound = np.zeros(len(ref), dtype=bool)
    checked = 0
    for j0 in range(ref_on, len(ref), chunk):
        j1 = min(j0 + chunk, len(ref))
        segment = ref_c[j0:j1]
        if np.ptp(segment) > 20.0:  # something to align on (speech or a cue), else keep the lag
            best, best_err = lag, float("inf")
            for candidate in range(lag - search // 10, lag + search + 1):
                a, b = j0 + candidate, j1 + candidate
                if a < 0 or b > len(rec_c):
                    continue
                err = float(np.mean(np.abs(rec_c[a:b] - segment)))
                if err < best_err:
                    best, best_err = candidate, err
            lag = best
        lags.append(lag)
        idx = np.arange(j0, j1)
        inside = (idx + lag >= 0) & (idx + lag < len(rec))
        idx = idx[inside]
        quiet = rec[idx + lag] <= HUM_ONLY_DBFS
        checked += int(np.count_nonzero(speech_mask[idx]))
        gap_speech[idx] = quiet & speech_mask[idx]
        gap_sound[idx] = quiet & sound_mask[idx] & ~speech_mask[idx]

    def runs(mask: np.ndarray) -> list[tuple[float, float]]:
        found = []
        j = 0
        while j < len(mask):
            if mask[j]:
                k = j
                while k < len(mask) and mask[k]:
                    k += 1
                found.append(((j + lags_at(j)) * WINDOW_S, (k - j) * WINDOW_S))
                j = k
            else:
                j += 1
        return found

    def lags_at(j: int) -> int:
        return lags[min(max(0, (j - ref_on) // chunk), len(lags) - 1)] if lags else lag

    ref_off = len(ref) - int(np.argmax(ref[::-1] > AUDIBLE_DBFS))
    rec_off = len(rec) - int(np.argmax(rec[::-1] > AUDIBLE_DBFS))
    drift = ((rec_off - rec_on) - (ref_off - ref_on)) * WINDOW_S * 1000
    return GapReport(checked, runs(gap_speech), runs(gap_sound), drift,
                     [v * WINDOW_S * 1000 for v in lags])


@dataclass
class LongRun:
    voice: str
    seconds: float
    underflows: int
    recoveries: int
    peak_rss_mb: float
    gaps: GapReport


def _long_play(rec: Recorder, voice: str, home: Path, env: dict[str, str], work: Path,
               practice: str = "stay-safe") -> LongRun:
    """Play `practice` uncached to its end; its underflows, peak RSS and gaps."""
    from coreg_desktop.audio.wav import read_wav

    t0 = rec.mark()
    started = time.monotonic()
    proc = subprocess.Popen(_play(practice, voice), env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    peak = float("nan")
    try:
        while proc.poll() is None:
            value = _peak_rss_mb(proc.pid)
            peak = value if peak != peak else max(peak, value)
            if time.monotonic() - started > 1200:
                raise RuntimeError(f"{practice} did not end within 20 minutes")
            time.sleep(0.5)
    finally:
        if proc.poll() is None:
            _interrupt(proc)
    seconds = time.monotonic() - started
    rec.wait_until(rec.mark() + 1.0)
    played = _played(home)
    if not played:
        raise RuntimeError(f"no 'Played' line in the log:\n{_log_text(home)[-2000:]}")
    if voice.startswith("kokoro:"):
        _check_kokoro(home, must_load=True)
    wav = work / f"{practice}-{voice.replace(':', '_')}.wav"
    subprocess.run(_coreg("render", practice, "--voice", voice, "-o", str(wav)), env=env,
                   check=True, capture_output=True, timeout=900, cwd=ROOT)
    reference, rate = read_wav(wav)
    gaps = find_gaps(rec.samples(), t0, reference, rate)
    underflows, recoveries = played[-1]
    return LongRun(voice, seconds, underflows, recoveries, peak, gaps)


# ----------------------------------------------------------------------------- printing


#: Lines spoken while the stall probe ticks (practice-like, a few seconds each).
STALL_LINES = (
    "Let's find some steady ground together. Feel your feet on the floor.",
    "Breathe in slowly, and let the breath out a little longer than it came in.",
    "You are safe here. Nothing needs to happen right now.",
    "Notice five things you can see around you, one at a time.",
    "Let your shoulders soften, and feel the chair holding you up.",
    "When you're ready, take one more slow breath, and let it go.",
)
STALL_TICK_S = 0.005


def stall_probe(voice: str, mode: str, cache: Path) -> dict[str, float]:
    """In this process: a session-like thread narrates STALL_LINES uncached while the main
    thread ticks every 5 ms, as the audio callback (a Python callback, needing the interpreter
    lock) would; how late the ticks come is how long the audio path was stalled. `mode`
    "in-process" synthesizes in this process, "child" through tts/remote.py."""
    import threading

    from coreg_desktop import priority
    from coreg_desktop.tts import make_synthesizer
    from coreg_desktop.tts.cache import ClipCache
    from coreg_desktop.tts.narrator import Narrator
    from coreg_desktop.tts.remote import out_of_process

    synth = make_synthesizer(voice)
    if mode == "child":
        synth = out_of_process(synth)
    narrator = Narrator(synth, ClipCache(cache))

    def narrate() -> None:
        priority.background()  # as a session's narration worker
        for line in STALL_LINES:
            narrator.clip(line)

    worker = threading.Thread(target=narrate, daemon=True)
    late: list[float] = []
    worker.start()
    while worker.is_alive():
        t0 = time.perf_counter()
        time.sleep(STALL_TICK_S)
        late.append((time.perf_counter() - t0 - STALL_TICK_S) * 1000)
    narrator.unload()
    late.sort()
    return {"max_ms": late[-1], "p99_ms": late[int(0.99 * (len(late) - 1))], "ticks": len(late)}


def _stalls(runs: int, work: Path) -> dict[str, list[dict[str, float]]]:
    """The stall probe for uncached Kokoro, in-process and through the child, each run in a
    fresh process (so neither inherits the other's imports), interleaved."""
    out: dict[str, list[dict[str, float]]] = {}
    for i in range(runs):
        for mode in ("in-process", "child"):
            cache = work / f"stall-{mode}-{i}"
            done = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--stall-probe",
                 "kokoro:af_heart", mode, str(cache)],
                capture_output=True, text=True, timeout=600, cwd=ROOT, check=True,
                env={**os.environ, "XDG_CACHE_HOME": str(work / "stall-xdg-cache"),
                     "PYTHONPATH": str(ROOT)},
            )
            out.setdefault(mode, []).append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def _fmt(values: list[float], unit: str = "s", digits: int = 3) -> str:
    med = statistics.median(values)
    spread = ", ".join(f"{v:.{digits}f}" for v in values)
    return f"{med:.{digits}f} {unit}  (runs: {spread})"


def _verdict(values: list[float], target: float | None) -> str:
    if target is None:
        return ""
    return f"   target <= {target:g} s: {'pass' if statistics.median(values) <= target else 'FAIL'}"


# ----------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cpu-seconds", type=float, default=20.0)
    parser.add_argument("--rss-seconds", type=float, default=30.0,
                        help="how long an uncached play runs for its peak RSS")
    parser.add_argument("--long", action="store_true",
                        help="also play stay-safe uncached to the end, per voice (~8 min each)")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument("--in-process-too", action="store_true",
                        help="also time each cold start with synthesis in the app's process "
                             "(COREG_SYNTH_IN_PROCESS=1), interleaved, as the reference")
    parser.add_argument("--onsets-only", action="store_true",
                        help="stop after the play quick-reset onsets")
    parser.add_argument("--stalls", action="store_true",
                        help="only the audio-path stall probe: uncached Kokoro in-process "
                             "against its synthesis process")
    parser.add_argument("--stall-probe", nargs=3, metavar=("VOICE", "MODE", "CACHE"),
                        help=argparse.SUPPRESS)  # one probe, in this process (see _stalls)
    args = parser.parse_args()
    if args.stall_probe:
        voice, mode, cache = args.stall_probe
        print(json.dumps(stall_probe(voice, mode, Path(cache))))
        return 0
    if args.stalls:
        stalls = _stalls(args.runs, Path(tempfile.mkdtemp(prefix="coreg-stall-")))
        print("Audio-path stalls while uncached Kokoro narrates (5 ms ticks needing the "
              "interpreter lock, late by):")
        for mode, found in stalls.items():
            print(f"  {mode:<11} max {_fmt([f['max_ms'] for f in found], 'ms', 1)}; "
                  f"p99 {_fmt([f['p99_ms'] for f in found], 'ms', 1)}")
        if args.json:
            args.json.write_text(json.dumps({"stalls": stalls}, indent=1))
        return 0
    reason = missing_requirements()
    if reason:
        print(reason)
        return 2
    if shutil.which("mpv") is None:
        print("mpv is needed for the reference figures (sudo apt-get install -y mpv)")
        return 2

    from bench_tts import measure_rtf
    from benchlib import compile_bytecode

    from coreg_desktop.tts import kokoro

    problem = kokoro.check("af_heart")
    if problem is not None:
        print(f"Kokoro cannot speak here: {problem}")
        return 2
    compile_bytecode()

    print("Coreg core benchmark (medians; machine:", os.cpu_count(), "cores)", flush=True)
    rtf = measure_rtf(runs=args.runs)
    print(f"Piper real-time factor: {rtf.get('piper_rtf', float('nan')):.3f}  "
          f"(target <= 0.15; all: {rtf})", flush=True)

    work = Path(tempfile.mkdtemp(prefix="coreg-bench-"))
    server = PulseServer(Path(tempfile.mkdtemp(prefix="coreg-pa-")))
    server.start()
    rec = Recorder(server, work / "monitor.raw")
    rec.start()
    figures: dict[str, object] = {}
    try:
        # The one-time join (installation or first use), timed alone in fresh caches.
        joins = [_join_model(_env(server, _home(work / f"join{i}"))) for i in range(args.runs)]
        model_dir = _kokoro_dir(work / "join0")
        print(f"Kokoro model joined from its four parts (one time): {_fmt(joins)}", flush=True)
        figures["join_s"] = joins

        warm = {label: _home(work / f"warm-{label}", model_dir) for label, _ in VOICES}
        wav = work / "quick-reset.wav"
        for label, voice in VOICES:
            out = wav if label == "piper" else work / f"quick-reset-{label}.wav"
            subprocess.run(_coreg("render", "quick-reset", "--voice", voice, "-o", str(out)),
                           env=_env(server, warm[label]), check=True, capture_output=True,
                           timeout=600, cwd=ROOT)
        _check_kokoro(warm["kokoro"], must_load=True)

        onsets: dict[str, list[float]] = {}

        def keep(key: str, value: float) -> None:
            onsets.setdefault(key, []).append(value)

        for i in range(args.runs):
            for label, voice in VOICES:
                home = _home(work / f"cold-{label}{i}", model_dir if label == "kokoro" else None)
                a, s = _onsets(rec, _play("quick-reset", voice), _env(server, home))
                if label == "kokoro":
                    _check_kokoro(home, must_load=True)
                keep(f"{label} cold", a)
                keep(f"{label} cold speech", s)
                keep(f"{label} cold underflows", float(sum(u for u, _ in _played(home))))
                if args.in_process_too:  # the same, synthesizing in the app's own process
                    home = _home(work / f"coldin-{label}{i}",
                                 model_dir if label == "kokoro" else None)
                    a, s = _onsets(rec, _play("quick-reset", voice),
                                   {**_env(server, home), "COREG_SYNTH_IN_PROCESS": "1"})
                    keep(f"{label} cold in-process", a)
                    keep(f"{label} cold in-process speech", s)
                a, s = _onsets(rec, _play("quick-reset", voice), _env(server, warm[label]))
                keep(f"{label} cached", a)
                keep(f"{label} cached speech", s)
            home = _home(work / f"first-use{i}")  # nothing joined yet: the very first use
            a, s = _onsets(rec, _play("quick-reset", "kokoro:af_heart"), _env(server, home))
            _check_kokoro(home, must_load=True)
            keep("kokoro first use", a)
            keep("kokoro first use speech", s)
            a, _ = _onsets(rec, ["mpv", "--no-video", "--really-quiet", str(wav)],
                           _env(server, warm["piper"]))
            keep("mpv", a)
        figures["onsets"] = onsets
        print("play quick-reset --no-gui, process start -> first audible sample (speech onset)")
        for label, _ in VOICES:
            print(f"  {label}")
            for kind, text in (("cold", "cold (model joined, no narration/ambience cache)"),
                               ("cold in-process", "  the same, synthesis in-process"),
                               ("cached", "narration cached"),
                               ("first use", "very first use (joins the model too)")):
                key = f"{label} {kind}"
                if key not in onsets:
                    continue
                print(f"    {text + ':':<52} {_fmt(onsets[key])}"
                      f"{_verdict(onsets[key], TARGETS.get((label, kind)))}")
                print(f"    {'  speech onset:':<52} {_fmt(onsets[key + ' speech'])}")
            cold_under = onsets[f"{label} cold underflows"]
            print(f"    {'cold runs: output underflows logged:':<52} "
                  f"{', '.join(f'{v:.0f}' for v in cold_under)}")
        print(f"  reference, mpv on the rendered file:   {_fmt(onsets['mpv'])}", flush=True)
        if args.onsets_only:
            if args.json is not None:
                args.json.write_text(json.dumps(figures, indent=1))
            return 0

        uncached = [_timed(_coreg("render", "stay-safe", "-o", str(work / "s.wav")),
                           _env(server, _home(work / f"render{i}"))) for i in range(2)]
        cached = [_timed(_coreg("render", "stay-safe", "-o", str(work / "s.wav")),
                         _env(server, work / "render0")) for _ in range(args.runs)]
        print(f"render stay-safe (Piper) uncached: {_fmt(uncached, digits=1)}")
        print(f"render stay-safe (Piper) cached:   {_fmt(cached, digits=2)}   target <= 3 s",
              flush=True)
        figures["render_stay_safe"] = {"uncached": uncached, "cached": cached}

        cpu: dict[str, list[float]] = {}
        rss: dict[str, list[float]] = {}
        for i in range(max(1, args.runs // 2)):
            for label, voice in VOICES:
                c, peak = _cpu_over(_play("quick-reset", voice), _env(server, warm[label]),
                                    args.cpu_seconds)
                cpu.setdefault(label, []).append(c)
                rss.setdefault(f"{label} cached", []).append(peak)
                home = _home(work / f"rss-{label}{i}", model_dir if label == "kokoro" else None)
                own, tree = _peak_over(_play("quick-reset", voice), _env(server, home),
                                       args.rss_seconds)
                rss.setdefault(f"{label} uncached", []).append(own)
                rss.setdefault(f"{label} uncached with synthesis", []).append(tree)
                if label == "kokoro":
                    _check_kokoro(home, must_load=True)
            c, _ = _cpu_over(["mpv", "--no-video", "--really-quiet", str(wav)],
                             _env(server, warm["piper"]), args.cpu_seconds)
            cpu.setdefault("mpv", []).append(c)
        figures["cpu"] = cpu
        figures["peak_rss_mb"] = rss
        print(f"CPU over {args.cpu_seconds:.0f} s of play --no-gui (narration cached):")
        for label, _ in VOICES:
            ratio = statistics.median(cpu[label]) / max(statistics.median(cpu["mpv"]), 1e-6)
            print(f"  {label:<7} {_fmt(cpu[label], '%', 2)}   {ratio:.2f}x mpv   target <= 1.5x")
        print(f"  mpv     {_fmt(cpu['mpv'], '%', 2)}")
        print("Peak RSS of play --no-gui quick-reset:")
        for label, _ in VOICES:
            print(f"  {label:<7} narration cached: {_fmt(rss[f'{label} cached'], 'MB', 0)}")
            print(f"  {label:<7} uncached, first {args.rss_seconds:.0f} s (voice loaded, "
                  f"speaking): {_fmt(rss[f'{label} uncached'], 'MB', 0)}")
            print(f"  {label:<7}   with its synthesis processes (sampled): "
                  f"{_fmt(rss[f'{label} uncached with synthesis'], 'MB', 0)}", flush=True)

        if args.long:
            print("Uncached play stay-safe --no-gui to the end (target: 0 underflows, 0 gaps):")
            long_runs = []
            for label, voice in VOICES:
                home = _home(work / f"long-{label}", model_dir if label == "kokoro" else None)
                run = _long_play(rec, voice, home, _env(server, home), work)
                long_runs.append(run)
                verdict = ("pass" if run.underflows == 0 and not run.gaps.gaps_in_speech
                           else "FAIL")
                print(f"  {label:<7} {run.seconds:.0f} s: {run.underflows} output underflows, "
                      f"{run.recoveries} recoveries; peak RSS {run.peak_rss_mb:.0f} MB  "
                      f"[{verdict}]")
                print(f"          recording against render: {run.gaps.summary()}", flush=True)
            figures["long"] = [
                {"voice": r.voice, "seconds": r.seconds, "underflows": r.underflows,
                 "recoveries": r.recoveries, "peak_rss_mb": r.peak_rss_mb,
                 "gaps_in_speech": r.gaps.gaps_in_speech, "gaps_in_sound": r.gaps.gaps_in_sound,
                 "drift_ms": r.gaps.drift_ms, "lags_ms": r.gaps.lags_ms}
                for r in long_runs
            ]
        if args.json is not None:
            args.json.write_text(json.dumps(figures, indent=1))
    finally:
        rec.stop()
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
