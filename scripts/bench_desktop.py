#!/usr/bin/env python3
"""Figures for the desktop app (issue 3, sections 7 and 8; issue 7, sections 5 and 7; issue 8,
section 4), measured as a user would notice them, for Kokoro (af_heart) and Piper (joe-medium) in
the same run; then the safe person's photo in the orb, and importing a voice memo.

Everything runs on a private desktop: Xvfb with trayer (software rendering, tests/e2e/desktop.py)
and a private PulseAudio null sink whose monitor is recorded (tests/e2e/pulse.py). Latencies are
read off the recording: the file size at the moment of the click pins the click, and the first
10 ms window louder than -50 dBFS after it is the first audible sample. Between runs the practice
is stopped over MPRIS on a private D-Bus, as a media key would.

Each voice gets a fresh user (its `voice` setting set; Kokoro's model already joined into the
cache, as after installation) and one app started in the tray, which then goes through:

* tray click -> first audible sample, quick reset prepared (the other practices are still being
  prepared in the background)   target <= 150 ms, must not exceed 600 ms
  (the stream in standby, as a click usually finds it; and again right after a Stop)
* second-instance --quick-reset -> sound, stream in standby          target <= 400 ms
* the preparation finishing and the app resting (the "Resting: X MB -> Y MB" log line, 60 s
  after the last thing played or was prepared): RSS at rest         target <= 150 MB
  with what holds it (/proc/<pid>/smaps by mapping), and CPU at rest target <= 0.5 % of a core
* from that rest (each time after a new "Resting:" line): tray click -> sound (target <= 150 ms)
  and --quick-reset -> sound (target <= 400 ms)
* CPU, playing with the orb visible                                 target <= 10 % (Xvfb)
* RSS: with the voice loaded (quick reset prepared), peak, playing, at rest
* reference in the same run: an open stream switching to a tone (the floor), and mpv playing
  the quick reset's audio (rendered by Coreg): CPU and RSS

Section "photo" (issue 8): the narration of every practice prepared once in a shared cache (one
app run until it rests), then for each case a fresh user with a safe person, Ana, with a photo
(a JPEG made with Pillow) or without one (the reference), the app started in the tray, "A Safe
Person" handed to it (`--practice safe-person`, a second launch), and while it plays with the
window shown:

* CPU of the app, `--runs` windows of `--cpu-seconds`           target <= 10 % (Xvfb)
* a screenshot, in which the photo must be seen: warm pixels in the orb with the photo, none
  without it (the orb is teal and lavender)

Section "memo" (issue 8): a 3-minute speech-like mp3 (espeak-ng looped over room noise; stereo
44.1 kHz 128 kb/s by the bundled ffmpeg), imported by `coreg-desktop safe-person import-memo FILE
--person Ana` in a fresh process for a fresh user, `--runs` times, with system ffmpeg and ffprobe
hidden from PATH; beside it the CLI's own start-up, the modules it imports, and the decode, clean
and FLAC steps alone (in this process).

Section "progress" (issue 9): 2,000 generated sessions in a real history file, the Progress
page opened in a fresh process on the Xvfb display: the first open (with pyqtgraph preloaded, as
the window does, and cold), and opening it again                    target <= 300 ms

Section "reminders" (issue 9): the app in the tray with gentle reminders on (the next one hours
away), narration prepared beforehand, the stream in standby: CPU    target <= 0.5 % of a core,
beside the same app with reminders off

    python scripts/bench_desktop.py [--only voices,photo,memo,progress,reminders] [--runs 5]
                                    [--rest-runs 3]
                                    [--cpu-seconds 10]
                                    [--voices kokoro:af_heart,en_US-joe-medium]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e import desktop as xdesk  # noqa: E402
from tests.e2e.desktop import CoregApp, XSession, cpu_percent, cpu_seconds, rss_mb  # noqa: E402
from tests.e2e.pulse import PulseServer, Recorder, missing_requirements  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from benchlib import children_of, children_rss_mb, compile_bytecode  # noqa: E402

from coreg_desktop.player import REST_AFTER_S, STANDBY_AFTER_S  # noqa: E402

AUDIBLE_DBFS = -50.0  # anything a listener could hear in a quiet room; the hum is -66
SILENT_DBFS = -58.0
MPRIS = ["--dest=org.mpris.MediaPlayer2.coreg", "/org/mpris/MediaPlayer2"]
DEFAULT_VOICES = ("kokoro:af_heart", "en_US-joe-medium")
RESTING = re.compile(r"Resting: (\d+) MB -> (\d+) MB")
KOKORO_FAILED = "Kokoro is unavailable"
MODEL_FILES = ("kokoro-v1.0.int8.onnx", "kokoro-v1.0.int8.onnx.stamp.json")


def dbus_daemon() -> tuple[str, int]:
    out = subprocess.run(
        ["dbus-daemon", "--session", "--print-address=1", "--print-pid=1", "--fork"],
        capture_output=True, text=True, check=True, timeout=10,
    ).stdout.split()
    return out[0], int(out[1])


def mpris(address: str, method: str) -> None:
    subprocess.run(["dbus-send", "--session", "--print-reply", *MPRIS,
                    f"org.mpris.MediaPlayer2.Player.{method}"],
                   env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": address},
                   capture_output=True, timeout=10, check=True)


def wait_silent(rec: Recorder, timeout: float = 10.0) -> None:
    """Until the last half second of the recording is only the hum (a stop's fade is over)."""
    deadline = time.monotonic() + timeout
    time.sleep(1.2)
    while time.monotonic() < deadline:
        now = rec.mark()
        if rec.rms_dbfs(max(0.0, now - 0.5), now) < SILENT_DBFS:
            return
        time.sleep(0.2)
    raise RuntimeError("the practice did not fall silent after Stop")


def onset_after(rec: Recorder, mark: float, listen: float = 3.0) -> float:
    rec.wait_until(mark + listen)
    onset = rec.onset_after(mark, AUDIBLE_DBFS)
    if onset is None:
        raise RuntimeError("nothing was heard")
    return onset - mark


#: The floor for "sound starts the moment it is asked for": a stream that is already open (same
#: sample rate, block and latency as Coreg's) switches from silence to a tone when a line arrives.
FLOOR_CHILD = """
import sys, threading, numpy as np, sounddevice as sd
go = threading.Event()
phase = [0]
def callback(out, frames, t, status):
    if go.is_set():
        n = np.arange(phase[0], phase[0] + frames)
        out[:] = (0.3 * np.sin(2 * np.pi * 440 * n / 48000))[:, None]
        phase[0] += frames
    else:
        out.fill(0)
with sd.OutputStream(samplerate=48000, channels=2, dtype="float32", blocksize=1024,
                     latency=0.1, callback=callback):
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "go":
            go.set()
        elif line.strip() == "stop":
            go.clear()
"""


def floor_latency(rec: Recorder, env: dict[str, str], runs: int,
                  idle_seconds: float) -> tuple[list[float], float]:
    """Latencies of the reference stream, and its CPU while it plays silence (the idle floor)."""
    child = subprocess.Popen([sys.executable, "-c", FLOOR_CHILD], env=env, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdin is not None and child.stdout is not None
    try:
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError("the reference stream did not open")
        time.sleep(1.0)
        idle = cpu_percent(child.pid, idle_seconds)
        found = []
        for _ in range(runs):
            mark = rec.mark()
            child.stdin.write("go\n")
            child.stdin.flush()
            found.append(onset_after(rec, mark, listen=1.0))
            child.stdin.write("stop\n")
            child.stdin.flush()
            wait_silent(rec)
        return found, idle
    finally:
        child.stdin.close()
        child.wait(timeout=10)


def fmt_ms(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"{statistics.median(ms):6.0f} ms  (runs: {', '.join(f'{v:.0f}' for v in ms)})"


def fmt_mb(values: list[float]) -> str:
    return f"{statistics.median(values):5.0f} MB  (runs: {', '.join(f'{v:.0f}' for v in values)})"


def verdict(value: float, target: float, limit: float | None = None) -> str:
    if value <= target:
        return "meets target"
    if limit is not None and value <= limit:
        return f"over target, within the {limit:g} limit"
    return "MISSES target"


# ----------------------------------------------------------------------------- memory


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def memory_holders(pid: int, top: int = 12) -> tuple[dict[str, float], list[tuple[str, float]]]:
    """(smaps_rollup's main lines in MB, the biggest resident mappings grouped by file).

    Anonymous mappings are grouped as "[anon]" (Python objects, numpy arrays, the allocator's
    arenas, thread stacks), "[heap]" is the brk heap; files by their name (shared libraries and
    anything mapped, such as a model file).
    """
    rollup: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB" and key in (
            "Rss", "Pss", "Pss_Anon", "Pss_File", "Pss_Shmem", "Shared_Clean",
            "Private_Clean", "Private_Dirty", "Anonymous",
        ):
            rollup[key] = int(parts[0]) / 1024
    by_name: dict[str, float] = collections.defaultdict(float)
    name = "[anon]"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if not fields:
            continue
        if re.match(r"^[0-9a-f]+-[0-9a-f]+$", fields[0]):
            path = " ".join(fields[5:]) if len(fields) > 5 else ""
            name = Path(path).name if path.startswith("/") else (path or "[anon]")
        elif fields[0] == "Rss:":
            by_name[name] += int(fields[1]) / 1024
    return rollup, sorted(by_name.items(), key=lambda kv: -kv[1])[:top]


def restings(app: CoregApp) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in RESTING.findall(app.log())]


def wait_rested(app: CoregApp, count: int, timeout: float) -> tuple[int, int]:
    """Until the log holds more than `count` "Resting:" lines; the newest one's (before, after)."""
    deadline = time.monotonic() + timeout
    while True:
        found = restings(app)
        if len(found) > count:
            return found[-1]
        if app.proc is not None and app.proc.poll() is not None:
            raise RuntimeError(f"Coreg exited with {app.proc.returncode}:\n{app.stderr()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Coreg did not rest within {timeout:.0f} s:\n{app.log()[-3000:]}")
        time.sleep(0.5)


# ----------------------------------------------------------------------------- one voice


JOIN_CHILD = "from coreg_desktop.tts import kokoro; kokoro.prepare_model()"


def joined_model(work: Path) -> Path:
    """Kokoro's model joined once (what installation or a first use does), to link into homes."""
    cache = work / "joined"
    subprocess.run([sys.executable, "-c", JOIN_CHILD],
                   env={**os.environ, "XDG_CACHE_HOME": str(cache), "PYTHONPATH": str(ROOT)},
                   cwd=ROOT, check=True, capture_output=True, timeout=120)
    return cache / "coreg-desktop" / "kokoro"


def measure_voice(voice: str, args: argparse.Namespace, x: XSession, rec: Recorder,
                  env: dict[str, str], address: str, home: Path,
                  model_dir: Path | None) -> dict[str, Any]:
    """One app in the tray with `voice`, through everything the module docstring lists."""
    r: dict[str, Any] = {"voice": voice}
    if model_dir is not None:
        target = home / "cache" / "coreg-desktop" / "kokoro"
        target.mkdir(parents=True)
        for name in MODEL_FILES:  # hard links: the same file, so its stamp still matches
            os.link(model_dir / name, target / name)
    app = CoregApp(home, env)
    done, _ = app.second("config", "set", "voice", voice)
    if done.returncode != 0:
        raise RuntimeError(f"config set voice {voice} failed: {done.stderr}")
    try:
        # ------------------------------------------------------------ start-up
        started = time.monotonic()
        proc = app.start("--minimized")
        if not xdesk.wait_until(lambda: x.tray_icon() is not None, 60):
            raise RuntimeError("no tray icon")
        r["icon_s"] = time.monotonic() - started
        app.wait_ready(timeout=900)
        r["ready_s"] = time.monotonic() - started
        time.sleep(STANDBY_AFTER_S + 2.0)
        r["rss_ready_mb"] = rss_mb(proc.pid)  # the voice loaded, preparing the other practices
        r["synth_ready_mb"] = children_rss_mb(proc.pid)  # the synthesis processes (the model)
        icon = x.tray_icon()
        assert icon is not None

        # ------------------------------------------------------------ tray click, prepared
        # The usual click finds the stream in standby; a click right after a stop finds the
        # stream still running, with its buffer of silence queued.
        r["click"], r["click_again"] = [], []
        for _ in range(args.runs):
            for bucket in (r["click"], r["click_again"]):
                x.move(*icon.center)
                time.sleep(0.3)
                mark = rec.mark()
                x.click(1)
                bucket.append(onset_after(rec, mark))
                mpris(address, "Stop")
                wait_silent(rec)
            time.sleep(STANDBY_AFTER_S + 1.5)

        # ------------------------------------------------------------ second instance, standby
        r["second"], r["handover"] = [], []
        for _ in range(args.runs):
            time.sleep(STANDBY_AFTER_S + 1.5)
            mark = rec.mark()
            t0 = time.perf_counter()
            launched = subprocess.run([sys.executable, "-m", "coreg_desktop", "--quick-reset"],
                                  env=app.env, capture_output=True, timeout=30, check=False,
                                  cwd=ROOT)
            r["handover"].append(time.perf_counter() - t0)
            if launched.returncode != 0:
                raise RuntimeError(f"second launch failed: {launched.stderr!r}")
            r["second"].append(onset_after(rec, mark))
            mpris(address, "Stop")
            wait_silent(rec)

        # ------------------------------------------------------------ the first rest
        # The preparation goes on at idle priority; the app rests REST_AFTER_S after it ends.
        before, after = wait_rested(app, 0, timeout=args.prepare_timeout)
        r["rested_after_s"] = time.monotonic() - started
        r["resting_log"] = [(before, after)]
        time.sleep(3.0)
        r["rss_rest_mb"] = [rss_mb(proc.pid)]
        r["synth_rest"] = [len(children_of(proc.pid))]  # none should be left at rest
        r["rollup"], r["holders"] = memory_holders(proc.pid)
        r["idle_cpu"] = [cpu_percent(proc.pid, args.cpu_seconds) for _ in range(3)]
        readiness = subprocess.run(
            [sys.executable, "-m", "coreg_desktop", "doctor"], env=app.env, cwd=ROOT,
            capture_output=True, text=True, timeout=120, check=False,
        ).stdout
        r["doctor_preparing"] = [
            line.strip() for line in readiness.splitlines() if "voice" in line.lower()
        ][:3]
        if KOKORO_FAILED in app.log():
            raise RuntimeError(f"{voice} fell back:\n{app.log()[-3000:]}")

        # ------------------------------------------------------------ from rest
        r["click_rest"], r["second_rest"] = [], []
        for _ in range(args.rest_runs):
            for kind in ("click_rest", "second_rest"):
                count = len(restings(app))
                if kind == "click_rest":
                    x.move(*icon.center)
                    time.sleep(0.3)
                    mark = rec.mark()
                    x.click(1)
                else:
                    mark = rec.mark()
                    launched = subprocess.run(
                        [sys.executable, "-m", "coreg_desktop", "--quick-reset"], env=app.env,
                        capture_output=True, timeout=30, check=False, cwd=ROOT,
                    )
                    if launched.returncode != 0:
                        raise RuntimeError(f"second launch failed: {launched.stderr!r}")
                r[kind].append(onset_after(rec, mark))
                mpris(address, "Stop")
                wait_silent(rec)
                r["resting_log"].append(
                    wait_rested(app, count, timeout=REST_AFTER_S + 60)
                )
                time.sleep(3.0)
                r["rss_rest_mb"].append(rss_mb(proc.pid))
                r["synth_rest"].append(len(children_of(proc.pid)))

        # ------------------------------------------------------------ playing, orb visible
        x.move_and_click(*icon.center)
        time.sleep(2.0)
        xvfb_pid = x.xvfb.pid if x.xvfb is not None else None
        r["playing_cpu"], r["xvfb_cpu"] = [], []
        for _ in range(3):
            before_x = cpu_seconds(xvfb_pid) if xvfb_pid else 0.0
            t0 = time.monotonic()
            r["playing_cpu"].append(cpu_percent(proc.pid, args.cpu_seconds))
            if xvfb_pid:
                r["xvfb_cpu"].append(100 * (cpu_seconds(xvfb_pid) - before_x)
                                     / (time.monotonic() - t0))
        r["rss_playing_mb"] = rss_mb(proc.pid)
        r["peak_rss_mb"] = peak_rss_mb(proc.pid)
        r["screenshot"] = str(x.screenshot(home / "playing.png"))
        mpris(address, "Stop")
        wait_silent(rec)

        _, r["quit_s"] = app.second("--quit")
        r["exit_code"] = proc.wait(timeout=30)
    finally:
        app.stop()
    return r


# ----------------------------------------------------------------------------- photo in the orb


PHOTO_PERSON = "Ana"
PHOTO_PRACTICE = "safe-person"
PHOTO_RELATIONSHIP = "grandmother"
#: How much redder than green and blue a pixel must be to count as the photo's.
WARM = 15
#: A photo shown in the orb covers a few thousand pixels of the screenshot.
PHOTO_SEEN_PIXELS = 1000
MAIN_TITLE = "^Coreg$"  # tests/e2e/test_desktop.py


def photo_jpeg(path: Path) -> Path:
    """A photo-like JPEG: a warm, red-dominant portrait (a face-ish disc on a gradient, grain),
    1600x1200 like a phone's; warm because the orb never is (teal and lavender), so warm pixels on
    the screen are the photo (as red ones are in tests/e2e/test_safe_person_desktop.py)."""
    import numpy as np
    from PIL import Image

    h, w = 1200, 1600
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rng = np.random.default_rng(8)
    r = 200 + 40 * (xx / w) - 30 * (yy / h)
    g = 40 + 30 * (yy / h)
    b = 40 + 20 * (xx / w)
    face = ((xx - w / 2) ** 2 / (w / 4) ** 2 + (yy - h / 2.2) ** 2 / (h / 2.8) ** 2) < 1
    r, g, b = np.where(face, 245, r), np.where(face, 110, g), np.where(face, 90, b)
    rgb = np.stack([r, g, b], axis=-1) + rng.normal(0, 6, (h, w, 3))
    Image.fromarray(np.clip(rgb, 0, 255).astype("uint8"), "RGB").save(path, "JPEG", quality=88)
    return path


def photo_pixels(shot: Path) -> int:
    """Warm pixels (red above green and blue): the photo, washed toward the orb's light; the
    orb (teal and lavender), the window and the text have none."""
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return int(np.count_nonzero((r - g > WARM) & (r - b > WARM)))


def warm_photo_cache(x: XSession, env: dict[str, str], work: Path, cache: Path,
                     timeout: float) -> float:
    """One app run with Ana (no photo) until it rests, so the narration of every practice is in
    `cache` (as after a first start): the measured runs then play with nothing being prepared
    in the background. Returns how long that took."""
    app = CoregApp(work / "photo-warm", env, cache=cache)
    added, _ = app.second("safe-person", "add", PHOTO_PERSON, "--relationship",
                          PHOTO_RELATIONSHIP, timeout=60)
    if added.returncode != 0:
        raise RuntimeError(f"safe-person add failed: {added.stderr}")
    started = time.monotonic()
    try:
        proc = app.start("--minimized")
        app.wait_ready(timeout=900)
        wait_rested(app, 0, timeout=timeout)
        _, _ = app.second("--quit")
        proc.wait(timeout=30)
    finally:
        app.stop()
    return time.monotonic() - started


def measure_photo_case(with_photo: bool, args: argparse.Namespace, x: XSession,
                       env: dict[str, str], work: Path, cache: Path) -> dict[str, Any]:
    """A fresh user with Ana (a photo or none), the app in the tray, "A Safe Person" handed to
    it as a second launch would, and the CPU of the app while it plays with the orb visible."""
    kind = "photo" if with_photo else "no-photo"
    home = work / f"home-{kind}"
    app = CoregApp(home, env, cache=cache)
    cmd = ["safe-person", "add", PHOTO_PERSON, "--relationship", PHOTO_RELATIONSHIP]
    if with_photo:
        cmd += ["--photo", str(photo_jpeg(work / "ana.jpg"))]
    added, _ = app.second(*cmd, timeout=60)
    if added.returncode != 0:
        raise RuntimeError(f"safe-person add failed: {added.stderr}")
    r: dict[str, Any] = {"case": kind}
    doctor, _ = app.second("doctor", timeout=120)
    r["narration"] = next((line.strip() for line in doctor.stdout.splitlines()
                           if line.startswith("Narration:")), "Narration: (not said)")
    xvfb_pid = x.xvfb.pid if x.xvfb is not None else None
    try:
        proc = app.start("--minimized")
        if not xdesk.wait_until(lambda: x.tray_icon() is not None, 60):
            raise RuntimeError("no tray icon")
        app.wait_ready(timeout=300)
        time.sleep(5.0)  # the preparation's file checks (the cache is warm)
        handed, r["handover_s"] = app.second("--practice", PHOTO_PRACTICE)
        if handed.returncode != 0:
            raise RuntimeError(f"--practice {PHOTO_PRACTICE} failed: {handed.stderr}")
        if not xdesk.wait_until(lambda: x.visible_windows(MAIN_TITLE), 30):
            raise RuntimeError("the main window did not show")
        time.sleep(3.0)  # playing: the welcome, the orb breathing
        r["cpu"], r["xvfb_cpu"] = [], []
        for n in range(args.runs):
            before_x = cpu_seconds(xvfb_pid) if xvfb_pid else 0.0
            t0 = time.monotonic()
            r["cpu"].append(cpu_percent(proc.pid, args.cpu_seconds))
            if xvfb_pid:
                r["xvfb_cpu"].append(100 * (cpu_seconds(xvfb_pid) - before_x)
                                     / (time.monotonic() - t0))
            if n == 0:
                r["screenshot"] = str(x.screenshot(work / f"playing-{kind}.png"))
        if proc.poll() is not None:
            raise RuntimeError(f"Coreg exited with {proc.returncode}:\n{app.stderr()}")
        r["photo_pixels"] = photo_pixels(Path(r["screenshot"]))
        r["rss_mb"] = rss_mb(proc.pid)
        if "Traceback" in app.stderr():
            raise RuntimeError(f"Coreg raised:\n{app.stderr()[-3000:]}")
        _, _ = app.second("--quit")
        r["exit_code"] = proc.wait(timeout=30)
    finally:
        app.stop()
    return r


def measure_photo(args: argparse.Namespace, x: XSession, env: dict[str, str],
                  work: Path) -> dict[str, Any]:
    cache = work / "photo-cache"
    print("photo: preparing the narration once (a first start) ...", file=sys.stderr, flush=True)
    out: dict[str, Any] = {"warm_s": warm_photo_cache(x, env, work, cache,
                                                      args.prepare_timeout)}
    for with_photo in (True, False):
        print(f"photo: measuring {'with' if with_photo else 'without'} the photo ...",
              file=sys.stderr, flush=True)
        out["photo" if with_photo else "no_photo"] = measure_photo_case(
            with_photo, args, x, env, work, cache)
    a, b = Path(out["photo"]["screenshot"]), Path(out["no_photo"]["screenshot"])
    out["differing_pixels"] = x.differing_pixels(a, b, fuzz="5%")
    out["shown"] = (out["photo"]["photo_pixels"] > PHOTO_SEEN_PIXELS
                    and out["no_photo"]["photo_pixels"] == 0)
    return out


def report_photo(p: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"\n== photo in the orb: \"A Safe Person\" playing, main window shown, voice "
          f"en_US-joe-medium (default); {args.runs} windows of {args.cpu_seconds:g} s")
    print(f"  (a fresh user per case; the narration prepared beforehand in {p['warm_s']:.0f} s, "
          "shared, so nothing is being prepared while it plays)")
    photo, ref = p["photo"], p["no_photo"]
    for name, r in (("with the photo", photo), ("no photo (reference)", ref)):
        cpu = statistics.median(r["cpu"])
        target = f"  [{verdict(cpu, 10)}: <=10]" if r is photo else ""
        print(f"  CPU playing, {name:<24}{cpu:6.2f} %  (windows: "
              f"{', '.join(f'{c:.1f}' for c in r['cpu'])}){target}")
        if r["xvfb_cpu"]:
            xvfb = statistics.median(r["xvfb_cpu"])
            print(f"     X server drawing it (Xvfb)        {xvfb:6.2f} %"
                  f"  (windows: {', '.join(f'{c:.1f}' for c in r['xvfb_cpu'])})")
        print(f"     RSS {r['rss_mb']:.0f} MB; --practice handed over in "
              f"{r['handover_s'] * 1000:.0f} ms; exit code {r['exit_code']}; before the start, "
              f"doctor: {r['narration']}")
    print(f"  photo cost: {statistics.median(photo['cpu']) - statistics.median(ref['cpu']):+.2f} "
          "points of a core over the reference")
    shown = p["shown"]
    print(f"  screenshots while playing: the photo's (warm) pixels on screen "
          f"{photo['photo_pixels']} with the photo, {ref['photo_pixels']} without; "
          f"{p['differing_pixels']} pixels differ (fuzz 5 %) -> "
          f"{'the photo is visible' if shown else 'PHOTO NOT SEEN'}")
    print(f"     {photo['screenshot']}  |  {ref['screenshot']}")


# ----------------------------------------------------------------------------- memo import


MEMO_SECONDS = 180.0  # the longest memo Coreg takes (memo.MAX_SECONDS)
MEMO_TEXT = (
    "Hello love. It's me. I know today was hard, and I wanted you to hear my voice. "
    "Put your feet on the floor and take a slow breath with me. In, and out. "
    "You are not alone. I am thinking of you, and I am proud of you, always. "
    "When you are ready, have a cup of tea, and call me tomorrow if you like. "
)


#: What import-memo loads before it decodes (a fresh Python importing it, timed whole).
MEMO_IMPORTS = "import coreg_desktop.cli, coreg_desktop.safe_people, coreg_desktop.audio.memo"


def without_ffmpeg_path(work: Path) -> str:
    """PATH as a user without ffmpeg has it: each folder on it that holds ffmpeg or ffprobe is
    replaced by a folder of links to everything else in it."""
    parts = []
    for n, folder in enumerate(os.environ.get("PATH", "").split(os.pathsep)):
        d = Path(folder)
        if not any((d / tool).exists() for tool in ("ffmpeg", "ffprobe")):
            parts.append(folder)
            continue
        shadow = work / f"path{n}"
        shadow.mkdir(parents=True, exist_ok=True)
        for entry in d.iterdir():
            if entry.name not in ("ffmpeg", "ffprobe", "ffplay"):
                with contextlib.suppress(OSError):
                    (shadow / entry.name).symlink_to(entry)
        parts.append(str(shadow))
    path = os.pathsep.join(parts)
    for tool in ("ffmpeg", "ffprobe"):
        if shutil.which(tool, path=path) is not None:
            raise RuntimeError(f"could not hide {tool} from PATH")
    return path


def speech_like(work: Path, rate: int = 44_100) -> tuple[Any, str]:
    """MEMO_SECONDS of mono float32 at `rate` that sounds like someone talking: espeak-ng reading
    MEMO_TEXT, looped, over a quiet room; a syllable-paced harmonic tone if espeak-ng is missing.
    Half a second of room noise at each end, as a phone's memo has."""
    import wave

    import numpy as np

    rng = np.random.default_rng(3)
    body = MEMO_SECONDS - 1.0
    if shutil.which("espeak-ng") is not None:
        wav = work / "espeak.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), MEMO_TEXT],
                       check=True, capture_output=True, timeout=60)
        with wave.open(str(wav)) as w:
            src_rate = w.getframerate()
            speech = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
        t = np.arange(int(len(speech) * rate / src_rate)) / rate
        speech = np.interp(t, np.arange(len(speech)) / src_rate, speech).astype(np.float32)
        what = "espeak-ng reading a paragraph, looped"
    else:
        from tests.memo_inputs import voice_like
        speech = voice_like(10.0, rate=rate)
        what = "a syllable-paced harmonic tone (no espeak-ng)"
    reps = int(np.ceil(body * rate / len(speech)))
    voice = np.tile(speech, reps)[: int(body * rate)]
    voice = voice / max(1e-9, float(np.max(np.abs(voice)))) * 10 ** (-6 / 20)
    edge = np.zeros(int(0.5 * rate), np.float32)
    audio = np.concatenate([edge, voice, edge])
    audio = audio + rng.normal(0, 10 ** (-68 / 20), len(audio))  # a quiet room
    return audio.astype(np.float32), what + " + room noise at -68 dBFS"


