""""Breathe with Me": a program source that follows the listener's own breath, then slows it.

A calm partner does not start by telling you how to breathe. They match you first, and then,
breath by breath, they slow down a little, and you come with them. This source does the same:

* **Listen.** After a welcome it asks the listener to breathe as they are and to tap at the
  start of each breath in. Four taps give their rate and where their breath is (`TapMeter`).
  With no tap at all for `NO_TAP_S`, it starts from `DEFAULT_RATE`.
* **Follow.** The orb and soft tones breathe at that rate, in step with the taps, for
  `FOLLOW_BREATHS` breaths.
* **Lead.** One line says it will slow down now; then each breath is at most `LEAD_STEP` breaths
  a minute slower than the one before, down to `TARGET_RATE` with the breath out longer than the
  breath in, and it holds there. Tapping again re-measures, and the lead resumes from the new rate.
* **Close** with one line and the bell, so the whole session lasts about `minutes`.

It hands out one breath at a time, and the session asks for the next one only a few seconds
before it is needed (`lookahead_s`), so a tap changes what is heard within a breath or two. Taps
and its own sense of time are both on the program's clock (the audio clock): the session gives
each tap its heard position, and tells the source where its items really ended once every clip
is known (`placed`), so what it lays out lines up with the taps even though a spoken line's
length is only estimated in advance.
"""

from __future__ import annotations

import itertools
import logging
import math
import statistics
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from coreg_desktop.practice.model import Bell, Breathe, Cue, Phase, Practice, Say
from coreg_desktop.practice.timeline import (
    BELL_STEP_S,
    TAIL_S,
    BellItem,
    BreathPhase,
    Item,
    Silence,
    Speech,
    estimate_seconds,
    plan,
)
from coreg_desktop.sources import Chunk, SpokenSeconds, Wake

log = logging.getLogger(__name__)

PRACTICE_ID = "breathe-with"
TITLE = "Breathe with Me"
SUMMARY = "Tap along with your own breath; the orb matches you, then slows down with you."

#: Whole length of a session unless asked otherwise (welcome and closing included).
DEFAULT_MINUTES = 5.0
MIN_MINUTES = 1.0
MAX_MINUTES = 60.0
#: Breaths a minute that a start rate (and so a measured one) may be.
MIN_RATE = 4.0
MAX_RATE = 40.0
#: Where it starts without taps, where it leads to, and how fast.
DEFAULT_RATE = 12.0
TARGET_RATE = 6.0
LEAD_STEP = 0.4  # breaths a minute slower per breath; the promise is "never more than about 0.5"
FOLLOW_BREATHS = 3
#: The breath in takes this share of a breath (4 in, 6 out at six a minute).
INHALE_SHARE = 0.4
#: Taps that make a measurement, and how long it waits for the first one.
TAPS_TO_MEASURE = 4
NO_TAP_S = 20.0
#: Quiet handed out while listening, a piece at a time, so the audio clock keeps running.
LISTEN_PIECE_S = 1.0
#: A gap shorter than this before the first followed breath is not worth a silence of its own.
MIN_GAP_S = 0.05
#: Taps while it leads that measure a rate this close to its own are someone breathing along
#: with the orb, not someone left behind: the lead goes on instead of starting again.
ALONG_RATE = 1.0
ALONG_SHARE = 0.1

#: The three things it says: a welcome, when it starts to lead, and goodbye.
WELCOME = (
    "I'm here with you. Let's breathe together for a while, {name}. "
    "You don't need to change anything. Just breathe the way you are breathing now, "
    "and tap each time a breath in begins. I'll find your pace, and breathe along with you."
)
LEAD_LINE = "Now, let's slow down together. Just a little, with each breath."
CLOSING = (
    "That's it. Your breath knows this slower rhythm now, {name}. "
    "Stay with it as long as you like."
)
#: Shown (not said) once the taps have given the listener's pace.
FOUND_PACE = "Found your pace. Breathe along with the orb."
WELCOME_PAUSE_S = 1.0
LEAD_PAUSE_S = 0.5
CLOSING_PAUSE_S = 1.0


class BadValue(ValueError):
    """A start rate or length nobody could mean; its message is the one line a user sees."""


def check_rate(rate: float, what: str = "--start-rate") -> float:
    if not math.isfinite(rate) or not MIN_RATE <= rate <= MAX_RATE:
        raise BadValue(
            f"{what} {rate:g} is not a breathing rate Coreg can follow; give breaths a minute "
            f"between {MIN_RATE:g} and {MAX_RATE:g} (a calm rate is about 6, a fast one 20)"
        )
    return float(rate)


