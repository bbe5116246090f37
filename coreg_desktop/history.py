"""The history of sessions: one local SQLite file that loses nothing.

Why it is built the way it is:

* **One private file.** Everything lives in `<data dir>/history.sqlite3`, readable by its owner
  only (0600, and SQLite gives its `-wal` and `-shm` files the same mode). Nothing is sent
  anywhere; `history export` and `history delete` are the ways out.
* **Two writers at once.** The desktop app and a `play --no-gui` in a terminal may both record.
  WAL mode lets readers go on while one writes, every write is a single short statement (its own
  transaction), and a busy timeout makes a writer wait for the other instead of failing, so no
  row is lost.
* **A schema version** (`PRAGMA user_version`) with forward migrations, applied in one immediate
  transaction so two processes opening an old file at once migrate it once.
* **A damaged file is moved aside** (`history.sqlite3.corrupt-<time>`) and a new one started: a
  listener in distress must never meet a crash over their statistics. `History.notice` holds the
  one line that says so. A file that is only busy (another process holds a lock) is never moved.
* **Deleting means deleting.** `secure_delete` overwrites removed rows, and the WAL is truncated
  after a delete, so "Delete my data" leaves no readable copy in the file.

Times are stored as UTC text in one fixed format (`2026-05-01T18:30:00.000000Z`), so they sort
as text; the listener's days (`--since`, `delete --before`) are local days.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time as time_mod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from coreg_desktop import files, paths

log = logging.getLogger(__name__)

FILE_NAME = "history.sqlite3"
STATES: tuple[str, ...] = ("shut down", "on edge", "settled", "overwhelmed")
ENDINGS: tuple[str, ...] = ("completed", "stopped", "failed")
RATING_RANGE = (0, 10)
#: How long a writer waits for another process's write before giving up. Writes take
#: milliseconds; this is for a slow disk, or a big delete in the other process.
BUSY_TIMEOUT_MS = 10_000
_STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"
JSON_KEYS = ("practice", "title", "started_at", "timezone", "listened_seconds", "completed",
             "ended_by", "before", "after", "state", "voice", "ambience")

#: Forward migrations: MIGRATIONS[n] takes a file from version n to n + 1. Never edit a step
#: that has shipped; add one. Version 1 was the first history (sessions without check-ins);
#: version 2 adds the check-in (before, after, the state word) and an index for date ranges.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE sessions (
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
        )""",
    ),
    (
        "ALTER TABLE sessions ADD COLUMN before_rating INTEGER",
        "ALTER TABLE sessions ADD COLUMN after_rating INTEGER",
        "ALTER TABLE sessions ADD COLUMN state TEXT",
        "CREATE INDEX sessions_by_start ON sessions (started_at)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

_COLUMNS = ("id, practice, title, started_at, timezone, listened_seconds, completed, ended_by, "
            "before_rating, after_rating, state, voice, ambience")
#: SQLite's primary result codes that mean the file itself is not a usable database.
_DAMAGED = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}
#: Result codes that mean a damaged file only when the file itself cannot be read or written.
_UNREADABLE = {"SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_IOERR", "SQLITE_READONLY"}


class HistoryError(Exception):
    """The history cannot do what was asked; the message is one plain line."""


class BadCheckIn(HistoryError, ValueError):
    """A rating outside 0..10, or a state word that is not one of STATES."""


def history_path() -> Path:
    return paths.data_dir() / FILE_NAME


def check_rating(value: int | None, what: str = "rating") -> int | None:
    """`value` if it is None or a whole number from 0 to 10; BadCheckIn (one line) otherwise."""
    lo, hi = RATING_RANGE
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise BadCheckIn(f"{what}: {value!r} is not allowed; use a whole number from {lo} to {hi}")
    return value


def check_state(value: str | None) -> str | None:
    """`value` if it is None or one of STATES; BadCheckIn (one line) otherwise."""
    if value is None or value in STATES:
        return value
    choices = ", ".join(f'"{s}"' for s in STATES)
    raise BadCheckIn(f"state: {value!r} is not allowed; use one of {choices}")


