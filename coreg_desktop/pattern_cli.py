"""`coreg-desktop pattern add|list|remove`: the listener's own breathing patterns for the pacer.

Kept out of `cli.py`, which only registers it (`add_parser`, `run`). A pattern is given either
phase by phase (`--inhale 4 --hold 0 --exhale 6 --hold-after 0`, in half seconds up to 30 s) or as
breaths a minute with an in-to-out ratio (`--per-minute 6 --ratio 1:1.5`). Every mistake is a
`BadInput`: one line, exit code 2, and the file of patterns is left as it was.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from coreg_desktop import paths

if TYPE_CHECKING:
    from coreg_desktop.practice.patterns import PatternBook


def add_parser(sub: argparse._SubParsersAction, parser_class: type) -> None:
    p = sub.add_parser("pattern", help="your own breathing patterns for the pacer")
    patterns = p.add_subparsers(dest="pattern_command", parser_class=parser_class,
                                required=True, metavar="{add,list,remove}")
    q = patterns.add_parser("add", help="save a pattern under a name (or change it)")
    q.add_argument("name")
    for phase, what in (("inhale", "breath in"), ("hold", "hold after the breath in"),
                        ("exhale", "breath out"), ("hold-after", "hold after the breath out")):
        q.add_argument(f"--{phase}", type=float, metavar="S",
                       help=f"seconds of {what} (half seconds, up to 30)")
    q.add_argument("--per-minute", type=float, metavar="N",
                   help="instead of the phases: breaths a minute (2 to 20) ...")
    q.add_argument("--ratio", default="1:1.5", metavar="IN:OUT",
                   help="... and how the breath in compares with the breath out (default 1:1.5)")
    q = patterns.add_parser("list", help="the built-in patterns and your own")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q = patterns.add_parser("remove", help="remove one of your patterns")
    q.add_argument("name")


def run(args: argparse.Namespace) -> int:
    from coreg_desktop.cli import EXIT_OK, BadInput
    from coreg_desktop.practice.patterns import PatternBook, PatternError

    try:
        # Listing says once that a damaged file is left out; changing it refuses with that line.
        quiet = args.pattern_command != "list"
        book = PatternBook(paths.user_patterns_file(), report=(lambda _line: None) if quiet
                           else _say)
        if args.pattern_command == "list":
            _list(book, args.json)
        elif args.pattern_command == "add":
            _add(book, args)
        else:
            gone = book.remove(args.name)
            print(f'Removed the pattern "{gone.title}".')
    except PatternError as exc:
        raise BadInput(str(exc)) from exc
    except OSError as exc:
        raise BadInput(f"{paths.user_patterns_file()}: cannot be written "
                       f"({exc.strerror or exc})") from exc
    return EXIT_OK


def _add(book: PatternBook, args: argparse.Namespace) -> None:
    from coreg_desktop.practice.patterns import (
        BreathPattern,
        PatternError,
        check_seconds,
        from_rate,
        parse_ratio,
        pattern_id_for,
    )

    pattern_id = pattern_id_for(args.name)
    title = args.name.strip()
    phases = {name: getattr(args, name.replace("-", "_"))
              for name in ("inhale", "hold", "exhale", "hold-after")}
    if args.per_minute is not None:
        if any(v is not None for v in phases.values()):
            raise PatternError("give either the phases (--inhale, --exhale …) or --per-minute "
                               "with --ratio, not both")
        pattern = from_rate(pattern_id, title, args.per_minute, parse_ratio(args.ratio))
    else:
        if phases["inhale"] is None or phases["exhale"] is None:
            raise PatternError("a pattern needs --inhale and --exhale (or --per-minute)")
        seconds = {k: check_seconds(v or 0.0, f"--{k}") for k, v in phases.items()}
        pattern = BreathPattern(pattern_id, title, inhale=seconds["inhale"],
                                exhale=seconds["exhale"], hold=seconds["hold"],
                                hold_after=seconds["hold-after"], builtin=False)
    saved = book.add(pattern)
    print(f'Saved "{saved.title}" ({saved.describe()}; {saved.breaths_per_minute:.1f} breaths '
          f"a minute). Play it with: coreg-desktop play pacer --pattern {saved.id}")


def _list(book: PatternBook, as_json: bool) -> None:
    patterns = book.all()
    if as_json:
        print(json.dumps([p.to_json() for p in patterns], indent=2, ensure_ascii=False))
        return
    width = max(len(p.id) for p in patterns)
    for p in patterns:
        mine = "" if p.builtin else "  (yours)"
        print(f"{p.id:<{width}}  {p.breaths_per_minute:4.1f}/min  {p.describe()}{mine}")


def _say(line: str) -> None:
    print(line, file=sys.stderr)
