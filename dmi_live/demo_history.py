"""The demo's history: a two-week intensive behind Amara, Ben and Léa.

Each child gets a block plan (three weeks of weekdays, two 45-minute sessions a day,
started two weeks ago, so today is in it) and the sessions of the past ten weekdays,
written as the session events the recorder stores (``Store.apply_event``: session and set
starts and ends, reps, notes), with fixed ids so a restart adds nothing. The sessions are
simulated, seeded per child: holds that grow within a session and keep most of it (Amara
sitting on the ball) or lose it overnight (Ben on the foam pad), support moving distal on
some exercises and not on others, one missed day and one missed afternoon per child, one
shortened session. No samples are written: the replay of a past session shows its sets,
reps and notes.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from contract import Event
from contract.vocab import SUPPORT_POINTS
from store.plans import Goal, PlannedExercise

log = logging.getLogger(__name__)

DAYS_BEHIND = 10
BLOCK_WEEKDAYS = 15
AUTHOR = "therapist"


@dataclass(frozen=True)
class Course:
    """How one exercise goes over the block: the measure at the first session
    (hold seconds, or support level 0…6), the gain within a session and the share of it
    that stays (carry-over)."""

    exercise: str
    surface: str
    sets: int
    reps: int
    target: str
    hold: bool
    start: float
    gain: float
    keep: float


@dataclass(frozen=True)
class ChildHistory:
    pseudonym: str
    seed: int
    courses: tuple[Course, ...]
    goals: tuple[Goal, ...]
    missed_day: int  # index of the weekday with no session
    missed_pm: int  # index of the weekday whose afternoon session did not happen
    short: int  # index of the weekday whose morning session was cut short
    notes: tuple[str, ...]


HISTORIES = (
    ChildHistory("c-0417", 17, (
        Course("sit-balance-ball", "ball", 3, 4, "none", True, 12.0, 3.5, 0.5),
        Course("sit-reach-ball", "ball", 2, 6, "knee", False, 1.0, 1.0, 0.13),
        Course("tall-kneel-hold", "foam-pad", 2, 3, "thigh", True, 6.0, 3.0, 0.35),
    ), (Goal("sits on the ball without help for 60 s", gas_start=-2, gas_middle=-1),
        Goal("reaches for a toy to the side and comes back", gas_start=-2)),
        3, 6, 1, ("Lovely focus today", "Tired after lunch", "Reached across with both hands")),
    ChildHistory("c-0522", 22, (
        Course("sit-to-stand-foam", "foam-pad", 2, 5, "ankle-foot", False, 2.0, 1.0, 0.19),
        Course("stand-foam-pad", "foam-pad", 3, 3, "none", True, 8.0, 6.0, 0.05),
        Course("step-onto-block", "blocks", 2, 5, "shank", False, 3.0, 1.0, 0.0),
    ), (Goal("stands up from a chair by himself", gas_start=-1, gas_middle=0),
        Goal("stands at the kitchen counter for 30 s", gas_start=-2)),
        5, 2, 7, ("Wanted the blue block", "Great standing today", "Cried at the start")),
    ChildHistory("c-0631", 31, (
        Course("stand-ladder-rungs", "ladder", 3, 3, "none", True, 5.0, 3.0, 0.4),
        Course("weight-shift-lateral-foam", "foam-pad", 2, 8, "knee", False, 1.0, 1.0, 0.0),
        Course("walk-ladder-rungs", "ladder", 2, 3, "ankle-foot", False, 2.0, 1.0, 0.19),
    ), (Goal("walks across the ladder holding one hand", gas_start=-2, gas_middle=-1),),
        8, 4, 3, ("Laughed the whole session", "Needed breaks", "Walked three rungs alone")),
)


def _weekdays_back(today: date, n: int) -> list[date]:
    days: list[date] = []
    day = today
    while len(days) < n:
        day -= timedelta(days=1)
        if day.isoweekday() <= 5:
            days.append(day)
    return sorted(days)


def _block_end(start: date, weekdays: int) -> date:
    day, count = start, 1
    while count < weekdays:
        day += timedelta(days=1)
        count += day.isoweekday() <= 5
    return day


def seed_history(store: Any, site: str, room: str, *, today: date | None = None) -> int:
    """Write the demo children's block plans and past sessions unless there; returns the
    number of sessions written (0 on a restart)."""
    today = today or date.today()
    days = _weekdays_back(today, DAYS_BEHIND)
    written = 0
    known = {c.pseudonym for c in store.children()}
    for child in HISTORIES:
        if child.pseudonym not in known or store.blocks(child.pseudonym):
            continue
        store.save_block(child.pseudonym, days[0], _block_end(days[0], BLOCK_WEEKDAYS), 2,
                         exercises=tuple(PlannedExercise(c.exercise, c.sets, c.reps, c.target)
                                         for c in child.courses),
                         goals=child.goals, created_by=AUTHOR)
        with store.transaction():
            for event in history_events(child, days):
                if store.apply_event(site, room, event) and event.type == "session_start":
                    written += 1
    if written:
        log.info("demo: wrote a two-week history (%d sessions)", written)
    return written


def history_events(child: ChildHistory, days: list[date]) -> list[Event]:
    """The session events of ``child`` on ``days`` (weekdays, oldest first), as recorded."""
    rng = random.Random(child.seed)
    level = {c.exercise: c.start for c in child.courses}
    events: list[Event] = []
    for i, day in enumerate(days):
        if i == child.missed_day:
            continue
        for slot, hour in (("am", 9), ("pm", 14)):
            if slot == "pm" and i == child.missed_pm:
                continue
            short = slot == "am" and i == child.short
            sid = f"demo-{child.pseudonym}-{day:%Y%m%d}-{slot}"
            t = datetime(day.year, day.month, day.day, hour, rng.randint(0, 10)).timestamp()
            session = _Session(sid, t, events)
            session.emit("session_start", data={"child": child.pseudonym})
            courses = child.courses[:1] if short else child.courses
            for course in courses:
                level[course.exercise] = _run(session, course, level[course.exercise], rng)
            if rng.random() < 0.4:
                session.emit("note", data={"text": rng.choice(child.notes),
                                           "family_visible": rng.random() < 0.5}, dt=20)
            end = session.t + 60 if short else max(session.t + 60, t + 45 * 60)
            session.emit("session_end", dt=end - session.t)
    return events


class _Session:
    def __init__(self, sid: str, t: float, out: list[Event]) -> None:
        self.sid, self.t, self.out, self.n = sid, t, out, 0

    def emit(self, type_: str, *, set_id: str | None = None, data: dict[str, Any] | None = None,
             dt: float = 0.0) -> None:
        self.t += dt
        self.n += 1
        self.out.append(Event(type=type_, t=self.t, session=self.sid, set=set_id, author=AUTHOR,
                              data=data or {}, id=f"{self.sid}-{self.n}"))


def _run(session: _Session, course: Course, start: float, rng: random.Random) -> float:
    """The sets of one exercise; returns where the next session starts."""
    for k in range(course.sets):
        value = start + course.gain * k / max(1, course.sets - 1)
        set_id = f"{session.sid}-{course.exercise}-{k + 1}"
        if course.hold:
            support = "pelvis" if value < 10 else "none"
        else:
            support = SUPPORT_POINTS[max(0, min(6, round(value)))]
        session.emit("set_start", set_id=set_id, dt=rng.uniform(120, 240), data={
            "exercise": course.exercise, "surface": course.surface, "support": support,
            "planned_reps": course.reps})
        done = course.reps - (rng.random() < 0.25)
        for r in range(done):
            if course.hold:
                dt = value * (1.0 if r == 0 else rng.uniform(0.6, 0.95))
            else:
                dt = rng.uniform(6, 12)
            session.emit("rep", set_id=set_id, dt=dt, data={"delta": 1, "source": "auto"})
        quality = ("independent" if value >= start + course.gain * 0.9 and rng.random() < 0.6
                   else "assisted" if rng.random() < 0.85 else "passive")
        session.emit("set_end", set_id=set_id, dt=rng.uniform(3, 8), data={"quality": quality})
    return start + course.gain * course.keep + rng.uniform(-0.05, 0.05) * course.gain
