"""Soundscape mixes: two or three soundscapes layered, each at its own volume, saved by name.

A mix is data (`<data dir>/mixes.toml`, like Blanket's presets), picked wherever a soundscape is
picked as `mix:<name>`. The sound bank renders it once into a single loop, so the audio callback
plays one loop whatever the number of layers: a three-layer mix costs the callback exactly what
one soundscape costs. The rendered loop is as long as the layers' loops need to line up (their
least common multiple, 60 s for today's soundscapes), scaled to the same loudness as a single
soundscape, so choosing a mix never makes the background jump in level.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from coreg_desktop import files
from coreg_desktop.constants import SAMPLE_RATE

if TYPE_CHECKING:
    import numpy as np

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

log = logging.getLogger(__name__)

PREFIX = "mix:"
LAYERS_RANGE = (2, 3)
ID_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
#: Longest rendered mix loop (layers whose loops line up only later are refused, not stretched).
MAX_LOOP_S = 240.0


class MixError(ValueError):
    """One line naming the mix (or file) and what is wrong."""


@dataclass(frozen=True)
class Layer:
    ambience: str
    volume: float  # 0..1, relative to the other layers


@dataclass(frozen=True)
class Mix:
    id: str
    title: str
    layers: tuple[Layer, ...]

    @property
    def ambience_id(self) -> str:
        return PREFIX + self.id

    def describe(self) -> str:
        return " + ".join(f"{layer.ambience} {round(layer.volume * 100)} %"
                          for layer in self.layers)

    def to_json(self) -> dict[str, object]:
        return {"id": self.ambience_id, "title": self.title,
                "layers": [{"ambience": x.ambience, "volume": x.volume} for x in self.layers]}


def mix_id_for(name: str) -> str:
    cleaned = re.sub(r"[ _]+", "-", name.strip().lower().removeprefix(PREFIX))
    if not ID_RE.fullmatch(cleaned) or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise MixError(f'mix name "{name}" is not allowed; use up to 40 letters, digits, '
                       "spaces or dashes, starting with a letter or digit")
    return cleaned


def check_mix(mix: Mix, known: tuple[str, ...], where: str) -> Mix:
    lo, hi = LAYERS_RANGE
    if not lo <= len(mix.layers) <= hi:
        raise MixError(f"{where}: a mix has {lo} or {hi} layers, not {len(mix.layers)}")
    seen: set[str] = set()
    for layer in mix.layers:
        if layer.ambience not in known:
            raise MixError(f'{where}: no soundscape called "{layer.ambience}"; choose from '
                           + ", ".join(known))
        if layer.ambience in seen:
            raise MixError(f'{where}: "{layer.ambience}" is in it twice')
        seen.add(layer.ambience)
        if not (math.isfinite(layer.volume) and 0.0 < layer.volume <= 1.0):
            raise MixError(f"{where}: the volume of {layer.ambience} must be more than 0 and at "
                           f"most 1, not {layer.volume:g}")
    return mix


def parse_layer(text: str) -> Layer:
    """ "rain=0.6" (or "rain=60%", or just "rain" for full volume) from the command line."""
    name, sep, value = text.partition("=")
    if not sep:
        return Layer(name.strip(), 1.0)
    raw = value.strip()
    try:
        volume = float(raw.rstrip("%")) / (100.0 if raw.endswith("%") else 1.0)
    except ValueError:
        raise MixError(f'"{text}": the volume must be a number from 0 to 1 (or a percentage), '
                       "like rain=0.6") from None
    return Layer(name.strip(), volume)


def render(mix: Mix, loop_of: Callable[[str], np.ndarray], target_rms: float,
           peak_limit: float) -> np.ndarray:
    """The layers summed into one seamless loop, at the loudness of a single soundscape."""
    import numpy as np  # here: naming or checking a mix (`config`, `list`) needs no numpy

    loops = [loop_of(layer.ambience) for layer in mix.layers]
    length = math.lcm(*(len(loop) for loop in loops))
    if length > MAX_LOOP_S * SAMPLE_RATE:  # today's loops all line up at 60 s
        raise MixError(f"mix:{mix.id}: its soundscapes' loops do not line up")
    out = np.zeros((length, loops[0].shape[1]), dtype=np.float32)
    for layer, loop in zip(mix.layers, loops, strict=True):
        out += np.float32(layer.volume) * np.tile(loop, (length // len(loop), 1))
    rms = math.sqrt(float(np.mean(np.square(out, dtype=np.float64))))
    if rms > 0:
        gain = target_rms / rms
        peak = float(np.max(np.abs(out))) * gain
        if peak > peak_limit:
            gain *= peak_limit / peak
        out *= np.float32(gain)
    return out


def dumps(mixes: list[Mix]) -> str:
    """The mixes as TOML. Strings are written as JSON strings, which are valid TOML basic
    strings with every quote, backslash and control character escaped."""
    out = ["# Your soundscape mixes, kept by Coreg (`coreg-desktop mix add`).\n"]
    for mix in mixes:
        layers = ", ".join(f"{{ ambience = {json.dumps(x.ambience)}, volume = {x.volume} }}"
                           for x in mix.layers)
        out.append(f"\n[[mix]]\nid = {json.dumps(mix.id)}\ntitle = {json.dumps(mix.title)}\n"
                   f"layers = [{layers}]\n")
    text = "".join(out)
    tomllib.loads(text)  # never write what could not be read back
    return text


class MixBook:
    """The listener's mixes. A file that cannot be read is one line (through `report`); the
    single soundscapes still work, and nothing is written over it."""

    def __init__(self, path: Path, known: tuple[str, ...],
                 report: Callable[[str], None] | None = None) -> None:
        self.path = path
        self.known = known
        self._report = report or log.warning
        self.problem: str | None = None
        self.mixes = self._load()

    def _load(self) -> list[Mix]:
        try:
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
            return self._parse(data)
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, MixError) as exc:
            line = str(exc) if isinstance(exc, MixError) else f"{self.path}: cannot be read ({exc})"
            self.problem = line
            self._report(f"{line}; your mixes are not used until it is fixed")
            return []

    def _parse(self, data: dict[str, object]) -> list[Mix]:
        entries = data.get("mix", [])
        if not isinstance(entries, list):
            raise MixError(f"{self.path}: [[mix]] tables are expected")
        mixes = []
        for n, entry in enumerate(entries, 1):
            where = f"{self.path}, mix {n}"
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                raise MixError(f"{where}: needs an id")
            raw = entry.get("layers")
            if not isinstance(raw, list):
                raise MixError(f"{where}: layers must be a list")
            layers = []
            for item in raw:
                if (not isinstance(item, dict) or not isinstance(item.get("ambience"), str)
                        or not isinstance(item.get("volume", 1.0), int | float)):
                    raise MixError(f"{where}: each layer needs an ambience and a volume")
                layers.append(Layer(item["ambience"], float(item.get("volume", 1.0))))
            title = entry.get("title", entry["id"])
            mixes.append(check_mix(Mix(mix_id_for(entry["id"]), str(title), tuple(layers)),
                                   self.known, where))
        return mixes

    def get(self, name: str) -> Mix:
        wanted = mix_id_for(name)
        for mix in self.mixes:
            if mix.id == wanted:
                return mix
        have = ", ".join(m.ambience_id for m in self.mixes) or "none yet (`mix add`)"
        raise MixError(f'no mix called "{name.removeprefix(PREFIX)}"; your mixes: {have}')

    def add(self, mix: Mix) -> Mix:
        if self.problem is not None:
            raise MixError(f"{self.problem}; fix or remove it before adding a mix")
        check_mix(mix, self.known, f"mix {mix.id}")
        mixes = [m for m in self.mixes if m.id != mix.id] + [mix]
        files.atomic_write(self.path, dumps(mixes))
        self.mixes = mixes
        return mix

    def remove(self, name: str) -> Mix:
        found = self.get(name)
        mixes = [m for m in self.mixes if m.id != found.id]
        files.atomic_write(self.path, dumps(mixes))
        self.mixes = mixes
        return found
