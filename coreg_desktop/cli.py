"""Command line: sub-commands, plain one-line errors, and the exit codes users and scripts rely on.

Exit codes: 0 success, 2 bad input (one line naming what is wrong), 1 a bug in Coreg (one line
pointing at the log file; the traceback goes to the log, or to the terminal with --debug).
"""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import re
import shutil
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TypeVar

from coreg_desktop import __version__, export_cli, mix_cli, paths, pattern_cli, safe_person_cli
from coreg_desktop.constants import PACER_ID

if TYPE_CHECKING:
    from coreg_desktop.core import Core
    from coreg_desktop.history import History, SessionRecord
    from coreg_desktop.practice.model import Practice
    from coreg_desktop.practice.timeline import State
    from coreg_desktop.sources import PacerSource
    from coreg_desktop.tts.narrator import Narrator

log = logging.getLogger("coreg_desktop")

EXIT_OK = 0
EXIT_BUG = 1
EXIT_BAD_INPUT = 2
CRASH_LOG = "coreg_desktop.crash"
#: `play` waits at most this long for a cached soundscape to be read (it takes a few ms when the
#: disk is not busy); past it the soundscape fades in as soon as it arrives.
AMBIENCE_PRELOAD_WAIT_S = 0.3

_In = TypeVar("_In")
_Out = TypeVar("_Out")


class BadInput(Exception):
    """A mistake in what the user asked for: reported in one line, exit code 2."""


# ----------------------------------------------------------------------------- parsing


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise BadInput(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="coreg-desktop",
        description="Short voice-guided practices to help an overwhelmed nervous system settle.",
    )
    parser.add_argument("--version", action="version", version=f"coreg-desktop {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full error details")
    parser.add_argument("--minimized", action="store_true", help="start in the system tray")
    parser.add_argument("--quick-reset", action="store_true", help="start the quick reset now")
    parser.add_argument("--practice", metavar="ID", help="open and play a practice")
    parser.add_argument("--quit", action="store_true", help="ask a running Coreg to quit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    p = sub.add_parser("list", help="list the practices")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("render", help="write a practice to an audio file")
    p.add_argument("id")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="FILE",
                   help="its extension picks the format: .wav .flac .ogg .opus .mp3 .m4a")
    p.add_argument("--quality", metavar="Q", help=export_cli.QUALITY_HELP)
    p.add_argument("--no-ambient", action="store_true", help="leave the ambience out")
    p.add_argument("--ambience", metavar="NAME", help="use this ambience instead")
    p.add_argument("--voice", metavar="V", help="narration voice (see `voices`)")
    _person_option(p)
    _length_options(p, render=True)

    p = sub.add_parser("play", help="play a practice")
    p.add_argument("id")
    p.add_argument("--no-gui", action="store_true", help="play in the terminal")
    p.add_argument("--ambience", metavar="NAME", help="use this ambience instead")
    p.add_argument("--no-ambient", action="store_true", help="leave the ambience out")
    p.add_argument("--voice", metavar="V", help="narration voice (see `voices`)")
    _person_option(p)
    _length_options(p, render=False)
    p.add_argument("--before", metavar="N",
                   help="how activated you feel now, 0 (calm, settled) to 10 (as bad as it gets)")
    p.add_argument("--after", metavar="N",
                   help="the same, after the practice (a terminal asks, if it is not given)")
    p.add_argument("--state", metavar="WORD",
                   help='a word for how you are: "shut down", "on edge", "settled" or '
                   '"overwhelmed"')
    p.add_argument("--sleep", type=float, metavar="MINUTES",
                   help="a sleep timer: everything fades over its last minute and stops then "
                   "(the soundscape keeps going after the practice until it does)")

    p = sub.add_parser("voices", help="list the narration voices, or import a Piper voice")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    voices = p.add_subparsers(dest="voices_command", parser_class=_Parser, metavar="{import}")
    q = voices.add_parser("import", help="copy a Piper voice (FILE.onnx and FILE.onnx.json) "
                          "into Coreg after checking that it speaks")
    q.add_argument("file", type=Path, metavar="FILE.onnx")

    sub.add_parser("doctor", help="check sound devices, voices and storage")

    p = sub.add_parser("config", help="show or change settings")
    config = p.add_subparsers(dest="config_command", parser_class=_Parser, required=True,
                              metavar="{list,get,set,unset}")
    q = config.add_parser("list", help="every setting with its value, default and meaning")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q = config.add_parser("get", help="print one setting's value")
    q.add_argument("key")
    q = config.add_parser("set", help="change a setting")
    q.add_argument("key")
    q.add_argument("value")
    q = config.add_parser("unset", help="put a setting back to its default")
    q.add_argument("key")

    p = sub.add_parser("history", help="your past sessions: list, export or delete them")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="only sessions from this day on")
    p.add_argument("--practice", metavar="ID", help="only sessions of this practice")
    history = p.add_subparsers(dest="history_command", parser_class=_Parser,
                               metavar="{export,delete}")
    q = history.add_parser("export", help="write the history to FILE.csv or FILE.json")
    q.add_argument("file", type=Path, metavar="FILE")
    q.add_argument("--since", metavar="YYYY-MM-DD", dest="export_since",
                   help="only sessions from this day on")
    q.add_argument("--practice", metavar="ID", dest="export_practice",
                   help="only sessions of this practice")
    q = history.add_parser("delete", help="delete the whole history, or its older sessions")
    which = q.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every session (asks first)")
    which.add_argument("--before", metavar="YYYY-MM-DD", help="sessions before this day")
    q.add_argument("--yes", action="store_true", help="do not ask")

    p = sub.add_parser("install-desktop-entry",
                       help="add Coreg (with a Quick reset action) to your desktop's launcher")
    p.add_argument("--uninstall", action="store_true", help="remove the entry and icons again")
    safe_person_cli.add_parser(sub, _Parser)
    export_cli.add_parser(sub, _Parser)
    pattern_cli.add_parser(sub, _Parser)
    mix_cli.add_parser(sub, _Parser)
    return parser


