"""What every benchmark does before it measures."""

from __future__ import annotations

import compileall
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def compile_bytecode() -> None:
    """Compile Coreg's modules the way `pip install` does, so start-up figures measure what a
    user starts. (A checkout run with PYTHONDONTWRITEBYTECODE=1, as some CI images set, would
    otherwise recompile every module on every start: about 0.1 s here.)"""
    compileall.compile_dir(str(ROOT / "coreg_desktop"), quiet=1)
