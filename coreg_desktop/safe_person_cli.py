"""`coreg-desktop safe-person …`: add, list and remove safe people, and import their voice memos.

Kept out of `cli.py`, which only registers it (`add_parser`, `run`), so each sub-command's code
lives with its subject. Every mistake is a `BadInput` (one line, exit code 2); a person is added
whole or not at all: if their photo or memo cannot be used, a person who was new is taken away
again, so a typo in a file name never leaves half a profile behind.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coreg_desktop.safe_people import Memo, Person, SafePeople
    from coreg_desktop.settings import Settings

KEY = "safe_person.name"


def add_parser(sub: argparse._SubParsersAction, parser_class: type) -> None:
    p = sub.add_parser("safe-person", help="your safe people: their photo and voice memos")
    people = p.add_subparsers(dest="safe_person_command", parser_class=parser_class,
                              required=True, metavar="{add,list,remove,import-memo}")
    q = people.add_parser("add", help="add someone who feels safe to you (or change them)")
    q.add_argument("name")
    q.add_argument("--relationship", metavar="R", help="grandmother, friend, my dog …")
    q.add_argument("--photo", type=Path, metavar="FILE", help="a JPEG, PNG or WebP photo")
    q.add_argument("--memo", type=Path, metavar="FILE", help="a voice memo (mp3, m4a, ogg …)")
    q = people.add_parser("list", help="your safe people, their photo and memos")
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q = people.add_parser("remove", help="remove someone, with their photo and memos")
    q.add_argument("name")
    q = people.add_parser("import-memo", help="add a voice memo to someone")
    q.add_argument("file", type=Path)
    q.add_argument("--person", metavar="NAME",
                   help=f"whose memo it is (default: the `{KEY}` setting)")


def run(args: argparse.Namespace) -> int:
    from coreg_desktop.cli import EXIT_OK, BadInput
    from coreg_desktop.safe_people import SafePeople, SafePersonError
    from coreg_desktop.settings import Settings

    settings = Settings.load(report=_say)
    store = SafePeople(report=_say)
    command = {"add": _add, "list": _list, "remove": _remove, "import-memo": _import_memo}
    try:
        command[args.safe_person_command](args, store, settings)
    except SafePersonError as exc:
        raise BadInput(str(exc)) from exc
    return EXIT_OK


def picked(name: str) -> str:
    """`config set safe_person.name NAME`: the person, made if new; their name as stored."""
    from coreg_desktop.cli import BadInput
    from coreg_desktop.safe_people import SafePeople, SafePersonError

    store = SafePeople(report=_say)
    existing = store.get(name)
    try:
        person = existing or store.add(name)
    except SafePersonError as exc:
        raise BadInput(str(exc)) from exc
    store.mark_used(person.name)
    if existing is None:
        print(f"Added {person.name} to your safe people.", file=sys.stderr)
    return person.name


def _add(args: argparse.Namespace, store: SafePeople, settings: Settings) -> None:
    from coreg_desktop.safe_people import SafePersonError

    new = store.get(args.name) is None
    person = store.add(args.name, args.relationship)
    memo: Memo | None = None
    try:
        if args.photo is not None:
            person = store.set_photo(person.name, args.photo)
        if args.memo is not None:
            person, memo = store.add_memo(person.name, args.memo)
    except SafePersonError:
        if new:
            store.remove(person.name)
        raise
    parts = [f"{'Added' if new else 'Updated'} {_who(person)}"]
    if args.photo is not None:
        parts.append("with the photo")
    if memo is not None:
        parts.append(f"{'and ' if args.photo is not None else 'with '}the memo "
                     f'"{memo.label}" ({_clock(memo.seconds)})')
    print(" ".join(parts) + ".")
    if not settings.text(KEY):
        _choose(settings, person.name)
        print(f"Practices will now use {person.name}; pick someone else with "
              f"`coreg-desktop config set {KEY} NAME`.")


def _list(args: argparse.Namespace, store: SafePeople, settings: Settings) -> None:
    people = store.all()
    if args.json:
        print(json.dumps([p.as_json() for p in people], indent=2, ensure_ascii=False))
        return
    if not people:
        print("No safe people yet. Add someone with `coreg-desktop safe-person add NAME`.")
        return
    chosen = store.get(settings.text(KEY)) if settings.text(KEY) else None
    for person in people:
        mark = "  (used in practices)" if chosen is not None and chosen.name == person.name else ""
        print(f"{_who(person)}{mark}")
        print(f"    photo: {person.photo_path if person.photo_path else 'none'}")
        if not person.memos:
            print("    memos: none")
        for memo in person.memos:
            print(f"    memo:  {memo.label} ({_clock(memo.seconds)})")


def _remove(args: argparse.Namespace, store: SafePeople, settings: Settings) -> None:
    person = store.remove(args.name)
    print(f"Removed {person.name}, with their photo and memos.")
    chosen = settings.text(KEY)
    if chosen and chosen.casefold() == person.name.casefold():
        following = store.last_used()
        _choose(settings, following.name if following else "")
        if following is not None:
            print(f"Practices will now use {following.name}.")


def _import_memo(args: argparse.Namespace, store: SafePeople, settings: Settings) -> None:
    from coreg_desktop.cli import BadInput

    name = args.person or settings.text(KEY)
    if not name:
        raise BadInput(f"whose memo is it? Give --person NAME, or choose someone first with "
                       f"`coreg-desktop config set {KEY} NAME`")
    person, memo = store.add_memo(name, args.file)
    print(f'Added the memo "{memo.label}" ({_clock(memo.seconds)}) to {person.name}; '
          f"{person.name} has {len(person.memos)} memo{'s' * (len(person.memos) != 1)} now.")


def _choose(settings: Settings, name: str) -> None:
    from coreg_desktop.cli import BadInput

    settings.set(KEY, name)
    try:
        settings.save()
    except OSError as exc:
        raise BadInput(f"cannot save {settings.path} ({exc.strerror or exc})") from exc


def _who(person: Person) -> str:
    return f"{person.name} ({person.relationship})" if person.relationship else person.name


def _clock(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def _say(line: str) -> None:
    print(line, file=sys.stderr)