def _person_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--person", metavar="NAME",
                        help="practices about a safe person: who this one is with "
                        "(default: the last one used)")


def _length_options(parser: argparse.ArgumentParser, render: bool) -> None:
    """Breathe with Me's and the pacer's own options: the length, the pacer's pattern and cues,
    and (render) the rate taps would measure."""
    parser.add_argument("--minutes", type=float, metavar="N",
                        help="breathe-with and pacer only: the whole length in minutes "
                        "(default 5)")
    parser.add_argument("--pattern", metavar="P",
                        help="pacer only: the breathing pattern (see `pattern list`; default "
                        "extended-exhale)")
    parser.add_argument("--cue", choices=("tone", "voice", "silent"),
                        help="pacer only: soft tones at each phase (default), a spoken word, "
                        "or nothing")
    if render:
        parser.add_argument("--start-rate", type=float, metavar="R",
                            help="breathe-with only: render as if your taps measured R "
                            "breaths a minute (default 12)")


# ----------------------------------------------------------------------------- helpers


def _say(line: str) -> None:
    print(line, file=sys.stderr)


def _core(voice: str | None = None) -> Core:
    """The engine, with the user's settings; problems with their files are one line each."""
    from coreg_desktop.core import Core
    from coreg_desktop.settings import Settings

    if voice:
        _check_voice(voice)
    return Core(Settings.load(report=_say), voice=voice, on_notice=_say, report=_say)


def _practice(core: Core, practice_id: str) -> Practice:
    from coreg_desktop.core import UnknownPractice

    try:
        return core.practice(practice_id)
    except UnknownPractice as exc:
        raise BadInput(str(exc)) from exc


def _check_length(core: Core, practice: Practice, args: argparse.Namespace) -> None:
    from coreg_desktop.breathe_with import BadValue

    try:
        core.check_length(practice, getattr(args, "minutes", None),
                          getattr(args, "start_rate", None))
    except BadValue as exc:
        raise BadInput(str(exc)) from exc


def _check_person(core: Core, practice: Practice, args: argparse.Namespace) -> None:
    """An unknown `--person`, or one given to a practice about no one: one line, before
    anything is synthesized or plays."""
    from coreg_desktop.safe_people import SafePersonError

    name = getattr(args, "person", None)
    if name is None:
        return
    try:
        core.person_for(practice, name)
    except SafePersonError as exc:
        raise BadInput(str(exc)) from exc


