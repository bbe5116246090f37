"""Export speed: a cached practice written to a file, in seconds per minute of audio.

The reference, measured in the same run on the same machine, is the same ffmpeg encoding the
same audio from a WAV on disk (no Python, no rendering): what is left over is Coreg's own cost
(start-up, rendering the mix, handing the samples to the encoder).

    python scripts/bench_export.py [--runs 5] [--practice stay-safe] [--format mp3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.benchlib import compile_bytecode

FFMPEG_ARGS = {
    ".mp3": ["-c:a", "libmp3lame", "-q:a", "2"],
    ".opus": ["-c:a", "libopus", "-b:a", "96k"],
    ".ogg": ["-c:a", "libvorbis", "-q:a", "6"],
    ".m4a": ["-c:a", "aac", "-b:a", "160k"],
    ".flac": ["-c:a", "flac"],
}


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--practice", default="stay-safe")
    parser.add_argument("--format", default="mp3")
    args = parser.parse_args()
    ext = "." + args.format.lstrip(".")
    compile_bytecode()
    import imageio_ffmpeg

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    with tempfile.TemporaryDirectory(prefix="coreg-bench-export-") as tmp:
        home = Path(tmp)
        env = {**os.environ, "XDG_CACHE_HOME": str(home / "cache"),
               "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"),
               "XDG_STATE_HOME": str(home / "state")}
        coreg = [sys.executable, "-m", "coreg_desktop"]
        wav = home / "ref.wav"
        print(f"Rendering {args.practice} once, so its narration is cached ...", flush=True)
        timed([*coreg, "render", args.practice, "-o", str(wav)], env)
        with wave.open(str(wav)) as w:
            minutes = w.getnframes() / w.getframerate() / 60
        ours, reference, wav_only = [], [], []
        for run in range(args.runs):
            out = home / f"out{run}{ext}"
            ours.append(timed([*coreg, "render", args.practice, "-o", str(out)], env))
            wav_only.append(timed([*coreg, "render", args.practice, "-o",
                                   str(home / f"w{run}.wav")], env))
            reference.append(timed([ffmpeg, "-v", "error", "-y", "-i", str(wav),
                                    *FFMPEG_ARGS.get(ext, []), str(home / f"ref{run}{ext}")],
                                   env))
    med = statistics.median
    print(f"\n{args.practice}: {minutes:.2f} min of audio, {args.runs} runs, medians")
    print(f"  coreg render -> {ext}:       {med(ours):6.2f} s  = "
          f"{med(ours) / minutes:5.2f} s per minute of audio")
    print(f"  coreg render -> .wav:        {med(wav_only):6.2f} s  = "
          f"{med(wav_only) / minutes:5.2f} s per minute (rendering alone, no encoder)")
    print(f"  reference: ffmpeg wav -> {ext}: {med(reference):6.2f} s  = "
          f"{med(reference) / minutes:5.2f} s per minute (encoding alone)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
