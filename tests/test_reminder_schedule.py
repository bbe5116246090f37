"""The next reminder time: days filter, past times today, and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from coreg_desktop.reminder_schedule import next_due, seconds_until

BERLIN = ZoneInfo("Europe/Berlin")
ALL = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def test_later_today() -> None:
    now = datetime(2026, 3, 18, 10, 0, tzinfo=BERLIN)  # Wednesday
    assert next_due(now, ["08:30", "19:00"], ALL) == datetime(2026, 3, 18, 19, 0, tzinfo=BERLIN)


def test_a_time_past_today_moves_to_tomorrow() -> None:
    now = datetime(2026, 3, 18, 19, 0, tzinfo=BERLIN)  # exactly at it: it has just fired
    assert next_due(now, ["19:00"], ALL) == datetime(2026, 3, 19, 19, 0, tzinfo=BERLIN)
    now = datetime(2026, 3, 18, 20, 0, tzinfo=BERLIN)
    assert next_due(now, ["08:30", "19:00"], ALL) == datetime(2026, 3, 19, 8, 30, tzinfo=BERLIN)


def test_only_on_the_chosen_days() -> None:
    now = datetime(2026, 3, 18, 20, 0, tzinfo=BERLIN)  # Wednesday evening
    due = next_due(now, ["09:00"], ["sat", "sun"])
    assert due == datetime(2026, 3, 21, 9, 0, tzinfo=BERLIN) and due.strftime("%a") == "Sat"
    due = next_due(now, ["19:00"], ["wed"])  # today's is past: a week later
    assert due == datetime(2026, 3, 25, 19, 0, tzinfo=BERLIN)


def test_nothing_to_schedule() -> None:
    now = datetime(2026, 3, 18, 20, 0, tzinfo=BERLIN)
    assert next_due(now, [], ALL) is None
    assert next_due(now, ["19:00"], []) is None
    with pytest.raises(ValueError):
        next_due(datetime(2026, 3, 18), ["19:00"], ALL)


def test_spring_forward_a_skipped_time_fires_right_after_the_jump() -> None:
    # 29 March 2026: clocks in Berlin go from 02:00 straight to 03:00.
    now = datetime(2026, 3, 29, 1, 0, tzinfo=BERLIN)
    due = next_due(now, ["02:30"], ALL)
    assert due is not None
    assert due.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST
    assert seconds_until(now, due) == 90 * 60  # real time: 01:00 CET to 03:30 CEST


def test_spring_forward_an_evening_time_is_one_real_hour_closer() -> None:
    now = datetime(2026, 3, 28, 19, 0, tzinfo=BERLIN)
    due = next_due(now, ["19:00"], ALL)
    assert due == datetime(2026, 3, 29, 19, 0, tzinfo=BERLIN)
    assert seconds_until(now, due) == timedelta(hours=23).total_seconds()


def test_fall_back_a_doubled_time_fires_once() -> None:
    # 25 October 2026: 02:00-03:00 happens twice in Berlin.
    now = datetime(2026, 10, 25, 1, 0, tzinfo=BERLIN)
    due = next_due(now, ["02:30"], ALL)
    assert due is not None and due.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    # Just after the first 02:30, the second one (an hour later in real time) is not due.
    after_first = datetime(2026, 10, 25, 0, 31, tzinfo=UTC).astimezone(BERLIN)
    again = next_due(after_first, ["02:30"], ALL)
    assert again is not None and again.date().day == 26


def test_in_another_zone() -> None:
    now = datetime(2026, 3, 18, 21, 0, tzinfo=UTC)  # 06:00 on the 19th in Tokyo
    due = next_due(now, ["07:00"], ALL, ZoneInfo("Asia/Tokyo"))
    assert due == datetime(2026, 3, 19, 7, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
