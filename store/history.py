"""A child's sessions with their sets and the times of the reps that stand, in three
queries whatever the number of sessions (the block view and ``dmi-live progress``)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from store import tables
from store.db import Database

S, ST, R, E = tables.sessions, tables.sets, tables.reps, tables.exercises


@dataclass(frozen=True)
class HistorySet:
    id: str
    exercise: str
    domain: str
    profile: str
    surface: str
    support: str
    planned_reps: int
    started: float
    ended: float | None
    quality: str | None
    reps: tuple[float, ...]  # times of the reps that stand


@dataclass(frozen=True)
class HistorySession:
    id: str
    started: float
    ended: float | None
    therapist: str | None
    sets: tuple[HistorySet, ...]


def child_history(db: Database, child: str, since: float | None = None,
                  until: float | None = None) -> list[HistorySession]:
    """The child's sessions started in ``[since, until)``, oldest first."""
    where = [S.c.child_id == child]
    if since is not None:
        where.append(S.c.started >= since)
    if until is not None:
        where.append(S.c.started < until)
    with db.read() as conn:
        sessions = conn.execute(
            sa.select(S.c.id, S.c.started, S.c.ended, S.c.therapist).where(*where)
            .order_by(S.c.started, S.c.id)).all()
        in_range = sa.select(S.c.id).where(*where)
        set_rows = conn.execute(
            sa.select(ST, E.c.domain, E.c.signal_profile)
            .join(E, E.c.key == ST.c.exercise_key)
            .where(ST.c.session_id.in_(in_range))
            .order_by(ST.c.started, ST.c.id)).all()
        rep_rows = conn.execute(
            sa.select(R.c.set_id, R.c.t).join(ST, ST.c.id == R.c.set_id)
            .where(ST.c.session_id.in_(in_range), R.c.revoked_by.is_(None))
            .order_by(R.c.t, R.c.id)).all()
    reps: dict[str, list[float]] = {}
    for set_id, t in rep_rows:
        reps.setdefault(set_id, []).append(float(t))
    sets: dict[str, list[HistorySet]] = {}
    for r in set_rows:
        sets.setdefault(r.session_id, []).append(HistorySet(
            r.id, r.exercise_key, r.domain, r.signal_profile, r.surface, r.support,
            r.planned_reps, r.started, r.ended, r.quality, tuple(reps.get(r.id, ()))))
    return [HistorySession(s.id, s.started, s.ended, s.therapist, tuple(sets.get(s.id, ())))
            for s in sessions]