def _ambience_choice(args: argparse.Namespace) -> str | None:
    from coreg_desktop.core import UnknownAmbience, check_ambience

    if getattr(args, "no_ambient", False):
        return "none"
    name = getattr(args, "ambience", None)
    if name is None:
        return None
    try:
        return check_ambience(str(name))
    except UnknownAmbience as exc:
        raise BadInput(str(exc)) from exc


def _check_voice(voice: str) -> None:
    from coreg_desktop.tts import list_voices, neural_voices

    if voice == "system" or voice.startswith("system:"):
        return
    # Every system voice id starts with "system:", so only a Piper or Kokoro voice can match
    # here; the system voices (a child process, ~0.6 s before the first word) are listed for the
    # hint only.
    if voice in {v.id for v in neural_voices()} or voice.removeprefix("piper:") in {
        v.id for v in neural_voices()
    }:
        return
    close = difflib.get_close_matches(voice, [v.id for v in list_voices()], n=2)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise BadInput(f'no voice named "{voice}"{hint} (see `coreg-desktop voices`)')


# ----------------------------------------------------------------------------- commands


def cmd_list(args: argparse.Namespace) -> int:
    from coreg_desktop.practice.timeline import practice_minutes

    practices = _core().library.all
    if args.json:
        rows = [
            {"id": p.id, "title": p.title, "minutes": practice_minutes(p), "summary": p.summary,
             "tags": list(p.tags)}
            for p in practices
        ]
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_OK
    width = max((len(p.id) for p in practices), default=0)
    for p in practices:
        print(f"{p.id:<{width}}  {practice_minutes(p):>4.1f} min  {p.title} — {p.summary}")
    return EXIT_OK


def cmd_render(args: argparse.Namespace) -> int:
    export_cli.check_output(args.output, args.quality)
    ambience = _ambience_choice(args)
    core = _core(args.voice)
    started = time.perf_counter()
    pacer = _pacer(core, args, ambience)
    if pacer is not None:
        source = pacer
        title = f"{pacer.title} ({pacer.minutes:g} min pacer)"
        seconds = export_cli.write_with(
            core, args.output, title, source.ambience,
            lambda progress: core.render_pacer(source, progress), quality=args.quality)
    else:
        practice = _practice(core, args.id)
        _check_length(core, practice, args)
        _check_person(core, practice, args)
        seconds = export_cli.write(core, practice, args.output, quality=args.quality,
                                   ambience=ambience, minutes=args.minutes,
                                   start_rate=args.start_rate, person=args.person)
    print(f"Wrote {args.output} ({export_cli.clock(seconds)}) "
          f"in {time.perf_counter() - started:.1f} s")
    return EXIT_OK


