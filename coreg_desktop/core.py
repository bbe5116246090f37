"""The Qt-free core: the one place that builds the engine, and the rule from settings to playback.

The terminal (`cli.py`) and the desktop (`desktop/app.py`) both use a `Core` and build no engine
part themselves, so `render`, `play --no-gui` and the app's tray all play the same thing for the
same settings. The core builds the practice library, the narrator, the sound bank and the player,
each once and only when first needed (so `config get` or `list` never load numpy or a voice),
and follows the settings: a new voice or rate gets a new narrator, new volumes glide in.

Nothing here imports Qt; the desktop reaches the core's events through `ui/bridge.py`.
"""

from __future__ import annotations

import difflib
import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from coreg_desktop import paths
from coreg_desktop.constants import AMBIENCE_IDS
from coreg_desktop.settings import Settings

if TYPE_CHECKING:
    import numpy as np

    from coreg_desktop.audio.bank import SoundBank
    from coreg_desktop.audio.mixes import MixBook
    from coreg_desktop.audio.output import Output
    from coreg_desktop.breathe_with import BreatheWithSource
    from coreg_desktop.checkin import CheckIn
    from coreg_desktop.history import History
    from coreg_desktop.history_recorder import HistoryRecorder
    from coreg_desktop.player import Player
    from coreg_desktop.practice.loader import Library
    from coreg_desktop.practice.model import Cue, Practice
    from coreg_desktop.practice.patterns import PatternBook
    from coreg_desktop.practice.timeline import MemoClip
    from coreg_desktop.safe_people import Person, SafePeople
    from coreg_desktop.session import Session
    from coreg_desktop.sleep_timer import SleepTimer
    from coreg_desktop.sources import PacerSource, PracticeSource, ProgramSource, SleepTail
    from coreg_desktop.tts.narrator import Narrator

log = logging.getLogger(__name__)

Notice = Callable[[str], None]

#: Said once when no voice can be used at all.
NO_VOICE_NOTICE = (
    "No narration voice is available; practices will show captions and play soft tones instead."
)
#: What a voice preview says: one calm line, with the listener's name when they gave one.
PREVIEW_LINE = "It's okay, {name}. I'm right here with you."
#: What the name's own preview says: the name, in the one line that matters most.
NAME_PREVIEW_LINE = "It's okay, {name}."
PREVIEW_ID = "voice-preview"
PACER_DEFAULT_MINUTES = 5.0
MEMO_PREVIEW_ID = "memo-preview"
KOKORO_PREFIX = "kokoro:"
#: Settings the engine follows while running.
VOICE_KEYS = ("voice", "rate")
VOLUME_KEYS = ("volume.voice", "volume.ambience")


@dataclass(frozen=True)
class SessionOptions:
    """What the listener's settings make of a practice: the one product of the settings rule."""

    values: dict[str, str | None] = field(default_factory=dict)  # {name}, {safe_person}
    ambience: str | None = None  # None: the source's own; "none": silence
    rate: float = 1.0
    spoken: dict[str, str | None] | None = None  # placeholders as the voice says them
    by_name: bool = True  # lines that can speak to "you" instead use the name
    memos: tuple[MemoClip, ...] = ()  # the safe person's voice memos, in their turn
    person: str | None = None  # the safe person's name as stored, when they have a profile


class UnknownPractice(LookupError):
    """An id that is not in the library; `closest` are the ids it may have meant."""

    def __init__(self, practice_id: str, closest: list[str]) -> None:
        hint = f"; did you mean {', '.join(repr(c) for c in closest)}?" if closest else ""
        super().__init__(f'no practice named "{practice_id}"{hint}')
        self.practice_id = practice_id
        self.closest = closest


class UnknownAmbience(LookupError):
    """An ambience id that does not exist, with the closest one or the list to choose from."""

    def __init__(self, name: str, message: str | None = None) -> None:
        close = difflib.get_close_matches(name, AMBIENCE_IDS, n=1)
        choices = ", ".join(AMBIENCE_IDS)
        hint = f'; did you mean "{close[0]}"?' if close else f"; choose from {choices} or mix:NAME"
        super().__init__(message or f'no ambience named "{name}"{hint}')


def _checked_name(text: str) -> str | None:
    """A name as the setting would store it, or None when it is empty or would be refused."""
    from coreg_desktop import names

    cleaned = names.clean(text)
    return cleaned if cleaned and names.problem(cleaned) is None else None


