"""One-time notices are one time, across runs, and a damaged file never crashes anything."""

from __future__ import annotations

from pathlib import Path

from coreg_desktop.flags import OnceFlags


def test_once_flags_are_once_across_runs(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "notices.json"
    first = OnceFlags(path)
    assert first.first_time("a") is True
    assert first.first_time("a") is False
    assert OnceFlags(path).first_time("a") is False  # a new run remembers
    assert OnceFlags(path).first_time("b") is True
    path.write_text("{not json")
    assert OnceFlags(path).seen("a") is False  # a damaged file costs a repeat notice, no crash
