"""The bridge: core events become signals on the GUI thread, and nothing polls."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject, QThread
from pytestqt.qtbot import QtBot

from coreg_desktop.audio.mixer import Transport
from coreg_desktop.core import Core
from coreg_desktop.practice.loader import Library
from coreg_desktop.practice.model import Breathe, Cue, Pause, Practice, Say
from coreg_desktop.settings import Settings
from coreg_desktop.ui.bridge import PlayerBridge, follow_settings

SENTENCE = "Feel your feet on the floor."
LONG = Practice(
    id="bridge-long",
    title="Bridge Long",
    ambience="none",
    steps=(Say(SENTENCE, pause=0.2), Breathe(inhale=2, exhale=3, cycles=20, cue=Cue.TONE)),
)
SHORT = Practice(id="bridge-short", title="Bridge Short", ambience="none", steps=(Pause(0.5),))

pytestmark = pytest.mark.usefixtures("collect_on_the_gui_thread")


@pytest.fixture
def live(bridge: PlayerBridge, library: Library) -> Iterator[PlayerBridge]:
    library.practices[LONG.id] = LONG
    library.practices[SHORT.id] = SHORT
    yield bridge


def test_an_unknown_practice_is_a_notice_not_an_error(qtbot: QtBot, live: PlayerBridge) -> None:
    with qtbot.waitSignal(live.noticeRaised) as notice, qtbot.assertNotEmitted(
        live.practiceStarted
    ):
        assert not live.play("no-such-practice")
    assert notice.args == ['There is no practice called "no-such-practice".']
    assert live.transport is Transport.IDLE and not live.active


def test_play_is_shown_at_once_and_captions_follow_the_phase_events(
    qtbot: QtBot, live: PlayerBridge
) -> None:
    with qtbot.waitSignal(live.practiceStarted) as started:
        assert live.play(LONG.id)
    assert started.args == [LONG.id]
    assert live.transport is Transport.PLAYING and live.active and live.practice is LONG
    qtbot.waitSignal(live.captionChanged, check_params_cb=lambda c: c == SENTENCE,
                     timeout=60_000).wait()
    # Paused and resumed through the player; the bridge hears it from the core's events.
    with qtbot.waitSignal(live.transportChanged, check_params_cb=lambda v: v == "paused"):
        live.toggle()
    assert live.transport is Transport.PAUSED and live.active
    with qtbot.waitSignal(live.transportChanged, check_params_cb=lambda v: v == "playing"):
        live.toggle()
    # The first caption comes as the first sentence is reached, before the output's latency has
    # passed; let a little be heard before stopping.
    session = live.player.session
    assert session is not None
    qtbot.waitUntil(lambda: session.position_frames > 0, timeout=10_000)
    with qtbot.waitSignal(live.stopped) as stopped, qtbot.waitSignal(live.ended) as ended:
        live.stop(fade_s=0.1)
    assert stopped.args == [LONG.id]
    assert ended.args[0] == LONG.id and ended.args[2] == "stopped" and ended.args[1] > 0
    assert live.transport is Transport.STOPPED and not live.active


def test_the_end_of_a_practice_is_finished_once(qtbot: QtBot, live: PlayerBridge) -> None:
    ends: list[str] = []
    live.ended.connect(lambda _id, _heard, reason: ends.append(reason))
    with qtbot.waitSignal(live.finished, timeout=30_000) as finished, qtbot.assertNotEmitted(
        live.stopped, wait=200
    ):
        live.play(SHORT.id)
    assert finished.args == [SHORT.id]
    assert live.transport is Transport.FINISHED
    qtbot.wait(300)
    assert ends == ["completed"]


def test_a_replaced_practice_does_not_look_stopped(qtbot: QtBot, live: PlayerBridge) -> None:
    live.play(LONG.id)
    qtbot.waitUntil(lambda: live.player.session is not None, timeout=5000)
    with qtbot.assertNotEmitted(live.stopped, wait=500), qtbot.waitSignal(live.practiceStarted):
        live.play(LONG.id)
    assert live.active and live.transport is Transport.PLAYING
    live.stop(fade_s=0.1)
    qtbot.waitUntil(lambda: not live.active, timeout=5000)


def test_events_reach_the_gui_thread(qtbot: QtBot, live: PlayerBridge) -> None:
    threads: list[bool] = []
    live.captionChanged.connect(
        lambda _c: threads.append(QThread.currentThread() is live.thread())
    )
    live.play(LONG.id)
    qtbot.waitUntil(lambda: bool(threads), timeout=60_000)
    assert all(threads)
    live.stop(fade_s=0.1)


def test_follow_settings_calls_back_on_the_owner_thread_until_it_is_gone(
    qtbot: QtBot, core: Core, settings: Settings
) -> None:
    owner = QObject()
    heard: list[tuple[list[str], bool]] = []

    def changed(keys: list[str]) -> None:
        heard.append((keys, QThread.currentThread() is owner.thread()))

    follow_settings(owner, settings, changed)
    settings.set("captions", False)  # from the GUI thread: called at once
    assert heard == [(["captions"], True)]
    worker = threading.Thread(target=lambda: settings.set("name", "Sam"))
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(heard) == 2)
    assert heard[1] == (["name"], True)  # from a worker: carried to the owner's thread
    owner.deleteLater()
    qtbot.wait(50)
    settings.set("rate", 0.8)
    qtbot.wait(50)
    assert len(heard) == 2