def is_breathe_with(practice: Practice) -> bool:
    """The built-in Breathe with Me (a user's file with its id is an ordinary practice)."""
    from coreg_desktop.breathe_with import PRACTICE_ID

    return practice.id == PRACTICE_ID and practice.builtin and practice.source is None


def uses_safe_person(practice: Practice) -> bool:
    """Whether a practice is about the listener's safe person: it names them (`{safe_person}`,
    `{relationship}`) or plays their memo. Only such a practice offers a choice of person, shows
    their photo, or takes `--person`."""
    from coreg_desktop.practice.model import Memo, Say

    return any(
        isinstance(step, Memo)
        or (isinstance(step, Say) and ("{safe_person" in step.text or "{relationship" in step.text))
        for step in practice.steps
    )


def _check_checkin(rating: int | None, state: str | None) -> None:
    from coreg_desktop.history import check_rating, check_state

    check_rating(rating)
    check_state(state)


def check_ambience(name: str) -> str:
    """`name` if it is a soundscape Coreg has, or one of the listener's mixes (`mix:NAME`);
    UnknownAmbience otherwise."""
    from coreg_desktop.audio.mixes import PREFIX, MixError

    if name.startswith(PREFIX):
        try:
            return mix_book(quiet=True).get(name).ambience_id
        except MixError as exc:
            raise UnknownAmbience(name, str(exc)) from exc
    if name not in AMBIENCE_IDS:
        raise UnknownAmbience(name)
    return name


def mix_book(quiet: bool = False, report: Callable[[str], None] | None = None) -> MixBook:
    """The listener's mixes, read now: the terminal may have saved one a moment ago."""
    from coreg_desktop.audio.mixes import MixBook

    known = tuple(a for a in AMBIENCE_IDS if a != "none")
    return MixBook(paths.user_mixes_file(), known,
                   report=(lambda _line: None) if quiet else report)


