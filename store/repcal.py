"""The rep counter's per child and exercise settings: what it learned, the sensitivity step.

The store keeps the calibration as the JSON text :mod:`analysis.repsettings` writes (it
checks only that it is a JSON object): the counter reads it back and refuses what it
cannot use.
"""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from store import tables
from store.db import Database
from store.errors import InvalidData, UnknownChild, UnknownExercise
from store.rows import RepCalibrationRow

RC = tables.rep_calibrations


def _row(row: Any) -> RepCalibrationRow:
    return RepCalibrationRow(row.child_id, row.exercise_key, row.calibration, row.sensitivity,
                             row.updated_at)


def _check(conn: Connection, child: str, exercise: str) -> None:
    if conn.execute(sa.select(tables.children.c.id).where(tables.children.c.id == child)
                    ).first() is None:
        raise UnknownChild(child)
    if conn.execute(sa.select(tables.exercises.c.key).where(tables.exercises.c.key == exercise)
                    ).first() is None:
        raise UnknownExercise(exercise)


def _upsert(db: Database, child: str, exercise: str, values: dict[str, Any]) -> RepCalibrationRow:
    with db.write() as conn:
        _check(conn, child, exercise)
        key = (RC.c.child_id == child) & (RC.c.exercise_key == exercise)
        values = {**values, "updated_at": time.time()}
        if conn.execute(RC.update().where(key).values(**values)).rowcount == 0:
            conn.execute(RC.insert().values(child_id=child, exercise_key=exercise, **values))
        return _row(conn.execute(sa.select(RC).where(key)).one())


def save_calibration(db: Database, child: str, exercise: str,
                     calibration: str | None) -> RepCalibrationRow:
    if calibration is not None:
        try:
            parsed = json.loads(calibration)
        except ValueError as exc:
            raise InvalidData(f"rep calibration for {child}/{exercise}: not JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise InvalidData(f"rep calibration for {child}/{exercise}: not a JSON object")
    return _upsert(db, child, exercise, {"calibration": calibration})


def set_sensitivity(db: Database, child: str, exercise: str,
                    sensitivity: str) -> RepCalibrationRow:
    if sensitivity not in tables.REP_SENSITIVITIES:
        raise InvalidData(f"sensitivity must be one of {', '.join(tables.REP_SENSITIVITIES)}, "
                          f"got {sensitivity!r}")
    return _upsert(db, child, exercise, {"sensitivity": sensitivity})


def calibration(db: Database, child: str, exercise: str) -> RepCalibrationRow | None:
    with db.read() as conn:
        row = conn.execute(sa.select(RC).where(RC.c.child_id == child,
                                               RC.c.exercise_key == exercise)).first()
    return None if row is None else _row(row)


def calibrations(db: Database, child: str | None = None) -> list[RepCalibrationRow]:
    query = sa.select(RC).order_by(RC.c.child_id, RC.c.exercise_key)
    if child is not None:
        query = query.where(RC.c.child_id == child)
    with db.read() as conn:
        return [_row(r) for r in conn.execute(query)]