def cmd_play(args: argparse.Namespace) -> int:
    if not args.no_gui:
        if args.person is not None:
            raise BadInput("--person plays in the terminal: add --no-gui (in the window, the "
                           "practice's card lets you choose who it is with)")
        if args.before is not None or args.after is not None or args.state is not None:
            raise BadInput("--before, --after and --state are the terminal's check-in: add "
                           "--no-gui (the window asks for itself)")
        if args.id == PACER_ID:
            raise BadInput("the pacer plays in the terminal: add --no-gui")
        if args.sleep is not None:
            raise BadInput("--sleep is for the terminal: add --no-gui (in the window, the "
                           "player and the tray menu have a sleep timer)")
        args.practice = args.id
        return _run_gui(args)
    from coreg_desktop.audio.output import load_portaudio_in_background
    from coreg_desktop.checkin import CheckIn

    before = _rating(args.before, "--before")
    after = _rating(args.after, "--after")
    state = _state(args.state)
    checkin = CheckIn(before, state) if before is not None or state is not None else None
    ambience = _ambience_choice(args)
    sleep_minutes = _sleep_minutes(args.sleep)
    core = _core(args.voice)
    pacer = _pacer(core, args, ambience)
    practice = None if pacer is not None else _practice(core, args.id)
    if practice is not None:
        _check_length(core, practice, args)
        _check_person(core, practice, args)
    load_portaudio_in_background()
    # The first sound is what a person in distress waits for, and an uncached voice is the
    # longest road to it: start loading it before anything else (the imports below included).
    narrator = core.narrator
    first = core.first_text(practice) if practice is not None else None
    if first is not None and not narrator.cached(first):
        threading.Thread(target=_warm_up_voice, args=(narrator,), name="coreg-voice",
                         daemon=True).start()
    preload = threading.Thread(
        target=core.preload_ambience if practice is not None else (lambda *_a: None),
        args=(practice, ambience), name="coreg-ambience-preload", daemon=True)
    preload.start()

    from coreg_desktop.events import Ended, EndReason, PhaseChanged

    player = core.player
    # The slow steps overlap: the stream opens (PortAudio enumerates devices, slowly) while the
    # practice is loaded into the mixer and the voice loads, so the stream's very first block
    # is already the practice.
    opener = threading.Thread(target=player.open, name="coreg-open-output", daemon=True)
    opener.start()
    wake = threading.Event()  # an end, or a signal
    interrupted = threading.Event()
    ended: list[Ended] = []
    progress = _Progress(practice.title if practice is not None else
                         f"{pacer.title if pacer is not None else args.id} (pacer)")

    def on_event(event: object) -> None:
        if isinstance(event, PhaseChanged):
            progress.phase(event.state)
        elif isinstance(event, Ended):
            ended.append(event)
            wake.set()

    def on_signal(_sig: int, _frame: FrameType | None) -> None:
        interrupted.set()
        wake.set()

    previous = signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    player.events.subscribe(on_event)
    from coreg_desktop.core import is_breathe_with
    from coreg_desktop.terminal_taps import EnterTaps

    taps = EnterTaps(core.tap) if practice is not None and is_breathe_with(practice) else None
    try:
        preload.join(timeout=AMBIENCE_PRELOAD_WAIT_S)
        if sleep_minutes is not None:
            core.sleep.set(sleep_minutes)
        if pacer is not None:
            session = core.play_pacer(pacer, checkin=checkin)
        else:
            assert practice is not None
            session = core.play(practice, ambience, args.minutes, args.person, checkin=checkin)
        listening = taps is not None and taps.start()
        opener.join()
        while not wake.wait(_Progress.REDRAW_S if progress.tty else None):
            if listening:
                progress.hint = _tap_hint(session.tap_status())
            progress.show(session.state())
        if interrupted.is_set() and not ended:
            progress.clear()
            print("Stopping gently…", file=sys.stderr)
            core.sleep.cancel()
            session.stop(fade_s=1.0)
            session.wait_stopped(timeout=3.0)
        elif ended and ended[0].reason is EndReason.COMPLETED:
            session.wait_stopped(timeout=1.0)
            progress.show(session.state())
            progress.done()
        if taps is not None:
            taps.close()
            taps = None
        signal.signal(signal.SIGINT, previous)  # Ctrl+C skips the question below
        asleep = core.sleep.active or core.sleep.just_ran_out()  # nobody to ask, we hope
        if (after is None and ended and ended[0].reason is EndReason.COMPLETED
                and _interactive() and not asleep):
            after = _ask_after()
        if after is not None:
            core.record_after(session.number, after)
            if before is not None:
                from coreg_desktop.checkin import describe_change

                print(f"{describe_change(before, after).capitalize()}.")
    finally:
        if taps is not None:
            taps.close()
        signal.signal(signal.SIGINT, previous)
        output = player.output
        # For the log (and the benchmarks): a gap in the sound is a fault worth a line.
        log.info("Played %s on %s: %d output underflows, %d recoveries", args.id,
                 output.device_name, output.underflows, output.recoveries)
        core.close()
    if ended and ended[0].reason is EndReason.FAILED:
        return EXIT_BUG
    return EXIT_OK


def _parsed(value: _In | None, parse: Callable[[_In], _Out], errors: type[Exception],
            what: str, hint: str = "") -> _Out | None:
    """An option's value checked by `parse`, or None if it was not given; what `parse` refuses
    is one line naming the option (exit 2), before anything plays."""
    if value is None:
        return None
    try:
        return parse(value)
    except errors as exc:
        raise BadInput(f"{what}: {exc}{hint}") from exc


