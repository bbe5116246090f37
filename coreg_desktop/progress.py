"""What the Progress page says, computed from the history without Qt: pure and testable.

The page answers the question a person in distress actually has ("does this help me, and which
practice helps most?") and nothing that could read as a judgement. So:

* minutes per week count only what was heard, in the week it was heard in, local time;
* a practice's change from before to after is an average over the sessions that have both
  answers, and is only stated with at least `MIN_RATED` of them ("too few to say" otherwise);
* a streak exists only as a count of days in a row that includes today or yesterday; a day
  without practice is never mentioned (there is no function here that could say it).

Days are the local days where each session was done (its own recorded time zone), so a session
at 23:30 in Lisbon stays on that evening even when the page is read in Berlin.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from coreg_desktop.checkin import describe_change

log = logging.getLogger(__name__)

#: A practice's average change is said only when it rests on at least this many rated sessions.
MIN_RATED = 3
WEEKS = 12
RECENT = 8
TOO_FEW = "too few to say"
EMPTY_TEXT = "Nothing here yet. Your practices will appear after you play one."


class Record(Protocol):
    """The fields of `history.SessionRecord` this module reads (so tests can hand-make rows)."""

    @property
    def practice(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def timezone(self) -> str: ...
    @property
    def listened_seconds(self) -> float: ...
    @property
    def completed(self) -> bool: ...
    @property
    def ended_by(self) -> str | None: ...
    @property
    def before(self) -> int | None: ...
    @property
    def after(self) -> int | None: ...


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local_time(record: Record, fallback: tzinfo | None = None) -> datetime:
    """When the session started, on the clock where it was done (else `fallback`'s clock)."""
    zone = _zone(record.timezone) or fallback
    return record.started_at.astimezone(zone) if zone is not None else record.started_at


def local_day(record: Record, fallback: tzinfo | None = None) -> date:
    return local_time(record, fallback).date()


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Week:
    start: date  # a Monday
    minutes: float


def weekly_minutes(
    records: Iterable[Record], today: date, weeks: int = WEEKS, fallback: tzinfo | None = None
) -> list[Week]:
    """Minutes listened in each of the last `weeks` weeks (the current one last), zeros kept
    so the chart's axis is always the same twelve weeks."""
    first = week_start(today) - timedelta(weeks=weeks - 1)
    totals = {first + timedelta(weeks=i): 0.0 for i in range(weeks)}
    for record in records:
        start = week_start(local_day(record, fallback))
        if start in totals:
            totals[start] += max(0.0, record.listened_seconds) / 60.0
    return [Week(start, minutes) for start, minutes in totals.items()]


@dataclass(frozen=True)
class PracticeChange:
    """How a practice's sessions went, from before to after, over those that have both."""

    practice: str
    title: str
    sessions: int  # every session of the practice
    rated: int  # those with both a before and an after answer
    before: float | None  # averages over the rated ones; None below MIN_RATED
    after: float | None

    @property
    def enough(self) -> bool:
        return self.before is not None and self.after is not None

    def text(self) -> str:
        """"from 6.5 to 4 on average, over 5 sessions", or "too few to say (2 rated)"."""
        if not self.enough:
            rated = f" ({self.rated} rated)" if self.rated else ""
            return TOO_FEW + rated
        assert self.before is not None and self.after is not None
        return (f"from {_one_place(self.before)} to {_one_place(self.after)} on average, "
                f"over {self.rated} session{'s' if self.rated != 1 else ''}")


def _one_place(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def practice_changes(records: Iterable[Record]) -> list[PracticeChange]:
    """One entry per practice played, the most played first (then by title): no ranking by
    "result", which would turn a gentle view into a scoreboard."""
    by_id: dict[str, list[Record]] = {}
    for record in records:
        by_id.setdefault(record.practice, []).append(record)
    out: list[PracticeChange] = []
    for practice, rows in by_id.items():
        rated = [r for r in rows if r.before is not None and r.after is not None]
        enough = len(rated) >= MIN_RATED
        before = sum(r.before for r in rated if r.before is not None) / len(rated) if enough \
            else None
        after = sum(r.after for r in rated if r.after is not None) / len(rated) if enough \
            else None
        out.append(PracticeChange(practice, rows[-1].title or practice, len(rows), len(rated),
                                  before, after))
    out.sort(key=lambda c: (-c.sessions, c.title.casefold()))
    return out


def practice_days(records: Iterable[Record], fallback: tzinfo | None = None) -> set[date]:
    """The local days with at least one practice (the calendar's soft marks)."""
    return {local_day(r, fallback) for r in records}


def current_streak(days: set[date], today: date) -> int:
    """Days in a row with a practice, ending today, or yesterday when today has none yet (the
    day is not over). 0 otherwise: the page then says nothing at all about streaks."""
    day = today if today in days else today - timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count


def streak_text(streak: int) -> str | None:
    """Said only when there is something kind to say."""
    if streak < 2:
        return None
    return f"{streak} days in a row with a practice."


def minutes_text(seconds: float) -> str:
    minutes = seconds / 60.0
    if minutes < 1:
        return "under a minute"
    return f"{round(minutes)} min"


def how_it_ended(record: Record) -> str:
    """Plain words: heard to the end, stopped after a while, or not finished (killed, crashed:
    the history has no end for it), with the time listened."""
    heard = minutes_text(record.listened_seconds)
    if record.completed or record.ended_by == "completed":
        return heard
    if record.ended_by == "stopped":
        return f"stopped after {heard}"
    return f"not finished, {heard} listened"


def session_line(record: Record, fallback: tzinfo | None = None) -> str:
    """One row of the recent list: "Tue 3 Mar, 19:05 · Stay Safe · 8 min · from 7 to 4"."""
    when = local_time(record, fallback)
    parts = [f"{when:%a} {when.day} {when:%b}, {when:%H:%M}", record.title or record.practice,
             how_it_ended(record)]
    if record.before is not None and record.after is not None:
        parts.append(describe_change(record.before, record.after))
    elif record.before is not None:
        parts.append(f"{record.before} before")
    elif record.after is not None:  # the tray's quick reset asks only afterwards
        parts.append(f"{record.after} after")
    return " \u00b7 ".join(parts)


def recent(records: Sequence[Record], count: int = RECENT) -> list[Record]:
    """The last `count` sessions, newest first (`records` is oldest first, as history gives)."""
    return list(reversed(records[-count:])) if count > 0 else []


@dataclass(frozen=True)
class Summary:
    """Everything the Progress page shows, computed once per refresh."""

    empty: bool
    weeks: list[Week]
    changes: list[PracticeChange]
    days: set[date]
    recent: list[Record]
    total_minutes: float
    sessions: int
    streak: int | None  # None when streaks are off


def summarize(
    records: Sequence[Record],
    today: date,
    *,
    streaks: bool = False,
    fallback: tzinfo | None = None,
) -> Summary:
    days = practice_days(records, fallback)
    return Summary(
        empty=not records,
        weeks=weekly_minutes(records, today, fallback=fallback),
        changes=practice_changes(records),
        days=days,
        recent=recent(records),
        total_minutes=sum(max(0.0, r.listened_seconds) for r in records) / 60.0,
        sessions=len(records),
        streak=current_streak(days, today) if streaks else None,
    )
