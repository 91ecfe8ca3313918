"""What the remote shows from the store: whom the running session is for, its sets with
their counts — automatic or the therapist's — and the rep counter's settings.

Pure reads, no Dash: :mod:`dashboard.callbacks.remote` turns them into components.
"""

from __future__ import annotations

from dataclasses import dataclass

from record.engine_parts import rep_source
from store import Store
from store.errors import NotFound
from store.rows import RepRow

AUTO, THERAPIST = "auto", "therapist"


@dataclass(frozen=True)
class SetLine:
    """One set of the running session as the remote lists it."""

    id: str
    exercise: str
    reps: int
    planned: int
    counted_by: str  # AUTO: the counter alone; THERAPIST: corrected or counted by hand
    running: bool

    @property
    def text(self) -> str:
        by = "automatic count" if self.counted_by == AUTO else "therapist's count"
        return f"{self.exercise}: {self.reps} / {self.planned} · {by}" + \
            (" · running" if self.running else "")


def counted_by(reps: list[RepRow], automatic: bool) -> str:
    """AUTO when every rep of the set came from the counter and none was taken back;
    THERAPIST when the therapist added or took back one, or counts the exercise by hand."""
    if not automatic or any(r.source == "manual" or r.revoked for r in reps):
        return THERAPIST
    return AUTO


def session_sets(store: Store, session: str) -> list[SetLine]:
    """The session's sets, oldest first (none when the store does not know it yet)."""
    try:
        sets = store.sets(session)
    except NotFound:
        return []
    exercises = {e.key: e for e in store.exercises()}
    reps: dict[str, list[RepRow]] = {}
    for r in store.reps(session_id=session):
        reps.setdefault(r.set, []).append(r)
    lines = []
    for s in sets:
        ex = exercises.get(s.exercise)
        mine = reps.get(s.id, [])
        automatic = ex is not None and rep_source(ex.signal_profile) is not None
        lines.append(SetLine(s.id, ex.name if ex else s.exercise,
                             sum(1 for r in mine if not r.revoked), s.planned_reps,
                             counted_by(mine, automatic), s.end is None))
    return lines


def child_label(store: Store, child: str) -> str:
    """The child's display name (its pseudonym when it has none)."""
    for c in store.children():
        if c.pseudonym == child:
            return c.label
    return child


def sensitivity_of(store: Store, child: str, exercise: str) -> tuple[str, bool]:
    """(the sensitivity step, whether the counter learned from a corrected set)."""
    row = store.rep_calibration(child, exercise)
    if row is None:
        return "normal", False
    return row.sensitivity, row.calibration is not None
