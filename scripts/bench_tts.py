"""How fast is narration on this machine, and how well can it be understood? (medians)

Speed: voice load time and real-time factors. Real-time factor = synthesis time / audio
duration; below 1.0 the voice outruns playback, and the session only needs to stay one line
ahead. `measure_rtf` is imported by the main bench script. Then Kokoro af_heart beside Piper,
interleaved in the same run: real-time factor with 2 and 1 intra-op threads (target <= 0.25 at
2) and the model load in a fresh process with the file in the page cache (target <= 0.6 s).

Intelligibility and naturalness, per voice, over every distinct line of every built-in practice
(placeholders filled with name "Sam" and safe person "Ana"): each finished clip, as the narrator
makes it for the mixer, is transcribed offline by Whisper base (tests/asr.py) and compared word by
word with the script. The word error rate is aggregated over all lines (word edits / script
words), and every missed word is listed with its line. Naturalness is DistillMOS (tests/mos.py,
the `dev` extra), median over the lines; without torch or distillmos it is skipped, saying why.

Clips are kept in a narration cache, and transcripts and scores in a cache keyed by the clip's
samples and the model, so a rerun only measures what changed (`--recompute` redoes them).

    python scripts/bench_tts.py                                 # speed, then every voice
    python scripts/bench_tts.py --no-rtf --voices en_US-joe-medium,system --limit 3 --no-mos
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coreg_desktop.constants import SAMPLE_RATE
from coreg_desktop.tts import piper as piper_backend
from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.narrator import Narrator

#: The voices measured by default: the bundled Piper voice, the Kokoro voices the app offers
#: (reported as unavailable until the engine can make them), and the system voice.
DEFAULT_VOICES = ("en_US-joe-medium", "kokoro:af_heart", "kokoro:am_michael", "system")
#: What the practices' placeholders are filled with.
VALUES = {"name": "Sam", "safe_person": "Ana"}

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


# --------------------------------------------------------------------------- Kokoro beside Piper

#: A fresh process loads one voice and says how long each step took (JSON on stdout): the load
#: a cold start pays, with the imports apart (they are paid once per process whichever voice).
_LOAD_CHILD = """
import json, sys, time
t0 = time.perf_counter()
import onnxruntime  # noqa: F401
from coreg_desktop.tts import kokoro, piper
engine = sys.argv[1]
if engine == "kokoro":
    import kokoro_onnx  # noqa: F401
t1 = time.perf_counter()
if engine == "kokoro":
    model = kokoro.prepare_model()
    t2 = time.perf_counter()
    kokoro._load(model)
    kokoro.load_style("af_heart")
else:
    model = piper.bundled_model_path()
    t2 = time.perf_counter()
    piper._load_voice(model)
