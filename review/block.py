"""A child's intensive block, per exercise: dose, carry-over, support, goals and scores.

:func:`load_block` reads the child's plan and sessions from the store (a handful of
queries whatever the number of sessions) and hands them to the pure maths in
:mod:`review.block_dose` and :mod:`review.carryover`. The result feeds the block view,
the family page, the block report and ``dmi-live progress``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from review.block_dose import BlockDose, Dose, block_dose
from review.block_model import PlanSpec, SessionRecord, SetRecord
from review.carryover import (
    MEASURE_NAMES,
    CarryPair,
    exercise_carry,
    measure_kind,
    set_measure,
    support_progress,
)
from store import Store
from store.errors import InvalidData, UnknownChild
from store.history import HistorySession
from store.plans import BlockRow
from store.rows import ChildRow, ExerciseRow


@dataclass(frozen=True)
class ExerciseProgress:
    exercise: str
    name: str
    domain: str
    sessions: int
    dose: Dose
    support_first: str | None
    support_latest: str | None  # where the child starts now (latest session's first set)
    support_most_distal: str | None
    support_target: str | None
    qualities: dict[str, int]
    measure: str  # "hold" or "support"
    first: float | None  # the measure in the first session that did it (:func:`_best`)
    latest: float | None  # ... and in the latest one
    carry_over: float | None  # to the next session (1 kept, 0 lost)
    carry_over_next_day: float | None
    crosses_surface: bool
    support_days: tuple[tuple[date, str], ...]  # per day, the most distal support point
    carry: tuple[CarryPair, ...] = ()  # per session: first → last set, what came next


@dataclass(frozen=True)
class BlockProgress:
    child: str
    name: str
    plan: BlockRow | None
    today: date
    sessions: list[SessionRecord]
    dose: BlockDose
    exercises: list[ExerciseProgress]

    @property
    def day(self) -> int | None:
        """Which planned day today is (days so far), or None without a plan."""
        return len(self.spec.days(self.today)) if self.spec else None

    @property
    def days(self) -> int | None:
        return len(self.spec.days()) if self.spec else None

    @property
    def spec(self) -> PlanSpec | None:
        return plan_spec(self.plan) if self.plan else None

    def to_json(self) -> dict[str, Any]:
        plan = self.plan
        return {
            "child": self.child,
            "name": self.name,
            "block": None if plan is None else {
                "start": plan.start.isoformat(), "end": plan.end.isoformat(),
                "sessions_per_day": plan.sessions_per_day, "day": self.day, "days": self.days},
            "sessions": self.dose.sessions_held,
            "sessions_planned": self.dose.sessions_planned,
            "sessions_missed": self.dose.sessions_missed,
            "missed_days": [d.isoformat() for d in self.dose.missed_days],
            "shortened_sessions": self.dose.shortened,
            "active_min": round(self.dose.total.active_min, 1),
            "exercises": [_exercise_json(e) for e in self.exercises],
            "goals": [] if plan is None else [
                {"goal": g.text, "gas_start": g.gas_start, "gas_middle": g.gas_middle,
                 "gas_end": g.gas_end} for g in plan.goals],
            "outcomes": [] if plan is None else [
                {"measure": o.measure, "score": o.score, "taken": o.taken.isoformat()}
                for o in plan.outcomes],
        }


def _exercise_json(e: ExerciseProgress) -> dict[str, Any]:
    return {
        "exercise": e.exercise, "name": e.name, "domain": e.domain, "sessions": e.sessions,
        "sets_done": e.dose.sets_done, "sets_planned": e.dose.sets_planned,
        "reps_done": e.dose.reps_done, "reps_prescribed": e.dose.reps_planned,
        "active_min": round(e.dose.active_min, 1),
        "support_first": e.support_first, "support_latest": e.support_latest,
        "support_most_distal": e.support_most_distal, "support_target": e.support_target,
        "quality": e.qualities,
        "measure": MEASURE_NAMES[e.measure], "first": _round(e.first),
        "latest": _round(e.latest), "carry_over": _round(e.carry_over),
        "carry_over_next_day": _round(e.carry_over_next_day),
        "crosses_surface": e.crosses_surface,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def plan_spec(block: BlockRow) -> PlanSpec:
    return PlanSpec(block.start, block.end, block.sessions_per_day, block.session_minutes,
                    block.weekdays, tuple(block.exercises))


def find_child(store: Store, who: str) -> ChildRow:
    """A child by pseudonym, else by display name (case does not matter)."""
    known = store.children()
    for child in known:
        if child.pseudonym == who:
            return child
    named = [c for c in known if c.display_name.casefold() == who.strip().casefold()]
    if len(named) > 1:
        raise InvalidData(f"{len(named)} children are called {who!r}: name one by its "
                          f"pseudonym ({', '.join(c.pseudonym for c in named)})")
    if not named:
        raise UnknownChild(who)
    return named[0]


def records(history: Sequence[HistorySession]) -> list[SessionRecord]:
    return [SessionRecord(s.id, s.started, s.ended, tuple(
        SetRecord(x.id, x.exercise, x.domain, x.surface, x.support, x.planned_reps, x.started,
                  x.ended, x.reps, x.quality, x.profile) for x in s.sets)) for s in history]


def load_block(store: Store, child: str, *, today: date | None = None,
               block_id: int | None = None) -> BlockProgress:
    """The child's current block (or block ``block_id``) as of ``today``; without a plan,
    every session of the child."""
    row = find_child(store, child)
    today = today or date.today()
    plan = store.block(block_id) if block_id is not None else store.current_block(
        row.pseudonym, today)
    if plan is not None and plan.child != row.pseudonym:
        raise UnknownChild(child)
    since = until = None
    if plan is not None:
        since = datetime.combine(plan.start, datetime.min.time()).timestamp()
        until = datetime.combine(plan.end + timedelta(days=1), datetime.min.time()).timestamp()
    sessions = records(store.child_history(row.pseudonym, since, until))
    catalog = {e.key: e for e in store.exercises()}
    return summarise(row, plan, sessions, catalog, today)


def summarise(child: ChildRow, plan: BlockRow | None, sessions: list[SessionRecord],
              catalog: dict[str, ExerciseRow], today: date) -> BlockProgress:
    spec = plan_spec(plan) if plan else None
    domains = {k: e.domain for k, e in catalog.items()}
    # a day counts as planned once it is over, or once a session was held on it
    started_today = any(s.day == today for s in sessions)
    through = min(today if started_today else today - timedelta(days=1), spec.end) \
        if spec else None
    dose = block_dose(sessions, spec, through=through, domains=domains)
    keys = [e.exercise for e in plan.exercises] if plan else []
    for session in sessions:
        keys += [s.exercise for s in session.sets if s.exercise not in keys]
    exercises = []
    for key in keys:
        entry = catalog.get(key)
        profile = entry.signal_profile if entry else ""
        kind = measure_kind(profile)
        carry = exercise_carry(sessions, key, profile)
        support = support_progress(sessions, key)
        item = spec.item(key) if spec else None
        done = [s for s in sessions if any(x.exercise == key for x in s.sets)]
        exercises.append(ExerciseProgress(
            key, entry.name if entry else key, entry.domain if entry else "", len(done),
            dose.exercises.get(key, Dose()),
            support.first if support else None, support.latest if support else None,
            support.most_distal if support else None,
            item.target_support if item else None, support.qualities if support else {},
            kind, _best(done[:1], key, kind), _best(done[-1:], key, kind),
            carry.next_session, carry.next_day, carry.crosses_surface,
            tuple((d.day, d.most_distal) for d in support.days) if support else (),
            carry.pairs))
    return BlockProgress(child.pseudonym, child.display_name, plan, today, sessions, dose,
                         exercises)


def _best(sessions: Sequence[SessionRecord], exercise: str, kind: str) -> float | None:
    """A session's measure: the longest hold of any set; the support level of its first set
    (where the child started that day, as ``support_first`` / ``support_latest``)."""
    values = [v for s in sessions for x in s.sets if x.exercise == exercise
              for v in (set_measure(x, kind),) if v is not None]
    if not values:
        return None
    return max(values) if kind == "hold" else values[0]


def next_in_plan(store: Store, child: str, now: float) -> tuple[list[str], dict[str, int]]:
    """The plan's exercises with the one to do next first, and their planned reps.

    Next: in plan order, the first exercise with fewer sets today than planned for the
    sessions held so far today (the running one included); when all are done, plan order.
    ``([], {})`` without a running block.
    """
    today = datetime.fromtimestamp(now).date()
    plan = store.current_block(child, today)
    if plan is None or not plan.start <= today <= plan.end or not plan.exercises:
        return [], {}
    midnight = datetime.combine(today, datetime.min.time()).timestamp()
    history = store.child_history(child, since=midnight)
    done: dict[str, int] = {}
    for session in history:
        for s in session.sets:
            done[s.exercise] = done.get(s.exercise, 0) + 1
    held = max(1, len(history))
    order = [e.exercise for e in plan.exercises]
    due = next((e.exercise for e in plan.exercises if done.get(e.exercise, 0) < e.sets * held),
               None)
    if due is not None:
        order.remove(due)
        order.insert(0, due)
    return order, {e.exercise: e.reps for e in plan.exercises}
