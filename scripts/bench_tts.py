"""How fast is narration on this machine? Voice load time and real-time factors (medians).

Real-time factor = synthesis time / audio duration; below 1.0 the voice outruns playback, and
the session only needs to stay one line ahead. Run: `python scripts/bench_tts.py [--runs N]`.
`measure_rtf` is imported by the main bench script.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coreg_desktop.constants import SAMPLE_RATE
from coreg_desktop.tts import piper as piper_backend
from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.narrator import Narrator

SENTENCES = (
    "You are safe right now.",
    "Let your feet rest on the floor, and feel the ground holding you.",
    "Breathe in slowly, and let the breath go.",
    "Notice five things you can see around you, one at a time.",
)
LINE = " ".join(SENTENCES)


def measure_rtf(runs: int = 5) -> dict[str, float]:
    """Medians over `runs`: voice load, raw Piper RTF, full narrator RTF, cache-hit time, pace."""
    model = piper_backend.bundled_model_path()
    if model is None:
        raise RuntimeError("the bundled Piper voice is not installed")

    load_times = []
    for _ in range(max(1, min(runs, 3))):  # each load holds ~100 MB; a few are enough
        start = time.perf_counter()
        piper_backend._load_voice(model)
        load_times.append(time.perf_counter() - start)

    synth = piper_backend.PiperSynthesizer(model)
    start = time.perf_counter()
    synth.warm_up()
    warm_up_s = time.perf_counter() - start
    start = time.perf_counter()
    audio, rate = synth.synthesize(SENTENCES[0], 1.0)
    first_rtf = (time.perf_counter() - start) / (len(audio) / rate)

    raw_rtfs = []
    for _ in range(runs):
        for sentence in SENTENCES:
            start = time.perf_counter()
            audio, rate = synth.synthesize(sentence, 1.0)
            raw_rtfs.append((time.perf_counter() - start) / (len(audio) / rate))

    narrator_rtfs, hit_times, durations = [], [], []
    with tempfile.TemporaryDirectory(prefix="coreg-bench-") as tmp:
        narrator = Narrator(synth, ClipCache(Path(tmp)))
        for _ in range(runs):
            start = time.perf_counter()
            clip = narrator.render(LINE)
            elapsed = time.perf_counter() - start
            durations.append(len(clip) / SAMPLE_RATE)
            narrator_rtfs.append(elapsed / durations[-1])
        narrator.clip(LINE)
        for _ in range(runs):
            start = time.perf_counter()
            narrator.clip(LINE)
            hit_times.append(time.perf_counter() - start)

    line_s = statistics.median(durations)
    return {
        "voice_load_s": statistics.median(load_times),
        "warm_up_s": warm_up_s,
        "first_synthesis_rtf": first_rtf,
        "piper_rtf": statistics.median(raw_rtfs),
        "piper_rtf_max": max(raw_rtfs),
        "narrator_rtf": statistics.median(narrator_rtfs),
        "cache_hit_ms": statistics.median(hit_times) * 1000,
        "line_duration_s": line_s,
        "words_per_minute": len(LINE.split()) / line_s * 60,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    figures = measure_rtf(args.runs)
    width = max(map(len, figures))
    for name, value in figures.items():
        print(f"{name:<{width}}  {value:8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
