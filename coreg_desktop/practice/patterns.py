"""Breathing patterns: one breath as seconds per phase, which a pacer repeats.

A pattern is data, like a practice: its phases are the same four a practice's `breathe` step has,
so a pacer and a practice lay breaths out the same way (`timeline.breaths`).
"""

from __future__ import annotations

from dataclasses import dataclass

from coreg_desktop.practice.model import Breathe, Cue


@dataclass(frozen=True)
class BreathPattern:
    id: str
    title: str
    inhale: float
    exhale: float
    hold: float = 0.0
    hold_after: float = 0.0

    @property
    def cycle_seconds(self) -> float:
        return self.inhale + self.hold + self.exhale + self.hold_after

    def as_breathe(self, cycles: int, cue: Cue = Cue.TONE) -> Breathe:
        """The pattern as a `breathe` step of `cycles` breaths."""
        return Breathe(
            inhale=self.inhale,
            exhale=self.exhale,
            hold=self.hold,
            hold_after=self.hold_after,
            cycles=cycles,
            cue=cue,
        )
