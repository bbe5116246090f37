"""When the next gentle reminder is due: a pure function of now, the times and the days.

The desktop sets one single-shot timer to the answer (desktop/reminders.py) instead of waking up
every minute to ask "is it time yet?", so idle in the tray costs nothing. Kept free of Qt so the
awkward cases are tested directly:

* a time already past today moves to its next allowed day;
* a wall-clock time that does not exist on a day (skipped by a DST change, 02:30 on a spring
  night in Europe) is due at the first moment after the jump, the same instant the clock shows
  03:30, never silently dropped;
* a time that happens twice (an autumn night) is due the first time only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from coreg_desktop.settings import WEEKDAYS

#: Looking this many days ahead always finds a due time when any day is allowed.
HORIZON_DAYS = 8


def parse_time(text: str) -> time:
    hours, minutes = text.strip().split(":")
    return time(int(hours), int(minutes))


def wall_clock(day: date, at: time, zone: tzinfo) -> datetime:
    """`day` at `at` on `zone`'s clock, as an aware instant.

    For a time skipped by a DST jump, zoneinfo's fold=0 reading uses the offset from before the
    jump, which lands the instant just after it (02:30 CET -> 01:30 UTC = 03:30 CEST).
    Ambiguous times (fold=0) are the first of the two.
    """
    return datetime.combine(day, at, tzinfo=zone).replace(fold=0)


def next_due(
    now: datetime,
    times: Iterable[str],
    days: Iterable[str],
    zone: tzinfo | None = None,
) -> datetime | None:
    """The first reminder instant strictly after `now` (aware), or None when there is none
    (no times, or no days). `zone` is the local clock the times are read on (default: `now`'s
    own zone)."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    zone = zone or now.tzinfo or timezone.utc
    clock = [parse_time(t) for t in times]
    allowed = {WEEKDAYS.index(d) for d in days if d in WEEKDAYS}
    if not clock or not allowed:
        return None
    today = now.astimezone(zone).date()
    best: datetime | None = None
    for offset in range(-1, HORIZON_DAYS):  # yesterday too: a skipped hour can land after now
        day = today + timedelta(days=offset)
        if day.weekday() not in allowed:
            continue
        for at in clock:
            due = wall_clock(day, at, zone)
            if due.astimezone(timezone.utc) > now.astimezone(timezone.utc) and (
                best is None or due.astimezone(timezone.utc) < best.astimezone(timezone.utc)
            ):
                best = due
    return best.astimezone(zone) if best is not None else None


def seconds_until(now: datetime, due: datetime) -> float:
    """Real elapsed seconds from `now` to `due` (across any DST change), never negative."""
    return max(0.0, (due.astimezone(timezone.utc) - now.astimezone(timezone.utc)).total_seconds())
