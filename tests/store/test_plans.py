"""Intensive-block plans (migration 7) and a child's history, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from contract import Event
from store import Store
from store.errors import InvalidData, UnknownChild, UnknownExercise
from store.plans import Goal, PlannedExercise, UnknownBlock
from tests.store.factories import Events

PLAN = (PlannedExercise("sit-balance-ball", 3, 1, "none"),
        PlannedExercise("step-onto-block", 2, 5, "knee"))
GOALS = (Goal("sits unsupported for 60 s", gas_start=-2), Goal("steps onto the kerb"))


@pytest.fixture(autouse=True)
def _children(store: Store) -> None:
    store.add_child("c-1", "Amara")
    store.add_child("c-2", "Ben")


def test_a_plan_comes_back_as_written_and_edits_keep_gas_levels(store: Store) -> None:
    block = store.save_block("c-1", date(2026, 3, 2), date(2026, 3, 13), 2, exercises=PLAN,
                             goals=GOALS, created_by="sue")
    again = store.block(block.id)
    assert again == block
    assert (again.child, again.start, again.end, again.sessions_per_day) == \
        ("c-1", date(2026, 3, 2), date(2026, 3, 13), 2)
    assert again.weekdays == (1, 2, 3, 4, 5)
    assert again.session_minutes == 45
    assert again.exercises == PLAN
    assert [(g.text, g.gas_start) for g in again.goals] == \
        [("sits unsupported for 60 s", -2), ("steps onto the kerb", None)]

    goal = again.goals[1]
    assert goal.id is not None
    store.set_goal_level(goal.id, "middle", 1)
    edited = store.save_block("c-1", date(2026, 3, 2), date(2026, 3, 13), 2,
                              exercises=PLAN[:1], goals=(Goal("sits unsupported for 60 s"),
                                                         Goal("steps onto the kerb",
                                                              gas_end=2)),
                              created_by="sue", block_id=block.id)
    assert edited.exercises == PLAN[:1]
    assert [(g.gas_start, g.gas_middle, g.gas_end) for g in edited.goals] == \
        [(-2, None, None), (None, 1, 2)]
    assert store.blocks("c-1") == [edited]
    assert store.blocks("c-2") == []


def test_outcome_scores_with_their_dates(store: Store) -> None:
    block = store.save_block("c-1", date(2026, 3, 2), date(2026, 3, 13), 2,
                             created_by="sue")
    store.add_outcome(block.id, "PBS", 31, date(2026, 3, 13), "sue")
    store.add_outcome(block.id, "GMFM-66", 48.5, date(2026, 3, 2), "sue")
    outcomes = store.block(block.id).outcomes
    assert [(o.measure, o.score, o.taken) for o in outcomes] == \
        [("GMFM-66", 48.5, date(2026, 3, 2)), ("PBS", 31.0, date(2026, 3, 13))]
    with pytest.raises(InvalidData, match="PBS score is from 0 to 56"):
        store.add_outcome(block.id, "PBS", 57, date(2026, 3, 13), "sue")
    with pytest.raises(InvalidData, match="outcome measure"):
        store.add_outcome(block.id, "Berg", 40, date(2026, 3, 13), "sue")
    with pytest.raises(UnknownBlock):
        store.add_outcome(block.id + 99, "PBS", 3, date(2026, 3, 13), "sue")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"end": date(2026, 3, 1)}, "ends .* before it starts"),
    ({"sessions_per_day": 0}, "sessions per day must be"),
    ({"exercises": (PlannedExercise("step-onto-block", 0, 5),)}, "sets must be"),
    ({"exercises": (PlannedExercise("step-onto-block", 2, 5, "elbow"),)}, "support point"),
    ({"goals": (Goal("x", gas_start=3),)}, "GAS level"),
    ({"goals": (Goal("  "),)}, "goal 1 needs a text"),
])
def test_a_bad_plan_is_refused_saying_what(store: Store, kwargs: dict[str, object],
                                           message: str) -> None:
    args: dict[str, object] = {"start": date(2026, 3, 2), "end": date(2026, 3, 13),
                               "sessions_per_day": 2, **kwargs}
    with pytest.raises(InvalidData, match=message):
        store.save_block("c-1", created_by="sue", **args)  # type: ignore[arg-type]
    assert store.blocks("c-1") == []


def test_unknown_child_exercise_or_someone_elses_block(store: Store) -> None:
    with pytest.raises(UnknownChild):
        store.save_block("c-9", date(2026, 3, 2), date(2026, 3, 13), 2, created_by="sue")
    with pytest.raises(UnknownExercise):
        store.save_block("c-1", date(2026, 3, 2), date(2026, 3, 13), 2, created_by="sue",
                         exercises=(PlannedExercise("juggling", 1, 1),))
    block = store.save_block("c-1", date(2026, 3, 2), date(2026, 3, 13), 2, created_by="sue")
    with pytest.raises(UnknownBlock):
        store.save_block("c-2", date(2026, 3, 2), date(2026, 3, 13), 2, created_by="sue",
                         block_id=block.id)


def test_current_block_is_the_running_one(store: Store) -> None:
    first = store.save_block("c-1", date(2026, 3, 2), date(2026, 3, 13), 2, created_by="s")
    second = store.save_block("c-1", date(2026, 6, 1), date(2026, 6, 12), 2, created_by="s")
    assert store.current_block("c-1", date(2026, 3, 5)) == first
    assert store.current_block("c-1", date(2026, 4, 5)) == first
    assert store.current_block("c-1", date(2026, 6, 20)) == second
    assert store.current_block("c-1", date(2026, 1, 1)) == first
    assert store.current_block("c-2", date(2026, 3, 5)) is None


def _apply(store: Store, *events: Event) -> None:
    for e in events:
        store.apply_event("site", "room-1", e)


def test_child_history_has_sets_and_the_reps_that_stand(store: Store) -> None:
    ev = Events("s-1")
    _apply(store, ev.start(child="c-1"),
           ev.set_start("a", "step-onto-block", "blocks", "pelvis", 5),
           ev.rep("a"), ev.rep("a"), ev.rep("a", delta=-1, source="manual"),
           ev.set_end("a", quality="assisted"), ev.end())
    ev2 = Events("s-2", t=ev.t + 3600)
    _apply(store, ev2.start(child="c-2"), ev2.end())
    history = store.child_history("c-1")
    assert [s.id for s in history] == ["s-1"]
    (only,) = history[0].sets
    assert (only.exercise, only.domain, only.support, only.quality) == \
        ("step-onto-block", "gait", "pelvis", "assisted")
    assert len(only.reps) == 1
    assert store.child_history("c-1", since=history[0].started + 1) == []

