"""Made-up but plausible history, for the Progress page's tests, screenshots and benchmark.

Sessions are spread over the past weeks at everyday hours, through the real `History` (so the
page reads exactly what the app would have written): most heard to the end with a before and an
after answer that usually comes down a little, some stopped, one or two never finished.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from coreg_desktop.history import History

PRACTICES = (
    ("quick-reset", "Quick Reset", 150.0),
    ("stay-safe", "Stay Safe", 480.0),
    ("safe-person", "A Safe Person", 420.0),
    ("self-compassion", "Self-Compassion", 360.0),
)


def fill(history: History, count: int, weeks: int, today: date, seed: int = 9) -> None:
    """`count` sessions over the `weeks` weeks up to `today` (local time)."""
    rng = random.Random(seed)
    zone = datetime.now().astimezone().tzinfo
    span = weeks * 7
    for n in range(count):
        practice, title, length = PRACTICES[rng.choice((0, 0, 1, 1, 1, 2, 3))]
        day = today - timedelta(days=span - 1 - (n * span) // count)
        at = datetime.combine(day, time(rng.choice((7, 8, 12, 18, 21, 22)), rng.randrange(60)),
                              tzinfo=zone).astimezone(UTC)
        before = rng.choice((None, 4, 5, 6, 7, 7, 8, 9))
        state = rng.choice((None, None, "on edge", "overwhelmed", "shut down", "settled"))
        row = history.start(practice, title, voice="en_US-joe-medium", ambience="rain",
                            before=before, state=state if before is not None else None,
                            started_at=at)
        ending = rng.random()
        if ending < 0.8:
            history.end(row, length, "completed")
            if before is not None and rng.random() < 0.85:
                history.set_after(row, max(0, before - rng.choice((0, 1, 2, 2, 3, 4))))
        elif ending < 0.97:
            history.end(row, length * rng.uniform(0.2, 0.8), "stopped")
        else:
            history.progress(row, length * 0.5)  # killed: never ended
