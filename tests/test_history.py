"""The history file: real SQLite, real processes writing at once, damaged files, migrations."""

from __future__ import annotations

import itertools
import sqlite3
import stat
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from coreg_desktop import history as history_mod
from coreg_desktop.history import (
    SCHEMA_VERSION,
    STATES,
    BadCheckIn,
    History,
    HistoryError,
    SessionRecord,
    history_path,
)

#: The history file as the first version wrote it: sessions without check-ins. Written out here
#: (not taken from MIGRATIONS), so a change to a shipped step makes this test fail.
VERSION_1 = """
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice TEXT NOT NULL,
    title TEXT NOT NULL,
    started_at TEXT NOT NULL,
    timezone TEXT NOT NULL DEFAULT 'UTC',
    listened_seconds REAL NOT NULL DEFAULT 0,
    completed INTEGER NOT NULL DEFAULT 0,
    ended_by TEXT,
    voice TEXT,
    ambience TEXT
);
INSERT INTO sessions (practice, title, started_at, timezone, listened_seconds, completed,
                      ended_by, voice, ambience)
VALUES ('stay-safe', 'Stay Safe', '2026-03-01T08:00:00.000000Z', 'Europe/Berlin', 312.5, 1,
        'completed', 'en_US-joe-medium', 'rain'),
       ('quick-reset', 'Quick Reset', '2026-03-02T21:15:30.250000Z', 'UTC', 20.0, 0,
        'stopped', NULL, 'none');
PRAGMA user_version = 1;
"""


def test_the_default_file_is_private_in_the_data_dir(tmp_path: Path) -> None:
    history = History()
    try:
        row = history.start("stay-safe", "Stay Safe", voice="v", ambience="rain")
        history.progress(row, 3.0)
    finally:
        history.close()
    path = tmp_path / "xdg_data_home" / "coreg-desktop" / "history.sqlite3"
    assert history_path() == path and path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_session_round_trips_with_its_check_in(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    start = datetime(2026, 5, 1, 18, 30, 5, 123456, tzinfo=UTC)
    row = history.start("stay-safe", "Stay Safe", voice="en_US-joe-medium", ambience="rain",
                        before=7, state="on edge", started_at=start)
    history.progress(row, 4.0)
    running = history.sessions()[0]
    assert running.ended_by is None and not running.completed and running.listened_seconds == 4.0
    history.end(row, 300.25, "completed")
    history.progress(row, 999.0)  # a late progress write never undoes the end
    history.set_after(row, 4)
    (record,) = history.sessions()
    assert record == SessionRecord(
        id=row, practice="stay-safe", title="Stay Safe", started_at=start,
        timezone=history_mod.local_zone_name(), listened_seconds=300.25, completed=True,
        ended_by="completed", before=7, after=4, state="on edge", voice="en_US-joe-medium",
        ambience="rain",
    )
    assert record.to_json() == {
        "practice": "stay-safe", "title": "Stay Safe", "started_at": "2026-05-01T18:30:05Z",
        "timezone": record.timezone, "listened_seconds": 300.2, "completed": True,
        "ended_by": "completed", "before": 7, "after": 4, "state": "on edge",
        "voice": "en_US-joe-medium", "ambience": "rain",
    }
    assert tuple(record.to_json()) == SessionRecord.json_keys()
    history.set_before(row, None, "settled")
    assert history.sessions()[0].before is None and history.sessions()[0].state == "settled"
    history.close()
    with pytest.raises(HistoryError):
        history.sessions()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda h, r: h.start("x", "X", voice=None, ambience=None, before=11), "before: 11"),
        (lambda h, r: h.start("x", "X", voice=None, ambience=None, before=-1), "before: -1"),
        (lambda h, r: h.start("x", "X", voice=None, ambience=None, state="calm"), "state: 'calm'"),
        (lambda h, r: h.set_after(r, 10.5), "after: 10.5"),
        (lambda h, r: h.set_after(r, True), "after: True"),
        (lambda h, r: h.set_before(r, 3, "angry"), "state: 'angry'"),
        (lambda h, r: h.end(r, 1.0, "crashed"), "ended_by: 'crashed'"),
    ],
)
def test_values_out_of_range_are_refused_in_one_line(
    tmp_path: Path, call: object, message: str
) -> None:
    history = History(tmp_path / "h.sqlite3")
    row = history.start("x", "X", voice=None, ambience=None)
    with pytest.raises(HistoryError) as raised:
        call(history, row)  # type: ignore[operator]
    assert message in str(raised.value) and "\n" not in str(raised.value)
    assert len(history.sessions()) == 1
    assert set(STATES) == {"shut down", "on edge", "settled", "overwhelmed"}
    assert issubclass(BadCheckIn, ValueError)
    history.close()


