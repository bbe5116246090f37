"""What every speech engine promises the narrator, so the narrator never cares which one it has.

Engines return raw speech at whatever rate they like; pauses, loudness and resampling are the
narrator's job. That keeps every engine sounding alike in a practice and keeps each backend small.
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

#: Bumped whenever our own processing (trimming, pauses, loudness, resampling) changes audibly.
#: It is part of every engine_version, so a change re-renders cached clips instead of mixing old
#: and new sounding lines in one practice.
NARRATION_PIPELINE_VERSION = "2"  # 2: loudness by ITU-R BS.1770 (LUFS), not a gated RMS


class SynthesisError(Exception):
    """A line could not be spoken; callers fall back to captions rather than crash."""


@runtime_checkable
class Synthesizer(Protocol):
    """A loaded (or lazily loadable) voice.

    `engine`, `engine_version` and `voice` exist so the clip cache can tell renders apart:
    anything that changes the sound must change one of them.
    """

    engine: str
    engine_version: str
    voice: str

    def synthesize(self, text: str, rate: float) -> tuple[np.ndarray, int]:
        """Mono float32 samples and their sample rate. `rate` 1.0 is normal, 0.8 slower."""
        ...


@dataclass(frozen=True)
class VoiceInfo:
    """One entry in the voice picker; `available` False entries are shown greyed with `detail`."""

    id: str
    engine: str
    name: str
    language: str
    available: bool
    detail: str
    #: SPDX expression for the voice itself (its model or data), so the picker and
    #: `voices --json` can say under what terms the speech a user exports was made.
    license: str = ""


@functools.cache
def installed_version(distribution: str) -> str:
    """An installed distribution's version, part of the narration cache keys.

    Read from the name of its `.dist-info` directory (`piper_tts-1.8.0.dist-info`, as every
    wheel install names it) when that is found: importing importlib.metadata alone takes 60 ms,
    on the path to a cold start's first words.
    """
    prefix, suffix = distribution.replace("-", "_").lower() + "-", ".dist-info"
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.lower().startswith(prefix) and name.endswith(suffix):
                return name[len(prefix) : -len(suffix)]
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def child_env() -> dict[str, str]:
    """The environment for a child of ours (`python -m coreg_desktop...`): ours, with this
    package's folder first on PYTHONPATH, so the child imports this very copy of Coreg even when
    it runs from a source checkout."""
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    existing = env.get("PYTHONPATH")
    env["PYTHONPATH"] = root if not existing else os.pathsep.join([root, existing])
    return env