t3 = time.perf_counter()
print(json.dumps({"imports_s": t1 - t0, "prepare_s": t2 - t1, "load_s": t3 - t2}))
"""


def _load_in_fresh_process(engine: str) -> dict[str, float]:
    import subprocess

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", _LOAD_CHILD, engine], cwd=root, capture_output=True, text=True,
        timeout=120, check=True, env={**os.environ, "PYTHONPATH": str(root)},
    )
    return {k: float(v) for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}


def _rtfs(synth: Any, runs: int) -> list[float]:
    found = []
    for _ in range(runs):
        for sentence in SENTENCES:
            start = time.perf_counter()
            audio, rate = synth.synthesize(sentence, 1.0)
            found.append((time.perf_counter() - start) / (len(audio) / rate))
    return found


def measure_kokoro_beside_piper(runs: int = 5) -> dict[str, Any]:
    """Kokoro af_heart (2 and 1 intra-op threads) and Piper joe, interleaved in one process.

    Real-time factors are per sentence of SENTENCES, at rate 1.0 (Kokoro speaks at its
    BASE_SPEED), after one untimed line per fresh engine; loads are timed in fresh processes
    with the model file already read once (warm disk), alternating the engines.
    """
    from coreg_desktop.tts import kokoro

    problem = kokoro.check("af_heart")
    if problem is not None:
        return {"problem": problem}
    kokoro.prepare_model()  # the one-time join (install or first use), not a load
    kokoro.file_sha256(kokoro.model_path())  # and the file in the page cache: a warm disk

    loads: dict[str, list[dict[str, float]]] = {"kokoro": [], "piper": []}
    for _ in range(max(3, runs)):
        for engine in loads:
            loads[engine].append(_load_in_fresh_process(engine))

    model = piper_backend.bundled_model_path()
    if model is None:
        raise RuntimeError("the bundled Piper voice is not installed")
    piper_synth = piper_backend.PiperSynthesizer(model)
    piper_synth.warm_up()
    piper_synth.synthesize(SENTENCES[0], 1.0)
    rtf: dict[str, list[float]] = {"piper": [], "kokoro_2": [], "kokoro_1": []}
    first_line: dict[str, list[float]] = {"kokoro_2": [], "kokoro_1": []}
    threads_default = kokoro.INTRA_OP_THREADS
    try:
        for _ in range(runs):
            rtf["piper"] += _rtfs(piper_synth, 1)
            for threads in (2, 1):
                kokoro.INTRA_OP_THREADS = threads
                kokoro.unload_engine()
                synth = kokoro.KokoroSynthesizer("af_heart")
                synth.warm_up()
                start = time.perf_counter()
                audio, rate = synth.synthesize(SENTENCES[0], 1.0)
                first_line[f"kokoro_{threads}"].append(
                    (time.perf_counter() - start) / (len(audio) / rate)
                )
                rtf[f"kokoro_{threads}"] += _rtfs(synth, 1)
    finally:
        kokoro.INTRA_OP_THREADS = threads_default
        kokoro.unload_engine()

    def med(values: list[float]) -> float:
        return statistics.median(values)

    return {
        "runs": runs,
        "rtf": {k: (med(v), max(v), len(v)) for k, v in rtf.items()},
        "first_line_rtf": {k: med(v) for k, v in first_line.items()},
        "load": {
            engine: {key: [r[key] for r in rows] for key in rows[0]}
            for engine, rows in loads.items()
        },
    }


def report_kokoro_beside_piper(figures: dict[str, Any]) -> None:
    print("\nKokoro af_heart beside Piper joe-medium (same run, interleaved; medians):")
    if "problem" in figures:
        print(f"  Kokoro unavailable: {figures['problem']}")
        return
    targets = {"kokoro_2": 0.25}
    names = {"piper": "Piper joe-medium (1 thread)", "kokoro_2": "Kokoro, 2 threads",
             "kokoro_1": "Kokoro, 1 thread"}
    print(f"  real-time factor, {figures['runs']} x {len(SENTENCES)} sentences:")
    for key, (median, worst, n) in figures["rtf"].items():
        target = targets.get(key)
        verdict = (f"  target <= {target}: {'pass' if median <= target else 'FAIL'}"
                   if target is not None else "")
        first = figures["first_line_rtf"].get(key)
        extra = f", first line after load {first:.3f}" if first is not None else ""
        print(f"    {names[key]:<28} {median:.3f}  (max {worst:.3f}, n={n}{extra}){verdict}")
    print("  voice load in a fresh process, warm disk (s; imports apart):")
    for engine, parts in figures["load"].items():
        load = parts["load_s"]
        target = 0.6 if engine == "kokoro" else None
        passed = target is not None and statistics.median(load) <= target
        verdict = (f"  target <= {target}: {'pass' if passed else 'FAIL'}"
                   if target is not None else "")
        print(f"    {engine:<7} load {statistics.median(load):.3f} "
              f"(runs: {', '.join(f'{v:.3f}' for v in load)}){verdict}")
        print(f"    {'':<7} imports {statistics.median(parts['imports_s']):.3f}, "
              f"model check {statistics.median(parts['prepare_s']) * 1000:.1f} ms")


# --------------------------------------------------------------------------- what is said


def practice_lines(limit: int | None = None) -> dict[str, list[str]]:
    """Each built-in practice's distinct spoken lines, in the order they are first needed."""
    from coreg_desktop.practice.loader import load_library
    from coreg_desktop.practice.timeline import speech_texts
    from coreg_desktop.sources import PracticeSource

    lines = {}
    for practice in load_library().all:
        texts = speech_texts(PracticeSource(practice, values=VALUES).items)
        lines[practice.id] = texts[:limit] if limit else texts
    return lines