def test_version_1_is_migrated_forward_and_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(VERSION_1)
    conn.close()
    history = History(path)
    try:
        old = history.sessions()
        assert [r.practice for r in old] == ["stay-safe", "quick-reset"]
        first, second = old
        assert first.started_at == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
        assert first.timezone == "Europe/Berlin" and first.completed and first.voice
        assert first.listened_seconds == 312.5 and first.ambience == "rain"
        assert (first.before, first.after, first.state) == (None, None, None)
        assert second.ended_by == "stopped" and not second.completed and second.voice is None
        assert second.to_json()["started_at"] == "2026-03-02T21:15:30Z"
        # The new columns work on the migrated file, and ids go on after the old ones.
        row = history.start("stay-safe", "Stay Safe", voice=None, ambience=None, before=8)
        history.set_after(row, 5)
        assert row > second.id
        assert (history.sessions()[-1].before, history.sessions()[-1].after) == (8, 5)
    finally:
        history.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "sessions_by_start" in indexes
    # Opening again changes nothing.
    again = History(path)
    assert len(again.sessions()) == 3 and again.notice is None
    again.close()


def test_a_file_from_a_newer_coreg_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(VERSION_1.replace("user_version = 1",
                                             f"user_version = {SCHEMA_VERSION + 1}"))
    conn.close()
    before = path.read_bytes()
    with pytest.raises(HistoryError, match="newer Coreg"):
        History(path)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.corrupt-*"))


def _damaged_page(path: Path) -> None:
    """A real history whose second page (the sessions table) is overwritten with noise."""
    history = History(path)
    for n in range(50):
        history.start("stay-safe", f"Stay Safe {n}" * 20, voice=None, ambience=None)
    history.close()
    data = bytearray(path.read_bytes())
    assert len(data) > 3 * 4096
    data[4096:8192] = b"\xa5" * 4096
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b"this is not a database at all\n" * 200),
        lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\x00" * 50),
        _damaged_page,
        lambda p: p.mkdir(),
    ],
    ids=["garbage", "truncated", "damaged-page", "a-folder"],
)
def test_a_damaged_file_is_moved_aside_with_one_notice_and_a_new_one_starts(
    tmp_path: Path, damage: object
) -> None:
    path = tmp_path / "history.sqlite3"
    damage(path)  # type: ignore[operator]
    history = History(path)
    try:
        assert history.notice is not None and "\n" not in history.notice
        (aside,) = tmp_path.glob("history.sqlite3.corrupt-*[0-9]")
        assert str(aside) in history.notice
        assert history.sessions() == []
        history.start("quick-reset", "Quick Reset", voice=None, ambience=None)
        assert len(history.sessions()) == 1
    finally:
        history.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = History(path)
    assert again.notice is None and len(again.sessions()) == 1  # said once, not every time
    again.close()


def test_a_busy_file_is_waited_for_and_never_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    History(path).close()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    history = History(path)
    try:
        import threading

        threading.Timer(0.5, lambda: holder.execute("COMMIT")).start()
        row = history.start("stay-safe", "Stay Safe", voice=None, ambience=None)
        assert history.sessions()[0].id == row and history.notice is None
    finally:
        history.close()
        holder.close()
    assert not list(tmp_path.glob("*.corrupt-*"))