def check_minutes(minutes: float, what: str = "--minutes") -> float:
    if not math.isfinite(minutes) or not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise BadValue(
            f"{what} {minutes:g} is outside what Breathe with Me can do; give between "
            f"{MIN_MINUTES:g} and {MAX_MINUTES:g} minutes"
        )
    return float(minutes)


def practice() -> Practice:
    """How the library lists it. The steps are its shape with no taps (welcome, a slow pace,
    goodbye), so its listed length and the lines prepared ahead of time are right; what plays is
    `BreatheWithSource`, which the core builds for this id."""
    spoken = (Say(WELCOME, WELCOME_PAUSE_S), Say(LEAD_LINE, LEAD_PAUSE_S),
              Say(CLOSING, CLOSING_PAUSE_S), Bell())
    around = estimate_seconds(plan(Practice(PRACTICE_ID, TITLE, steps=spoken)))
    inhale, exhale = breath_seconds(TARGET_RATE)
    pace = Breathe(inhale=inhale, exhale=exhale, seconds=DEFAULT_MINUTES * 60.0 - around,
                   cue=Cue.TONE)
    return Practice(
        id=PRACTICE_ID,
        title=TITLE,
        summary=SUMMARY,
        tags=("quick", "breath", "panic", "connection"),
        ambience="soft-pad",
        steps=(spoken[0], pace, *spoken[1:]),
        builtin=True,
    )


# ----------------------------------------------------------------------------------- the taps


@dataclass(frozen=True)
class Measure:
    """The listener's breath as the taps tell it: breaths a minute, and when one began."""

    rate: float
    last_tap: float  # program seconds of the newest tap that counted
    number: int  # 1 for the first measurement, 2 after a re-measure, ...
    first_tap: float = 0.0  # program seconds of the run's first tap

    @property
    def period(self) -> float:
        return 60.0 / self.rate

    def next_breath_at(self, t: float) -> float:
        """The first breath in that the listener will start at or after `t`."""
        if t <= self.last_tap:
            return self.last_tap
        return self.last_tap + math.ceil((t - self.last_tap) / self.period - 1e-9) * self.period


def _median_breath(taps: list[float]) -> float:
    return statistics.median(b - a for a, b in itertools.pairwise(taps))


class TapMeter:
    """Turns taps into a rate, throwing away the taps that cannot be breaths.

    A run of taps measures once it has `TAPS_TO_MEASURE` of them. A tap much sooner than the
    run's breaths (a double press, a bump) is ignored; a tap much later (a pause, a missed tap)
    starts a new run, because guessing where the missing tap was would measure the wrong rate.
    The rate is the median breath of the run, so one uneven breath does not pull it around.
    """

    #: Faster than this is not a breath in; slower, and the run has gone stale.
    MIN_INTERVAL_S = 60.0 / MAX_RATE
    MAX_INTERVAL_S = 60.0 / MIN_RATE
    #: A breath this much shorter than the run's is an extra tap; this much longer, a new start.
    EARLY = 0.6
    LATE = 1.6

    def __init__(self) -> None:
        self._lock = threading.Lock()  # taps come from the GUI or the terminal, reads from the
        self._run: list[float] = []  # narration worker
        self._measure: Measure | None = None
        self._count = 0
        self.ignored = 0
        self.last_tap: float | None = None

    def tap(self, t: float) -> bool:
        """A tap heard at program second `t`; False when it was ignored as wildly off."""
        with self._lock:
            run = self._run
            if run and t <= run[-1]:
                self.ignored += 1
                return False
            if run:
                gap = t - run[-1]
                if gap < self.MIN_INTERVAL_S:
                    self.ignored += 1
                    log.debug("tap at %.2f ignored: %.2f s after the last", t, gap)
                    return False
                usual = _median_breath(run) if len(run) > 1 else None
                if gap > self.MAX_INTERVAL_S:
                    run.clear()
                elif usual is not None and gap < self.EARLY * usual and len(run) == 2:
                    del run[0]  # one breath is no rule: it may be the odd one, so drop it
                elif usual is not None and gap < self.EARLY * usual:
                    self.ignored += 1
                    log.debug("tap at %.2f ignored: %.2f s into a %.2f s breath", t, gap, usual)
                    return False
                elif usual is not None and gap > self.LATE * usual:
                    run.clear()
            run.append(t)
            self.last_tap = t
            if len(run) >= TAPS_TO_MEASURE:
                breath = _median_breath(run[-(TAPS_TO_MEASURE + 2) :])
                self._count += 1
                self._measure = Measure(60.0 / breath, t, self._count, run[0])
                log.info("breath measured: %.1f a minute (measurement %d)", 60.0 / breath,
                         self._count)
                run[:] = []  # the next taps are a new measurement: the listener catching up
            return True

    @property
    def measure(self) -> Measure | None:
        with self._lock:
            return self._measure

    @property
    def in_run(self) -> int:
        """Taps so far towards the next measurement."""
        with self._lock:
            return len(self._run)



