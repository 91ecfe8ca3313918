"""Dose, carry-over and support progression on constructed histories with known answers."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from review.block_dose import block_dose, session_dose
from review.block_model import PlanItem, PlanSpec, SessionRecord, SetRecord
from review.carryover import exercise_carry, longest_hold, support_progress


def at(day: int, hour: int, minute: int = 0) -> float:
    """Local time on day ``day`` of March 2026 (Monday 2 March is day 2)."""
    return datetime(2026, 3, day, hour, minute).timestamp()


def hold_set(sid: str, t0: float, holds: list[float], surface: str = "ball",
             support: str = "pelvis", quality: str | None = "assisted") -> SetRecord:
    reps, t = [], t0
    for h in holds:
        t += h
        reps.append(t)
    return SetRecord(sid, "sit-balance-ball", "sitting", surface, support, len(holds), t0,
                     t + 5.0, tuple(reps), quality, "static-hold")


def step_set(sid: str, t0: float, support: str, reps: int = 5, surface: str = "blocks",
             quality: str | None = "assisted") -> SetRecord:
    return SetRecord(sid, "step-onto-block", "gait", surface, support, 5, t0, t0 + 120.0,
                     tuple(t0 + 10.0 * (i + 1) for i in range(reps)), quality, "step")


def session(sid: str, t0: float, sets: list[SetRecord], minutes: float = 45.0) -> SessionRecord:
    return SessionRecord(sid, t0, t0 + minutes * 60.0, tuple(sets))


def test_longest_hold_counts_from_set_start_and_between_reps() -> None:
    s = hold_set("a", 1000.0, [12.0, 30.0, 8.0])
    assert longest_hold(s) == pytest.approx(30.0)
    assert longest_hold(SetRecord("b", "x", "d", "f", "knee", 3, 0.0, 10.0)) is None


def test_a_gain_fully_kept_is_one() -> None:
    # Monday: holds 12 s at the first set, 40 s at the last; Tuesday's first set holds 40 s
    mon = session("s1", at(2, 9), [hold_set("a", at(2, 9, 5), [12.0]),
                                   hold_set("b", at(2, 9, 20), [25.0]),
                                   hold_set("c", at(2, 9, 35), [40.0])])
    tue = session("s2", at(3, 9), [hold_set("d", at(3, 9, 5), [40.0]),
                                   hold_set("e", at(3, 9, 30), [41.0])])
    carry = exercise_carry([tue, mon], "sit-balance-ball", "static-hold")
    first = carry.pairs[0]
    assert (first.first, first.last, first.gain) == (12.0, 40.0, 28.0)
    assert first.next_session == "s2"
    assert first.next_day_session == "s2"
    assert carry.next_session == pytest.approx(1.0)
    assert carry.next_day == pytest.approx(1.0)
    assert not carry.crosses_surface


def test_a_gain_lost_overnight_is_zero_while_the_afternoon_kept_half() -> None:
    # morning 10 s -> 30 s; afternoon starts at 20 s (half kept); next morning at 10 s (lost)
    am = session("am", at(2, 9), [hold_set("a", at(2, 9, 5), [10.0]),
                                  hold_set("b", at(2, 9, 30), [30.0])])
    pm = session("pm", at(2, 14), [hold_set("c", at(2, 14, 5), [20.0]),
                                   hold_set("d", at(2, 14, 30), [20.0])])
    nxt = session("next", at(3, 9), [hold_set("e", at(3, 9, 5), [10.0])])
    carry = exercise_carry([am, pm, nxt], "sit-balance-ball", "static-hold")
    morning = carry.pairs[0]
    assert morning.carry_next_session == pytest.approx(0.5)
    assert morning.next_day_session == "next"
    assert morning.carry_next_day == pytest.approx(0.0)
    # the afternoon made no gain (20 s -> 20 s): it has no carry-over of its own
    assert carry.pairs[1].carry_next_session is None
    assert carry.next_day == pytest.approx(0.0)


def test_support_level_carry_over_and_a_surface_crossing_is_said() -> None:
    # steps: pelvis (1) -> knee (3) within Monday; Tuesday starts at thigh (2) on foam only
    mon = session("s1", at(2, 9), [step_set("a", at(2, 9, 5), "pelvis"),
                                   step_set("b", at(2, 9, 20), "knee")])
    tue = session("s2", at(3, 9), [step_set("c", at(3, 9, 5), "thigh", surface="foam-pad")])
    carry = exercise_carry([mon, tue], "step-onto-block", "step")
    assert carry.measure == "support"
    assert carry.next_day == pytest.approx(0.5)
    assert carry.crosses_surface
    # the same surface is preferred when the next session has both
    tue2 = session("s2", at(3, 9), [step_set("c", at(3, 9, 5), "thigh", surface="foam-pad"),
                                    step_set("d", at(3, 9, 20), "knee")])
    carry = exercise_carry([mon, tue2], "step-onto-block", "step")
    assert carry.next_day == pytest.approx(1.0)
    assert not carry.crosses_surface


PLAN = PlanSpec(date(2026, 3, 2), date(2026, 3, 6), sessions_per_day=2, session_minutes=45,
                items=(PlanItem("step-onto-block", 2, 5, "knee"),
                       PlanItem("sit-balance-ball", 1, 3, "none")))


def test_dose_of_a_session_against_the_plan() -> None:
    s = session("s1", at(2, 9), [step_set("a", at(2, 9, 5), "pelvis", reps=5),
                                 step_set("b", at(2, 9, 20), "knee", reps=3)], minutes=30)
    dose = session_dose(s, PLAN, {"sit-balance-ball": "sitting"})
    steps = dose.exercises["step-onto-block"]
    assert (steps.sets_done, steps.sets_planned, steps.reps_done, steps.reps_planned) == \
        (2, 2, 8, 10)
    assert steps.active_min == pytest.approx(4.0)
    sit = dose.exercises["sit-balance-ball"]
    assert (sit.sets_done, sit.sets_planned, sit.reps_planned) == (0, 1, 3)
    assert dose.domains["sitting"].reps_planned == 3
    assert (dose.total.reps_done, dose.total.reps_planned) == (8, 13)
    assert dose.shortened  # 30 of 45 planned minutes


def test_a_missed_session_and_a_missed_day_count_against_the_block() -> None:
    # Mon 2 sessions, Tue 1 (one missed), Wed none (missed day); counted through Wednesday
    sessions = [
        session("mon-am", at(2, 9), [step_set("a", at(2, 9, 5), "pelvis")]),
        session("mon-pm", at(2, 14), [step_set("b", at(2, 14, 5), "knee")]),
        session("tue-am", at(3, 9), [step_set("c", at(3, 9, 5), "knee")], minutes=20),
    ]
    dose = block_dose(sessions, PLAN, through=date(2026, 3, 4),
                      domains={"sit-balance-ball": "sitting"})
    assert dose.sessions_planned == 6
    assert dose.sessions_held == 3
    assert dose.sessions_missed == 3
    assert dose.missed_days == [date(2026, 3, 4)]
    assert dose.shortened == ["tue-am"]
    steps = dose.exercises["step-onto-block"]
    assert (steps.sets_done, steps.sets_planned, steps.reps_done, steps.reps_planned) == \
        (3, 12, 15, 60)
    assert dose.exercises["sit-balance-ball"].reps_planned == 18
    assert dose.total.reps_planned == 78
    assert dose.domains["gait"].active_min == pytest.approx(6.0)
    # carry-over skips the missed day: Tuesday's session is followed by nothing
    carry = exercise_carry(sessions, "step-onto-block", "step")
    assert [p.next_day_session for p in carry.pairs] == ["tue-am", "tue-am", None]


def test_without_a_plan_planned_is_what_each_set_asked_for() -> None:
    s = session("s1", at(2, 9), [step_set("a", at(2, 9, 5), "pelvis", reps=4)])
    dose = block_dose([s])
    assert (dose.total.reps_done, dose.total.reps_planned) == (4, 5)
    assert dose.sessions_planned == 0
    assert dose.sessions_missed == 0


def test_support_moves_distal_over_the_block_with_the_response_quality() -> None:
    sessions = [
        session("d1", at(2, 9), [step_set("a", at(2, 9, 5), "pelvis", quality="passive"),
                                 step_set("b", at(2, 9, 20), "thigh")]),
        session("d2", at(3, 9), [step_set("c", at(3, 9, 5), "knee"),
                                 step_set("d", at(3, 9, 20), "shank", quality="independent")]),
    ]
    progress = support_progress(sessions, "step-onto-block")
    assert progress is not None
    # where the child starts now (d2's first set), not the within-session best
    assert (progress.first, progress.latest, progress.levels_gained) == ("pelvis", "knee", 2)
    assert progress.most_distal == "shank"
    assert [(d.first, d.most_distal) for d in progress.days] == [("pelvis", "thigh"),
                                                                 ("knee", "shank")]
    assert progress.qualities == {"independent": 1, "assisted": 2, "passive": 1}
    assert support_progress(sessions, "floor-to-stand") is None
