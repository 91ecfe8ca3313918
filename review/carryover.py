"""Carry-over: how much of a gain made within a session is still there next time.

The definition (also in the README, "Carry-over"):

1. **Measure.** Per set, on a measure the therapist reads off the set itself:
   - hold exercises (signal profile ``static-hold``): the **longest hold** in seconds.
     Each rep of a hold exercise marks the end of a hold, so the holds are the times from
     the set's start to its first rep and between consecutive reps; a set with no rep has
     no hold measure;
   - every other exercise: the **support level**, the index of the support point in
     ``trunk, pelvis, thigh, knee, shank, ankle-foot, none`` (0 … 6, proximal → distal;
     higher is less support).
2. **Like with like.** Within a session the gain is measured on the surface of the
   exercise's first set in that session (sets of the exercise on other surfaces are left
   out). Later, the first set of the exercise on that same surface is used; when a later
   session did the exercise only on another surface, its first set is used and the result
   is marked ``crosses_surface`` (a foam pad under the board changes what it measures).
3. **Within-session gain** = measure of the last set − measure of the first set of the
   exercise (same surface) in a session. Only a gain above zero has a carry-over.
4. **Carry-over** = (measure at the first set of the exercise in the *next session* that
   did it − first-set measure) / gain: **1** = all of the gain kept, **0** = back to where
   the session started; above 1 it improved further, below 0 it fell below the start.
   The *next day* carry-over is the same with the first session that did the exercise on a
   later calendar day (an overnight gap; a missed day is simply skipped).
5. Per exercise, carry-over is the **mean** over its sessions with a gain and a later
   session; ``None`` when there is none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from contract.vocab import QUALITIES, SUPPORT_POINTS
from review.block_model import SessionRecord, SetRecord, day_of, in_order

HOLD_PROFILE = "static-hold"
MEASURE_NAMES = {"hold": "longest hold (s)", "support": "support level (0 trunk … 6 none)"}


def measure_kind(profile: str) -> str:
    """``hold`` for hold exercises, ``support`` for the rest."""
    return "hold" if profile == HOLD_PROFILE else "support"


def longest_hold(s: SetRecord) -> float | None:
    """Seconds of the longest hold in a set (start → first rep, rep → rep)."""
    if not s.reps:
        return None
    marks = (s.started, *sorted(s.reps))
    return max(b - a for a, b in zip(marks, marks[1:], strict=False))


def set_measure(s: SetRecord, kind: str) -> float | None:
    return longest_hold(s) if kind == "hold" else float(s.support_level)


@dataclass(frozen=True)
class CarryPair:
    """One session's within-session gain and what was left of it later."""

    session: str
    day: date
    surface: str
    first: float
    last: float
    next_session: str | None = None
    next_first: float | None = None
    next_crosses_surface: bool = False
    next_day_session: str | None = None
    next_day_first: float | None = None
    next_day_crosses_surface: bool = False

    @property
    def gain(self) -> float:
        return self.last - self.first

    @property
    def carry_next_session(self) -> float | None:
        return _carry(self.first, self.gain, self.next_first)

    @property
    def carry_next_day(self) -> float | None:
        return _carry(self.first, self.gain, self.next_day_first)


def _carry(first: float, gain: float, later: float | None) -> float | None:
    if later is None or gain <= 0:
        return None
    return (later - first) / gain


@dataclass(frozen=True)
class ExerciseCarry:
    exercise: str
    measure: str  # "hold" or "support"
    pairs: tuple[CarryPair, ...]

    @property
    def next_session(self) -> float | None:
        return _mean([p.carry_next_session for p in self.pairs])

    @property
    def next_day(self) -> float | None:
        return _mean([p.carry_next_day for p in self.pairs])

    @property
    def crosses_surface(self) -> bool:
        return any((p.next_crosses_surface and p.carry_next_session is not None)
                   or (p.next_day_crosses_surface and p.carry_next_day is not None)
                   for p in self.pairs)


def _mean(values: Sequence[float | None]) -> float | None:
    real = [v for v in values if v is not None]
    return sum(real) / len(real) if real else None


