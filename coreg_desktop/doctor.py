"""`coreg-desktop doctor`: what Coreg can find on this machine, in plain words.

People run this when something is quiet or missing, so every line says what was found and, where
something is missing, what it means for them.
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path

from coreg_desktop import __version__, paths


def _size(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _human(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def audio_lines() -> list[str]:
    try:
        import sounddevice as sd
    except OSError as exc:
        return [
            "Sound: the PortAudio library is missing, so Coreg plays silently with captions.",
            f"  ({exc}; on Debian/Ubuntu: sudo apt install libportaudio2)",
        ]
    try:
        devices = sd.query_devices()
        default_out = sd.default.device[1]
    except Exception as exc:
        return [f"Sound: could not list sound devices ({exc})."]
    outputs = [(i, d) for i, d in enumerate(devices) if d["max_output_channels"] > 0]
    if not outputs:
        return ["Sound: no output device found, so Coreg plays silently with captions."]
    lines = [f"Sound: {len(outputs)} output device(s)."]
    for i, d in outputs:
        mark = "  (default)" if i == default_out else ""
        lines.append(f"  - {d['name']}{mark}")
    return lines


def voice_lines() -> list[str]:
    from coreg_desktop.tts import kokoro, list_voices

    # The thorough Kokoro check first (it re-hashes the joined model), so the list below
    # already knows whether its voices can speak.
    kokoro_problem = kokoro.verify_model()
    voices = list_voices()
    usable = [v for v in voices if v.available]
    lines = (
        [f"Voices: {len(usable)} available."]
        if usable
        else ["Voices: none found. Practices still run, with captions and soft tones."]
    )
    # Piper and Kokoro voices one by one; the system's (espeak-ng alone has over a hundred) as
    # a count, naming only the English ones: `coreg-desktop voices` lists them all.
    system = [v for v in usable if v.engine == "system"]
    for v in voices:
        if v.available and v.engine == "system":
            continue
        if v.engine == kokoro.ENGINE and kokoro_problem is not None:
            state = "  (not available, see below)"
        else:
            state = "" if v.available else f"  (not available: {v.detail})"
        lines.append(f"  - {v.id} ({v.engine}, {v.language}){state}")
    if kokoro_problem is not None:
        lines.append(f"  Kokoro is unavailable: {kokoro_problem}.")
        lines.append("    Coreg speaks with the Piper voice instead.")
    if system:
        english = [v.id for v in system if v.language.lower().startswith("en")]
        named = f"; English: {', '.join(english[:6])}" if english else ""
        more = ", …" if len(english) > 6 else ""
        lines.append(f"  - {len(system)} system voices{named}{more}")
        lines.append("    (`coreg-desktop voices` lists every one)")
    return lines


def kokoro_model_dir() -> Path:
    """Where the Kokoro model is joined from its PyPI parts (it is rebuilt if removed)."""
    from coreg_desktop.tts.kokoro import model_path

    return model_path().parent


def storage_lines() -> list[str]:
    narration = paths.narration_cache_dir()
    ambience = paths.ambience_cache_dir()
    voices = kokoro_model_dir()
    return [
        f"Your practices folder: {paths.user_practices_dir()}",
        f"Settings: {paths.config_dir()}",
        f"Narration cache: {narration} ({_human(_size(narration))})",
        f"Ambience cache: {ambience} ({_human(_size(ambience))})",
        f"Voice model cache: {voices} ({_human(_size(voices))})",
        f"Log file: {paths.log_dir() / 'coreg-desktop.log'}",
    ]


def practice_lines() -> list[str]:
    from coreg_desktop.core import Core
    from coreg_desktop.settings import Settings

    problems: list[str] = []
    library = Core(Settings.load(report=problems.append), report=problems.append).library
    lines = [f"Practices: {len(library.practices)} ready."]
    lines += [f"  - skipped: {p}" for p in problems if p not in library.overrides]
    lines += [f"  - {o}" for o in library.overrides]
    return lines


def narration_lines() -> list[str]:
    """How much of the built-in narration is ready for the chosen voice (the desktop app makes
    the rest in the background), read from the cache."""
    from coreg_desktop.core import Core
    from coreg_desktop.preparation import readiness
    from coreg_desktop.settings import Settings

    core = Core(Settings.load(report=lambda _line: None), report=lambda _line: None)
    if not core.narrator.available:
        return ["Narration: no voice, so practices show captions and play soft tones."]
    ready = readiness(core)
    if ready.finished:
        return ["Narration: ready for every built-in practice."]
    return [f"Narration: ready for {ready.done} of {ready.total} built-in practices; the desktop "
            "app prepares the rest in the background."]


def synthesis_lines() -> list[str]:
    """The neural voices' synthesis processes running now (the app starts them while it makes
    narration and stops them when it rests), found in /proc by their command line."""
    from coreg_desktop.tts.remote import find_workers

    found = find_workers()
    if not found:
        return ["Synthesis processes: none running (they start when a line needs making)."]
    total = sum(rss for _pid, rss in found)
    lines = [f"Synthesis processes: {len(found)} running, {total:.0f} MB in all."]
    lines += [f"  - pid {pid}: {rss:.0f} MB" for pid, rss in found]
    return lines


def report() -> list[str]:
    head = [
        f"Coreg {__version__} on Python {platform.python_version()} ({sys.platform}).",
    ]
    return (head + audio_lines() + voice_lines() + narration_lines() + synthesis_lines()
            + practice_lines() + storage_lines())
