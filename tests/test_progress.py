"""The Progress page's statistics, on hand-made histories (no Qt, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from coreg_desktop import progress


@dataclass(frozen=True)
class Row:
    practice: str
    started_at: datetime
    listened_seconds: float = 300.0
    before: int | None = None
    after: int | None = None
    completed: bool = True
    ended_by: str | None = "completed"
    timezone: str = "Europe/Berlin"
    title: str = ""


def at(day: date, hour: int = 12, tz: str = "Europe/Berlin") -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(tz)).astimezone(UTC)


TODAY = date(2026, 3, 18)  # a Wednesday


def test_weekly_minutes_are_twelve_weeks_ending_this_week_with_zeros_kept() -> None:
    rows = [
        Row("stay-safe", at(TODAY), 600),
        Row("stay-safe", at(TODAY - timedelta(days=2)), 120),  # Monday: the same week
        Row("stay-safe", at(TODAY - timedelta(days=3)), 60),  # Sunday: the week before
        Row("stay-safe", at(TODAY - timedelta(weeks=20)), 999),  # too old to show
    ]
    weeks = progress.weekly_minutes(rows, TODAY)
    assert len(weeks) == 12
    assert weeks[-1].start == date(2026, 3, 16) and weeks[-1].minutes == 12.0
    assert weeks[-2].minutes == 1.0
    assert all(w.minutes == 0 for w in weeks[:-2])
    assert [w.start.weekday() for w in weeks] == [0] * 12


def test_a_late_evening_session_stays_on_its_own_local_day() -> None:
    # 23:30 in Lisbon is 00:30 the next day in Berlin: it belongs to the Lisbon evening.
    lisbon = datetime(2026, 3, 15, 23, 30, tzinfo=ZoneInfo("Europe/Lisbon"))
    row = Row("quick-reset", lisbon.astimezone(UTC), timezone="Europe/Lisbon")
    assert progress.local_day(row) == date(2026, 3, 15)
    # An unknown zone falls back to the viewer's clock, never crashes.
    odd = Row("quick-reset", lisbon.astimezone(UTC), timezone="Mars/Olympus")
    assert progress.local_day(odd, ZoneInfo("Europe/Berlin")) == date(2026, 3, 16)


def test_the_average_change_needs_three_rated_sessions() -> None:
    day = TODAY
    rows = [
        Row("stay-safe", at(day), before=8, after=5, title="Stay Safe"),
        Row("stay-safe", at(day), before=7, after=4, title="Stay Safe"),
        Row("stay-safe", at(day), before=6, after=4, title="Stay Safe"),
        Row("stay-safe", at(day), before=9, title="Stay Safe"),  # no after: not rated
        Row("self-compassion", at(day), before=5, after=3, title="Self-Compassion"),
        Row("self-compassion", at(day), before=5, after=2, title="Self-Compassion"),
    ]
    stay, kind = progress.practice_changes(rows)
    assert (stay.practice, stay.sessions, stay.rated) == ("stay-safe", 4, 3)
    assert stay.before == 7.0 and stay.after is not None and round(stay.after, 2) == 4.33
    assert stay.text() == "from 7 to 4.3 on average, over 3 sessions"
    assert kind.before is None and not kind.enough
    assert kind.text() == "too few to say (2 rated)"


def test_streaks_count_days_in_a_row_and_never_a_missed_day() -> None:
    days = {TODAY - timedelta(days=n) for n in (1, 2, 3, 6)}
    assert progress.current_streak(days, TODAY) == 3  # today is not over yet
    assert progress.current_streak(days | {TODAY}, TODAY) == 4
    assert progress.current_streak({TODAY - timedelta(days=4)}, TODAY) == 0
    assert progress.streak_text(0) is None and progress.streak_text(1) is None
    assert progress.streak_text(3) == "3 days in a row with a practice."


def test_summary_streak_only_when_asked_for() -> None:
    rows = [Row("stay-safe", at(TODAY - timedelta(days=n))) for n in range(3)]
    assert progress.summarize(rows, TODAY).streak is None
    assert progress.summarize(rows, TODAY, streaks=True).streak == 3
    empty = progress.summarize([], TODAY)
    assert empty.empty and empty.sessions == 0 and len(empty.weeks) == 12


def test_session_lines_say_how_it_went_in_plain_words() -> None:
    when = datetime(2026, 3, 3, 19, 5, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)
    done = Row("stay-safe", when, 480, before=7, after=4, title="Stay Safe")
    assert progress.session_line(done) == "Tue 3 Mar, 19:05 · Stay Safe · 8 min · from 7 to 4"
    stopped = Row("stay-safe", when, 130, completed=False, ended_by="stopped", title="Stay Safe")
    assert progress.session_line(stopped).endswith("stopped after 2 min")
    killed = Row("stay-safe", when, 200, before=6, completed=False, ended_by=None,
                 title="Stay Safe")
    assert progress.session_line(killed).endswith("not finished, 3 min listened · 6 before")
    tray = Row("quick-reset", when, 100, after=3, title="Quick Reset")  # asked only after
    assert progress.session_line(tray).endswith("Quick Reset · 2 min · 3 after")
    assert progress.minutes_text(20) == "under a minute"


def test_recent_is_newest_first() -> None:
    rows = [Row(f"p{n}", at(TODAY)) for n in range(12)]
    assert [r.practice for r in progress.recent(rows, 3)] == ["p11", "p10", "p9"]


def test_two_thousand_sessions_summarize_quickly() -> None:
    import time

    rows = [Row("stay-safe", at(TODAY - timedelta(days=n % 400), 8 + n % 12), 300, n % 11,
                (n + 3) % 11) for n in range(2000)]
    started = time.perf_counter()
    summary = progress.summarize(rows, TODAY, streaks=True)
    assert time.perf_counter() - started < 0.3  # the whole page has 300 ms (a busy machine too)
    assert summary.sessions == 2000
