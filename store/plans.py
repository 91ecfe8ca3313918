"""Intensive-block plans: a child's block (dates, sessions per day), the exercises planned
for every session, goals with GAS levels and outcome scores (GMFM-66, PBS).

Days are ISO dates (``YYYY-MM-DD``, the clinic's local days). Saving a block replaces its
planned exercises and goals as given (the plan editor sends the whole plan); a goal that
keeps its position keeps the GAS levels recorded for it unless new ones are given.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contract.vocab import GAS_LEVELS, GAS_STAGES, OUTCOME_MEASURES, SUPPORT_POINTS
from store import tables
from store.db import Database
from store.errors import InvalidData, NotFound, UnknownChild, UnknownExercise

B, BE, BG, BO = tables.blocks, tables.block_exercises, tables.block_goals, tables.block_outcomes
MAX_GOAL_TEXT = 300


@dataclass(frozen=True)
class PlannedExercise:
    exercise: str
    sets: int
    reps: int
    target_support: str = "none"


@dataclass(frozen=True)
class Goal:
    """A goal in the child's own terms and its GAS level (−2 … +2) at each stage."""

    text: str
    gas_start: int | None = None
    gas_middle: int | None = None
    gas_end: int | None = None
    id: int | None = None


@dataclass(frozen=True)
class OutcomeRow:
    id: int
    measure: str
    score: float
    taken: date
    entered_by: str


@dataclass(frozen=True)
class BlockRow:
    id: int
    child: str
    start: date
    end: date
    sessions_per_day: int
    session_minutes: int
    weekdays: tuple[int, ...]
    created_by: str
    exercises: tuple[PlannedExercise, ...]
    goals: tuple[Goal, ...]
    outcomes: tuple[OutcomeRow, ...]


class UnknownBlock(NotFound):
    def __init__(self, block_id: int) -> None:
        super().__init__(f"unknown block {block_id}")
        self.block_id = block_id


