"""Dose: what was done against what was planned, per session and for the whole block.

Plain numbers, no score:

- **sets and reps done**: sets recorded, reps that stand (a −1 correction removes one);
- **planned**: with a plan, every session plans each plan item's ``sets`` and
  ``sets × reps``; without a plan, what the therapist typed at each set (its planned reps);
- **active minutes**: time in sets (set start → set end), not time in the room;
- **missed sessions**: per planned day (up to ``through``), the planned sessions per day
  minus the sessions held that day (never below 0); a day with none held is a missed day.
  For the block, planned sets and reps count every planned session to date, so a missed
  session shows as work not done;
- **shortened session**: one that lasted less than :data:`SHORTENED` of the planned
  session length (start → end; a session never ended counts to the end of its last set).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from review.block_model import PlanSpec, SessionRecord, SetRecord, in_order

SHORTENED = 0.75
"""A session shorter than this share of the planned session length is *shortened*."""


@dataclass
class Dose:
    """Done against planned, for one exercise, domain, session or the block."""

    sets_done: int = 0
    sets_planned: int = 0
    reps_done: int = 0
    reps_planned: int = 0
    active_s: float = 0.0

    @property
    def active_min(self) -> float:
        return self.active_s / 60.0

    def add(self, other: Dose) -> None:
        self.sets_done += other.sets_done
        self.sets_planned += other.sets_planned
        self.reps_done += other.reps_done
        self.reps_planned += other.reps_planned
        self.active_s += other.active_s


@dataclass
class SessionDose:
    session: str
    day: date
    minutes: float
    shortened: bool
    total: Dose
    exercises: dict[str, Dose] = field(default_factory=dict)
    domains: dict[str, Dose] = field(default_factory=dict)


@dataclass
class BlockDose:
    sessions_planned: int  # to date (``through``); 0 without a plan
    sessions_held: int
    sessions_missed: int
    missed_days: list[date]
    shortened: list[str]  # session ids
    total: Dose
    exercises: dict[str, Dose]
    domains: dict[str, Dose]
    sessions: list[SessionDose]


def _done(sets: Sequence[SetRecord]) -> Dose:
    return Dose(sets_done=len(sets), reps_done=sum(len(s.reps) for s in sets),
                active_s=sum(s.active_s for s in sets))


def session_dose(session: SessionRecord, plan: PlanSpec | None = None,
                 domains: dict[str, str] | None = None) -> SessionDose:
    """Dose of one session; ``domains`` maps planned exercises to their domain (for the
    planned exercises the session did not do at all)."""
    by_exercise: dict[str, list[SetRecord]] = defaultdict(list)
    domain_of = dict(domains or {})
    for s in session.sets:
        by_exercise[s.exercise].append(s)
        domain_of.setdefault(s.exercise, s.domain)
    exercises: dict[str, Dose] = {}
    for key, sets in by_exercise.items():
        dose = _done(sets)
        if plan is None:
            dose.sets_planned = len(sets)
            dose.reps_planned = sum(s.planned_reps for s in sets)
        exercises[key] = dose
    if plan is not None:
        for item in plan.items:
            dose = exercises.setdefault(item.exercise, Dose())
            dose.sets_planned = item.sets
            dose.reps_planned = item.sets * item.reps
    total = Dose()
    by_domain: defaultdict[str, Dose] = defaultdict(Dose)
    for key, dose in exercises.items():
        total.add(dose)
        by_domain[domain_of.get(key, "")].add(dose)
    minutes = session.minutes
    planned_minutes = plan.session_minutes if plan is not None else None
    shortened = planned_minutes is not None and minutes < SHORTENED * planned_minutes
    return SessionDose(session.id, session.day, minutes, shortened, total, exercises,
                       dict(by_domain))


def block_dose(sessions: Sequence[SessionRecord], plan: PlanSpec | None = None, *,
               through: date | None = None, domains: dict[str, str] | None = None) -> BlockDose:
    """Dose of the block's sessions (those in the plan's dates, all without a plan).

    ``through``: the last day that counts as planned so far (today; the plan's end when
    None). ``domains``: exercise → domain, for planned exercises never done.
    """
    ordered = in_order(sessions)
    if plan is not None:
        ordered = [s for s in ordered if plan.start <= s.day <= plan.end]
    per_session = [session_dose(s, plan, domains) for s in ordered]
    total = Dose()
    exercises: defaultdict[str, Dose] = defaultdict(Dose)
    by_domain: defaultdict[str, Dose] = defaultdict(Dose)
    for sd in per_session:
        for key, dose in sd.exercises.items():
            done = Dose(dose.sets_done, 0 if plan else dose.sets_planned, dose.reps_done,
                        0 if plan else dose.reps_planned, dose.active_s)
            exercises[key].add(done)
        for name, dose in sd.domains.items():
            by_domain[name].add(Dose(dose.sets_done, 0 if plan else dose.sets_planned,
                                     dose.reps_done, 0 if plan else dose.reps_planned,
                                     dose.active_s))
    planned_sessions, missed, missed_days = 0, 0, []
    if plan is not None:
        held = Counter(sd.day for sd in per_session)
        days = plan.days(through)
        planned_sessions = len(days) * plan.sessions_per_day
        for day in days:
            short = max(0, plan.sessions_per_day - held[day])
            missed += short
            if held[day] == 0:
                missed_days.append(day)
        domain_of = dict(domains or {})
        for sd in per_session:
            for name in sd.exercises:
                domain_of.setdefault(name, _domain_in(ordered, name))
        for item in plan.items:
            dose = exercises[item.exercise]
            dose.sets_planned += planned_sessions * item.sets
            dose.reps_planned += planned_sessions * item.sets * item.reps
            dom = by_domain[domain_of.get(item.exercise, "")]
            dom.sets_planned += planned_sessions * item.sets
            dom.reps_planned += planned_sessions * item.sets * item.reps
    for dose in exercises.values():
        total.add(dose)
    return BlockDose(planned_sessions, len(per_session), missed, missed_days,
                     [sd.session for sd in per_session if sd.shortened], total,
                     dict(exercises), dict(by_domain), per_session)


def _domain_in(sessions: Sequence[SessionRecord], exercise: str) -> str:
    for session in sessions:
        for s in session.sets:
            if s.exercise == exercise:
                return s.domain
    return ""
