"""`history` and the terminal check-in as a user meets them: real processes, real Piper, real
SQLite, a real SIGKILL, and a real terminal (a pty) where the commands ask."""

from __future__ import annotations

import csv
import json
import os
import re
import select
import signal
import stat
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from coreg_desktop.history import JSON_KEYS, History

TINY = '''id = "tiny"
title = "Tiny"
ambience = "none"

[[steps]]
say = "Feet on the floor."
pause = 0.5
'''


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """A child with this test's private XDG folders (conftest), and no terminal."""
    return subprocess.run([sys.executable, "-m", "coreg_desktop", *args], capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def run_in_terminal(
    *args: str, answers: dict[str, str], timeout: float = 120
) -> tuple[int, str]:
    """Run in a pseudo-terminal, as in a terminal window; type each answer when its prompt
    shows. Returns the exit code and everything the terminal showed. (stderr too: `input()`
    writes its prompt there when stdin is a terminal.)"""
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "coreg_desktop", *args], stdin=slave,
                            stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    shown = b""
    pending = dict(answers)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
                for prompt in list(pending):
                    if prompt.encode() in shown:
                        os.write(master, pending.pop(prompt).encode() + b"\n")
            elif proc.poll() is not None:
                break
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert not pending, f"never asked {list(pending)}; the terminal showed {shown!r}"
    return proc.returncode, shown.decode("utf-8", "replace")


def add_tiny(tmp_path: Path) -> None:
    folder = tmp_path / "xdg_data_home" / "coreg-desktop" / "practices"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.toml").write_text(TINY)


def sessions() -> list[dict[str, object]]:
    history = History()
    try:
        return [r.to_json() for r in history.sessions()]
    finally:
        history.close()


def history_file(tmp_path: Path) -> Path:
    return tmp_path / "xdg_data_home" / "coreg-desktop" / "history.sqlite3"


def seed() -> None:
    """Three sessions over three days, written as the recorder writes them."""
    history = History()
    start = datetime(2026, 4, 10, 9, 0, tzinfo=UTC)
    rows = [
        ("stay-safe", "Stay Safe", 0, 7, 4, "on edge", "completed", 301.0),
        ("quick-reset", "Quick Reset", 1, None, None, None, "stopped", 20.5),
        ("stay-safe", "Stay Safe", 2, 8, None, None, None, 42.0),
    ]
    for practice, title, day, before, after, state, ended_by, heard in rows:
        row = history.start(practice, title, voice="en_US-joe-medium", ambience="rain",
                            before=before, state=state,
                            started_at=start + timedelta(days=day))
        history.progress(row, heard)
        if ended_by is not None:
            history.end(row, heard, ended_by)
        history.set_after(row, after)
    history.close()


# ----------------------------------------------------------------------------- history


def test_an_empty_history_says_so_kindly() -> None:
    listed = run("history")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == "Nothing here yet. Your practices will appear after you play one.\n"
    as_json = run("history", "--json")
    assert as_json.returncode == 0 and json.loads(as_json.stdout) == []


def test_history_json_has_the_documented_shape_oldest_first() -> None:
    seed()
    result = run("history", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["practice"] for r in rows] == ["stay-safe", "quick-reset", "stay-safe"]
    for row in rows:
        assert tuple(row) == JSON_KEYS
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["started_at"])
        assert isinstance(row["timezone"], str) and row["timezone"]
        assert isinstance(row["listened_seconds"], float)
        assert isinstance(row["completed"], bool)
        assert row["ended_by"] in ("completed", "stopped", "failed", None)
        for key in ("before", "after"):
            assert row[key] is None or (isinstance(row[key], int) and 0 <= row[key] <= 10)
    first, second, third = rows
    assert first == {
        "practice": "stay-safe", "title": "Stay Safe", "started_at": "2026-04-10T09:00:00Z",
        "timezone": first["timezone"], "listened_seconds": 301.0, "completed": True,
        "ended_by": "completed", "before": 7, "after": 4, "state": "on edge",
        "voice": "en_US-joe-medium", "ambience": "rain",
    }
    assert (second["completed"], second["ended_by"], second["before"]) == (False, "stopped", None)
    assert (third["completed"], third["ended_by"], third["listened_seconds"]) == (False, None,
                                                                                 42.0)
    since = json.loads(run("history", "--json", "--since", "2026-04-11").stdout)
    assert [r["practice"] for r in since] == ["quick-reset", "stay-safe"]
    only = json.loads(run("history", "--json", "--practice", "stay-safe").stdout)
    assert [r["started_at"] for r in only] == ["2026-04-10T09:00:00Z", "2026-04-12T09:00:00Z"]