def _sleep_minutes(minutes: float | None) -> float | None:
    from coreg_desktop.sleep_timer import SleepTimerError, check_minutes

    return _parsed(minutes, check_minutes, SleepTimerError, "--sleep")


def _pacer(core: Core, args: argparse.Namespace, ambience: str | None) -> PacerSource | None:
    """`play pacer` / `render pacer`: its source, checked before anything plays; None for a
    practice (which must then not be given the pacer's own options)."""
    from coreg_desktop.practice.model import Cue
    from coreg_desktop.practice.patterns import PatternError

    if args.id != PACER_ID:
        for option in ("pattern", "cue"):
            if getattr(args, option, None) is not None:
                raise BadInput(f"--{option} only applies to the pacer (play pacer --pattern P)")
        return None
    if getattr(args, "start_rate", None) is not None:
        raise BadInput("--start-rate only applies to breathe-with")
    try:
        return core.pacer(args.pattern, args.minutes, Cue(args.cue) if args.cue else None,
                          ambience)
    except (PatternError, ValueError) as exc:
        raise BadInput(str(exc)) from exc


def _rating(text: str | None, what: str) -> int | None:
    from coreg_desktop.checkin import BadCheckIn, parse_rating

    return _parsed(text, parse_rating, BadCheckIn, what,
                   " (0 calm, settled; 10 as bad as it gets)")


def _state(text: str | None) -> str | None:
    from coreg_desktop.checkin import BadCheckIn, parse_state

    return _parsed(text, parse_state, BadCheckIn, "--state")


def _interactive() -> bool:
    """A person at a terminal who can answer: stdin and stdout are both terminals."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def _ask_after() -> int | None:
    """The after question, once more on a typo; Enter (or Ctrl+C, or Ctrl+D) skips it."""
    from coreg_desktop.checkin import QUESTION, BadCheckIn, parse_rating, scale_hint

    print(f"\n{QUESTION} {scale_hint()}")
    for _attempt in range(2):
        try:
            answer = input("0 to 10, or Enter to skip: ")
        except (EOFError, KeyboardInterrupt):
            print()
            return None
        if not answer.strip():
            return None
        try:
            return parse_rating(answer)
        except BadCheckIn as exc:
            print(exc)
    return None


def _tap_hint(status: str) -> str:
    """What Enter does, and how the taps are going, short enough for the progress line."""
    from coreg_desktop.breathe_with import FOUND_PACE

    if status == FOUND_PACE:
        status = "pace found"
    return f"Enter = tap, {status}" if status else "Enter = tap as you breathe in"


def _warm_up_voice(narrator: Narrator) -> None:
    """Load the voice on a lowered thread: the engine's own threads inherit its priority."""
    from coreg_desktop import priority

    priority.background()
    narrator.warm_up()


class _Progress:
    """A one-line terminal progress bar; plain caption lines when stdout is not a terminal.

    The lines follow the player's phase events; the bar is redrawn on a short timer, because it
    shows the clock ticking, not because anything is learnt from it.
    """

    REDRAW_S = 0.1

    def __init__(self, title: str) -> None:
        self.title = title
        self.tty = sys.stdout.isatty()
        self._last_caption: str | None = None
        self._last_phase = ""
        self.hint = ""  # shown after the phase on the bar (what Enter does, for Breathe with Me)

    @staticmethod
    def _phase_text(state: State) -> str:
        phase = state.phase_label
        if state.cycles:
            phase = f"{phase} ({state.cycle}/{state.cycles})"
        return phase

    def phase(self, state: State) -> None:
        """A new span began (called on the event thread): a line for a log or a pipe."""
        if self.tty:
            return
        from coreg_desktop.practice.timeline import format_clock

        phase = self._phase_text(state)
        line = state.caption if state.caption and state.caption != self._last_caption else None
        if line:
            print(f"[{format_clock(state.t)}] {line}", flush=True)
            self._last_caption = state.caption
        elif phase and phase != self._last_phase and not state.caption:
            print(f"[{format_clock(state.t)}] {phase}", flush=True)
        self._last_phase = phase

    def show(self, state: State) -> None:
        if not self.tty:
            return
        from coreg_desktop.practice.timeline import format_clock

        cols = shutil.get_terminal_size((80, 20)).columns
        frac = min(1.0, state.t / state.total) if state.total else 0.0
        bar_w = 20
        filled = int(frac * bar_w)
        bar = "█" * filled + "░" * (bar_w - filled)
        clock = f"{format_clock(state.t)}/{format_clock(state.total)}"
        text = self._phase_text(state) or (state.caption or "")
        line = f"{bar} {clock}  {text}"
        if self.hint:
            line = f"{bar} {clock}  [{self.hint}]  {text}"
        sys.stdout.write("\r" + line[: cols - 1].ljust(cols - 1))
        sys.stdout.flush()

    def clear(self) -> None:
        if self.tty:
            sys.stdout.write("\r" + " " * (shutil.get_terminal_size((80, 20)).columns - 1) + "\r")

    def done(self) -> None:
        if self.tty:
            sys.stdout.write("\n")
        print(f"{self.title} is complete. Take your time before you move on.")


