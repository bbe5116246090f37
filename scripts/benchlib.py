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


def children_of(pid: int) -> list[int]:
    """Every process descended from `pid` now (Linux /proc): the app's synthesis processes."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (comm) "
        parents[int(entry.name)] = int(fields[1])
    found: list[int] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        kids = [child for child, ppid in parents.items() if ppid == parent]
        found.extend(kids)
        frontier.extend(kids)
    return found


def _vm(pid: int, key: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children_rss_mb(pid: int) -> float:
    """Resident size (MB) of `pid`'s descendants now; 0 when it has none."""
    return sum(_vm(child, "VmRSS:") for child in children_of(pid))


def tree_rss_mb(pid: int) -> float:
    """Resident size (MB) of `pid` and its descendants now: what the app costs in all, with the
    synthesis processes that speak for it (they hold the voice models)."""
    return _vm(pid, "VmRSS:") + children_rss_mb(pid)