def _sets_of(session: SessionRecord, exercise: str) -> list[SetRecord]:
    return sorted((s for s in session.sets if s.exercise == exercise),
                  key=lambda s: (s.started, s.id))


def _first_on(sets: list[SetRecord], surface: str, kind: str) -> tuple[float, bool] | None:
    """First measured set on ``surface``, else on any surface (crossing)."""
    same = [s for s in sets if s.surface == surface]
    for s in same + [s for s in sets if s.surface != surface]:
        value = set_measure(s, kind)
        if value is not None:
            return value, s.surface != surface
    return None


def exercise_carry(sessions: Sequence[SessionRecord], exercise: str,
                   profile: str = "") -> ExerciseCarry:
    """Carry-over of one exercise over a child's sessions (see the module docstring)."""
    kind = measure_kind(profile)
    ordered = [s for s in in_order(sessions) if _sets_of(s, exercise)]
    pairs = []
    for i, session in enumerate(ordered):
        sets = _sets_of(session, exercise)
        surface = sets[0].surface
        values = [v for v in (set_measure(s, kind) for s in sets if s.surface == surface)
                  if v is not None]
        if not values:
            continue
        pair = CarryPair(session.id, session.day, surface, values[0], values[-1])
        later = ordered[i + 1:]
        if later:
            found = _first_on(_sets_of(later[0], exercise), surface, kind)
            if found is not None:
                pair = _with(pair, next_session=later[0].id, next_first=found[0],
                             next_crosses_surface=found[1])
        next_day = next((s for s in later if s.day > session.day), None)
        if next_day is not None:
            found = _first_on(_sets_of(next_day, exercise), surface, kind)
            if found is not None:
                pair = _with(pair, next_day_session=next_day.id, next_day_first=found[0],
                             next_day_crosses_surface=found[1])
        pairs.append(pair)
    return ExerciseCarry(exercise, kind, tuple(pairs))


def _with(pair: CarryPair, **changes: object) -> CarryPair:
    return replace(pair, **changes)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- support


@dataclass(frozen=True)
class SupportDay:
    day: date
    first: str  # support point of the day's first set of the exercise
    most_distal: str
    qualities: dict[str, int]


@dataclass(frozen=True)
class SupportProgress:
    """The support point of one exercise over the block, proximal → distal."""

    exercise: str
    first: str  # the block's first set
    latest: str  # the first set of the latest session: where the child starts now
    most_distal: str  # the least support of any set
    days: tuple[SupportDay, ...]
    qualities: dict[str, int]  # independent / assisted / passive / refused / unrated

    @property
    def levels_gained(self) -> int:
        """Support points moved distal from the block's first set to where the child starts
        now (< 0: more support now). Starting points, so a gain lost by the next session
        does not count."""
        return SUPPORT_POINTS.index(self.latest) - SUPPORT_POINTS.index(self.first)


def support_progress(sessions: Sequence[SessionRecord], exercise: str) -> SupportProgress | None:
    sets = [s for session in in_order(sessions) for s in _sets_of(session, exercise)
            if s.support in SUPPORT_POINTS]
    if not sets:
        return None
    by_day: dict[date, list[SetRecord]] = {}
    for s in sets:
        by_day.setdefault(_day(s), []).append(s)
    days = tuple(
        SupportDay(day, group[0].support,
                   max(group, key=lambda s: s.support_level).support, _qualities(group))
        for day, group in by_day.items())
    latest_session = max((s for s in in_order(sessions) if _sets_of(s, exercise)
                          and any(x.support in SUPPORT_POINTS for x in _sets_of(s, exercise))),
                         key=lambda s: (s.started, s.id))
    starts_now = next(x.support for x in _sets_of(latest_session, exercise)
                      if x.support in SUPPORT_POINTS)
    return SupportProgress(exercise, sets[0].support, starts_now,
                           max(sets, key=lambda s: s.support_level).support, days,
                           _qualities(sets))


def _day(s: SetRecord) -> date:
    return day_of(s.started)


def _qualities(sets: Sequence[SetRecord]) -> dict[str, int]:
    counts = Counter(s.quality if s.quality in QUALITIES else "unrated" for s in sets)
    return {q: counts[q] for q in (*QUALITIES, "unrated") if counts[q]}