def make_voice(voice_id: str) -> tuple[Any, str]:
    """(synthesizer, "") for a voice that is really there, else (None, why not).

    `make_synthesizer` falls back to Piper when a voice cannot be made; that fallback is not the
    voice asked for, so it counts as unavailable, with the warning it logged as the reason.
    """
    from coreg_desktop import tts

    class Keep(logging.Handler):
        def __init__(self) -> None:
            super().__init__(logging.WARNING)
            self.messages: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.messages.append(record.getMessage())

    keep = Keep()
    logger = logging.getLogger("coreg_desktop.tts")
    logger.addHandler(keep)
    propagate, logger.propagate = logger.propagate, False
    try:
        synth = tts.make_synthesizer(voice_id)
    finally:
        logger.removeHandler(keep)
        logger.propagate = propagate
    why = "; ".join(keep.messages) or "no synthesizer"
    if synth is None:
        return None, why
    engine = str(getattr(synth, "engine", ""))
    wanted = (
        "kokoro" if voice_id.startswith("kokoro:")
        else "system" if voice_id == "system" or voice_id.startswith("system:")
        else "piper"
    )
    if engine != wanted:
        return None, f"{voice_id} came back as {engine} {getattr(synth, 'voice', '?')} ({why})"
    return synth, ""


# --------------------------------------------------------------------------- what is heard


class ScoreCache:
    """Transcripts and scores of finished clips, one small JSON file per (clip, measure)."""

    def __init__(self, directory: Path, enabled: bool = True) -> None:
        self.directory = directory
        self.enabled = enabled

    @staticmethod
    def key(clip: Any, measure: str) -> str:
        digest = hashlib.sha256(measure.encode())
        digest.update(memoryview(clip.astype("<f4", copy=False)).cast("B"))
        return digest.hexdigest()

    def get(self, key: str) -> Any:
        if not self.enabled:
            return None
        try:
            return json.loads((self.directory / f"{key}.json").read_text())["value"]
        except (OSError, ValueError, KeyError):
            return None

    def put(self, key: str, value: Any) -> None:
        from coreg_desktop import files

        with files.atomic_writer(self.directory / f"{key}.json") as f:
            f.write(json.dumps({"value": value}).encode())


def asr_measure() -> str:
    """Names everything that changes a transcript: model, decoding, recogniser versions."""
    from importlib import metadata

    from tests import asr

    versions = [metadata.version(d) for d in ("faster-whisper", "ctranslate2")]
    return json.dumps(["whisper", asr.MODEL_BIN_SHA256, asr.DECODE_OPTIONS, versions])


def mos_measure() -> str:
    from importlib import metadata

    return json.dumps(["distillmos", metadata.version("distillmos")])


@dataclass
class LineResult:
    text: str
    heard: str
    errors: int
    words: int
    missing: list[str]
    mos: float | None


@dataclass
class VoiceResult:
    voice: str
    problem: str = ""
    lines: dict[str, LineResult] = field(default_factory=dict)
    synth_s: float = 0.0
    synthesized: int = 0  # lines not in the narration cache
    audio_s: float = 0.0
    asr_s: float = 0.0
    transcribed: int = 0  # lines not in the score cache
    mos_s: float = 0.0
    scored: int = 0
    mos_skipped: str = ""

    def wer(self, texts: Sequence[str] | None = None) -> float:
        chosen = [self.lines[t] for t in (texts or self.lines) if t in self.lines]
        words = sum(r.words for r in chosen)
        return sum(r.errors for r in chosen) / words if words else float("nan")

    def median_mos(self) -> float | None:
        scores = [r.mos for r in self.lines.values() if r.mos is not None]
        return statistics.median(scores) if scores else None