def cmd_voices(args: argparse.Namespace) -> int:
    from coreg_desktop.tts import VoiceImportError, import_piper_voice, list_voices

    if getattr(args, "voices_command", None) == "import":
        try:
            info = import_piper_voice(args.file)
        except VoiceImportError as exc:
            raise BadInput(str(exc)) from exc
        print(f"Imported {info.id} ({info.name}); use it with --voice {info.id} "
              f"or `coreg-desktop config set voice {info.id}`")
        return EXIT_OK
    voices = list_voices()
    if args.json:
        print(json.dumps([v.__dict__ for v in voices], indent=2))
        return EXIT_OK
    if not voices:
        print("No voices found. Practices will still run with captions and tones.")
    for v in voices:
        state = "" if v.available else "  (not available)"
        print(f"{v.id:<28} {v.engine:<7} {v.language:<6} {v.name}{state}")
    return EXIT_OK


def cmd_install_desktop_entry(args: argparse.Namespace) -> int:
    from coreg_desktop.desktop import desktop_entry

    try:
        if args.uninstall:
            report = desktop_entry.uninstall()
            if not report.removed:
                print("No Coreg launcher entry was installed; nothing to remove.")
            for path in report.removed:
                print(f"Removed {path}")
            return EXIT_OK
        report = desktop_entry.install()
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        raise BadInput(f"cannot write the launcher entry{where} ({exc.strerror or exc})") from exc
    entry = report.written[0]
    print(f"Installed {entry}")
    print(f"Installed {len(report.written) - 1} icon files in {desktop_entry.icon_theme_dir()}")
    print(f"It starts: {desktop_entry.exec_line(desktop_entry.launch_command())}")
    if report.problems:
        print(f"desktop-file-validate says:\n{report.problems}", file=sys.stderr)
    return EXIT_OK


def cmd_doctor(_args: argparse.Namespace) -> int:
    from coreg_desktop.doctor import report

    for line in report():
        print(line)
    return EXIT_OK


