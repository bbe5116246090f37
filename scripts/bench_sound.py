"""The library's sound figures: what a three-layer mix costs while playing, beside one soundscape
(and beside mpv playing the same render, as the machine's reference), and how exact the pacer's
cues are after ten minutes.

    python scripts/bench_sound.py [--runs 3] [--seconds 20]

Playback runs through a private PulseAudio null sink (tests/e2e/pulse.py), as a person's would.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.benchlib import compile_bytecode  # noqa: E402
from tests.e2e.desktop import cpu_percent  # noqa: E402
from tests.e2e.pulse import PulseServer  # noqa: E402

MIX = ("rain=0.7", "soft-pad=0.4", "brown-noise=0.3")


def cpu_while_playing(cmd: list[str], env: dict[str, str], seconds: float,
                      settle: float = 4.0) -> float:
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        time.sleep(settle)
        return cpu_percent(proc.pid, seconds)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def pacer_errors(env: dict[str, str], folder: Path) -> tuple[float, float, int]:
    """(worst cue error, mean error over the last minute, cues) of a rendered 10-minute 4-7-8."""
    from coreg_desktop.audio.wav import read_wav
    from coreg_desktop.constants import SAMPLE_RATE

    out = folder / "pacer.wav"
    subprocess.run([sys.executable, "-m", "coreg_desktop", "render", "pacer", "--pattern",
                    "4-7-8", "--minutes", "10", "-o", str(out)], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    audio, _ = read_wav(out)
    mono = np.abs(audio[:, 0])
    loud = np.flatnonzero(mono > 0.004)
    gaps = np.diff(loud) > 0.25 * SAMPLE_RATE
    heard = np.concatenate([[loud[0]], loud[1:][gaps]]) / SAMPLE_RATE
    expected = [19.0 * c + o for c in range((600 - 9) // 19) for o in (0.0, 4.0, 11.0)]
    late = heard[: len(expected)] - np.array(expected)
    attack = float(np.median(late[:6]))  # the tones' soft attack: the same at every cue
    error = np.abs(late - attack)
    last_minute = np.array(expected) > 540
    return float(error.max()), float(error[last_minute].mean()), len(expected)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="coreg-bench-sound-") as tmp:
        home = Path(tmp)
        server = PulseServer(Path(tempfile.mkdtemp(prefix="coreg-pa-")))
        server.start(hum=False)
        try:
            env = {**os.environ, **server.env, "PYTHONPATH": str(ROOT)}
            for var in ("XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
                env[var] = str(home / var.lower())
            coreg = [sys.executable, "-m", "coreg_desktop"]
            subprocess.run([*coreg, "mix", "add", "three", *MIX], env=env, check=True,
                           capture_output=True, cwd=ROOT)
            wav = home / "stay-safe.wav"
            print("Rendering stay-safe once (narration and soundscapes cached) ...", flush=True)
            subprocess.run([*coreg, "render", "stay-safe", "--ambience", "mix:three", "-o",
                            str(wav)], env=env, check=True, capture_output=True, cwd=ROOT)
            single, mixed, mpv = [], [], []
            for _ in range(args.runs):
                single.append(cpu_while_playing(
                    [*coreg, "play", "stay-safe", "--no-gui", "--ambience", "rain"], env,
                    args.seconds))
                mixed.append(cpu_while_playing(
                    [*coreg, "play", "stay-safe", "--no-gui", "--ambience", "mix:three"], env,
                    args.seconds))
                mpv.append(cpu_while_playing(
                    ["mpv", "--no-config", "--really-quiet", "--no-video", "--ao=pulse",
                     str(wav)], env, args.seconds))
            worst, last, cues = pacer_errors(env, home)
        finally:
            server.stop()
    med = statistics.median
    print(f"\nCPU while playing stay-safe, % of one core, median of {args.runs} runs of "
          f"{args.seconds:g} s:")
    print(f"  one soundscape (rain):              {med(single):5.1f} %  {single}")
    print(f"  three-layer mix ({' + '.join(MIX)}): {med(mixed):5.1f} %  {mixed}")
    print(f"  reference: mpv playing the render:  {med(mpv):5.1f} %  {mpv}")
    print(f"\nPacer, 10 minutes of 4-7-8 ({cues} cues): worst cue error {worst * 1000:.2f} ms, "
          f"mean over the last minute {last * 1000:.2f} ms (target 20 ms, no drift)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