# ------------------------------------------------------------------------------- the pacing


def breath_seconds(rate: float) -> tuple[float, float]:
    """(in, out) seconds of one breath at `rate` breaths a minute."""
    period = 60.0 / rate
    return period * INHALE_SHARE, period * (1.0 - INHALE_SHARE)


def slower(rate: float) -> float:
    """The next breath's rate when leading: a little slower, never below the target (and never
    faster: someone already breathing slowly is simply followed)."""
    if rate <= TARGET_RATE:
        return rate
    return max(TARGET_RATE, rate - LEAD_STEP)


class BreatheWithSource:
    """The program source for "Breathe with Me"; see the module docstring for what it does.

    `start_rate` skips the listening, as if the taps had measured that rate (the deterministic
    render); `minutes` is the whole session, welcome and closing included.
    """

    lookahead_s = 4.0

    def __init__(
        self,
        minutes: float = DEFAULT_MINUTES,
        start_rate: float | None = None,
        values: Mapping[str, str | None] | None = None,
        rate: float = 1.0,
        spoken_values: Mapping[str, str | None] | None = None,
        ambience: str = "soft-pad",
    ) -> None:
        self.minutes = check_minutes(minutes)
        self.start_rate = None if start_rate is None else check_rate(start_rate)
        self.meter = TapMeter()
        self._ambience = ambience
        self._speech = {
            key: plan(Practice(PRACTICE_ID, TITLE, steps=(Say(text, pause),)), values, rate,
                      spoken_values)
            for key, text, pause in (
                ("welcome", WELCOME, WELCOME_PAUSE_S),
                ("lead", LEAD_LINE, LEAD_PAUSE_S),
                ("closing", CLOSING, CLOSING_PAUSE_S),
            )
        }
        self._lock = threading.Lock()
        self._wake: Wake | None = None
        self._spoken_s: SpokenSeconds | None = None
        self._end = 0.0  # program seconds where what was handed out ends
        self._stage = "welcome"
        self._listen_from = 0.0
        self._rate = DEFAULT_RATE
        self._synced = 0  # the measurement the breaths follow (0: none yet)
        self._follow_left = 0
        self._led = False  # the lead line has been said
        self._cycle = 0
        #: (program second of its breath in, breaths a minute) of every breath handed out.
        self.breaths: list[tuple[float, float]] = []

    # ------------------------------------------------------------------ ProgramSource

    @property
    def id(self) -> str:
        return PRACTICE_ID

    @property
    def title(self) -> str:
        return TITLE

    @property
    def ambience(self) -> str:
        return self._ambience

    @property
    def items(self) -> list[Item]:
        """The lines it will say (for preparing them ahead of time, and the first words)."""
        return [item for key in ("welcome", "lead", "closing") for item in self._speech[key]]

    def attach(self, wake: Wake) -> None:
        self._wake = wake

    def estimated_seconds(self) -> float | None:
        return self.minutes * 60.0

    def tap(self, at_s: float) -> bool:
        """A tap at the start of a breath in, heard at program second `at_s`; False if it was
        ignored. The next breath handed out follows it (the session asks a few seconds ahead),
        so there is no need to wake the session."""
        return self.meter.tap(at_s)

    def tap_status(self) -> str:
        """A few words on the taps so far, for the player and the terminal."""
        taps = self.meter.in_run
        if taps:
            return f"{taps} of {TAPS_TO_MEASURE} taps"
        if self.meter.measure is not None:
            return FOUND_PACE
        return ""

    def placed(self, end_s: float, spoken_s: SpokenSeconds | None = None) -> None:
        """Where the items handed out so far really end on the program clock, and how long
        the lines already made take (so the goodbye ends the session on time)."""
        with self._lock:
            self._end = end_s
            self._spoken_s = spoken_s

    def next_items(self) -> Chunk:
        with self._lock:
            return self._next()

    # ------------------------------------------------------------------ the stages

    def _give(self, items: list[Item], last: bool = False) -> Chunk:
        self._end += sum(item.estimate() for item in items)
        return Chunk(items, last)

    def _next(self) -> Chunk:
        if self._stage == "done":
            return Chunk(last=True)
        if self._stage == "welcome":
            self._stage = "listen"
            chunk = self._give(list(self._speech["welcome"]))
            self._listen_from = self._end
            if self.start_rate is not None:
                self._begin(self.start_rate)
            return chunk
        if self._closing_due():
            self._stage = "done"
            # The time left is less than a breath: a quiet moment, so the whole lasts `minutes`.
            quiet = self.minutes * 60.0 - self._end - self._closing_seconds()
            rest: list[Item] = [Silence(quiet, 2)] if quiet >= MIN_GAP_S else []
            return self._give([*rest, *self._speech["closing"], BellItem(2)], last=True)
        if self._stage == "listen":
            return self._listen()
        return self._breathe()

    def _closing_seconds(self) -> float:
        said = 0.0
        for item in self._speech["closing"]:
            real = None
            if isinstance(item, Speech) and self._spoken_s is not None:
                real = self._spoken_s(item.voice_text)
            said += item.estimate() if real is None or not isinstance(item, Speech) else (
                real + item.gap_after)
        return said + BELL_STEP_S + TAIL_S

    def _closing_due(self) -> bool:
        """True when one more breath would push the closing past the session's length."""
        rate = self._rate if self._stage == "breathe" else DEFAULT_RATE
        return self._end + 60.0 / rate + self._closing_seconds() > self.minutes * 60.0

    def _listen(self) -> Chunk:
        measure = self.meter.measure
        if measure is not None:
            return self._sync(measure)
        since = max(self._listen_from, self.meter.last_tap or 0.0)
        if self._end - since >= NO_TAP_S:
            log.info("no taps for %.0f s: breathing at %.0f a minute", NO_TAP_S, DEFAULT_RATE)
            self._begin(DEFAULT_RATE)
            return self._breathe()
        return self._give([Silence(LISTEN_PIECE_S, 1)])

    def _begin(self, rate: float) -> None:
        self._stage = "breathe"
        self._rate = rate
        self._follow_left = FOLLOW_BREATHS

    def _sync(self, measure: Measure) -> Chunk:
        """Breathe at the measured rate, the next breath in starting when the listener's will."""
        self._begin(measure.rate)
        self._synced = measure.number
        gap = measure.next_breath_at(self._end) - self._end
        items: list[Item] = []
        if gap >= MIN_GAP_S:
            items.append(BreathPhase(Phase.REST, gap, 0, 0, Cue.SILENT, None, 1))
        self._follow_left -= 1  # this breath is the first of those that follow them
        return self._breath(items)

    def _breathe(self) -> Chunk:
        measure = self.meter.measure
        if measure is not None and measure.number != self._synced:
            self._synced = measure.number
            if not self._along(measure):
                return self._sync(measure)  # they tapped again: catch up with them
        if self._follow_left > 0:
            self._follow_left -= 1
            if self._follow_left == 0 and not self._led:
                self._led = True
                return self._breath([], then=list(self._speech["lead"]))
            return self._breath([])
        self._rate = slower(self._rate)
        return self._breath([])

    def _along(self, measure: Measure) -> bool:
        """Were those taps someone breathing with the orb? Their rate is then the orb's while
        they tapped (not now: it has led on since), give or take a little."""
        during = [rate for start, rate in self.breaths
                  if measure.first_tap - measure.period <= start <= measure.last_tap]
        if not during:
            return False
        ours = statistics.median(during)
        return abs(measure.rate - ours) <= max(ALONG_RATE, ALONG_SHARE * ours)

    def _breath(self, before: list[Item], then: list[Item] | None = None) -> Chunk:
        self._cycle += 1
        inhale, exhale = breath_seconds(self._rate)
        start = self._end + sum(item.estimate() for item in before)
        self.breaths.append((start, self._rate))
        items = [
            *before,
            BreathPhase(Phase.INHALE, inhale, self._cycle, 0, Cue.TONE, None, 1),
            BreathPhase(Phase.EXHALE, exhale, self._cycle, 0, Cue.TONE, None, 1),
            *(then or []),
        ]
        return self._give(items)