def local_zone_name() -> str:
    """The IANA name of this machine's time zone, "UTC" when it cannot be told.

    The standard library knows the zone's rules but not its name, so the name is read where
    Linux keeps it: `TZ`, the `/etc/localtime` link into the zoneinfo tree, `/etc/timezone`.
    """
    candidates: list[str] = []
    tz = os.environ.get("TZ", "").strip().lstrip(":")
    if tz:
        candidates.append(tz)
    with contextlib.suppress(OSError):
        target = os.path.realpath("/etc/localtime")
        if "/zoneinfo/" in target:
            candidates.append(target.split("/zoneinfo/", 1)[1])
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    for name in candidates:
        if not name or name.startswith("/") or ".." in name:
            continue
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        return name
    return "UTC"


def _stamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise HistoryError("a start time must carry its time zone")
    return moment.astimezone(UTC).strftime(_STAMP)


def _local_midnight(day: date) -> str:
    """The UTC stamp of the listener's local midnight at the start of `day`."""
    return _stamp(datetime.combine(day, time.min).astimezone())


@dataclass(frozen=True)
class SessionRecord:
    id: int
    practice: str  # practice id
    title: str
    started_at: datetime  # timezone-aware, UTC
    timezone: str  # IANA name of the local zone at the start ("UTC" if unknown)
    listened_seconds: float
    completed: bool
    ended_by: str | None  # "completed" | "stopped" | "failed" | None (running, or killed)
    before: int | None  # 0..10
    after: int | None  # 0..10
    state: str | None  # one of STATES, or None
    voice: str | None
    ambience: str | None

    @staticmethod
    def json_keys() -> tuple[str, ...]:
        """The keys of `to_json`, in order (the columns of a CSV export)."""
        return JSON_KEYS

    def to_json(self) -> dict[str, object]:
        """The object `history --json` prints (and `history export` writes) for this session."""
        return {
            "practice": self.practice,
            "title": self.title,
            "started_at": self.started_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "timezone": self.timezone,
            "listened_seconds": round(self.listened_seconds, 1),
            "completed": self.completed,
            "ended_by": self.ended_by,
            "before": self.before,
            "after": self.after,
            "state": self.state,
            "voice": self.voice,
            "ambience": self.ambience,
        }

    def local_start(self) -> datetime:
        """The start in the zone the listener was in then (UTC if that zone is unknown here)."""
        try:
            return self.started_at.astimezone(ZoneInfo(self.timezone))
        except (ZoneInfoNotFoundError, ValueError):
            return self.started_at

    @classmethod
    def _from_row(cls, row: tuple[object, ...]) -> SessionRecord:
        (row_id, practice, title, started, zone, listened, completed, ended_by, before, after,
         state, voice, ambience) = row
        return cls(
            id=int(row_id),  # type: ignore[call-overload]
            practice=str(practice),
            title=str(title),
            started_at=datetime.strptime(str(started), _STAMP).replace(tzinfo=UTC),
            timezone=str(zone),
            listened_seconds=float(listened),  # type: ignore[arg-type]
            completed=bool(completed),
            ended_by=None if ended_by is None else str(ended_by),
            before=None if before is None else int(before),  # type: ignore[call-overload]
            after=None if after is None else int(after),  # type: ignore[call-overload]
            state=None if state is None else str(state),
            voice=None if voice is None else str(voice),
            ambience=None if ambience is None else str(ambience),
        )