def cmd_config(args: argparse.Namespace) -> int:
    from coreg_desktop import settings as settings_mod
    from coreg_desktop.settings import OPTIONS, SettingError, Settings, format_value

    settings = Settings.load(report=_say)
    command = args.config_command
    try:
        if command == "list":
            rows = [
                {"key": o.key, "value": settings[o.key], "default": o.default,
                 "description": o.doc}
                for o in OPTIONS
            ]
            if args.json:
                print(json.dumps(rows, indent=2, ensure_ascii=False))
                return EXIT_OK
            width = max(len(o.key) for o in OPTIONS)
            for row in rows:
                value = format_value(row["value"])
                shown = f'"{value}"' if isinstance(row["value"], str) else value
                default = "" if row["value"] == row["default"] else (
                    f"  (default {format_value(row['default']) or '(empty)'})")
                print(f"{row['key']:<{width}}  {shown}{default}")
                print(f"{'':<{width}}  {row['description']}")
            return EXIT_OK
        option = settings_mod.option(args.key)
        if command == "get":
            print(format_value(settings[option.key]))
            return EXIT_OK
        if command == "set":
            value = settings_mod.parse(option, args.value)
            if option.key == "ambience" and value:
                from coreg_desktop.core import UnknownAmbience, check_ambience

                try:
                    check_ambience(value)  # a mix must exist to be chosen
                except UnknownAmbience as exc:
                    raise BadInput(f"ambience: {exc}") from exc
            if option.key == "voice" and value:
                _check_voice(value)
            if option.key == safe_person_cli.KEY and value:
                value = safe_person_cli.picked(value)
            settings.set(option.key, value)
        else:
            settings.unset(option.key)
    except SettingError as exc:
        raise BadInput(str(exc)) from exc
    if option.key == "start_at_login":
        # First, so a setting that cannot take effect is not saved as if it had.
        from coreg_desktop.desktop import autostart

        try:
            autostart.apply(settings.flag("start_at_login"))
        except OSError as exc:
            where = f" {exc.filename}" if exc.filename else ""
            raise BadInput(
                f"cannot change the autostart entry{where} ({exc.strerror or exc})"
            ) from exc
    try:
        settings.save()
    except OSError as exc:
        raise BadInput(f"cannot save {settings.path} ({exc.strerror or exc})") from exc
    return EXIT_OK


def _day(text: str, what: str) -> date:
    """A day typed as YYYY-MM-DD; one line for anything else."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        raise BadInput(f'{what}: "{text}" is not a date; use YYYY-MM-DD, such as 2026-05-01')
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise BadInput(f'{what}: "{text}" is not a real date ({exc})') from exc


def _open_history() -> History:
    from coreg_desktop.history import History, HistoryError

    try:
        history = History()
    except HistoryError as exc:
        raise BadInput(f"the history cannot be opened: {exc}") from exc
    if history.notice:
        _say(history.notice)
    return history


def cmd_history(args: argparse.Namespace) -> int:
    """`history` lists, `history export` writes a file, `history delete` removes sessions."""
    from coreg_desktop.history import HistoryError

    try:
        command = getattr(args, "history_command", None)
        if command == "export":
            return _history_export(args)
        if command == "delete":
            return _history_delete(args)
        return _history_list(args)
    except HistoryError as exc:  # a locked or failing file: one line, never a traceback
        raise BadInput(str(exc)) from exc


def _history_list(args: argparse.Namespace) -> int:
    since = _day(args.since, "--since") if args.since else None
    history = _open_history()
    try:
        records = history.sessions(since, args.practice)
    finally:
        history.close()
    if args.json:
        print(json.dumps([r.to_json() for r in records], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not records:
        from coreg_desktop.progress import EMPTY_TEXT as NOTHING_YET

        print(NOTHING_YET if since is None and args.practice is None
              else "No sessions match; try without --since or --practice.")
        return EXIT_OK
    print(_history_table(records))
    return EXIT_OK


def _history_table(records: Sequence[SessionRecord]) -> str:
    from coreg_desktop.checkin import describe_change
    from coreg_desktop.practice.timeline import format_clock

    rows = [("When", "Practice", "Heard", "Ended", "Check-in", "Word")]
    for r in records:
        if r.before is not None and r.after is not None:
            change = describe_change(r.before, r.after)
        elif r.before is not None:
            change = f"before {r.before}"
        elif r.after is not None:
            change = f"after {r.after}"
        else:
            change = ""
        rows.append((r.local_start().strftime("%Y-%m-%d %H:%M"), r.title,
                     format_clock(r.listened_seconds), r.ended_by or "not finished", change,
                     r.state or ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
                     .rstrip() for row in rows)


def _history_export(args: argparse.Namespace) -> int:
    import csv
    import io

    from coreg_desktop import files
    from coreg_desktop.export_cli import check_writable

    path: Path = args.file
    kind = path.suffix.lower()
    if kind not in (".csv", ".json"):
        raise BadInput(f"{path}: the export is FILE.csv or FILE.json (by its extension)")
    check_writable(path)
    since = _day(args.export_since, "--since") if args.export_since else None
    history = _open_history()
    try:
        records = history.sessions(since, args.export_practice)
    finally:
        history.close()
    rows = [r.to_json() for r in records]
    if kind == ".json":
        text = json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    else:
        buffer = io.StringIO()
        from coreg_desktop.history import SessionRecord

        writer = csv.DictWriter(buffer, fieldnames=list(SessionRecord.json_keys()),
                                lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_cell(v) for k, v in row.items()})
        text = buffer.getvalue()
    try:
        files.atomic_write(path, text, mode=files.PRIVATE_FILE)  # it is as private as the rest
    except OSError as exc:
        raise BadInput(f"{path}: cannot write ({exc.strerror or exc})") from exc
    print(f"Wrote {len(rows)} session{'s' if len(rows) != 1 else ''} to {path}")
    return EXIT_OK


def _csv_cell(value: object) -> object:
    """CSV has no null or boolean: empty for null, true/false as JSON spells them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _history_delete(args: argparse.Namespace) -> int:
    if args.all:
        if not args.yes and not _interactive():
            raise BadInput("history delete --all asks first; run it in a terminal, or add --yes")
        history = _open_history()
        try:
            count = len(history.sessions())
            if count and not args.yes:
                print(f"Delete all {count} session{'s' if count != 1 else ''} from your "
                      "history? This cannot be undone.")
                try:
                    answer = input("Delete? [y/N] ")
                except (EOFError, KeyboardInterrupt):
                    answer = ""
                if answer.strip().lower() not in ("y", "yes"):
                    print("Nothing was deleted.")
                    return EXIT_OK
            deleted = history.delete_all()
        finally:
            history.close()
    else:
        day = _day(args.before, "--before")
        history = _open_history()
        try:
            deleted = history.delete_before(day)
        finally:
            history.close()
    print(f"Deleted {deleted} session{'s' if deleted != 1 else ''}.")
    return EXIT_OK