def memo_mp3(work: Path) -> tuple[Path, str]:
    """The 3-minute memo as a phone's mp3: stereo 44.1 kHz, 128 kb/s, by the bundled ffmpeg."""
    from coreg_desktop.audio.decode import ffmpeg_exe
    from tests.memo_inputs import write_wav

    audio, what = speech_like(work)
    wav = write_wav(work / "memo-src.wav", audio, 44_100, channels=2)
    mp3 = work / "a message from Ana.mp3"
    subprocess.run([ffmpeg_exe(), "-y", "-nostdin", "-hide_banner", "-loglevel", "error",
                    "-i", str(wav), "-c:a", "libmp3lame", "-b:a", "128k", str(mp3)],
                   check=True, capture_output=True, timeout=120)
    wav.unlink()
    return mp3, what


def cli_command() -> list[str]:
    """`coreg-desktop`, the installed command next to this Python if there is one."""
    script = Path(sys.executable).parent / "coreg-desktop"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "coreg_desktop"]


def measure_memo(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from coreg_desktop.audio import memo
    from coreg_desktop.audio.decode import decode, ffmpeg_exe

    mp3, what = memo_mp3(work)
    r: dict[str, Any] = {"file": str(mp3), "bytes": mp3.stat().st_size, "what": what,
                         "command": " ".join([*cli_command(), "safe-person", "import-memo",
                                              "FILE", "--person", PHOTO_PERSON])}
    path = without_ffmpeg_path(work / "no-ffmpeg")
    base = {k: v for k, v in os.environ.items() if k != "IMAGEIO_FFMPEG_EXE"}
    r["import"], r["list"], r["modules"], r["stored_s"], r["stored_bytes"] = [], [], [], [], []
    for n in range(args.runs):
        home = work / f"memo-home{n}"
        env = {**base, "PATH": path, "PYTHONPATH": str(ROOT), **{
            f"XDG_{d.upper()}_HOME": str(home / d) for d in ("config", "data", "state", "cache")}}
        added = subprocess.run([*cli_command(), "safe-person", "add", PHOTO_PERSON], env=env,
                               capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)
        if added.returncode != 0:
            raise RuntimeError(f"safe-person add failed: {added.stderr}")
        t0 = time.perf_counter()
        done = subprocess.run([*cli_command(), "safe-person", "import-memo", str(mp3),
                               "--person", PHOTO_PERSON], env=env, capture_output=True,
                              text=True, timeout=120, check=False, cwd=ROOT)
        r["import"].append(time.perf_counter() - t0)
        if done.returncode != 0 or "Added the memo" not in done.stdout:
            raise RuntimeError(f"import-memo failed ({done.returncode}): {done.stderr}")
        r["said"] = done.stdout.strip()
        t0 = time.perf_counter()
        listed = subprocess.run([*cli_command(), "safe-person", "list", "--json"], env=env,
                                capture_output=True, text=True, timeout=60, check=True, cwd=ROOT)
        r["list"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", MEMO_IMPORTS], env=env, capture_output=True,
                       timeout=60, check=True, cwd=ROOT)
        r["modules"].append(time.perf_counter() - t0)
        stored = json.loads(listed.stdout)[0]["memos"][0]
        r["stored_s"].append(stored["seconds"])
        folder = home / "data" / "coreg-desktop" / "safe-people"
        r["stored_bytes"].append(sum(f.stat().st_size for f in folder.rglob("*.flac")))
    # The steps alone, in this process (the bundled ffmpeg, as the command uses it).
    r["decode"], r["clean"], r["encode"] = [], [], []
    r["ffmpeg"] = ffmpeg_exe()
    for _ in range(args.runs):
        t0 = time.perf_counter()
        decoded = decode(mp3, memo.DECODE_SECONDS)
        t1 = time.perf_counter()
        prepared = memo.prepare_audio(decoded.audio, str(mp3), decoded.capped)
        t2 = time.perf_counter()
        memo.encode_flac(prepared.audio, work / "memo-out.flac")
        t3 = time.perf_counter()
        r["decode"].append(t1 - t0)
        r["clean"].append(t2 - t1)
        r["encode"].append(t3 - t2)
    r["decoded_s"] = len(decoded.audio) / memo.SAMPLE_RATE
    return r


def report_memo(m: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"\n== memo import: a 3-minute mp3 ({m['bytes'] / 1e6:.2f} MB, {m['bytes']} bytes; "
          f"stereo 44.1 kHz 128 kb/s; {m['what']}); {args.runs} runs")
    print("  a fresh user each run, system ffmpeg/ffprobe hidden from PATH; the bundled one: "
          f"{m['ffmpeg']}")
    print(f"  {m['command']}")
    rows = (
        ("import-memo, the whole command (fresh process)", "import"),
        ("   the same CLI starting (safe-person list)", "list"),
        ("   a fresh Python importing its modules", "modules"),
        ("   steps alone: decode (ffmpeg -> float32)", "decode"),
        ("                trim + loudness", "clean"),
        ("                FLAC encode + write", "encode"),
    )
    for label, key in rows:
        print(f"  {label:<48}{fmt_ms(m[key])}")
    print(f"  kept: {statistics.median(m['stored_s']):.1f} s of {m['decoded_s']:.1f} s decoded, "
          f"{statistics.median(m['stored_bytes']) / 1e6:.2f} MB FLAC; it said: {m['said']}")


# ----------------------------------------------------------------------------- report


def report(results: list[dict[str, Any]], refs: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"\nCoreg desktop bench ({args.runs} runs, {args.rest_runs} from rest; CPU over "
          f"{args.cpu_seconds:g} s windows, % of one core; {os.cpu_count()} cores; Xvfb "
          "software rendering)")
    for r in results:
        v = r["voice"]
        print(f"\n== voice {v}")
        print(f"  start-up: tray icon after {r['icon_s']:.1f} s; quick reset prepared after "
              f"{r['ready_s']:.1f} s; rested after {r['rested_after_s']:.0f} s "
              f"(the preparation ended about {REST_AFTER_S:.0f} s before; fresh narration cache)")
        click = statistics.median(r["click"]) * 1000
        print(f"  tray click -> first audible sample   {fmt_ms(r['click'])}  "
              f"[{verdict(click, 150, 600)}: <=150, max 600]  (quick reset prepared, the "
              "others being prepared)")
        print(f"     clicked again right after a Stop  {fmt_ms(r['click_again'])}")
        second = statistics.median(r["second"]) * 1000
        print(f"  2nd launch --quick-reset -> sound    {fmt_ms(r['second'])}  "
              f"[{verdict(second, 400)}: <=400]  (stream in standby)")
        print(f"     of which the 2nd process ran      {fmt_ms(r['handover'])}")
        rest = statistics.median(r["rss_rest_mb"])
        print(f"  RSS at rest in the tray              {fmt_mb(r['rss_rest_mb'])}  "
              f"[{verdict(rest, 150)}: <=150]")
        print("     log: " + "; ".join(f"Resting: {a} MB -> {b} MB" for a, b in r["resting_log"]))
        click_rest = statistics.median(r["click_rest"]) * 1000
        second_rest = statistics.median(r["second_rest"]) * 1000
        print(f"  from rest: tray click -> sound       {fmt_ms(r['click_rest'])}  "
              f"[{verdict(click_rest, 150)}: <=150]")
        print(f"  from rest: --quick-reset -> sound    {fmt_ms(r['second_rest'])}  "
              f"[{verdict(second_rest, 400)}: <=400]")
        idle = statistics.median(r["idle_cpu"])
        print(f"  CPU at rest in the tray              {idle:6.2f} %  (windows: "
              f"{', '.join(f'{c:.2f}' for c in r['idle_cpu'])})  [{verdict(idle, 0.5)}: <=0.5]")
        playing = statistics.median(r["playing_cpu"])
        print(f"  CPU playing, orb visible             {playing:6.2f} %  (windows: "
              f"{', '.join(f'{c:.1f}' for c in r['playing_cpu'])})  [{verdict(playing, 10)}: "
              "<=10]")
        if r["xvfb_cpu"]:
            xvfb = statistics.median(r["xvfb_cpu"])
            print(f"     X server drawing it (Xvfb)        {xvfb:6.2f} %")
        print(f"  RSS: voice loaded (ready) {r['rss_ready_mb']:.0f} MB; peak {r['peak_rss_mb']:.0f}"
              f" MB; playing {r['rss_playing_mb']:.0f} MB; at rest {rest:.0f} MB")
        print(f"     synthesis processes: {r['synth_ready_mb']:.0f} MB while preparing; left "
              f"running at rest: {', '.join(map(str, r['synth_rest']))}")
        rollup = r["rollup"]
        print("  at rest, /proc/<pid>/smaps_rollup: " + ", ".join(
            f"{k} {rollup[k]:.0f}" for k in ("Rss", "Anonymous", "Pss_File", "Private_Dirty")
            if k in rollup) + " MB")
        print("  at rest, biggest resident mappings: " + ", ".join(
            f"{name} {mb:.1f}" for name, mb in r["holders"]) + " (MB)")
        if r["doctor_preparing"]:
            print(f"  doctor at rest: {' | '.join(r['doctor_preparing'])}")
        print(f"  --quit: handed over in {r['quit_s'] * 1000:.0f} ms, app exit code "
              f"{r['exit_code']}; screenshot while playing: {r['screenshot']}")
    print(f"\n  reference: open stream -> tone (floor) {fmt_ms(refs['floor'])}")
    print("     (same block and latency as Coreg: what any sound takes to be recorded here)")
    print(f"  reference: that open stream, silent  {refs['floor_idle']:6.2f} %  (what Coreg "
          "would spend idle without standby)")
    print(f"  reference: mpv playing the same audio {refs['mpv_cpu']:5.2f} %  "
          f"(RSS {refs['mpv_rss']:.0f} MB)")
    if len(results) > 1:
        print("\n  side by side (medians)      " + "".join(f"{r['voice']:>20}" for r in results))
        rows = (
            ("tray click, prepared (ms)", lambda r: statistics.median(r["click"]) * 1000),
            ("--quick-reset, standby (ms)", lambda r: statistics.median(r["second"]) * 1000),
            ("tray click from rest (ms)", lambda r: statistics.median(r["click_rest"]) * 1000),
            ("--quick-reset from rest (ms)", lambda r: statistics.median(r["second_rest"]) * 1000),
            ("RSS voice loaded (MB)", lambda r: r["rss_ready_mb"]),
            ("RSS peak (MB)", lambda r: r["peak_rss_mb"]),
            ("RSS playing (MB)", lambda r: r["rss_playing_mb"]),
            ("RSS at rest (MB)", lambda r: statistics.median(r["rss_rest_mb"])),
            ("rested after (s)", lambda r: r["rested_after_s"]),
        )
        for name, get in rows:
            print(f"  {name:<28}" + "".join(f"{get(r):>20.0f}" for r in results))


def measure_voices(voices: list[str], args: argparse.Namespace, x: XSession, rec: Recorder,
                   env: dict[str, str], address: str,
                   work: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Each voice (measure_voice), then the references: the floor and mpv."""
    results: list[dict[str, Any]] = []
    refs: dict[str, Any] = {}
    model_dir = joined_model(work) if any(v.startswith("kokoro:") for v in voices) else None
    for n, voice in enumerate(voices):
        print(f"measuring {voice} ...", file=sys.stderr, flush=True)
        results.append(measure_voice(
            voice, args, x, rec, env, address, work / f"home{n}",
            model_dir if voice.startswith("kokoro:") else None,
        ))

    # ------------------------------------------------------------ reference: floor
    refs["floor"], refs["floor_idle"] = floor_latency(rec, env, args.runs, args.cpu_seconds)

    # ------------------------------------------------------------ reference: mpv
    wav = work / "quick-reset.wav"
    home = work / "home0"  # a prepared home: the render comes from its narration cache
    app_env = {**env, **{f"XDG_{d.upper()}_HOME": str(home / d)
                         for d in ("config", "data", "state", "cache")}}
    subprocess.run([sys.executable, "-m", "coreg_desktop", "render", "quick-reset", "-o",
                    str(wav)], env=app_env, capture_output=True, timeout=300, check=True,
                   cwd=ROOT)
    mpv = subprocess.Popen(["mpv", "--no-video", "--no-terminal", "--ao=pulse", str(wav)],
                           env=app_env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2.0)
    refs["mpv_cpu"] = cpu_percent(mpv.pid, args.cpu_seconds)
    refs["mpv_rss"] = rss_mb(mpv.pid)
    mpv.send_signal(signal.SIGTERM)
    mpv.wait(timeout=10)
    return results, refs


# ----------------------------------------------------------------------------- progress, reminders

#: Run in a fresh Python: 2,000 sessions made through the real History, then the Progress page
#: opened as a click on "Progress" opens it (built and read the first time, read again later),
#: painted on the screen. The first open includes importing pyqtgraph, unless the window had
#: already preloaded it (it does, 1.5 s after it first shows).
PROGRESS_CHILD = r"""
import json, statistics, sys, tempfile, time
from datetime import date
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication([])
from coreg_desktop.history import History
from coreg_desktop.settings import Settings
from coreg_desktop.ui.theme import apply_theme
from tests.history_gen import fill
apply_theme(app, dark=False, follow=False)
work = Path(tempfile.mkdtemp())
history = History(work / "history.sqlite3")
fill(history, 2000, 52, date.today())
settings = Settings(path=work / "settings.json")
preload = sys.argv[1] == "preloaded"
built = 0.0
if preload:  # what the window does 1.5 s after it first shows: import, then build (hidden)
    import pyqtgraph  # noqa: F401
    t0 = time.perf_counter()
    from coreg_desktop.ui.progress_view import ProgressView
    view = ProgressView(lambda: history, settings)
    built = (time.perf_counter() - t0) * 1000
t0 = time.perf_counter()
if not preload:
    from coreg_desktop.ui.progress_view import ProgressView
    view = ProgressView(lambda: history, settings)
view.resize(860, 1400)
view.refresh()
view.show()
app.processEvents()
view.repaint()
first = (time.perf_counter() - t0) * 1000
again = []
for _ in range(int(sys.argv[2])):
    t0 = time.perf_counter()
    view.refresh()
    view.repaint()
    app.processEvents()
    again.append((time.perf_counter() - t0) * 1000)
print(json.dumps({"first_ms": first, "again_ms": again, "built_ms": built,
                  "sessions": len(history.sessions())}))
"""


def measure_progress(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    """Opening the Progress page with 2,000 sessions (target <= 300 ms), in fresh processes."""
    out: dict[str, Any] = {"cold": [], "preloaded": [], "again": [], "built": []}
    for _ in range(args.runs):
        for kind in ("cold", "preloaded"):
            done = subprocess.run([sys.executable, "-c", PROGRESS_CHILD, kind, "5"], env=env,
                                  cwd=ROOT, capture_output=True, text=True, timeout=600,
                                  check=False)
            if done.returncode != 0:
                raise RuntimeError(f"the progress child failed:\n{done.stderr[-3000:]}")
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            out[kind].append(figures["first_ms"])
            out["again"].extend(figures["again_ms"])
            if kind == "preloaded":
                out["built"].append(figures["built_ms"])
            out["sessions"] = figures["sessions"]
    return out


def report_progress(p: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"\n== Progress page with {p['sessions']} sessions (Xvfb, light theme; {args.runs} "
          "fresh processes each)")
    first = statistics.median(p["preloaded"])
    print(f"  first open, page prebuilt (as in the app)     {first:6.0f} ms  (runs: "
          f"{', '.join(f'{v:.0f}' for v in p['preloaded'])})  [{verdict(first, 300)}: <=300]")
    built = statistics.median(p["built"])
    print(f"     building it beforehand (hidden, once)     {built:6.0f} ms  (the window does it "
          "1.5 s after it first shows)")
    cold = statistics.median(p["cold"])
    print(f"  first open, nothing loaded beforehand         {cold:6.0f} ms  (runs: "
          f"{', '.join(f'{v:.0f}' for v in p['cold'])})")
    again = statistics.median(p["again"])
    print(f"  opened again (read and drawn afresh)          {again:6.0f} ms  [{verdict(again, 300)}"
          ": <=300]")


def measure_reminders(args: argparse.Namespace, x: XSession, env: dict[str, str],
                      work: Path) -> dict[str, Any]:
    """The app in the tray with reminders enabled (the next one hours away), narration already
    prepared: its CPU once the stream is in standby, beside the same without reminders."""
    cache = work / "photo-cache"
    out: dict[str, Any] = {}
    if not (cache / "coreg-desktop").exists():
        print("reminders: preparing the narration once ...", file=sys.stderr, flush=True)
        out["warm_s"] = warm_photo_cache(x, env, work, cache, args.prepare_timeout)
    later = time.localtime(time.time() + 3 * 3600)
    for enabled in (True, False):
        app = CoregApp(work / f"home-reminders-{enabled}", env, cache=cache)
        for key, value in (("reminders.enabled", "true" if enabled else "false"),
                           ("reminders.times", f"{later.tm_hour:02d}:{later.tm_min:02d}")):
            done, _ = app.second("config", "set", key, value)
            if done.returncode != 0:
                raise RuntimeError(f"config set {key} failed: {done.stderr}")
        try:
            proc = app.start("--minimized")
            if not xdesk.wait_until(lambda: x.tray_icon() is not None, 60):
                raise RuntimeError("no tray icon")
            app.wait_ready(timeout=300)
            time.sleep(STANDBY_AFTER_S + 8.0)  # the stream in standby, the file checks done
            cpu = [cpu_percent(proc.pid, args.cpu_seconds) for _ in range(args.runs)]
            out["with" if enabled else "without"] = cpu
            if enabled and "next gentle reminder at" not in app.log():
                raise RuntimeError("the reminder was not scheduled:\n" + app.log()[-2000:])
            _, _ = app.second("--quit")
            proc.wait(timeout=30)
        finally:
            app.stop()
    return out


def report_reminders(r: dict[str, Any], args: argparse.Namespace) -> None:
    cpu = statistics.median(r["with"])
    ref = statistics.median(r["without"])
    print(f"\n== idle in the tray with gentle reminders on ({args.runs} windows of "
          f"{args.cpu_seconds:g} s, % of one core; the next reminder hours away)")
    print(f"  CPU, reminders on                   {cpu:6.2f} %  (windows: "
          f"{', '.join(f'{c:.2f}' for c in r['with'])})  [{verdict(cpu, 0.5)}: <=0.5]")
    print(f"  CPU, reminders off (reference)      {ref:6.2f} %  (windows: "
          f"{', '.join(f'{c:.2f}' for c in r['without'])})")


SECTIONS = ("voices", "photo", "memo", "progress", "reminders")


def sections(text: str) -> list[str]:
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in SECTIONS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"choose from {', '.join(SECTIONS)} (comma-separated), not {text!r}")
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", type=sections, default=list(SECTIONS), metavar="SECTIONS",
                        help="comma-separated: voices (each voice, with the references), photo "
                             "(CPU with the photo in the orb), memo (importing a 3-minute mp3), "
                             "progress (opening the Progress page with 2,000 sessions), "
                             "reminders (idle CPU in the tray with reminders on); "
                             "default: all of them")
    parser.add_argument("--runs", type=int, default=5,
                        help="repeats of each latency; photo: CPU windows; memo: imports")
    parser.add_argument("--rest-runs", type=int, default=3,
                        help="clicks and --quick-resets from rest (each waits for a new rest)")
    parser.add_argument("--cpu-seconds", type=float, default=10.0)
    parser.add_argument("--voices", default=",".join(DEFAULT_VOICES))
    parser.add_argument("--prepare-timeout", type=float, default=2400.0,
                        help="how long the background preparation and first rest may take")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args()
    desktop = {"voices", "photo", "reminders", "progress"} & set(args.only)
    for reason in (missing_requirements(), xdesk.missing_requirements()) if desktop else ():
        if reason:
            print(f"cannot run: {reason}", file=sys.stderr)
            return 2
    if desktop and (shutil.which("dbus-daemon") is None or shutil.which("dbus-send") is None):
        print("cannot run: needs dbus-daemon and dbus-send (apt-get install dbus)", file=sys.stderr)
        return 2
    voices = [v.strip() for v in args.voices.split(",") if v.strip()]
    compile_bytecode()
    load = os.getloadavg()

    work = Path(tempfile.mkdtemp(prefix="coreg-bench-desktop-"))
    results: list[dict[str, Any]] = []
    refs: dict[str, Any] = {}
    photo: dict[str, Any] | None = None
    memo: dict[str, Any] | None = None
    progress: dict[str, Any] | None = None
    reminders: dict[str, Any] | None = None
    if "memo" in args.only:  # no desktop needed: a command in a terminal
        print("memo: making a 3-minute mp3 and importing it ...", file=sys.stderr, flush=True)
        memo = measure_memo(args, work)
    if desktop:
        root = Path(tempfile.mkdtemp(prefix="coreg-pa-"))  # short: unix socket paths
        server = PulseServer(root)
        x = XSession()
        address, bus_pid = dbus_daemon()
        rec: Recorder | None = None
        try:
            server.start()
            x.start()
            rec = Recorder(server, work / "monitor.raw")
            rec.start()
            env = {**server.env, **x.env, "DBUS_SESSION_BUS_ADDRESS": address,
                   "PYTHONPATH": str(ROOT)}
            if "voices" in args.only:
                results, refs = measure_voices(voices, args, x, rec, env, address, work)
            if "photo" in args.only:
                photo = measure_photo(args, x, env, work)
            if "progress" in args.only:
                print("progress: 2,000 sessions, opening the page ...", file=sys.stderr,
                      flush=True)
                progress = measure_progress(args, env)
            if "reminders" in args.only:
                print("reminders: idle CPU in the tray ...", file=sys.stderr, flush=True)
                reminders = measure_reminders(args, x, env, work)
        finally:
            if rec is not None:
                rec.stop()
            x.stop()
            server.stop()
            os.kill(bus_pid, signal.SIGTERM)
            shutil.rmtree(root, ignore_errors=True)
    after = os.getloadavg()

    print(f"\nCoreg desktop bench ({', '.join(args.only)}; {os.cpu_count()} cores; load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start, {after[0]:.2f} {after[1]:.2f} "
          f"{after[2]:.2f} at the end)")
    if results:
        report(results, refs, args)
    if photo is not None:
        report_photo(photo, args)
    if memo is not None:
        report_memo(memo, args)
    if progress is not None:
        report_progress(progress, args)
    if reminders is not None:
        report_reminders(reminders, args)
    if args.json is not None:
        args.json.write_text(json.dumps({"voices": results, "references": refs, "photo": photo,
                                         "memo": memo, "progress": progress,
                                         "reminders": reminders, "load": [load, after]},
                                        indent=1))
    return 1 if photo is not None and not photo["shown"] else 0


if __name__ == "__main__":
    sys.exit(main())
