"""Predicted naturalness of narration: DistillMOS (Microsoft, MIT), for benchmarks only.

DistillMOS is a small convolution + transformer model distilled from an XLS-R based speech-quality
model. It predicts the mean opinion score listeners would give a recording, from 1 (bad) to 5
(excellent). Its weights ship inside the `distillmos` wheel; it needs torch. That is far too heavy
for the app or the test suite, so it lives in the `dev` extra and is imported only when asked for.

Installing it here: `pip install torch==2.13.0` first (on this machine that takes a CPU build from
local disk; plain `torch` would pull a multi-GB CUDA build), then either `pip install '.[dev]'`
(which also brings distillmos's declared dependencies: torchaudio, transformers, librosa, about
1.6 GB in all) or, lighter, `pip install --no-deps distillmos==0.9.1 xls-r-sqa==0.1.0`. The model
itself uses only torch and numpy; `distillmos.sqa` imports torchaudio at the top for its
file-reading command line, and PyPI's torchaudio is built against CUDA torch and fails to load
beside the CPU build. So when torchaudio cannot be imported, a placeholder module stands in for it
while distillmos is imported (we resample ourselves), and is removed again afterwards.

    from tests.mos import predict_mos, mos_unavailable
    if (why := mos_unavailable()) is None:
        score = predict_mos(clip, 48_000)
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import io
import sys
import threading
import types
from collections.abc import Iterator
from typing import Any

import numpy as np

MOS_SAMPLE_RATE = 16_000
_lock = threading.Lock()


class MosUnavailable(RuntimeError):
    """torch or distillmos is not installed (see the module docstring)."""


@contextlib.contextmanager
def _torchaudio_placeholder() -> Iterator[None]:
    """Let `import torchaudio` succeed inside distillmos when the real one cannot load."""
    if "torchaudio" in sys.modules:
        yield
        return
    try:
        importlib.import_module("torchaudio")
    except (ImportError, OSError):
        for name in [m for m in sys.modules if m == "torchaudio" or m.startswith("torchaudio.")]:
            del sys.modules[name]  # a half-imported torchaudio must not linger
        placeholder = types.ModuleType("torchaudio")
        placeholder.__doc__ = "placeholder: distillmos's file loading is not used by Coreg"
        sys.modules["torchaudio"] = placeholder
        try:
            yield
        finally:
            if sys.modules.get("torchaudio") is placeholder:
                del sys.modules["torchaudio"]
        return
    yield


@functools.cache
def _modules() -> tuple[Any, Any]:
    try:
        torch = importlib.import_module("torch")
    except ImportError as exc:
        raise MosUnavailable(f"torch is not installed ({exc}); pip install torch==2.13.0") from exc
    try:
        with _torchaudio_placeholder():
            distillmos = importlib.import_module("distillmos")
    except ImportError as exc:
        raise MosUnavailable(
            f"distillmos is not installed ({exc}); "
            "pip install --no-deps distillmos==0.9.1 xls-r-sqa==0.1.0"
        ) from exc
    return torch, distillmos


def mos_unavailable() -> str | None:
    """None when DistillMOS can run, else one line saying why not."""
    try:
        _modules()
    except MosUnavailable as exc:
        return str(exc)
    return None


@functools.cache
def load_model() -> Any:
    """The DistillMOS model, loaded once per process, in eval mode on the CPU."""
    _torch, distillmos = _modules()
    with contextlib.redirect_stdout(io.StringIO()):  # it prints where it loaded its weights from
        model = distillmos.ConvTransformerSQAModel()
    model.eval()
    return model


def predict_mos(audio: np.ndarray, sample_rate: int) -> float:
    """Predicted MOS (1..5) of a mono (or stereo, averaged) clip at any rate.

    DistillMOS takes 16 kHz mono. It scores 7.68 s windows (a shorter clip is padded with
    silence, a longer one is scored in overlapping windows and averaged) and normalises each
    window's peak itself, so the clip's level does not matter.
    """
    from tests.asr import mono_16k  # the same mono 16 kHz conversion as the recogniser's

    samples = mono_16k(audio, sample_rate)
    if len(samples) == 0:
        raise ValueError("no audio to score")
    torch, _ = _modules()
    model = load_model()
    with _lock, torch.no_grad():
        score = model(torch.from_numpy(np.ascontiguousarray(samples))[None, :])
    return float(score.reshape(-1)[0])
