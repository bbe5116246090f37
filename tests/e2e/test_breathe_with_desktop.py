"""Breathe with Me in the desktop app as a person uses it: on a real X server, tapping a fast
rhythm on the orb (a click, and Space), watched in screenshots and heard through PulseAudio."""

from __future__ import annotations

import time
from pathlib import Path

from ..cues import assert_follows_then_leads, breath_rates, find_cues
from .desktop import CoregApp, XSession
from .pulse import REC_RATE, Recorder
from .test_desktop import (  # noqa: F401  (fixtures shared with the other desktop tests)
    app,
    app_cache,
    artifacts,
    main_window,
    wait_for,
    xsession,
)

SPEECH_DBFS = -38.0
TAP_EVERY_S = 3.0  # 20 a minute: a fast breath
#: How they tap: mostly on the orb, sometimes Space (keys go to the window under the pointer).
TAPS = ("click", "click", "space", "click", "space")
#: Listened to after the last tap: three breaths at their pace, the line that says it will slow
#: down, then more than ten slower breaths, each 0.4 a minute slower, and two to spare (55 s
#: was measured to end exactly 4.0 a minute down).
LISTEN_AFTER_TAPS_S = 62.0


def test_tapping_a_fast_rhythm_on_the_orb_is_followed_then_led_down(
    xsession: XSession, app: CoregApp, recorder: Recorder, artifacts: Path  # noqa: F811
) -> None:
    # Only the voice and the tones, so the tones can be found in the recording (the soft pad's
    # chord shares their pitches); a listener can choose the same in Settings.
    done, _ = app.second("config", "set", "ambience", "none")
    assert done.returncode == 0, done.stderr
    # Straight in, as a listener who turned the before question off (tests/e2e/test_desktop.py
    # and the UI tests check the question itself).
    done, _ = app.second("config", "set", "checkin.before", "false")
    assert done.returncode == 0, done.stderr
    t0 = recorder.mark()
    app.start("--practice", "breathe-with")
    wait_for(lambda: main_window(xsession) is not None, 60, "the main window")
    found = main_window(xsession)
    assert found is not None
    _, window = found
    # Narration may still be synthesized on a first run: wait for the welcome to be heard.
    recorder.wait_until(t0 + 5.0)
    deadline = time.monotonic() + 90
    onset = None
    while onset is None and time.monotonic() < deadline:
        onset = recorder.onset_after(t0, SPEECH_DBFS)
        time.sleep(0.5)
    assert onset is not None, "the welcome was never heard"
    listening = xsession.screenshot(artifacts / "breathe-with-listening.png")

    # The orb fills the middle of the window; the pointer rests on it, as a hand would.
    xsession.move(window.x + window.width // 2, window.y + int(window.height * 0.4))
    time.sleep(0.3)
    taps: list[float] = []
    start = time.monotonic()
    for k, how in enumerate(TAPS):
        time.sleep(max(0.0, start + k * TAP_EVERY_S - time.monotonic()))
        if how == "click":
            xsession.click(1)
        else:
            xsession.key("space")
        taps.append(recorder.mark())
    wait_for(lambda: "breath measured" in app.log(), 10, "the taps to be measured")
    recorder.wait_until(taps[-1] + 12.0, timeout=60)
    first = xsession.screenshot(artifacts / "breathe-with-following-1.png")
    time.sleep(0.5)
    second = xsession.screenshot(artifacts / "breathe-with-following-2.png")
    assert xsession.differing_pixels(first, second) > 50, "the orb did not breathe"
    recorder.wait_until(taps[-1] + LISTEN_AFTER_TAPS_S, timeout=120)
    assert app.proc is not None and app.proc.poll() is None, app.report()

    cues = [(t, kind) for t, kind in find_cues(recorder.samples(), REC_RATE) if t > taps[0]]
    breaths = breath_rates(cues)
    assert len(breaths) >= 10, cues
    # In step with the taps within an X click's and a sound server's latency.
    assert_follows_then_leads(breaths, taps, in_step_s=0.4)
    log = app.log()
    assert "Traceback" not in log and "Traceback" not in app.stderr()
    print(f"taps at {[round(t - onset, 2) for t in taps]} s after the welcome began; breaths "
          f"{[(round(s - onset, 1), round(r, 1)) for s, r, _ in breaths]}; screenshots "
          f"{listening}, {first}, {second}")
