"""Every built-in practice, as a listener gets it: rendered, heard, measured.

For each practice (all built-ins, or the ids given), this renders the whole practice twice through
the real command line, as a user would (`coreg-desktop render ID -o FILE`): once as it plays, with
its ambience, and once with `--no-ambient`, so the voice and cues can be measured on their own.
The render uses whatever user folders the environment names (set XDG_*_HOME to a scratch folder
for a listener with no name and no safe person, which is what this is meant to check). Then:

- **heard:** the mixed render, ambience and all, is transcribed by the offline recogniser the
  tests use (Whisper base, tests/asr.py) and compared word by word with the script: every caption
  and every spoken breath cue, in order. Every stretch where the voice-only render has speech is
  transcribed; the long stretches with no speech (4 s or more of ambience and cue tones: a pause
  step, breaths paced by tones) are left out, because there is no word of the script in them and
  Whisper base, fed a minute of waves, writes a looping sentence nobody said. The word error
  rate counts substitutions, deletions and insertions; the words missed are listed.
- **length:** the rendered duration beside the length the library lists (the estimate made
  before any clip exists), so the listing stays honest.
- **level:** the peak of the mix in dBFS, samples at full scale (clipping), and the voice's
  integrated loudness in LUFS.
- **gaps:** the longest stretch with no voice and no cue (from the voice-only render) beside the
  longest quiet the script asks for, and the longest stretch of dead air in the mix (below
  -60 dBFS: the ambience should fill every quiet), leaving out the fade at each end.

Renders are sequential and the narration cache is reused, so only new lines are synthesized.

    XDG_CACHE_HOME=/tmp/lib/cache XDG_DATA_HOME=/tmp/lib/data XDG_CONFIG_HOME=/tmp/lib/config \\
        python scripts/bench_library.py --out /tmp/lib humming orienting
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coreg_desktop.audio.wav import read_wav  # noqa: E402
from coreg_desktop.practice.loader import load_library  # noqa: E402
from coreg_desktop.practice.model import Practice  # noqa: E402
from coreg_desktop.practice.timeline import (  # noqa: E402
    BreathPhase,
    Speech,
    plan,
    practice_seconds,
    speech_seconds,
)
from coreg_desktop.tts.loudness import integrated_loudness  # noqa: E402
from tests.asr import align, normalise, transcribe  # noqa: E402

#: Level windows for the gap checks.
WINDOW_S = 0.01
#: Below this, the voice-only render has neither voice nor cue nor bell.
VOICE_QUIET_DBFS = -50.0
#: Below this, the mix is dead air: not even the ambience is there.
DEAD_AIR_DBFS = -60.0
#: The ambience fades in over the first seconds and out over the last ones.
EDGE_S = 4.0
#: A voiceless stretch this much longer than the longest quiet the script asks for is a gap.
GAP_SLACK_S = 2.5
#: Speech peaks well above this in every sentence; a cue tone stays below it (about -24 dBFS).
SPEECH_DBFS = -21.0
#: Ambience alone for this long splits the render into pieces for the recogniser.
SPLIT_QUIET_S = 4.0
#: Each piece keeps this much of the quiet on either side, so no word's edge is cut.
PAD_S = 0.6
#: A sample this close to full scale (16-bit) counts as clipped.
CLIP_LEVEL = 32766 / 32767


@dataclass
class Figures:
    id: str
    listed_s: float  # the library's estimate
    rendered_s: float
    wer: float
    missed: list[str]
    extra_words: int
    peak_dbfs: float
    clipped_samples: int
    voice_lufs: float
    longest_voiceless_s: float
    longest_scripted_quiet_s: float
    longest_dead_air_s: float
    render_s: float
    transcribe_s: float
    transcript: str

    def problems(self) -> list[str]:
        found = []
        if self.missed:
            found.append(f"missed words: {', '.join(self.missed)}")
        if self.clipped_samples:
            found.append(f"{self.clipped_samples} clipped samples")
        if self.longest_voiceless_s > self.longest_scripted_quiet_s + GAP_SLACK_S:
            found.append(f"a {self.longest_voiceless_s:.1f} s gap where the script has at most "
                         f"{self.longest_scripted_quiet_s:.1f} s of quiet")
        if self.longest_dead_air_s > 0.5:
            found.append(f"{self.longest_dead_air_s:.1f} s of dead air in the mix")
        if round(self.rendered_s / 60) != round(self.listed_s / 60):
            found.append(f"listed as about {round(self.listed_s / 60)} min, renders as "
                         f"{self.rendered_s / 60:.1f} min")
        return found


def script_words(practice: Practice) -> str:
    """What the listener should hear, in order: captions and spoken breath cues."""
    said = []
    for item in plan(practice):
        if isinstance(item, Speech):
            said.append(item.text)
        elif isinstance(item, BreathPhase) and item.cue_text:
            said.append(item.cue_text)
    return " ".join(said)


def scripted_quiet(practice: Practice) -> float:
    """The longest quiet the script itself asks for: the silence after a line, pause steps,
    breaths with tone or silent cues, a bell ringing out; consecutive ones add up."""
    longest = run = 0.0
    for item in plan(practice):
        if isinstance(item, Speech):
            longest, run = max(longest, run), item.gap_after
        elif isinstance(item, BreathPhase) and item.cue_text:
            longest = max(longest, run)
            run = max(0.0, item.seconds - speech_seconds(item.cue_text))
        else:
            run += item.estimate()
    return max(longest, run)


def levels_db(mono: np.ndarray, rate: int) -> np.ndarray:
    n = int(WINDOW_S * rate)
    frames = len(mono) // n
    blocks = mono[: frames * n].astype(np.float64).reshape(frames, n)
    return 10 * np.log10(np.mean(blocks * blocks, axis=1) + 1e-12)


def longest_run(mask: np.ndarray) -> float:
    best = run = 0
    for value in mask:
        run = run + 1 if value else 0
        best = max(best, run)
    return best * WINDOW_S


def spoken_pieces(voice_db: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) seconds of the stretches with speech, split where none is heard for long."""
    sounding = np.nonzero(voice_db > SPEECH_DBFS)[0]
    if not len(sounding):
        return []
    pieces: list[tuple[float, float]] = []
    start = prev = int(sounding[0])
    split = int(SPLIT_QUIET_S / WINDOW_S)
    for j in sounding[1:]:
        if j - prev > split:
            pieces.append((start * WINDOW_S - PAD_S, (prev + 1) * WINDOW_S + PAD_S))
            start = int(j)
        prev = int(j)
    pieces.append((start * WINDOW_S - PAD_S, (prev + 1) * WINDOW_S + PAD_S))
    return [(max(0.0, a), b) for a, b in pieces]


