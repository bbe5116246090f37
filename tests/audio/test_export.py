"""Export: every format really encoded by the shipped ffmpeg, read back, tagged, and atomic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop.audio import export
from coreg_desktop.constants import SAMPLE_RATE
from coreg_desktop.terminal_progress import ProgressBar

SECONDS = 3.0


def tone(seconds: float = SECONDS, level: float = 0.25) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    mono = (level * np.sin(2 * np.pi * 330.0 * t)).astype(np.float32)
    return np.stack([mono, mono], axis=1)


def ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def decode(path: Path) -> np.ndarray:
    """The file as a player hears it: decoded by ffmpeg to 48 kHz stereo float."""
    done = subprocess.run(
        [ffmpeg(), "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "2", "-ar",
         str(SAMPLE_RATE), "-"], capture_output=True, check=True, timeout=60)
    return np.frombuffer(done.stdout, dtype="<f4").reshape(-1, 2)


def tags(path: Path) -> dict[str, str]:
    """Container and stream tags (Ogg and Opus keep theirs on the stream), read back with ffmpeg
    (ffprobe is not in the wheel)."""
    found: dict[str, str] = {}
    for where in ("0", "0:s:a:0"):
        done = subprocess.run([ffmpeg(), "-v", "error", "-i", str(path), "-map_metadata", where,
                               "-f", "ffmetadata", "-"],
                              capture_output=True, text=True, check=True, timeout=60)
        for line in done.stdout.splitlines():
            key, sep, value = line.partition("=")
            if sep and not line.startswith(";"):
                found.setdefault(key.lower(), value)
    return found


@pytest.mark.parametrize("extension", sorted(export.FORMATS))
def test_every_format_is_written_whole_tagged_and_at_the_same_level(
    tmp_path: Path, extension: str
) -> None:
    audio = tone()
    path = tmp_path / f"quick-reset{extension}"
    fmt = export.export(path, audio, title="Quick Reset", comment="Voice: piper: joe")
    assert fmt.extension == extension
    heard = decode(path)
    # Encoders pad a little (priming, frame size), never more than a tenth of a second.
    assert abs(len(heard) / SAMPLE_RATE - SECONDS) < 0.1, len(heard) / SAMPLE_RATE
    rms_in = float(np.sqrt(np.mean(audio**2)))
    middle = heard[SAMPLE_RATE // 2 : -SAMPLE_RATE // 2]
    rms_out = float(np.sqrt(np.mean(middle**2)))
    assert abs(20 * np.log10(rms_out / rms_in)) < 0.5, (rms_in, rms_out)
    if extension != ".wav":
        found = tags(path)
        assert found.get("title") == "Quick Reset", found
        assert found.get("artist") == "Coreg" and found.get("album") == "Coreg practices", found
        assert "piper: joe" in found.get("comment", ""), found
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_quality_changes_the_bitrate_and_a_bad_one_is_one_line(tmp_path: Path) -> None:
    noise = np.random.default_rng(1).uniform(-0.3, 0.3, (SAMPLE_RATE * 4, 2)).astype(np.float32)
    sizes = {}
    for quality in ("low", "high", "64k"):
        path = tmp_path / f"{quality}.mp3"
        export.export(path, noise, title="t", quality=quality)
        sizes[quality] = path.stat().st_size
    assert sizes["64k"] < sizes["low"] < sizes["high"], sizes
    for bad in ("super", "5", "1000k"):
        with pytest.raises(export.ExportError) as caught:
            export.export(tmp_path / "x.mp3", noise, title="t", quality=bad)
        assert "\n" not in str(caught.value) and f'"{bad}"' in str(caught.value)


def test_an_unknown_extension_names_the_file_and_the_formats(tmp_path: Path) -> None:
    with pytest.raises(export.ExportError) as caught:
        export.export(tmp_path / "a.aiff", tone(), title="t")
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'a.aiff'}: ") and ".mp3" in message
    assert not any(tmp_path.iterdir())


FULL_DISK = """
import resource, signal, sys
from pathlib import Path
import numpy as np
from coreg_desktop.audio import export
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
audio = np.zeros((48000 * 30, 2), dtype=np.float32)
resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
try:
    export.export(Path(sys.argv[1]), audio, title="t")
except export.ExportError as exc:
    print(exc)
    sys.exit(2)
"""


@pytest.mark.parametrize("extension", [".wav", ".flac"])
def test_a_full_disk_is_one_line_and_leaves_no_partial_file(
    tmp_path: Path, extension: str
) -> None:
    """A disk that fills up mid-write, as far as one process can make it so (a file size limit:
    the test cannot own a real full disk)."""
    out = tmp_path / "out"
    out.mkdir()
    target = out / f"long{extension}"
    done = subprocess.run([sys.executable, "-c", FULL_DISK, str(target)], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert done.returncode == 2, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{target}: "), done.stdout
    assert "Traceback" not in done.stderr
    assert not any(out.iterdir()), list(out.iterdir())


def test_the_render_reports_its_progress_in_order_and_can_be_cancelled(tmp_path: Path) -> None:
    from coreg_desktop.core import Core
    from coreg_desktop.settings import Settings

    core = Core(Settings.load())
    seen: list[float] = []
    core.render("quick-reset", "none", progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert seen == sorted(seen) and len(seen) > 5

    class Cancelled(Exception):
        pass

    def cancel(fraction: float) -> None:
        if fraction > 0.2:
            raise Cancelled

    with pytest.raises(Cancelled):
        core.render("quick-reset", "none", progress=cancel)


class FakeTerminal:
    """A stream that says it is a terminal: the one thing a test cannot own here."""

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.text = ""

    def isatty(self) -> bool:
        return self.tty

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


def test_the_progress_bar_draws_only_on_a_terminal_and_clears_itself() -> None:
    term = FakeTerminal(tty=True)
    bar = ProgressBar("Stay Safe: making it", term, delay_s=0.0)  # type: ignore[arg-type]
    bar.update(0.5)
    assert "[##############--------------]  50%  Stay Safe: making it" in term.text
    bar.close()
    assert term.text.endswith("\r\033[K")
    pipe = FakeTerminal(tty=False)
    quiet = ProgressBar("x", pipe, delay_s=0.0)  # type: ignore[arg-type]
    quiet.update(0.5)
    quiet.close()
    assert pipe.text == ""


def test_render_to_mp3_from_the_terminal_plays_in_mpv_with_its_tags(tmp_path: Path) -> None:
    out = tmp_path / "quick reset.mp3"
    done = subprocess.run([sys.executable, "-m", "coreg_desktop", "render", "quick-reset", "-o",
                           str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Wrote {out} (1:")
    found = tags(out)
    assert found["title"] == "Quick Reset" and "Voice: piper: en_US-joe-medium" in found["comment"]
    heard = decode(out)
    assert 60 < len(heard) / SAMPLE_RATE < 120
    assert 0.05 < float(np.abs(heard).max()) < 1.0
    probe = subprocess.run(["mpv", "--no-config", "--ao=null", "--vo=null", "--length=1",
                            "--msg-level=all=error", str(out)], capture_output=True, text=True,
                           timeout=60)
    assert probe.returncode == 0, probe.stderr
    listing = json.dumps(found)
    assert "Coreg practices" in listing
