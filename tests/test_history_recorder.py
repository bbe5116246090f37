"""The core records every session, from the player's events, the same for both front ends."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from coreg_desktop import history_recorder
from coreg_desktop.audio.bank import SoundBank
from coreg_desktop.audio.output import NullOutput
from coreg_desktop.checkin import BadCheckIn, CheckIn
from coreg_desktop.core import MEMO_PREVIEW_ID, PREVIEW_ID, Core
from coreg_desktop.events import Ended, Started
from coreg_desktop.history import History, HistoryError
from coreg_desktop.practice.loader import Library
from coreg_desktop.practice.model import Pause, Practice, Say
from coreg_desktop.session import Session
from coreg_desktop.settings import Settings
from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.narrator import Narrator

CALM = Practice(id="calm", title="Calm", ambience="none",
                steps=(Say("Hello."), Pause(3.0)))


def make_core(tmp_path: Path, history: History | None = None, **kwargs: object) -> Core:
    """A core playing captions only into a silent real-time output, its stream open."""
    notices: list[str] = kwargs.pop("notices", [])  # type: ignore[assignment]
    core = Core(
        Settings(path=tmp_path / "settings.json"),
        library=Library({CALM.id: CALM}),
        narrator=Narrator(None, ClipCache(tmp_path / "n")),  # captions only: no voice to wait on
        bank=SoundBank(tmp_path / "a"),
        output=NullOutput(),
        history=history,
        on_notice=notices.append,
        **kwargs,  # type: ignore[arg-type]
    )
    core.player.open()
    return core


def wait_ended(session: Session, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not session.ended and time.monotonic() < deadline:
        time.sleep(0.05)
    assert session.ended


@pytest.fixture
def quick_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history_recorder, "PROGRESS_EVERY_S", 0.5)


def test_a_session_is_written_at_its_start_while_it_plays_and_at_its_end(
    tmp_path: Path, quick_progress: None
) -> None:
    history = History(tmp_path / "h.sqlite3")
    core = make_core(tmp_path, history)
    writers: set[str] = set()
    for name in ("start", "progress", "end", "set_after"):
        method = getattr(history, name)

        def spy(*args: object, _method: object = method, **kwargs: object) -> object:
            writers.add(threading.current_thread().name)
            return _method(*args, **kwargs)  # type: ignore[operator]

        setattr(history, name, spy)
    try:
        session = core.play("calm", checkin=CheckIn(7, "on edge"))
        row = core.history_row(session.number)
        assert row is not None
        started = history.get(row)
        assert started is not None and started.ended_by is None and not started.completed
        assert (started.before, started.state, started.practice, started.title) == (
            7, "on edge", "calm", "Calm")
        assert started.voice is None and started.ambience == "none"  # captions only, silence
        time.sleep(2.0)
        playing = history.get(row)
        assert playing is not None and playing.ended_by is None
        heard = session.position_frames / 48_000
        assert heard - 1.0 <= playing.listened_seconds <= heard
        wait_ended(session)
        core.record_after(session.number, 3)
        assert core.history_row(session.number) == row
        done = history.get(row)
        assert done is not None and done.completed and done.ended_by == "completed"
        assert done.after == 3 and done.listened_seconds == pytest.approx(session.heard_seconds)
        assert done.listened_seconds > 3.0
    finally:
        core.close()
    assert writers == {"coreg-history"}, "history writes belong on the recorder's thread"
    assert core.history is history


def test_a_stopped_session_and_a_check_in_given_afterwards(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    core = make_core(tmp_path, history)
    try:
        session = core.play("calm")
        time.sleep(0.8)
        core.record_before(session.number, 6, None)  # the tray's quick reset asks afterwards
        row = core.history_row(session.number)
        assert row is not None
        said = history.get(row)  # written by the time record_before returns: a view sees it
        assert said is not None and said.before == 6 and said.ended_by is None
        session.stop(fade_s=0.1)
        wait_ended(session)
        with pytest.raises(BadCheckIn):
            core.record_after(session.number, 12)
        with pytest.raises(BadCheckIn):
            core.record_before(session.number, 5, "grumpy")
        row = core.history_row(session.number)
        assert row is not None
        record = history.get(row)
        deadline = time.monotonic() + 5.0  # the end is written on the recorder's own thread
        while (record is None or record.ended_by is None) and time.monotonic() < deadline:
            time.sleep(0.02)
            record = history.get(row)
        assert record is not None
        assert (record.ended_by, record.completed, record.before, record.after) == (
            "stopped", False, 6, None)
        assert 0.5 < record.listened_seconds < 2.0
    finally:
        core.close()


def test_a_check_in_given_the_moment_a_session_starts_is_kept(tmp_path: Path) -> None:
    """The tray's quick reset: play first, and the answer may come at once (its Started event
    may not even have reached the recorder yet)."""
    history = History(tmp_path / "h.sqlite3")
    core = make_core(tmp_path, history)
    # Another subscriber taking its time over the previous session's end (a busy window)
    # holds the next Started back, behind it.
    core.player.events.subscribe(lambda e: time.sleep(0.4) if isinstance(e, Ended) else None)
    try:
        for rating in range(5):
            session = core.play("calm")
            core.record_before(session.number, rating, "overwhelmed")
            row = core.history_row(session.number)
            assert row is not None
            record = history.get(row)
            assert record is not None and (record.before, record.state) == (rating,
                                                                            "overwhelmed")
    finally:
        core.close()
    assert [r.before for r in history.sessions()] == list(range(5))
    assert [r.ended_by for r in history.sessions()] == ["stopped"] * 5


def test_previews_are_not_history(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    core = make_core(tmp_path, history)
    try:
        bus = core.player.events
        for number, practice_id in ((901, PREVIEW_ID), (902, MEMO_PREVIEW_ID)):
            bus.emit(Started(number, practice_id, "Preview"))
            from coreg_desktop.events import EndReason

            bus.emit(Ended(number, practice_id, 1.0, EndReason.COMPLETED))
        bus.flush()
        assert core.history_row(901) is None and core.history_row(902) is None
        assert history.sessions() == []
        session = core.play("calm")
        assert core.history_row(session.number) is not None
    finally:
        core.close()


class BrokenHistory(History):
    """A history on a disk that has just filled up."""

    def start(self, *args: object, **kwargs: object) -> int:
        raise HistoryError("database or disk is full")

    def end(self, *args: object, **kwargs: object) -> None:
        raise HistoryError("database or disk is full")


def test_history_failures_are_logged_once_and_never_stop_playback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    history = BrokenHistory(tmp_path / "h.sqlite3")
    core = make_core(tmp_path, history)
    ended: list[Ended] = []
    try:
        core.player.events.subscribe(lambda e: ended.append(e) if isinstance(e, Ended) else None)
        with caplog.at_level(logging.WARNING, logger="coreg_desktop.history_recorder"):
            for _ in range(2):
                session = core.play("calm")
                wait_ended(session)
            core.player.events.flush()
            assert core.history_row(session.number) is None
    finally:
        core.close()
    assert [e.reason.value for e in ended] == ["completed", "completed"]
    warned = [r for r in caplog.records if r.name == "coreg_desktop.history_recorder"]
    assert len(warned) == 1 and "disk is full" in warned[0].getMessage()


def test_a_history_that_cannot_be_opened_is_one_notice_and_playing_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    notices: list[str] = []
    core = make_core(tmp_path, notices=notices)
    try:
        assert core.history is None and core.history is None
        session = core.play("calm")
        assert core.history_row(session.number) is None
        core.record_after(session.number, 2)  # nothing to keep it in: quietly nothing
        wait_ended(session)
    finally:
        core.close()
    assert len(notices) == 1 and "cannot be kept in the history" in notices[0]


def test_a_damaged_default_history_is_moved_aside_and_said_once(tmp_path: Path) -> None:
    folder = tmp_path / "xdg_data_home" / "coreg-desktop"
    folder.mkdir(parents=True)
    (folder / "history.sqlite3").write_bytes(b"\x00not sqlite\x00" * 300)
    notices: list[str] = []
    core = make_core(tmp_path, notices=notices)
    try:
        session = core.play("calm")
        assert core.history_row(session.number) is not None
    finally:
        core.close()
    (aside,) = folder.glob("history.sqlite3.corrupt-*")
    assert len(notices) == 1 and str(aside) in notices[0]
    assert "\n" not in notices[0]


def test_record_false_keeps_no_history(tmp_path: Path) -> None:
    core = make_core(tmp_path, record=False)
    try:
        session = core.play("calm")
        assert core.history is None and core.history_row(session.number) is None
    finally:
        core.close()
    assert not (tmp_path / "xdg_data_home" / "coreg-desktop" / "history.sqlite3").exists()
