"""The plain records the block maths work on: a child's sessions, their sets and a plan.

No store, no Dash: :mod:`review.block_load` fills these from a store, tests build them by
hand. Days are calendar days in the clinic's local time (the process's time zone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from contract.vocab import SUPPORT_POINTS
from store.plans import PlannedExercise


@dataclass(frozen=True)
class SetRecord:
    """One set as recorded: ``reps`` are the times of the reps that stand (not revoked)."""

    id: str
    exercise: str
    domain: str
    surface: str
    support: str
    planned_reps: int
    started: float
    ended: float | None
    reps: tuple[float, ...] = ()
    quality: str | None = None
    profile: str = ""

    @property
    def active_s(self) -> float:
        """Time in the set (0 for a set never ended)."""
        return max(0.0, self.ended - self.started) if self.ended is not None else 0.0

    @property
    def support_level(self) -> int:
        """0 (trunk) … 6 (no support): :data:`contract.vocab.SUPPORT_POINTS` index."""
        return SUPPORT_POINTS.index(self.support) if self.support in SUPPORT_POINTS else 0


@dataclass(frozen=True)
class SessionRecord:
    id: str
    started: float
    ended: float | None
    sets: tuple[SetRecord, ...] = ()

    @property
    def day(self) -> date:
        return day_of(self.started)

    @property
    def minutes(self) -> float:
        """From start to end (or to the end of its last set, for a session never ended)."""
        end = self.ended
        if end is None:
            end = max((s.ended or s.started for s in self.sets), default=self.started)
        return max(0.0, end - self.started) / 60.0


PlanItem = PlannedExercise
"""An exercise planned for every session: ``sets`` × ``reps``, aiming at a support point
(the store's own record of it)."""


@dataclass(frozen=True)
class PlanSpec:
    """What a block plans: days ``start`` … ``end`` (inclusive) on ``weekdays`` (ISO, 1 =
    Monday), ``sessions_per_day`` sessions of ``session_minutes`` each."""

    start: date
    end: date
    sessions_per_day: int
    session_minutes: int = 45
    weekdays: tuple[int, ...] = (1, 2, 3, 4, 5)
    items: tuple[PlanItem, ...] = ()

    def days(self, through: date | None = None) -> list[date]:
        """Planned days up to and including ``through`` (all of them without)."""
        last = self.end if through is None else min(self.end, through)
        out, day = [], self.start
        while day <= last:
            if day.isoweekday() in self.weekdays:
                out.append(day)
            day = date.fromordinal(day.toordinal() + 1)
        return out

    def item(self, exercise: str) -> PlanItem | None:
        return next((i for i in self.items if i.exercise == exercise), None)


def day_of(t: float) -> date:
    """The local calendar day of an epoch time."""
    return datetime.fromtimestamp(t).date()


def in_order(sessions: Sequence[SessionRecord]) -> list[SessionRecord]:
    return sorted(sessions, key=lambda s: (s.started, s.id))
