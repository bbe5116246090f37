"""System voices through pyttsx3 (espeak-ng on Linux, SAPI5 on Windows, NSSpeech on macOS).

pyttsx3 runs its own event loop and hangs when driven from a worker thread or inside a Qt event
loop, so it never runs in the app's process: every request starts a short-lived child
(`python -m coreg_desktop.tts.system ...`) that renders WAV files into a temp directory, and we
read them back. A child that hangs is killed by a timeout and reported as a SynthesisError. The
child speaks a whole line's sentences in one go, so process start-up is paid once per line.

On Debian/Ubuntu pyttsx3's espeak driver loads `libespeak-ng.so.1` (package libespeak-ng1,
which the espeak-ng package pulls in).
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import threading
import wave
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

from coreg_desktop.tts.base import (
    NARRATION_PIPELINE_VERSION,
    SynthesisError,
    VoiceInfo,
    child_env,
)

log = logging.getLogger(__name__)

#: Words a minute at rate 1.0. espeak's default (175-200) is brisk; 150 is calm yet intelligible.
BASE_WPM = 150
VOICES_TIMEOUT_S = 20.0
#: A render is given a fixed start-up allowance plus time proportional to the text.
RENDER_TIMEOUT_BASE_S = 20.0
RENDER_TIMEOUT_PER_CHAR_S = 0.05
VOICE_PREFIX = "system:"

_voices_cache: list[VoiceInfo] | None = None
_voices_lock = threading.Lock()


def _run_child(args: Sequence[str], timeout: float) -> None:
    cmd = [sys.executable, "-m", "coreg_desktop.tts.system", *args]
    try:
        proc = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=child_env(),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise SynthesisError(f"system voice did not answer within {timeout:.0f} s") from exc
    except OSError as exc:
        raise SynthesisError(f"could not start the system voice helper: {exc}") from exc
    if proc.returncode != 0:
        detail = (proc.stderr or "").strip().splitlines()
        raise SynthesisError(
            f"system voice helper failed (exit {proc.returncode}): "
            + (detail[-1] if detail else "no message")
        )


def system_voices(refresh: bool = False) -> list[VoiceInfo]:
    """Installed system voices, or [] when pyttsx3 or its backend is unusable (cached)."""
    global _voices_cache
    with _voices_lock:
        if _voices_cache is not None and not refresh:
            return list(_voices_cache)
        voices: list[VoiceInfo] = []
        with tempfile.TemporaryDirectory(prefix="coreg-voices-") as tmp:
            out = Path(tmp) / "voices.json"
            try:
                _run_child(["voices", "--out", str(out)], VOICES_TIMEOUT_S)
                raw = json.loads(out.read_text(encoding="utf-8"))
            except (SynthesisError, OSError, ValueError) as exc:
                log.info("no system voices: %s", exc)
                raw = []
        for item in raw if isinstance(raw, list) else []:
            if not isinstance(item, dict) or not item.get("id"):
                continue
            languages = item.get("languages") or []
            voices.append(
                VoiceInfo(
                    id=VOICE_PREFIX + str(item["id"]),
                    engine="system",
                    name=str(item.get("name") or item["id"]),
                    language=str(languages[0]) if languages else "",
                    available=True,
                    detail=f"system voice via pyttsx3 ({item.get('driver', 'default driver')})",
                    license=_license_of(str(item.get("driver", ""))),
                )
            )
        _voices_cache = voices
        return list(voices)


def _license_of(driver: str) -> str:
    """espeak-ng (the Linux driver) is GPL-3.0-or-later; SAPI5 and NSSpeech voices come with
    the operating system under its terms, which have no SPDX name."""
    return "GPL-3.0-or-later" if driver.startswith("espeak") else "LicenseRef-operating-system"


def pyttsx3_version() -> str:
    try:
        return metadata.version("pyttsx3")
    except metadata.PackageNotFoundError:
        return "unknown"


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 from a PCM WAV (what the pyttsx3 drivers write)."""
    with wave.open(str(path), "rb") as w:
        rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
        data = w.readframes(w.getnframes())
    if width == 2:
        audio = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 1:
        audio = (np.frombuffer(data, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 4:
        audio = np.frombuffer(data, dtype="<i4").astype(np.float32) / 2147483648.0
    else:
        raise SynthesisError(f"unsupported WAV sample width {width}")
    if channels > 1:
        audio = audio[: len(audio) // channels * channels].reshape(-1, channels).mean(axis=1)
    return audio.astype(np.float32), rate


class SystemSynthesizer:
    """A pyttsx3 voice; `voice_id` None means the platform's default voice."""

    engine = "system"

    def __init__(self, voice_id: str | None = None) -> None:
        self.voice_id = voice_id or None
        self.voice = VOICE_PREFIX + voice_id if voice_id else "system"
        self.engine_version = f"pyttsx3-{pyttsx3_version()}+p{NARRATION_PIPELINE_VERSION}"

    def synthesize(self, text: str, rate: float) -> tuple[np.ndarray, int]:
        audio, sample_rate = self.synthesize_batch([text], rate)[0]
        if len(audio) == 0:
            raise SynthesisError(f"system voice produced no audio for {text[:40]!r}")
        return audio, sample_rate

    def synthesize_batch(self, texts: Sequence[str], rate: float) -> list[tuple[np.ndarray, int]]:
        """Several sentences in one child process (start-up is most of the cost)."""
        if not texts:
            return []
        wpm = max(60, min(400, round(BASE_WPM * float(rate))))
        with tempfile.TemporaryDirectory(prefix="coreg-say-") as tmp:
            request = Path(tmp) / "request.json"
            request.write_text(
                json.dumps({"texts": list(texts), "voice": self.voice_id, "wpm": wpm}),
                encoding="utf-8",
            )
            timeout = RENDER_TIMEOUT_BASE_S + RENDER_TIMEOUT_PER_CHAR_S * sum(map(len, texts))
            _run_child(["render", "--request", str(request), "--out-dir", tmp], timeout)
            results = []
            for i in range(len(texts)):
                path = Path(tmp) / f"{i}.wav"
                try:
                    results.append(read_wav(path))
                except (OSError, EOFError, wave.Error) as exc:
                    raise SynthesisError(f"system voice wrote no usable audio: {exc}") from exc
            return results


# --- child process ------------------------------------------------------------------------


def _child_voices(out: Path) -> None:
    import pyttsx3

    engine = pyttsx3.init()
    driver = type(getattr(engine.proxy, "_driver", None)).__module__.rsplit(".", 1)[-1]
    voices = [
        {
            "id": v.id,
            "name": v.name,
            "languages": [
                lang.decode(errors="ignore") if isinstance(lang, bytes) else str(lang)
                for lang in (v.languages or [])
            ],
            "driver": driver,
        }
        for v in engine.getProperty("voices") or []
    ]
    out.write_text(json.dumps(voices), encoding="utf-8")


def _child_render(request: Path, out_dir: Path) -> None:
    import pyttsx3

    spec = json.loads(request.read_text(encoding="utf-8"))
    engine = pyttsx3.init()
    if spec.get("voice"):
        # Drivers silently keep the old voice for an unknown id; refuse instead of speaking in
        # a voice the listener did not choose.
        known = {v.id for v in engine.getProperty("voices") or []}
        if spec["voice"] not in known:
            raise LookupError(f"voice {spec['voice']!r} is not installed")
        engine.setProperty("voice", spec["voice"])
    engine.setProperty("rate", int(spec["wpm"]))
    for i, text in enumerate(spec["texts"]):
        # One runAndWait per file: queued save_to_file calls overwrite each other in espeak.
        engine.save_to_file(str(text), str(out_dir / f"{i}.wav"))
        engine.runAndWait()


def _child_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coreg_desktop.tts.system")
    sub = parser.add_subparsers(dest="command", required=True)
    voices = sub.add_parser("voices")
    voices.add_argument("--out", type=Path, required=True)
    render = sub.add_parser("render")
    render.add_argument("--request", type=Path, required=True)
    render.add_argument("--out-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "voices":
            _child_voices(args.out)
        else:
            _child_render(args.request, args.out_dir)
    except Exception as exc:  # report any engine failure to the parent as one line
        sys.stderr.write(f"{type(exc).__name__}: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())