WRITER = textwrap.dedent("""
    import sys
    import time
    from pathlib import Path
    from coreg_desktop.history import History

    path, name, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    Path(sys.argv[4]).touch()
    while not Path(sys.argv[5]).exists():
        time.sleep(0.002)
    history = History(path)
    for n in range(count):
        row = history.start(name, f"{name} {n}", voice=None, ambience=None, before=n % 11)
        history.progress(row, n + 0.5)
        history.end(row, n + 1.0, "completed")
        history.set_after(row, (n + 3) % 11)
        time.sleep(0.003)  # a session's pace, so both writers are at it together on any machine
    history.close()
""")


def test_two_processes_writing_at_once_lose_no_row(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    count = 300
    go = tmp_path / "go"
    procs = []
    for name in ("app", "terminal"):
        ready = tmp_path / f"ready-{name}"
        procs.append((ready, subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), name, str(count), str(ready), str(go)],
            stderr=subprocess.PIPE, text=True,
        )))
    for ready, _proc in procs:
        for _ in range(1000):
            if ready.exists():
                break
            __import__("time").sleep(0.01)
    go.touch()  # both start writing together
    for _ready, proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    history = History(path)
    records = history.sessions()
    history.close()
    assert len(records) == 2 * count
    for name in ("app", "terminal"):
        mine = sorted((r for r in records if r.practice == name), key=lambda r: r.id)
        assert [r.title for r in mine] == [f"{name} {n}" for n in range(count)]
        assert all(r.completed and r.ended_by == "completed" for r in mine)
        assert [r.listened_seconds for r in mine] == [n + 1.0 for n in range(count)]
        assert [(r.before, r.after) for r in mine] == [(n % 11, (n + 3) % 11)
                                                       for n in range(count)]
    # Both really were writing at the same time: their rows interleave.
    owners = [r.practice for r in sorted(records, key=lambda r: r.id)]
    switches = sum(a != b for a, b in itertools.pairwise(owners))
    assert switches > 10, "the two writers did not overlap; the test proves nothing"


def test_since_practice_and_delete_before_use_local_days(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        history = History(tmp_path / "h.sqlite3")
        # 02:00 UTC on the 10th is still the 9th in New York.
        late_on_9th = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)
        for hours, practice in ((0, "stay-safe"), (5, "quick-reset"), (30, "stay-safe")):
            history.start(practice, practice, voice=None, ambience=None,
                          started_at=late_on_9th + timedelta(hours=hours))
        assert history.sessions()[0].timezone == "America/New_York"
        assert history.sessions()[0].local_start().day == 9
        assert len(history.sessions(since=date(2026, 6, 9))) == 3
        assert len(history.sessions(since=date(2026, 6, 10))) == 2
        assert [r.practice for r in history.sessions(practice="stay-safe")] == ["stay-safe"] * 2
        assert len(history.sessions(since=date(2026, 6, 10), practice="stay-safe")) == 1
        assert history.delete_before(date(2026, 6, 10)) == 1
        assert len(history.sessions()) == 2
        assert history.delete_all() == 2 and history.sessions() == []
        history.close()
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_deleted_sessions_leave_no_readable_copy_in_the_files(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    history = History(path)
    for n in range(20):
        history.start("stay-safe", f"A very private title {n}", voice=None, ambience=None)
    assert history.delete_all() == 20
    history.close()
    blobs = b"".join(p.read_bytes() for p in tmp_path.glob("h.sqlite3*"))
    assert b"A very private title" not in blobs


def test_a_history_in_a_folder_that_cannot_be_made_says_why(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(HistoryError) as raised:
        History(blocker / "history.sqlite3")
    assert "\n" not in str(raised.value)


def test_deleting_everything_also_removes_damaged_copies_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"this is not a database")
    history = History(path)
    history.sessions()  # opening it moves the damaged file aside
    assert history.notice and list(tmp_path.glob("history.sqlite3.corrupt-*"))
    history.start("stay-safe", "Stay Safe", voice=None, ambience=None)
    assert history.delete_all() == 1
    history.close()
    assert not list(tmp_path.glob("history.sqlite3.corrupt-*"))
    assert History(path).sessions() == []