def test_the_plain_table_shows_each_session_on_a_line() -> None:
    seed()
    result = run("history")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 4 and lines[0].split() == ["When", "Practice", "Heard", "Ended",
                                                    "Check-in", "Word"]
    assert "Stay Safe" in lines[1] and "5:01" in lines[1] and "from 7 to 4" in lines[1]
    assert "on edge" in lines[1] and "stopped" in lines[2] and "not finished" in lines[3]
    assert "before 8" in lines[3]
    none = run("history", "--practice", "orienting")
    assert none.returncode == 0 and "No sessions match" in none.stdout


def test_export_csv_and_json_by_extension(tmp_path: Path) -> None:
    seed()
    as_json, as_csv = tmp_path / "mine.json", tmp_path / "mine.CSV"
    done = run("history", "export", str(as_json))
    assert done.returncode == 0 and done.stdout == f"Wrote 3 sessions to {as_json}\n"
    assert json.loads(as_json.read_text()) == json.loads(run("history", "--json").stdout)
    done = run("history", "export", str(as_csv), "--practice", "stay-safe")
    assert done.returncode == 0, done.stderr
    with as_csv.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 and tuple(rows[0]) == JSON_KEYS
    assert rows[0]["before"] == "7" and rows[0]["completed"] == "true"
    assert rows[1]["ended_by"] == "" and rows[1]["after"] == ""
    for path in (as_json, as_csv):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600  # as private as the history


def test_delete_before_a_day_and_delete_all_with_yes(tmp_path: Path) -> None:
    seed()
    done = run("history", "delete", "--before", "2026-04-11")
    assert done.returncode == 0 and done.stdout == "Deleted 1 session.\n", done.stderr
    assert [r["practice"] for r in sessions()] == ["quick-reset", "stay-safe"]
    done = run("history", "delete", "--all", "--yes")
    assert done.returncode == 0 and done.stdout == "Deleted 2 sessions.\n"
    assert sessions() == []
    assert b"Stay Safe" not in b"".join(p.read_bytes() for p in
                                        history_file(tmp_path).parent.glob("history.sqlite3*"))


