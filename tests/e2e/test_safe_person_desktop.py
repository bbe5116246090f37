"""The safe person's photo in the orb, as a person sees it: the app on a real X server, a photo
added with the terminal command, "A Safe Person" played, and the screen looked at.

The photo is plain red, a colour the orb never has (teal and lavender), so red on the screen is
the photo; another practice, not about the safe person, must show none.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from .desktop import CoregApp, XSession
from .test_desktop import MAIN_TITLE, app, app_cache, artifacts, wait_for, xsession  # noqa: F401


def red_pixels(shot: Path) -> int:
    rgb = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return int(np.count_nonzero((r - g > 40) & (r - b > 40)))


def test_the_photo_shows_softly_in_the_orb_of_a_safe_person_practice(
    app: CoregApp, xsession: XSession, artifacts: Path, tmp_path: Path  # noqa: F811
) -> None:
    photo = tmp_path / "ana.png"
    Image.new("RGB", (900, 1200), (235, 30, 30)).save(photo)
    added = subprocess.run(
        [sys.executable, "-m", "coreg_desktop", "safe-person", "add", "Ana", "--relationship",
         "grandmother", "--photo", str(photo)],
        env=app.env, capture_output=True, text=True, timeout=60, check=False)
    assert added.returncode == 0, added.stderr
    photo.unlink()
    # Straight in, as a listener who turned the before question off (the UI tests check it).
    off = subprocess.run([sys.executable, "-m", "coreg_desktop", "config", "set",
                          "checkin.before", "false"], env=app.env, capture_output=True,
                         text=True, timeout=60, check=False)
    assert off.returncode == 0, off.stderr

    app.start("--practice", "stay-safe")
    wait_for(lambda: xsession.visible_windows(MAIN_TITLE), 60, "the main window")
    time.sleep(4)
    other = xsession.screenshot(artifacts / "stay-safe.png")
    assert red_pixels(other) == 0, "a practice not about the safe person shows no photo"

    done, _ = app.second("--practice", "safe-person")
    assert done.returncode == 0, done.stderr
    time.sleep(4)
    first = xsession.screenshot(artifacts / "safe-person-a.png")
    time.sleep(0.5)
    second = xsession.screenshot(artifacts / "safe-person-b.png")
    shown = red_pixels(first)
    print(f"{shown} pixels of the photo on screen")
    assert shown > 2000, f"only {shown} pixels of the photo on screen"
    # Softly: washed toward the orb's light, nowhere near the photo's own red.
    rgb = np.asarray(Image.open(first).convert("RGB")).astype(int)
    tinted = rgb[(rgb[..., 0] - rgb[..., 1] > 40) & (rgb[..., 0] - rgb[..., 2] > 40)]
    assert float(np.median(tinted[:, 1])) > 80  # the red photo's green is 30
    assert xsession.differing_pixels(first, second) > 0, "the orb (and the photo) breathe"
    assert app.proc is not None and app.proc.poll() is None, app.report()
    assert "Traceback" not in app.stderr()