def _int(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidData(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return value


def _gas(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or value not in GAS_LEVELS:
        raise InvalidData(f"{name}: a GAS level is -2, -1, 0, +1 or +2, got {value!r}")
    return int(value)  # type: ignore[call-overload]


def _check_plan(start: date, end: date, sessions_per_day: int, session_minutes: int,
                weekdays: Sequence[int], exercises: Sequence[PlannedExercise],
                goals: Sequence[Goal]) -> None:
    if not isinstance(start, date) or not isinstance(end, date):
        raise InvalidData("a block's start and end must be dates")
    if end < start:
        raise InvalidData(f"the block ends ({end}) before it starts ({start})")
    if (end - start).days > 366:
        raise InvalidData("a block is at most a year long")
    _int("sessions per day", sessions_per_day, 1, 6)
    _int("session minutes", session_minutes, 5, 240)
    if not weekdays or any(_int("weekday", d, 1, 7) != d for d in weekdays):
        raise InvalidData("weekdays: one or more of 1 (Monday) … 7 (Sunday)")
    seen = set()
    for i, item in enumerate(exercises, start=1):
        if item.exercise in seen:
            raise InvalidData(f"planned exercise {i}: {item.exercise!r} is planned twice")
        seen.add(item.exercise)
        _int(f"planned exercise {i} ({item.exercise}) sets", item.sets, 1, 20)
        _int(f"planned exercise {i} ({item.exercise}) reps", item.reps, 1, 100)
        if item.target_support not in SUPPORT_POINTS:
            raise InvalidData(f"planned exercise {i} ({item.exercise}): support point "
                              f"{item.target_support!r} is not one of {', '.join(SUPPORT_POINTS)}")
    for i, goal in enumerate(goals, start=1):
        if not isinstance(goal.text, str) or not goal.text.strip():
            raise InvalidData(f"goal {i} needs a text")
        if len(goal.text) > MAX_GOAL_TEXT:
            raise InvalidData(f"goal {i} is longer than {MAX_GOAL_TEXT} characters")
        for stage in GAS_STAGES:
            _gas(f"goal {i} GAS at the {stage}", getattr(goal, f"gas_{stage}"))


def save_block(db: Database, child: str, start: date, end: date, sessions_per_day: int, *,
               session_minutes: int, weekdays: Sequence[int],
               exercises: Sequence[PlannedExercise], goals: Sequence[Goal], created_by: str,
               block_id: int | None = None) -> BlockRow:
    _check_plan(start, end, sessions_per_day, session_minutes, weekdays, exercises, goals)
    now = time.time()
    values = {"start_date": start.isoformat(), "end_date": end.isoformat(),
              "sessions_per_day": sessions_per_day, "session_minutes": session_minutes,
              "weekdays": "".join(str(d) for d in sorted(set(weekdays))), "updated": now}
    with db.write() as conn:
        if conn.execute(sa.select(tables.children.c.id)
                        .where(tables.children.c.id == child)).first() is None:
            raise UnknownChild(child)
        known = set(conn.execute(sa.select(tables.exercises.c.key)).scalars())
        for item in exercises:
            if item.exercise not in known:
                raise UnknownExercise(item.exercise)
        if block_id is None:
            block_id = int(conn.execute(B.insert().values(
                child_id=child, created_by=created_by, created=now, **values)
                .returning(B.c.id)).scalar_one())
        else:
            owner = conn.execute(sa.select(B.c.child_id).where(B.c.id == block_id)).scalar()
            if owner != child:
                raise UnknownBlock(block_id)
            conn.execute(B.update().where(B.c.id == block_id).values(**values))
        conn.execute(BE.delete().where(BE.c.block_id == block_id))
        if exercises:
            conn.execute(BE.insert(), [
                {"block_id": block_id, "exercise_key": e.exercise, "position": i,
                 "sets": e.sets, "reps": e.reps, "target_support": e.target_support}
                for i, e in enumerate(exercises)])
        _save_goals(conn, block_id, goals)
        return _block(conn, block_id)


def _save_goals(conn: Connection, block_id: int, goals: Sequence[Goal]) -> None:
    old = {r.position: r for r in conn.execute(sa.select(BG).where(BG.c.block_id == block_id))}
    conn.execute(BG.delete().where(BG.c.block_id == block_id))
    rows = []
    for i, goal in enumerate(goals):
        before = old.get(i)
        levels = {f"gas_{stage}": getattr(goal, f"gas_{stage}") for stage in GAS_STAGES}
        if before is not None:
            levels = {k: v if v is not None else getattr(before, k) for k, v in levels.items()}
        rows.append({"block_id": block_id, "position": i, "text": goal.text.strip(), **levels})
    if rows:
        conn.execute(BG.insert(), rows)


def set_goal_level(db: Database, goal_id: int, stage: str, level: int | None) -> None:
    if stage not in GAS_STAGES:
        raise InvalidData(f"GAS stage {stage!r} is not one of {', '.join(GAS_STAGES)}")
    level = _gas(f"goal {goal_id} GAS at the {stage}", level)
    with db.write() as conn:
        done = conn.execute(BG.update().where(BG.c.id == goal_id).values(
            **{f"gas_{stage}": level}))
        if done.rowcount == 0:
            raise NotFound(f"unknown goal {goal_id}")


def add_outcome(db: Database, block_id: int, measure: str, score: float, taken: date,
                entered_by: str) -> OutcomeRow:
    if measure not in OUTCOME_MEASURES:
        raise InvalidData(f"outcome measure {measure!r} is not one of "
                          f"{', '.join(OUTCOME_MEASURES)}")
    low, high = OUTCOME_MEASURES[measure]
    if isinstance(score, bool) or not isinstance(score, int | float) or not low <= score <= high:
        raise InvalidData(f"a {measure} score is from {low:g} to {high:g}, got {score!r}")
    if not isinstance(taken, date):
        raise InvalidData("an outcome score needs the date it was taken")
    with db.write() as conn:
        if conn.execute(sa.select(B.c.id).where(B.c.id == block_id)).first() is None:
            raise UnknownBlock(block_id)
        new_id = conn.execute(BO.insert().values(
            block_id=block_id, measure=measure, score=float(score), taken=taken.isoformat(),
            entered_by=entered_by, entered=time.time()).returning(BO.c.id)).scalar_one()
    return OutcomeRow(int(new_id), measure, float(score), taken, entered_by)


def block(db: Database, block_id: int) -> BlockRow:
    with db.read() as conn:
        return _block(conn, block_id)


def blocks(db: Database, child: str) -> list[BlockRow]:
    """The child's blocks, latest start first."""
    with db.read() as conn:
        ids = conn.execute(sa.select(B.c.id).where(B.c.child_id == child)
                           .order_by(B.c.start_date.desc(), B.c.id.desc())).scalars().all()
        return [_block(conn, int(i)) for i in ids]


def current_block(db: Database, child: str, day: date) -> BlockRow | None:
    """The block running on ``day``, else the latest one started before it, else the next."""
    rows = blocks(db, child)
    running = [b for b in rows if b.start <= day <= b.end]
    before = [b for b in rows if b.start <= day]
    for candidates in (running, before, rows[-1:]):
        if candidates:
            return candidates[0]
    return None


def _block(conn: Connection, block_id: int) -> BlockRow:
    row = conn.execute(sa.select(B).where(B.c.id == block_id)).first()
    if row is None:
        raise UnknownBlock(block_id)
    exercises = tuple(
        PlannedExercise(r.exercise_key, r.sets, r.reps, r.target_support)
        for r in conn.execute(sa.select(BE).where(BE.c.block_id == block_id)
                              .order_by(BE.c.position)))
    goals = tuple(
        Goal(r.text, r.gas_start, r.gas_middle, r.gas_end, r.id)
        for r in conn.execute(sa.select(BG).where(BG.c.block_id == block_id)
                              .order_by(BG.c.position)))
    outcomes = tuple(
        OutcomeRow(r.id, r.measure, r.score, date.fromisoformat(r.taken), r.entered_by)
        for r in conn.execute(sa.select(BO).where(BO.c.block_id == block_id)
                              .order_by(BO.c.taken, BO.c.id)))
    return BlockRow(row.id, row.child_id, date.fromisoformat(row.start_date),
                    date.fromisoformat(row.end_date), row.sessions_per_day,
                    row.session_minutes, tuple(int(c) for c in row.weekdays),
                    row.created_by, exercises, goals, outcomes)