class Core:
    """Builds the engine lazily and keeps it following the settings.

    `voice` pins a voice for this process (the terminal's `--voice`), whatever the setting says.
    `output` replaces the sound device (tests pass a silent one); `library`, `narrator`,
    `bank` and `history` replace the ones built from the user's files (tests share one cache).
    `record` False keeps no history at all (a benchmark's sessions are not the listener's).
    `on_notice` hears plain sentences for the listener, from any thread; `report` hears
    problems with the user's files (a practice that does not load, a setting that is wrong).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        voice: str | None = None,
        output: Output | None = None,
        library: Library | None = None,
        narrator: Narrator | None = None,
        bank: SoundBank | None = None,
        safe_people: SafePeople | None = None,
        history: History | None = None,
        record: bool = True,
        on_notice: Notice | None = None,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self._voice_override = voice
        self._output = output
        self._on_notice = on_notice or (lambda _message: None)
        self._report = report or log.warning
        self._lock = threading.RLock()
        self._library: Library | None = library
        self._narrator: Narrator | None = narrator
        self._bank: SoundBank | None = bank
        self._safe_people: SafePeople | None = safe_people
        self._player: Player | None = None
        self._history: History | None = history
        self._owns_history = history is None
        self._history_tried = history is not None or not record
        self._recorder: HistoryRecorder | None = None
        self._busy_checks: list[Callable[[], bool]] = []
        self._previewing: tuple[str, Narrator] | None = None  # the voice last previewed
        self._busy_seen = -float("inf")  # when other work was last seen under way
        self._sleep: SleepTimer | None = None
        self._patterns: PatternBook | None = None
        self._missing_mixes: set[str] = set()
        self._unsubscribe = settings.subscribe(self._settings_changed)

    # ------------------------------------------------------------------ parts, built on first use

    @property
    def sleep(self) -> SleepTimer:
        """The one sleep timer: the terminal's `--sleep`, the player's and the tray's menu."""
        with self._lock:
            if self._sleep is None:
                from coreg_desktop.sleep_timer import SleepTimer

                self._sleep = SleepTimer(self._sleep_level, self._sleep_finish,
                                         self._sleep_restore)
            return self._sleep

    def _sleep_level(self, level: float) -> None:
        """The timer's last minute: the voice and the soundscape follow its level down."""
        if self._player is not None:
            self._player.set_volumes(self.settings.number("volume.voice") * level,
                                     self.settings.number("volume.ambience") * level)

    def _sleep_restore(self) -> None:
        if self._player is not None:
            self._player.set_volumes(self.settings.number("volume.voice"),
                                     self.settings.number("volume.ambience"))

    def _sleep_finish(self) -> None:
        """The set time: what plays (silent by now) ends; a practice whose own end was heard
        before (only its soundscape went on) counts as completed. Volumes come back once it
        has stopped, ready for the next practice."""
        from coreg_desktop.events import EndReason
        from coreg_desktop.sources import SleepTail

        player = self._player
        if player is None:
            return
        session = player.session
        if session is not None and not session.ended:
            tail = session.source
            done = isinstance(tail, SleepTail) and tail.in_tail
            session.stop(fade_s=0.3, reason=EndReason.COMPLETED if done else EndReason.STOPPED)
            session.wait_stopped(timeout=2.0)
        self._sleep_restore()

    def _with_sleep_tail(self, source: PracticeSource | BreatheWithSource | PacerSource
                         ) -> PracticeSource | BreatheWithSource | PacerSource | SleepTail:
        """A composed practice (or the pacer) keeps its soundscape going past its end while the
        timer runs. Breathe with Me follows taps and ends when the listener does."""
        from coreg_desktop.sources import PacerSource, PracticeSource, SleepTail

        if not isinstance(source, PracticeSource | PacerSource):
            return source
        if isinstance(source, PacerSource) and source.ambience == "none":
            return source  # a pacer with no soundscape has nothing to keep playing
        return SleepTail(source, lambda: self._sleep is not None and self._sleep.active)

    @property
    def library(self) -> Library:
        with self._lock:
            if self._library is None:
                self._library = self._load_library()
            return self._library

    def _load_library(self) -> Library:
        from coreg_desktop import breathe_with
        from coreg_desktop.practice.loader import load_library

        library = load_library(report=self._report)
        for line in library.overrides:
            self._report(line)
        # Not a file: it follows the listener's taps, which no practice file can describe. A
        # user file with its id replaces it, as with any built-in.
        mine = library.practices.get(breathe_with.PRACTICE_ID)
        if mine is None:
            library.practices[breathe_with.PRACTICE_ID] = breathe_with.practice()
        elif not mine.builtin:
            line = f'user practice {mine.source} overrides built-in "{breathe_with.PRACTICE_ID}"'
            library.overrides.append(line)
            self._report(line)
        return library

    @property
    def narrator(self) -> Narrator:
        with self._lock:
            if self._narrator is None:
                self._narrator = self._make_narrator()
            return self._narrator

    def _make_narrator(self) -> Narrator:
        from coreg_desktop.tts import make_synthesizer
        from coreg_desktop.tts.cache import ClipCache
        from coreg_desktop.tts.narrator import Narrator
        from coreg_desktop.tts.remote import out_of_process

        voice = self._voice_override or self.settings.text("voice") or None
        kept = self._previewing
        if kept is not None and kept[0] == (voice or "") and kept[1].rate == self.settings.number(
            "rate"
        ):
            self._previewing = None
            return kept[1]  # the voice just previewed and then chosen: already loaded
        synth = out_of_process(make_synthesizer(voice))
        if synth is None:
            self._on_notice(NO_VOICE_NOTICE)
        elif voice is not None and voice.startswith(KOKORO_PREFIX):
            if synth.engine != "kokoro":
                self._kokoro_fell_back(None)
            else:
                synth.on_fallback = self._kokoro_fell_back  # type: ignore[attr-defined]
        old = self._narrator
        cache = old.cache if old is not None else ClipCache(paths.narration_cache_dir())
        return Narrator(synth, cache, rate=self.settings.number("rate"))

    def _kokoro_fell_back(self, problem: str | None) -> None:
        """The chosen Kokoro voice cannot speak: one notice, saying why and who speaks instead."""
        from coreg_desktop.tts import kokoro_problem

        why = problem or kokoro_problem() or "it could not be loaded"
        self._on_notice(f"The Kokoro voice is unavailable ({why}), so Piper's voice speaks "
                        "instead. `coreg-desktop doctor` has the details.")

    @property
    def bank(self) -> SoundBank:
        with self._lock:
            if self._bank is None:
                from coreg_desktop.audio.bank import SoundBank

                self._bank = SoundBank(paths.ambience_cache_dir(),
                                       mix_of=lambda mix_id: mix_book(quiet=True).get(mix_id))
            return self._bank

    @property
    def safe_people(self) -> SafePeople:
        """The store of safe people (light: it reads their folder when asked)."""
        with self._lock:
            if self._safe_people is None:
                from coreg_desktop.safe_people import SafePeople

                self._safe_people = SafePeople(report=self._report)
            return self._safe_people

    def safe_person(self) -> Person | None:
        """The safe person practices use: the one the `safe_person.name` setting names."""
        name = self.settings.text("safe_person.name")
        return self.safe_people.get(name) if name else None

    def photo_for(self, practice: Practice | None) -> Path | None:
        """The safe person's photo, for a practice that is about them (it names them, or plays
        their memo); None otherwise, or when they have no photo."""
        person = self.safe_person() if practice is not None and uses_safe_person(practice) else None
        path = person.photo_path if person is not None else None
        return path if path is not None and path.is_file() else None

    def person_for(self, practice: Practice, name: str | None = None) -> Person | None:
        """Who a session of `practice` is with: `name` for this one session, else the default
        (`safe_person`). SafePersonError (one line) for a name the store does not know, or for a
        practice that is about no one: checked before anything plays."""
        from coreg_desktop.safe_people import SafePersonError

        if not uses_safe_person(practice):
            if name is None:
                return None  # about no one: the store is not even read
            raise SafePersonError(
                f"--person only applies to a practice about your safe person; {practice.id} "
                "is not one"
            )
        return self.safe_person() if name is None else self.safe_people.require(name)

    def people_to_choose(
        self, practice: Practice | None = None
    ) -> tuple[list[str], str | None]:
        """The names a window offers before a practice about someone plays, and which is
        preselected (the default, or None when the setting names no one here). Empty when
        `practice` is about no one, or with fewer than two people: then there is no choice.
        One read of the store (a few small files), so a window asks once for all its cards."""
        if practice is not None and not uses_safe_person(practice):
            return [], None
        people = self.safe_people.all()
        if len(people) < 2:
            return [], None
        default = self.safe_person()
        return [p.name for p in people], default.name if default is not None else None

    @property
    def history(self) -> History | None:
        """The listener's history, opened on first use; None if it cannot be opened at all
        (said once, in a notice). A damaged file moved aside is said once, too."""
        with self._lock:
            if not self._history_tried:
                self._history_tried = True
                self._history = self._open_history()
            return self._history

    def _open_history(self) -> History | None:
        from coreg_desktop.history import History, HistoryError

        try:
            history = History()
        except HistoryError as exc:
            log.warning("No history can be kept: %s", exc)
            self._on_notice(f"Your sessions cannot be kept in the history this time ({exc}); "
                            "the practices play as always.")
            return None
        if history.notice:
            self._on_notice(history.notice)
        return history

    def _attach_recorder(self, player: Player) -> None:
        """Every session the player plays is recorded (previews are not), whoever started it."""
        from coreg_desktop.constants import SAMPLE_RATE
        from coreg_desktop.history_recorder import HistoryRecorder

        history = self.history
        if history is None:
            return

        def position(session: int) -> float | None:
            current = player.session
            if current is None or current.number != session or current.ended:
                return None
            return current.position_frames / SAMPLE_RATE

        self._recorder = HistoryRecorder(history, position,
                                         skip=frozenset({PREVIEW_ID, MEMO_PREVIEW_ID}))
        player.events.subscribe(self._recorder.on_event)

    def record_before(self, session: int, before: int | None, state: str | None) -> None:
        """The check-in for a session asked after it started (the tray's quick reset never
        waits for it). `session` is the events' session number. BadCheckIn for a value out of
        range; nothing happens without a history."""
        if self._recorder is not None:
            self._events_delivered()
            self._recorder.record_before(session, before, state)
        else:
            _check_checkin(before, state)

    def record_after(self, session: int, after: int | None) -> None:
        """The rating after `session` ended (or was stopped)."""
        if self._recorder is not None:
            self._events_delivered()
            self._recorder.record_after(session, after)
        else:
            _check_checkin(after, None)

    def history_row(self, session: int) -> int | None:
        """The history row of `session` (the events' number), None if it was not recorded."""
        if self._recorder is None:
            return None
        self._events_delivered()
        return self._recorder.row_for(session)

    def _events_delivered(self) -> None:
        """Let the recorder hear every event emitted so far (a session's Started, just after
        `play`), so a check-in given now is queued behind the row it belongs to."""
        from coreg_desktop.history_recorder import ROW_WAIT_S

        player = self._player
        if player is not None:
            player.events.flush(ROW_WAIT_S)

    @property
    def player(self) -> Player:
        with self._lock:
            if self._player is None:
                from coreg_desktop.player import Player

                self._player = Player(
                    self.narrator,
                    self.bank,
                    output=self._output,
                    voice_volume=self.settings.number("volume.voice"),
                    ambience_volume=self.settings.number("volume.ambience"),
                    on_notice=self._on_notice,
                )
                self._player.on_rest = self.rest
                self._attach_recorder(self._player)
            return self._player

    # ------------------------------------------------------------------ the rule

    def options(
        self,
        ambience: str | None = None,
        person: Person | None = None,
        *,
        look_up: bool = True,
    ) -> SessionOptions:
        """What the settings make of a practice: names for its placeholders, the speaking rate,
        and the soundscape (`ambience` from the request, else the setting, else the practice's).
        `person` is the safe person for this session (see `person_for`); None: the default,
        read from the store unless `look_up` is False (a practice about no one: the quick reset
        never waits for a folder of profiles it would not use)."""
        from coreg_desktop.practice.timeline import MemoClip
        from coreg_desktop.safe_people import relationship_phrase

        chosen = ambience or self._setting_ambience()
        values = self.settings.placeholder_values()
        if person is None and look_up:
            person = self.safe_person()
        memos: tuple[MemoClip, ...] = ()
        if person is not None:
            values["safe_person"] = person.name
            values["relationship"] = relationship_phrase(person.relationship) or None
            memos = tuple(
                MemoClip(str(person.memo_path(m)), m.seconds, f"A message from {person.name}")
                for m in person.memos_in_turn()
            )
        spoken = self.settings.spoken_placeholder_values()
        if person is not None:  # the voice says who the session is with, as the caption shows
            spoken["safe_person"] = person.name
        return SessionOptions(values, chosen, self.settings.number("rate"), spoken,
                              self.settings.by_name(), memos=memos,
                              person=person.name if person is not None else None)

    def preview(
        self,
        voice: str,
        line: str = PREVIEW_LINE,
        name: str | None = None,
        name_spoken: str | None = None,
    ) -> Session:
        """Say `line` in `voice` (an id from `voices`, "" for the default), now.

        `name` and `name_spoken`, when given, stand in for the saved ones: the Settings dialog
        lets a person hear a name (and its respelling) before saving it. Each is checked as
        the setting would be, and one that would be refused is left out rather than spoken.
        The voice's narrator is kept until another is previewed, so trying the same voice
        again is instant; its lines share the narration cache with everything else.
        """
        from coreg_desktop.practice.model import Practice, Say

        narrator = self._preview_narrator(voice)
        options = self.options()
        if name is not None:
            shown = _checked_name(name)
            said = _checked_name(name_spoken or "") or shown
            options = replace(
                options,
                values={**options.values, "name": shown},
                spoken={**(options.spoken or options.values), "name": said if shown else None},
            )
        practice = Practice(id=PREVIEW_ID, title="Voice preview", ambience="none",
                            steps=(Say(line),))
        return self.player.play(self.source(practice, options), "none", narrator=narrator)

    def play_memo(self, person: str, memo_file: str) -> Session:
        """Play one of a safe person's memos on its own, as Settings' Play button does."""
        from coreg_desktop.practice.model import Memo, Practice
        from coreg_desktop.practice.timeline import MemoClip
        from coreg_desktop.safe_people import SafePersonError
        from coreg_desktop.sources import PracticeSource

        found = self.safe_people.require(person)
        memo = next((m for m in found.memos if m.file == memo_file), None)
        if memo is None:
            raise SafePersonError(f"{found.name} has no such memo any more")
        clip = MemoClip(str(found.memo_path(memo)), memo.seconds, memo.label)
        line = Practice(id=MEMO_PREVIEW_ID, title=memo.label, ambience="none", steps=(Memo(),))
        return self.player.play(PracticeSource(line, memos=(clip,)), "none")

    def _preview_narrator(self, voice: str) -> Narrator:
        from coreg_desktop.tts import make_synthesizer
        from coreg_desktop.tts.narrator import Narrator
        from coreg_desktop.tts.remote import out_of_process

        with self._lock:
            current = self.narrator
            chosen = self._voice_override or self.settings.text("voice")
            if voice == chosen:
                return current
            kept = self._previewing
            if kept is not None and kept[0] == voice:
                return kept[1]
            narrator = Narrator(out_of_process(make_synthesizer(voice or None)), current.cache,
                                rate=self.settings.number("rate"))
            if kept is not None:
                kept[1].unload()
            self._previewing = (voice, narrator)
            return narrator

    def ambience_for(self, practice: Practice, ambience: str | None = None) -> str:
        """The soundscape a practice will have: the rule of `options`, down to the practice's
        own, for work done before the session exists (preparing, preloading)."""
        return self.options(ambience).ambience or practice.ambience

    def practice(self, practice_id: str) -> Practice:
        """A practice by id; UnknownPractice (with the closest ids) for a typo."""
        practice = self.library.get(practice_id)
        if practice is None:
            raise UnknownPractice(practice_id, self.library.closest(practice_id))
        return practice

    def source(
        self,
        practice: Practice,
        options: SessionOptions,
        minutes: float | None = None,
        start_rate: float | None = None,
    ) -> PracticeSource | BreatheWithSource:
        """The practice as a program source, with the listener's names and pace filled in.

        Breathe with Me (the built-in one) is a source of its own: `minutes` is its length and
        `start_rate` renders it as if taps had measured that rate. Other practices have their
        own length, so both must be None for them (`breathe_with.BadValue` otherwise).
        """
        from coreg_desktop import breathe_with
        from coreg_desktop.sources import PracticeSource

        self.check_length(practice, minutes, start_rate)
        if is_breathe_with(practice):
            return breathe_with.BreatheWithSource(
                minutes if minutes is not None else breathe_with.DEFAULT_MINUTES,
                start_rate,
                options.values,
                options.rate,
                options.spoken,
                ambience=practice.ambience,
            )
        spoken = options.spoken
        if spoken is not None:  # the relationship is said as it is written
            spoken = {"relationship": options.values.get("relationship"), **spoken}
        return PracticeSource(
            practice, options.values, options.rate, spoken,
            by_name=options.by_name, memos=options.memos,
        )

    @staticmethod
    def check_length(
        practice: Practice, minutes: float | None = None, start_rate: float | None = None
    ) -> None:
        """`breathe_with.BadValue` (one line for the listener) unless `minutes` and
        `start_rate` make sense for this practice; checked before anything plays."""
        from coreg_desktop import breathe_with

        if not is_breathe_with(practice):
            if minutes is not None or start_rate is not None:
                what = "--minutes" if minutes is not None else "--start-rate"
                raise breathe_with.BadValue(
                    f"{what} only applies to {breathe_with.PRACTICE_ID}; {practice.id} has a "
                    "length of its own"
                )
            return
        if minutes is not None:
            breathe_with.check_minutes(minutes)
        if start_rate is not None:
            breathe_with.check_rate(start_rate)

    def first_text(self, practice: Practice) -> str | None:
        """The first sentence the practice says, with the listener's settings."""
        options = self.options()
        texts = self.source(practice, options).items
        for item in texts:
            if item.texts:
                return item.texts[0]
        return None

    # ------------------------------------------------------------------ doing

    def play(
        self,
        practice: Practice | str,
        ambience: str | None = None,
        minutes: float | None = None,
        person: str | None = None,
        checkin: CheckIn | None = None,
    ) -> Session:
        """Play a practice now, with the listener's settings (`minutes`: see `source`).

        `person` picks the safe person for this session (`person_for`); an unknown name raises
        SafePersonError before anything plays. Whoever a session is with becomes the last used,
        so the next one is with them unless another is picked. `checkin` is what the listener
        said before it, kept in the history with the session.
        """
        if isinstance(practice, str):
            practice = self.practice(practice)
        chosen = self.person_for(practice, person)
        options = self.options(ambience, chosen, look_up=uses_safe_person(practice))
        source = self.source(practice, options, minutes)
        session = self._start(self._with_sleep_tail(source), options.ambience,
                              options.ambience or practice.ambience, checkin)
        played = 0
        if options.person is not None and options.memos:
            from coreg_desktop.practice.timeline import MemoItem

            played = sum(isinstance(item, MemoItem) for item in source.items)
        if person is not None and chosen is not None:
            self._make_default(chosen.name)
        if options.person is not None and (played or person is not None):
            self.safe_people.mark_used(options.person, played)  # their next memo, next time
        return session

    def _start(self, source: ProgramSource, ambience: str | None, heard_ambience: str,
               checkin: CheckIn | None) -> Session:
        """Play a source, with the history told what to write when it starts."""
        player = self.player
        recorder = self._recorder
        token = None
        if recorder is not None:
            token = recorder.expect(source.id, checkin, self._voice_heard(player),
                                    heard_ambience)
        try:
            return player.play(source, ambience)
        except BaseException:
            if recorder is not None and token is not None:
                recorder.cancel(token)
            raise

    # ------------------------------------------------------------------ the pacer

    @property
    def patterns(self) -> PatternBook:
        """The breathing patterns: built in, and the listener's own (read when first needed)."""
        with self._lock:
            if self._patterns is None:
                from coreg_desktop.practice.patterns import PatternBook

                self._patterns = PatternBook(paths.user_patterns_file(), report=self._report)
            return self._patterns

    def reload_patterns(self) -> None:
        """Read the listener's patterns again next time (a terminal may have added one)."""
        with self._lock:
            self._patterns = None

    def pacer(self, pattern: str | None = None, minutes: float | None = None,
              cue: Cue | None = None, ambience: str | None = None) -> PacerSource:
        """A breathing pacer source; PatternError or ValueError (one line) for a bad choice.
        The soundscape is the listener's setting, else none: the cues are the point."""
        from coreg_desktop.practice.model import Cue
        from coreg_desktop.practice.patterns import DEFAULT_PATTERN
        from coreg_desktop.sources import PacerSource, check_pacer_minutes

        chosen = self.patterns.get(pattern or DEFAULT_PATTERN)
        length = check_pacer_minutes(PACER_DEFAULT_MINUTES if minutes is None else minutes)
        return PacerSource(chosen, length, cue or Cue.TONE,
                           ambience=self.options(ambience).ambience or "none")

    def play_pacer(self, source: PacerSource, checkin: CheckIn | None = None) -> Session:
        return self._start(self._with_sleep_tail(source), source.ambience, source.ambience,
                           checkin)

    def render_pacer(self, source: PacerSource,
                     progress: Callable[[float], None] | None = None) -> np.ndarray:
        from coreg_desktop.session import render_source

        return render_source(source, self.narrator, self.bank, source.ambience,
                             voice_gain=self.settings.number("volume.voice"),
                             ambience_gain=self.settings.number("volume.ambience"),
                             progress=progress)

    def _setting_ambience(self) -> str | None:
        """The soundscape setting, if it can be played: a mix removed since it was chosen falls
        back to each practice's own soundscape, said once."""
        from coreg_desktop.audio.mixes import PREFIX

        value = self.settings.text("ambience") or None
        if value is not None and value.startswith(PREFIX):
            try:
                check_ambience(value)
            except UnknownAmbience as exc:
                if value not in self._missing_mixes:
                    self._missing_mixes.add(value)
                    self._on_notice(f"{exc}; each practice plays its own soundscape instead.")
                return None
        return value

    def _voice_heard(self, player: Player) -> str | None:
        """The voice a session will speak with, for the history; None: captions only."""
        from coreg_desktop.tts import DEFAULT_VOICE_ID

        if not player.narrator.available:
            return None
        return self._voice_override or self.settings.text("voice") or DEFAULT_VOICE_ID

    def _make_default(self, name: str) -> None:
        """`name` was picked for a session: the setting follows, as if chosen in Settings, so
        one rule (the setting, kept as the last person picked) decides every later default.
        Quiet when it cannot be saved: the practice is already playing, and must go on."""
        from coreg_desktop.settings import SettingError

        try:
            if self.settings.set("safe_person.name", name):
                self.settings.save()
        except (OSError, SettingError) as exc:
            log.warning("Could not keep %s as the safe person for next time: %s", name, exc)

    def tap(self) -> bool:
        """The listener tapped at the start of a breath in (Space, Enter, a click on the orb):
        for Breathe with Me, timestamped on the audio clock. False if nothing playing takes it."""
        return self.player.tap()

    def render(
        self,
        practice: Practice | str,
        ambience: str | None = None,
        minutes: float | None = None,
        start_rate: float | None = None,
        person: str | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> np.ndarray:
        """The whole practice as (frames, 2) float32: exactly what `play` plays (for Breathe
        with Me: what it plays when the taps measure `start_rate`), with `person` as in `play`.
        A render is a file, not a session: it changes no default and turns no memo.
        `progress`: see `session.render_source`."""
        from coreg_desktop.session import render_source

        if isinstance(practice, str):
            practice = self.practice(practice)
        options = self.options(ambience, self.person_for(practice, person),
                               look_up=uses_safe_person(practice))
        return render_source(
            self.source(practice, options, minutes, start_rate),
            self.narrator,
            self.bank,
            options.ambience,
            voice_gain=self.settings.number("volume.voice"),
            ambience_gain=self.settings.number("volume.ambience"),
            progress=progress,
        )

    def preload_ambience(self, practice: Practice, ambience: str | None = None) -> None:
        """Read the practice's soundscape from the disk cache now, if it is there (a few ms), so
        it plays from the first frame exactly as `render` writes it, instead of fading in late.
        An ambience never made before is not waited for: it would delay the first words."""
        from coreg_desktop.audio import ambience as ambience_mod

        chosen = self.ambience_for(practice, ambience)
        if ambience_mod.is_cached(chosen, self.bank.cache_dir):
            self.bank.ambience(chosen)

    def texts_of(self, practice: Practice) -> list[str]:
        """Every line the voice will say in a practice, with the listener's settings: what
        preparing ahead of time must make."""
        from coreg_desktop.practice.timeline import speech_texts

        return speech_texts(self.source(practice, self.options()).items)

    def keep_awake_while(self, busy: Callable[[], bool]) -> None:
        """Do not rest while `busy()` is true (the desktop's background preparation)."""
        self._busy_checks.append(busy)

    def rest(self) -> bool:
        """Let the voice model and soundscapes go and give the memory back to the system.

        Called by the player after a long quiet; False (ask again later) while other work is
        under way. The neural voices live in synthesis processes (tts/remote.py), which are
        stopped here, so a resting app holds no model. Everything comes back on demand: a
        cached line needs no model at all.
        """
        from coreg_desktop import memory
        from coreg_desktop.player import REST_AFTER_S

        now = time.monotonic()
        if any(busy() for busy in self._busy_checks):
            self._busy_seen = now
            return False
        if now - self._busy_seen < REST_AFTER_S:
            return False  # the preparation finished only a moment ago

        before = memory.rss_mb()
        with self._lock:
            narrator, bank = self._narrator, self._bank
        if narrator is not None:
            narrator.unload()
        with self._lock:
            previewed, self._previewing = self._previewing, None
        if previewed is not None:
            previewed[1].unload()
        if bank is not None:
            bank.release()
        if self._player is not None:
            self._player.forget_ended()  # the last session's clips and soundscape, too
        remote = sys.modules.get("coreg_desktop.tts.remote")
        if remote is not None:  # voices left from before a change of voice, too
            remote.stop_all()
        memory.give_back()
        log.info("Resting: %.0f MB -> %.0f MB", before, memory.rss_mb())
        return True

    def close(self) -> None:
        """Fade out, close the stream, deliver the last events, stop following the settings."""
        self._unsubscribe()
        if self._sleep is not None:
            self._sleep.close()
        if self._player is not None:
            self._player.close()
        if self._recorder is not None:
            self._recorder.close()  # after the player: its last Ended is written first
        if self._history is not None and self._owns_history:
            self._history.close()
        remote = sys.modules.get("coreg_desktop.tts.remote")
        if remote is not None:  # no synthesis child outlives the app, nor is waited for
            remote.close_all()

    # ------------------------------------------------------------------ following the settings

    def _settings_changed(self, keys: list[str]) -> None:
        if self._player is None:
            if self._narrator is not None and any(k in VOICE_KEYS for k in keys):
                self._renew_narrator()
            return
        if any(k in VOLUME_KEYS for k in keys):
            self._player.set_volumes(
                self.settings.number("volume.voice"), self.settings.number("volume.ambience")
            )
        if any(k in VOICE_KEYS for k in keys):
            self._renew_narrator()

    def _renew_narrator(self) -> None:
        """A new voice or rate: the next session uses it (the one playing keeps its own)."""
        with self._lock:
            narrator = self._make_narrator()
            self._narrator = narrator
            if self._player is not None:
                self._player.narrator = narrator