def _run_gui(args: argparse.Namespace) -> int:
    """The desktop app, or a request handed to the one already running.

    A practice asked for is checked here, before anything starts or is handed over, so a typo
    gets the same one line and exit 2 whether or not Coreg is running.
    """
    practice_id = getattr(args, "practice", None)
    if practice_id:
        _practice(_core(), practice_id)
    try:
        from coreg_desktop.desktop.app import run
    except ImportError as exc:
        raise BadInput(
            f"the desktop window is not available ({exc}); try `coreg-desktop play ID --no-gui`"
        ) from exc
    return run(args)


COMMANDS = {
    "list": cmd_list,
    "render": cmd_render,
    "play": cmd_play,
    "voices": cmd_voices,
    "doctor": cmd_doctor,
    "config": cmd_config,
    "history": cmd_history,
    "install-desktop-entry": cmd_install_desktop_entry,
    "safe-person": safe_person_cli.run,
    "export-all": export_cli.export_all,
    "pattern": pattern_cli.run,
    "mix": mix_cli.run,
}


# ----------------------------------------------------------------------------- entry


def _setup_logging(debug: bool) -> Path | None:
    """Log to a file always; to the terminal only what a user should see (or all, with --debug)."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.DEBUG if debug else logging.WARNING)
    if not debug:
        # Tracebacks belong in the log file; the terminal gets one plain line.
        console.addFilter(lambda record: record.exc_info is None and record.name != CRASH_LOG)
    console.setFormatter(logging.Formatter("%(message)s" if not debug else
                                           "%(levelname)s %(name)s: %(message)s"))
    root.addHandler(console)
    try:
        log_dir = paths.log_dir()
        log_dir.mkdir(parents=True, exist_ok=True)
        log_file = log_dir / "coreg-desktop.log"
        handler = logging.FileHandler(log_file, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        return log_file
    except OSError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    log_file = _setup_logging(debug)
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            return _run_gui(args)
        return COMMANDS[args.command](args)
    except BadInput as exc:
        print(f"coreg-desktop: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return EXIT_OK
    except BrokenPipeError:
        return EXIT_OK
    except Exception:
        logging.getLogger(CRASH_LOG).error("Unhandled error:\n%s", traceback.format_exc())
        if debug:
            traceback.print_exc()
        where = f"; details are in {log_file}" if log_file else ""
        print(f"coreg-desktop: something went wrong inside Coreg{where}", file=sys.stderr)
        return EXIT_BUG