class History:
    """The sessions in one SQLite file; safe to use from several threads and processes.

    Each thread gets its own connection (SQLite connections are not meant to be shared), so a
    view reading the history never waits behind the recorder's write in this process. The file
    is opened, checked and migrated at once: a damaged file is moved aside here, and `notice`
    says so; HistoryError means no history can be kept at all (say, a read-only folder).
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or history_path()
        self.notice: str | None = None
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        self._open()

    # ------------------------------------------------------------------ opening

    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryError(f"cannot create {self.path.parent} ({exc.strerror or exc})") from exc
        try:
            self._check_and_migrate()
        except HistoryError:
            self._drop_connections()
            raise
        except OSError as exc:
            self._drop_connections()
            raise HistoryError(f"{self.path}: cannot be opened ({exc.strerror or exc})") from exc
        except sqlite3.Error as exc:
            if not self._is_damage(exc):
                self._drop_connections()
                raise HistoryError(f"{self.path}: {exc}") from exc
            self._drop_connections()
            aside = self._move_aside()
            self.notice = (f"Your history file could not be read ({exc}); it was moved to "
                           f"{aside} and a new history was started.")
            log.info("%s", self.notice)  # the caller shows it, once
            try:
                self._check_and_migrate()
            except sqlite3.Error as again:
                self._drop_connections()
                raise HistoryError(f"{self.path}: {again}") from again

    def _is_damage(self, exc: sqlite3.Error) -> bool:
        """Whether `exc` says the file itself is broken or unreadable, not merely busy, on a
        full disk or in a folder that cannot be written: only a broken file is moved aside."""
        name = getattr(exc, "sqlite_errorname", "") or ""
        primary = "_".join(name.split("_")[:2])  # SQLITE_IOERR_READ -> SQLITE_IOERR
        if primary in _DAMAGED or "malformed" in str(exc) or "not a database" in str(exc):
            return True
        if primary in _UNREADABLE and self.path.exists():
            return not self.path.is_file() or not os.access(self.path, os.R_OK | os.W_OK)
        return False

    def _check_and_migrate(self) -> None:
        if not self.path.exists():
            # Made here, private from the first byte, before SQLite creates it.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, files.PRIVATE_FILE)
            os.close(fd)
        elif self.path.is_file() and (self.path.stat().st_mode & 0o777) != files.PRIVATE_FILE:
            with contextlib.suppress(OSError):
                os.chmod(self.path, files.PRIVATE_FILE)
        conn = self._conn()
        checked = conn.execute("PRAGMA quick_check").fetchone()
        if checked is None or checked[0] != "ok":
            raise sqlite3.DatabaseError(
                f"database disk image is malformed ({checked[0] if checked else 'no answer'})"
            )
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:  # checked before anything is written to the file
            raise HistoryError(
                f"{self.path} was written by a newer Coreg (history version {version}); "
                "update Coreg to record sessions again"
            )
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()
        if mode is None or str(mode[0]).lower() != "wal":
            log.warning("The history is not in WAL mode (%s); writes may wait longer", mode)
        self._migrate(conn)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        if int(conn.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Read again inside the lock: another process may have migrated it meanwhile.
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {step + 1}")
                log.info("History %s migrated to version %d", self.path, step + 1)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _move_aside(self) -> str:
        stamp = time_mod.strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        try:
            os.replace(self.path, aside)
        except OSError as exc:
            raise HistoryError(
                f"{self.path} cannot be read, and could not be moved aside ({exc.strerror or exc})"
            ) from exc
        for suffix in ("-wal", "-shm"):  # they belong to the damaged file, not the new one
            companion = self.path.with_name(self.path.name + suffix)
            with contextlib.suppress(OSError):
                os.replace(companion, aside.with_name(aside.name + suffix))
        return str(aside)

    # ------------------------------------------------------------------ connections

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        with self._lock:
            if self._closed:
                raise HistoryError("the history is closed")
            # Autocommit: every write is one statement, its own short transaction.
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000,
                                   isolation_level=None, check_same_thread=False)
            self._connections.append(conn)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA secure_delete = ON")
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL: durable across a process kill
        except sqlite3.Error:
            self._forget(conn)
            raise
        self._local.conn = conn
        return conn

    def _forget(self, conn: sqlite3.Connection) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._connections.remove(conn)
        with contextlib.suppress(sqlite3.Error):
            conn.close()
        if getattr(self._local, "conn", None) is conn:
            self._local.conn = None

    def _drop_connections(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._local = threading.local()

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection; any SQLite failure becomes one HistoryError line."""
        try:
            yield self._conn()
        except sqlite3.Error as exc:
            raise HistoryError(f"history {self.path}: {exc}") from exc

    # ------------------------------------------------------------------ writing

    def start(
        self,
        practice: str,
        title: str,
        *,
        voice: str | None,
        ambience: str | None,
        before: int | None = None,
        state: str | None = None,
        started_at: datetime | None = None,
    ) -> int:
        """A row for a session that starts now (or at `started_at`); returns its id."""
        check_rating(before, "before")
        check_state(state)
        stamp = _stamp(started_at or datetime.now(UTC))
        with self._db() as conn:
            cursor = conn.execute(
                "INSERT INTO sessions (practice, title, started_at, timezone, voice, ambience,"
                " before_rating, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (practice, title, stamp, local_zone_name(), voice, ambience, before, state),
            )
            row_id = cursor.lastrowid
        if row_id is None:
            raise HistoryError("the history did not give the new session a number")
        return row_id

    def progress(self, row_id: int, listened_seconds: float) -> None:
        """How long a running session has been heard so far (an ended one is left alone)."""
        with self._db() as conn:
            conn.execute(
                "UPDATE sessions SET listened_seconds = ? WHERE id = ? AND ended_by IS NULL",
                (max(0.0, float(listened_seconds)), row_id),
            )

    def end(self, row_id: int, listened_seconds: float, ended_by: str) -> None:
        """The session ended: how long it was heard, and how it ended (one of ENDINGS)."""
        if ended_by not in ENDINGS:
            raise HistoryError(f"ended_by: {ended_by!r} is not one of {', '.join(ENDINGS)}")
        with self._db() as conn:
            conn.execute(
                "UPDATE sessions SET listened_seconds = ?, ended_by = ?, completed = ?"
                " WHERE id = ?",
                (max(0.0, float(listened_seconds)), ended_by, ended_by == "completed", row_id),
            )

    def set_before(self, row_id: int, before: int | None, state: str | None) -> None:
        """The check-in before a session (the tray's quick reset asks it afterwards)."""
        check_rating(before, "before")
        check_state(state)
        with self._db() as conn:
            conn.execute("UPDATE sessions SET before_rating = ?, state = ? WHERE id = ?",
                         (before, state, row_id))

    def set_after(self, row_id: int, after: int | None) -> None:
        check_rating(after, "after")
        with self._db() as conn:
            conn.execute("UPDATE sessions SET after_rating = ? WHERE id = ?", (after, row_id))

    # ------------------------------------------------------------------ reading

    def sessions(
        self, since: date | None = None, practice: str | None = None
    ) -> list[SessionRecord]:
        """Sessions oldest first; `since` is a local day (from its midnight on)."""
        where: list[str] = []
        params: list[object] = []
        if since is not None:
            where.append("started_at >= ?")
            params.append(_local_midnight(since))
        if practice is not None:
            where.append("practice = ?")
            params.append(practice)
        sql = f"SELECT {_COLUMNS} FROM sessions"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY started_at, id"
        with self._db() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [SessionRecord._from_row(row) for row in rows]

    def get(self, row_id: int) -> SessionRecord | None:
        with self._db() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM sessions WHERE id = ?",
                               (row_id,)).fetchone()
        return None if row is None else SessionRecord._from_row(row)

    # ------------------------------------------------------------------ deleting

    def delete_all(self) -> int:
        """Remove every session, and any damaged copies moved aside earlier (they hold old
        sessions too: "delete my data" means all of it); returns how many sessions there were."""
        count = self._delete("DELETE FROM sessions", ())
        for aside in self.path.parent.glob(f"{self.path.name}.corrupt-*"):
            try:
                aside.unlink()
            except OSError as exc:
                log.warning("Could not remove the old history copy %s: %s", aside, exc)
        return count

    def delete_before(self, day: date) -> int:
        """Remove the sessions that started before the listener's local `day`."""
        return self._delete("DELETE FROM sessions WHERE started_at < ?", (_local_midnight(day),))

    def _delete(self, sql: str, params: tuple[object, ...]) -> int:
        with self._db() as conn:
            count = conn.execute(sql, params).rowcount
            # The removed rows are overwritten (secure_delete); move that into the file and
            # empty the WAL, so no copy of them stays readable. Best effort while others read.
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return max(0, count)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._drop_connections()