def test_delete_all_asks_in_a_terminal_and_no_keeps_everything() -> None:
    seed()
    code, shown = run_in_terminal("history", "delete", "--all", answers={"[y/N]": "n"})
    assert code == 0 and "Delete all 3 sessions" in shown and "Nothing was deleted." in shown
    assert len(sessions()) == 3
    code, shown = run_in_terminal("history", "delete", "--all", answers={"[y/N]": "y"})
    assert code == 0 and "Deleted 3 sessions." in shown
    assert sessions() == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["history", "--since", "2026-13-01"], '--since: "2026-13-01" is not a real date'),
        (["history", "--since", "last week"], '--since: "last week" is not a date; use YYYY-MM-DD'),
        (["history", "export", "mine.txt"], "mine.txt: the export is FILE.csv or FILE.json"),
        (["history", "export", "mine"], "the export is FILE.csv or FILE.json"),
        (["history", "export", "/nonexistent-dir/x.csv"], "the folder /nonexistent-dir does not"),
        (["history", "delete"], "one of the arguments --all --before is required"),
        (["history", "delete", "--all", "--before", "2026-01-01"], "not allowed with"),
        (["history", "delete", "--all"], "asks first; run it in a terminal, or add --yes"),
        (["history", "delete", "--before", "soon"], '--before: "soon" is not a date'),
        (["play", "stay-safe", "--no-gui", "--before", "11"], "--before: 11 is outside the scale"),
        (["play", "stay-safe", "--no-gui", "--before", "-2"], '--before: "-2" is not a number'),
        (["play", "stay-safe", "--no-gui", "--after", "lots"], '--after: "lots" is not a number'),
        (["play", "stay-safe", "--no-gui", "--state", "calm"], '--state: "calm" is not one of'),
        (["play", "stay-safe", "--before", "4"], "add --no-gui"),
    ],
)
def test_bad_history_and_check_in_input_is_one_line_and_exit_2(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    seed()
    result = run(*args, timeout=60)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert result.stdout == ""  # nothing played, nothing printed
    assert len(sessions()) == 3  # nothing recorded, nothing deleted


def test_a_damaged_history_is_moved_aside_and_said_once(tmp_path: Path) -> None:
    path = history_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a database, not at all\n" * 100)
    result = run("history")
    assert result.returncode == 0
    (aside,) = path.parent.glob("history.sqlite3.corrupt-*")
    assert result.stderr.strip().splitlines() == [
        result.stderr.strip()] and str(aside) in result.stderr
    assert "Nothing here yet" in result.stdout
    again = run("history")
    assert again.stderr == "" and again.returncode == 0


# ----------------------------------------------------------------------------- the check-in


def test_play_records_the_check_in_given_on_the_command_line(tmp_path: Path) -> None:
    add_tiny(tmp_path)
    result = run("play", "tiny", "--no-gui", "--before", "6", "--state", "on-edge",
                 "--after", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "From 6 to 2."
    (row,) = sessions()
    assert (row["practice"], row["completed"], row["ended_by"]) == ("tiny", True, "completed")
    assert (row["before"], row["after"], row["state"]) == (6, 2, "on edge")
    assert row["voice"] == "en_US-joe-medium" and row["ambience"] == "none"
    assert isinstance(row["listened_seconds"], float) and row["listened_seconds"] > 1.0
    # Without a terminal and without --after, nothing is asked and nothing waits.
    result = run("play", "tiny", "--no-gui", "--before", "3")
    assert result.returncode == 0, result.stderr
    assert "How activated" not in result.stdout
    assert [(r["before"], r["after"]) for r in sessions()] == [(6, 2), (3, None)]


def test_an_interactive_terminal_asks_after_the_practice(tmp_path: Path) -> None:
    add_tiny(tmp_path)
    code, shown = run_in_terminal("play", "tiny", "--no-gui", "--before", "7",
                                  answers={"or Enter to skip": "4"})
    assert code == 0, shown
    assert "How activated do you feel right now? 0 calm, settled · 5 on edge" in shown
    assert shown.index("Tiny is complete") < shown.index("How activated")
    assert "From 7 to 4." in shown
    (row,) = sessions()
    assert (row["before"], row["after"], row["completed"]) == (7, 4, True)
    # Enter skips the question: no rating is made up.
    code, shown = run_in_terminal("play", "tiny", "--no-gui", answers={"or Enter to skip": ""})
    assert code == 0, shown
    assert [r["after"] for r in sessions()] == [4, None]


def test_a_sigkill_mid_session_leaves_a_row_with_about_the_time_heard(tmp_path: Path) -> None:
    """A real `play stay-safe --no-gui --before 7` with the real Piper voice, killed while it
    speaks: the row says not completed, no ending, and the time heard within 5 s."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "coreg_desktop", "play", "stay-safe", "--no-gui", "--before", "7"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    lines: list[tuple[float, float]] = []  # (monotonic time, practice clock) per caption

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            found = re.match(r"\[(\d+):(\d\d)\]", line)
            if found:
                lines.append((time.monotonic(), int(found[1]) * 60 + int(found[2])))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not (lines and lines[-1][1] >= 14):
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.05)
    assert lines and lines[-1][1] >= 14, "the practice never got 14 s in"
    time.sleep(2.7)  # somewhere between two writes of the heard time
    seen_at, clock = lines[-1]
    os.kill(proc.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    # The caption's clock is whole seconds at the start of its sentence, printed a moment after.
    heard_low = clock + (killed_at - seen_at) - 0.1
    heard_high = clock + 1 + (killed_at - seen_at)

    listed = run("history", "--json")
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert (row["practice"], row["completed"], row["ended_by"], row["before"]) == (
        "stay-safe", False, None, 7)
    assert heard_low - 5.0 <= row["listened_seconds"] <= heard_high + 0.5, (row, heard_low)