def render(practice_id: str, out: Path, *extra: str) -> float:
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "coreg_desktop", "render", practice_id, "-o", str(out), *extra],
        check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - started


def measure(practice: Practice, out_dir: Path) -> Figures:
    mixed_path = out_dir / f"{practice.id}.wav"
    voice_path = out_dir / f"{practice.id}-voice.wav"
    render_s = render(practice.id, mixed_path)
    render_s += render(practice.id, voice_path, "--no-ambient")
    mixed, rate = read_wav(mixed_path)
    voice, voice_rate = read_wav(voice_path)
    mono_voice = voice.mean(axis=1)

    voice_db = levels_db(mono_voice, voice_rate)
    started = time.monotonic()
    heard = " ".join(
        transcribe(mixed[int(a * rate) : int(b * rate)], rate) for a, b in spoken_pieces(voice_db)
    )
    transcribe_s = time.monotonic() - started
    edits = align(normalise(script_words(practice)), normalise(heard))
    errors = sum(e.op != "=" for e in edits)
    words = sum(e.op != "I" for e in edits)

    edge = int(EDGE_S / WINDOW_S)
    sounding = np.nonzero(voice_db > VOICE_QUIET_DBFS)[0]
    inner = voice_db[sounding[0] : sounding[-1] + 1] if len(sounding) else voice_db
    mixed_db = levels_db(mixed.mean(axis=1), rate)[edge:-edge]
    peak = float(np.abs(mixed).max())
    return Figures(
        id=practice.id,
        listed_s=practice_seconds(practice),
        rendered_s=len(mixed) / rate,
        wer=errors / words if words else 0.0,
        missed=[e.ref for e in edits if e.op in "SD" and e.ref is not None],
        extra_words=sum(e.op == "I" for e in edits),
        peak_dbfs=20 * math.log10(peak) if peak > 0 else -math.inf,
        clipped_samples=int(np.count_nonzero(np.abs(mixed) >= CLIP_LEVEL)),
        voice_lufs=integrated_loudness(mono_voice, voice_rate),
        longest_voiceless_s=longest_run(inner <= VOICE_QUIET_DBFS),
        longest_scripted_quiet_s=scripted_quiet(practice),
        longest_dead_air_s=longest_run(mixed_db <= DEAD_AIR_DBFS),
        render_s=render_s,
        transcribe_s=transcribe_s,
        transcript=heard,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ids", nargs="*", help="practice ids (default: every built-in)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/coreg-library-bench"))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    library = load_library(user_dir=Path("/nonexistent-user-practices"))
    practices = [p for p in library.all if p.builtin and p.source is not None]
    if args.ids:
        known = {p.id: p for p in practices}
        missing = [i for i in args.ids if i not in known]
        if missing:
            parser.error(f"no built-in practice {', '.join(missing)}")
        practices = [known[i] for i in args.ids]
    args.out.mkdir(parents=True, exist_ok=True)
    results: list[Figures] = []
    print(f"{'practice':<24} {'listed':>6} {'render':>6} {'WER':>6} {'peak':>7} "
          f"{'voice':>6} {'gap':>5} {'quiet':>5} {'dead':>4}  problems")
    for practice in practices:
        f = measure(practice, args.out)
        results.append(f)
        problems = "; ".join(f.problems()) or "none"
        print(f"{f.id:<24} {f.listed_s / 60:>5.1f}m {f.rendered_s / 60:>5.1f}m "
              f"{f.wer * 100:>5.1f}% {f.peak_dbfs:>6.1f}dB {f.voice_lufs:>5.1f}L "
              f"{f.longest_voiceless_s:>4.1f}s {f.longest_scripted_quiet_s:>4.1f}s "
              f"{f.longest_dead_air_s:>3.1f}s  {problems} (+{f.extra_words} extra words)",
              flush=True)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 1 if any(r.problems() for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
