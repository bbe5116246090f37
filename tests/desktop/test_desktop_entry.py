"""The launcher entry, icons and autostart file: written where desktops look, valid, removable."""

from __future__ import annotations

import os
import shutil
import struct
import sys
from pathlib import Path
from xml.dom import minidom

import pytest

from coreg_desktop.cli import main
from coreg_desktop.desktop import autostart, desktop_entry

REPO = Path(__file__).resolve().parents[2]
COMMAND = ["/opt/coreg venv/bin/coreg-desktop"]


def read_entry(path: Path) -> dict[str, dict[str, str]]:
    """A .desktop file as {group: {key: value}} (the format is simple enough to parse here)."""
    groups: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("["):
            current = groups.setdefault(line.strip("[]"), {})
            continue
        assert current is not None, f"key outside a group: {line!r}"
        key, _, value = line.partition("=")
        assert key not in current, f"{key} repeated in {path}"
        current[key] = value
    return groups


def split_exec(value: str) -> list[str]:
    """Undo the Desktop Entry spec's Exec quoting (string unescaping, then argument quoting)."""
    value = value.replace("\\\\", "\\")
    args: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == " ":
            i += 1
            continue
        arg = ""
        if value[i] == '"':
            i += 1
            while value[i] != '"':
                if value[i] == "\\":
                    i += 1
                arg += value[i]
                i += 1
            i += 1
        else:
            while i < len(value) and value[i] != " ":
                arg += value[i]
                i += 1
        args.append(arg.replace("%%", "%"))
    return args


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def validate_or_skip(path: Path) -> None:
    if shutil.which("desktop-file-validate") is None:
        pytest.skip("desktop-file-validate is not installed (apt-get install desktop-file-utils)")
    assert desktop_entry.validate(path) is None


# ----------------------------------------------------------------------------- entry


def test_install_writes_a_valid_entry_with_a_quick_reset_action(tmp_path: Path) -> None:
    report = desktop_entry.install(tmp_path, COMMAND)
    entry = tmp_path / "applications" / "coreg-desktop.desktop"
    assert entry in report.written
    groups = read_entry(entry)
    main_group = groups["Desktop Entry"]
    assert main_group["Type"] == "Application"
    assert main_group["Name"] == "Coreg"
    assert main_group["Icon"] == "coreg-desktop"
    assert split_exec(main_group["Exec"]) == COMMAND
    assert main_group["Actions"].rstrip(";").split(";") == ["QuickReset"]
    action = groups["Desktop Action QuickReset"]
    assert action["Name"] == "Quick reset"
    assert split_exec(action["Exec"]) == [*COMMAND, "--quick-reset"]
    validate_or_skip(entry)
    assert report.problems is None


def test_install_puts_the_svg_and_rendered_pngs_in_hicolor(tmp_path: Path) -> None:
    desktop_entry.install(tmp_path, COMMAND)
    theme = tmp_path / "icons" / "hicolor"
    svg = theme / "scalable" / "apps" / "coreg-desktop.svg"
    assert svg.read_bytes() == (REPO / "assets" / "coreg-desktop.svg").read_bytes()
    for size in desktop_entry.PNG_SIZES:
        png = theme / f"{size}x{size}" / "apps" / "coreg-desktop.png"
        assert png_size(png) == (size, size)
    # Not an empty image: the orb's pixels are there (a blank 256 px PNG compresses to ~1 KB).
    assert (theme / "256x256" / "apps" / "coreg-desktop.png").stat().st_size > 5000


def test_uninstall_removes_what_install_wrote_and_nothing_else(tmp_path: Path) -> None:
    neighbour = tmp_path / "applications" / "someone-else.desktop"
    neighbour.parent.mkdir(parents=True)
    neighbour.write_text("[Desktop Entry]\n")
    written = desktop_entry.install(tmp_path, COMMAND).written
    removed = desktop_entry.uninstall(tmp_path).removed
    assert sorted(removed) == sorted(written)
    assert not any(p.exists() for p in written)
    assert neighbour.exists()
    assert desktop_entry.uninstall(tmp_path).removed == []  # twice is fine