def measure_voice(
    voice_id: str,
    texts: Sequence[str],
    clip_cache: ClipCache,
    scores: ScoreCache,
    rate: float,
    with_mos: bool,
    progress: Callable[[str], None],
) -> VoiceResult:
    from tests import asr

    result = VoiceResult(voice_id)
    synth, problem = make_voice(voice_id)
    if synth is None:
        result.problem = problem
        return result
    narrator = Narrator(synth, clip_cache, rate=rate)
    mos: Any = None
    if with_mos:
        from tests import mos as mos_module

        result.mos_skipped = mos_module.mos_unavailable() or ""
        mos = None if result.mos_skipped else mos_module
    asr_key, mos_key = asr_measure(), (mos_measure() if mos else "")
    for n, text in enumerate(texts, 1):
        progress(f"{voice_id}: line {n}/{len(texts)}")
        cached = narrator.cached(text)
        start = time.perf_counter()
        clip = narrator.clip(text)
        if not cached:
            result.synth_s += time.perf_counter() - start
            result.synthesized += 1
        result.audio_s += len(clip) / narrator.sample_rate

        key = scores.key(clip, asr_key)
        heard = scores.get(key)
        if not isinstance(heard, str):
            start = time.perf_counter()
            heard = asr.transcribe(clip, narrator.sample_rate)
            result.asr_s += time.perf_counter() - start
            result.transcribed += 1
            scores.put(key, heard)
        errors, words = asr.error_counts(text, heard)

        score = None
        if mos is not None:
            key = scores.key(clip, mos_key)
            score = scores.get(key)
            if not isinstance(score, float):
                start = time.perf_counter()
                score = mos.predict_mos(clip, narrator.sample_rate)
                result.mos_s += time.perf_counter() - start
                result.scored += 1
                scores.put(key, score)
        result.lines[text] = LineResult(
            text, heard, errors, words, asr.missing_words(text, heard), score
        )
    return result


# --------------------------------------------------------------------------- the report


def _progress(enabled: bool) -> Callable[[str], None]:
    if not enabled:
        return lambda _message: None

    def show(message: str) -> None:
        sys.stderr.write(f"\r\033[K{message}")
        sys.stderr.flush()

    return show


