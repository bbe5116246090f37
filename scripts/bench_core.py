#!/usr/bin/env python3
"""Figures for the headless core (issue: headless core, section 9), measured the way a user hears.

Every timing comes from a recording of a private PulseAudio null sink (tests/e2e/pulse.py), and
each is set against a reference measured in the same run (mpv playing the same audio), because
these machines are shared and noisy. Prints medians over several runs.

    python scripts/bench_core.py [--runs 5] [--cpu-seconds 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from tests.e2e.desktop import cpu_percent  # noqa: E402
from tests.e2e.pulse import PulseServer, Recorder, missing_requirements  # noqa: E402

AUDIBLE_DBFS = -50.0  # anything the listener could hear over a quiet room; the hum is -66
SPEECH_DBFS = -38.0  # the narrator's voice (about -20 dBFS RMS) crossing in


def _env(server: PulseServer, home: Path) -> dict[str, str]:
    env = dict(server.env)
    for var in ("XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        env[var] = str(home / var.lower())
    return env


def _coreg(*args: str) -> list[str]:
    return [sys.executable, "-m", "coreg_desktop", *args]


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _interrupt(proc: subprocess.Popen[bytes]) -> None:
    """Ctrl+C, as a user stops `play`; kill only if it does not end by itself."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _onsets(rec: Recorder, cmd: list[str], env: dict[str, str], listen: float = 6.0
            ) -> tuple[float, float]:
    """(first audible sample, speech onset) in seconds after the process was started."""
    t0 = rec.mark()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
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
                            stderr=subprocess.DEVNULL)
    try:
        time.sleep(settle)
        cpu = cpu_percent(proc.pid, seconds)
        rss = _peak_rss_mb(proc.pid)
    finally:
        _interrupt(proc)
    return cpu, rss


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=900)
    return time.perf_counter() - start


def _fmt(values: list[float], unit: str = "s", digits: int = 3) -> str:
    med = statistics.median(values)
    spread = ", ".join(f"{v:.{digits}f}" for v in values)
    return f"{med:.{digits}f} {unit}  (runs: {spread})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cpu-seconds", type=float, default=20.0)
    args = parser.parse_args()
    reason = missing_requirements()
    if reason:
        print(reason)
        return 2
    if shutil.which("mpv") is None:
        print("mpv is needed for the reference figures (sudo apt-get install -y mpv)")
        return 2

    from bench_tts import measure_rtf
    from benchlib import compile_bytecode

    compile_bytecode()

    print("Coreg core benchmark (medians; machine:", os.cpu_count(), "cores)")
    rtf = measure_rtf(runs=args.runs)
    print(f"Piper real-time factor: {rtf.get('piper_rtf', float('nan')):.3f}  "
          f"(target <= 0.15; all: {rtf})")

    work = Path(tempfile.mkdtemp(prefix="coreg-bench-"))
    server = PulseServer(Path(tempfile.mkdtemp(prefix="coreg-pa-")))
    server.start()
    rec = Recorder(server, work / "monitor.raw")
    rec.start()
    try:
        warm = _env(server, work / "warm")
        wav = work / "quick-reset.wav"
        subprocess.run(_coreg("render", "quick-reset", "-o", str(wav)), env=warm, check=True,
                       capture_output=True, timeout=600)
        play = _coreg("play", "quick-reset", "--no-gui")

        cold_a, cold_s, hot_a, hot_s, mpv_a = [], [], [], [], []
        for i in range(args.runs):
            a, s = _onsets(rec, play, _env(server, work / f"cold{i}"))
            cold_a.append(a)
            cold_s.append(s)
            a, s = _onsets(rec, play, warm)
            hot_a.append(a)
            hot_s.append(s)
            a, _ = _onsets(rec, ["mpv", "--no-video", "--really-quiet", str(wav)], warm)
            mpv_a.append(a)
        print("play quick-reset --no-gui, process start -> first audible sample")
        print(f"  cold (no narration or ambience cache): {_fmt(cold_a)}   target <= 1.2 s")
        print(f"  cold, speech onset:                    {_fmt(cold_s)}")
        print(f"  narration cached:                      {_fmt(hot_a)}   target <= 0.5 s")
        print(f"  narration cached, speech onset:        {_fmt(hot_s)}")
        print(f"  reference, mpv on the rendered file:   {_fmt(mpv_a)}")

        uncached = [_timed(_coreg("render", "stay-safe", "-o", str(work / "s.wav")),
                           _env(server, work / f"render{i}")) for i in range(2)]
        cached = [_timed(_coreg("render", "stay-safe", "-o", str(work / "s.wav")),
                         _env(server, work / "render0")) for _ in range(args.runs)]
        print(f"render stay-safe uncached: {_fmt(uncached, digits=1)}")
        print(f"render stay-safe cached:   {_fmt(cached, digits=2)}   target <= 3 s")

        ours, theirs, rss = [], [], []
        for _ in range(max(1, args.runs // 2)):
            cpu, peak = _cpu_over(play, warm, args.cpu_seconds)
            ours.append(cpu)
            rss.append(peak)
            cpu, _ = _cpu_over(["mpv", "--no-video", "--really-quiet", str(wav)], warm,
                               args.cpu_seconds)
            theirs.append(cpu)
        ratio = statistics.median(ours) / max(statistics.median(theirs), 1e-6)
        print(f"CPU over {args.cpu_seconds:.0f} s of play --no-gui: {_fmt(ours, '%', 2)}")
        print(f"CPU over {args.cpu_seconds:.0f} s of mpv --no-video: {_fmt(theirs, '%', 2)}")
        print(f"  ratio: {ratio:.2f}x   target <= 1.5x")
        print(f"Peak RSS of play --no-gui: {_fmt(rss, 'MB', 0)}")
    finally:
        rec.stop()
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