@pytest.mark.parametrize(
    "arg",
    ["/opt/coreg venv/bin/coreg-desktop", "/home/ann/100%/coreg", '/tmp/we"ird $dir\\x/`c`',
     "plain"],
)
def test_exec_quoting_round_trips_and_validates(arg: str, tmp_path: Path) -> None:
    line = desktop_entry.exec_line([arg, "--minimized"])
    assert split_exec(line) == [arg, "--minimized"]
    desktop_entry.install(tmp_path, [arg])
    validate_or_skip(desktop_entry.entry_path(tmp_path))


def test_launch_command_is_the_running_script(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "bin" / "coreg-desktop"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setattr(sys, "argv", [str(script)])
    assert desktop_entry.launch_command() == [str(script)]
    # Started as `python -m coreg_desktop` from a Python with no script beside it, off PATH:
    python = tmp_path / "py" / "python3"
    python.parent.mkdir()
    monkeypatch.setattr(sys, "argv", ["/somewhere/coreg_desktop/__main__.py"])
    monkeypatch.setattr(sys, "executable", str(python))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert desktop_entry.launch_command() == [str(python), "-m", "coreg_desktop"]


def test_default_locations_follow_xdg_data_home(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert desktop_entry.entry_path() == tmp_path / "data/applications/coreg-desktop.desktop"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/is/invalid")
    assert desktop_entry.data_home() == Path.home() / ".local/share"


def test_cli_installs_and_uninstalls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "xdg_data_home"  # the autouse fixture points XDG_DATA_HOME here
    assert Path(os.environ["XDG_DATA_HOME"]) == data
    assert main(["install-desktop-entry"]) == 0
    entry = data / "applications" / "coreg-desktop.desktop"
    assert "Installed" in capsys.readouterr().out
    assert read_entry(entry)["Desktop Entry"]["Icon"] == "coreg-desktop"
    assert main(["install-desktop-entry", "--uninstall"]) == 0
    assert not entry.exists()
    assert not (data / "icons/hicolor/scalable/apps/coreg-desktop.svg").exists()
    assert str(entry) in capsys.readouterr().out


def test_cli_reports_an_unwritable_place_as_bad_input(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    assert main(["install-desktop-entry"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot write the launcher entry" in err[0]


# ----------------------------------------------------------------------------- autostart


def test_autostart_follows_the_setting(tmp_path: Path) -> None:
    path = autostart.apply(True, tmp_path, COMMAND)
    assert path == tmp_path / "autostart" / "coreg-desktop.desktop"
    groups = read_entry(path)
    assert split_exec(groups["Desktop Entry"]["Exec"]) == [*COMMAND, "--minimized"]
    assert split_exec(groups["Desktop Action QuickReset"]["Exec"]) == [*COMMAND, "--quick-reset"]
    assert groups["Desktop Entry"]["X-GNOME-Autostart-enabled"] == "true"
    assert autostart.is_enabled(tmp_path)
    validate_or_skip(path)
    assert autostart.apply(False, tmp_path) is None
    assert not path.exists() and not autostart.is_enabled(tmp_path)
    assert autostart.apply(False, tmp_path) is None  # already off: fine


def test_an_autostart_problem_is_raised_for_the_caller_to_say(tmp_path: Path) -> None:
    blocker = tmp_path / "cfg"
    blocker.write_text("not a folder")
    with pytest.raises(OSError):
        autostart.apply(True, blocker, COMMAND)
    assert not autostart.is_enabled(blocker)


# ----------------------------------------------------------------------------- packaging


def test_assets_ship_inside_the_package_from_the_canonical_folder() -> None:
    """`assets/` is the source; `coreg_desktop/assets` must be that same folder (a symlink), so
    package data (pyproject: coreg_desktop = ["assets/*"]) puts these very files in the wheel."""
    for name in ("coreg-desktop.svg", "coreg-desktop.desktop.in"):
        found = desktop_entry.asset_path(name)
        assert found.resolve() == (REPO / "assets" / name).resolve()
    assert (REPO / "coreg_desktop" / "assets").resolve() == (REPO / "assets").resolve()


def test_svg_icon_is_well_formed() -> None:
    root = minidom.parse(str(desktop_entry.asset_path("coreg-desktop.svg"))).documentElement
    assert root is not None
    assert root.tagName == "svg"
    assert root.getAttribute("viewBox") == "0 0 64 64"