def report(
    results: Sequence[VoiceResult], lines: dict[str, list[str]], show_lines: int
) -> None:
    practices = list(lines)
    head = f"{'voice':<20} {'lines':>5} {'words':>6} {'WER':>6} {'missed':>6}"
    head += "".join(f" {p:>{max(15, len(p))}}" for p in practices)
    head += f" {'MOS':>5}  {'synth s':>7} {'asr s':>6} {'mos s':>6} {'audio s':>7}"
    print()
    print("Intelligibility (word error rate of Whisper base against the script, aggregated over")
    print("lines) and naturalness (median DistillMOS over lines), per practice and overall:")
    print(head)
    for r in results:
        if r.problem:
            print(f"{r.voice:<20} unavailable: {r.problem}")
            continue
        missed = sum(len(x.missing) for x in r.lines.values())
        words = sum(x.words for x in r.lines.values())
        row = f"{r.voice:<20} {len(r.lines):>5} {words:>6} {r.wer():>6.1%} {missed:>6}"
        row += "".join(f" {r.wer(lines[p]):>{max(15, len(p))}.1%}" for p in practices)
        mos = r.median_mos()
        row += f" {mos:>5.2f}" if mos is not None else f" {'-':>5}"
        row += f"  {r.synth_s:>7.1f} {r.asr_s:>6.1f} {r.mos_s:>6.1f} {r.audio_s:>7.1f}"
        print(row)
    print(
        "(synth/asr/mos s: time spent now, on the lines not already cached; "
        "audio s: all clips' length)"
    )
    for r in results:
        if r.problem:
            continue
        done = f"{r.synthesized} synthesized, {r.transcribed} transcribed"
        if r.mos_skipped:
            print(f"\n{r.voice}: {done}; DistillMOS skipped: {r.mos_skipped}")
        else:
            scores = sorted(x.mos for x in r.lines.values() if x.mos is not None)
            spread = ""
            if len(scores) >= 4:
                q = statistics.quantiles(scores, n=4)
                spread = f", quartiles {q[0]:.2f} / {q[2]:.2f}, lowest {scores[0]:.2f}"
            print(f"\n{r.voice}: {done}, {r.scored} scored{spread}")
        counts = collections.Counter(w for x in r.lines.values() for w in x.missing)
        if not counts:
            print("  every word heard")
            continue
        print("  missed words: " + ", ".join(
            f"{w} x{n}" if n > 1 else w for w, n in counts.most_common()
        ))
        wrong = [x for x in r.lines.values() if x.errors]
        wrong.sort(key=lambda x: -x.errors / max(1, x.words))
        for x in wrong[:show_lines]:
            missing = ", ".join(x.missing) or "(extra words only)"
            print(f"  - {x.text!r}\n      heard {x.heard!r}  missed: {missing}")
        if len(wrong) > show_lines:
            print(f"  ... and {len(wrong) - show_lines} more lines (--show-lines)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="repetitions for the speed figures")
    parser.add_argument("--no-rtf", action="store_true", help="skip the speed figures")
    parser.add_argument(
        "--voices",
        default=",".join(DEFAULT_VOICES),
        help="comma-separated voice ids to transcribe (default: %(default)s); '' for none",
    )
    parser.add_argument("--no-mos", action="store_true", help="skip DistillMOS")
    parser.add_argument("--limit", type=int, default=None, help="first N lines per practice")
    parser.add_argument("--rate", type=float, default=1.0, help="narration rate (default 1.0)")
    parser.add_argument(
        "--cache", type=Path, default=None,
        help="narration and score cache (default: a folder in the system temp dir)",
    )
    parser.add_argument(
        "--recompute", action="store_true", help="ignore cached transcripts and scores"
    )
    parser.add_argument("--show-lines", type=int, default=40, help="misheard lines listed")
    args = parser.parse_args(argv)

    if not args.no_rtf:
        from benchlib import compile_bytecode

        compile_bytecode()  # the fresh processes that time the loads import what a user's do
        figures = measure_rtf(args.runs)
        width = max(map(len, figures))
        for name, value in figures.items():
            print(f"{name:<{width}}  {value:8.3f}")
        report_kokoro_beside_piper(measure_kokoro_beside_piper(args.runs))

    voices = [v.strip() for v in args.voices.split(",") if v.strip()]
    if not voices:
        return 0
    from tests import asr

    try:
        start = time.perf_counter()
        asr.load_model()
        asr_load_s = time.perf_counter() - start
    except asr.AsrUnavailable as exc:
        print(f"\nintelligibility skipped: {exc}")
        return 0
    root = args.cache or asr.cache_root()
    clip_cache = ClipCache(root / "narration")
    scores = ScoreCache(root / "scores", enabled=not args.recompute)
    lines = practice_lines(args.limit)
    texts = list(dict.fromkeys(t for practice in lines.values() for t in practice))
    print(
        f"\n{len(texts)} distinct lines in {len(lines)} practices "
        f"({sum(len(asr.normalise(t)) for t in texts)} words as compared); "
        f"Whisper loaded in {asr_load_s:.2f} s; "
        f"cache {root}"
    )
    progress = _progress(sys.stderr.isatty())
    results = []
    for voice in voices:
        start = time.perf_counter()
        results.append(
            measure_voice(voice, texts, clip_cache, scores, args.rate, not args.no_mos, progress)
        )
        progress("")
        if not results[-1].problem:
            sys.stderr.write(f"{voice}: {time.perf_counter() - start:.1f} s\n")
    report(results, lines, args.show_lines)
    if args.no_mos:
        print("\nDistillMOS skipped: --no-mos")
    return 0


if __name__ == "__main__":
    sys.exit(main())
