"""`coreg-desktop mix add|list|remove`: soundscape mixes, two or three layers saved by name.

Kept out of `cli.py`, which only registers it. A layer is written `rain=0.6` (or `rain=60%`);
a mix is then played anywhere a soundscape is chosen, as `--ambience mix:NAME`. Every mistake is
a `BadInput`: one line, exit code 2, and the file of mixes is left as it was.
"""

from __future__ import annotations

import argparse
import json
import sys


def add_parser(sub: argparse._SubParsersAction, parser_class: type) -> None:
    p = sub.add_parser("mix", help="your soundscape mixes (two or three layered)")
    mixes = p.add_subparsers(dest="mix_command", parser_class=parser_class, required=True,
                             metavar="{add,list,remove}")
    q = mixes.add_parser("add", help="save a mix, such as: mix add night-rain rain=0.7 "
                         "soft-pad=0.4")
    q.add_argument("name")
    q.add_argument("layers", nargs="+", metavar="SOUNDSCAPE=VOLUME")
    q = mixes.add_parser("list", help="your mixes and the soundscapes to build them from")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q = mixes.add_parser("remove", help="remove a mix")
    q.add_argument("name")


def run(args: argparse.Namespace) -> int:
    from coreg_desktop import paths
    from coreg_desktop.audio.mixes import Mix, MixError, mix_id_for, parse_layer
    from coreg_desktop.cli import EXIT_OK, BadInput
    from coreg_desktop.core import mix_book

    try:
        book = mix_book(quiet=args.mix_command != "list", report=_say)
        if args.mix_command == "add":
            mix = Mix(mix_id_for(args.name), args.name.strip(),
                      tuple(parse_layer(text) for text in args.layers))
            saved = book.add(mix)
            print(f"Saved {saved.ambience_id} ({saved.describe()}). Play it with: "
                  f"coreg-desktop play ID --ambience {saved.ambience_id}")
        elif args.mix_command == "remove":
            gone = book.remove(args.name)
            print(f"Removed {gone.ambience_id}.")
        elif args.json:
            print(json.dumps({"mixes": [m.to_json() for m in book.mixes],
                              "soundscapes": list(book.known)}, indent=2))
        else:
            for m in book.mixes:
                print(f"{m.ambience_id}  {m.describe()}")
            if not book.mixes:
                print("No mixes yet. Make one with, for example: "
                      "coreg-desktop mix add evening rain=0.7 soft-pad=0.4")
            print(f"Soundscapes to mix: {', '.join(book.known)}")
    except MixError as exc:
        raise BadInput(str(exc)) from exc
    except OSError as exc:
        raise BadInput(f"{paths.user_mixes_file()}: cannot be written "
                       f"({exc.strerror or exc})") from exc
    return EXIT_OK


def _say(line: str) -> None:
    print(line, file=sys.stderr)
