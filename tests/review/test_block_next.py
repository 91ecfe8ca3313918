"""The remote's exercise list for a child with a running block: the plan's next exercise
first, with the plan's reps; nothing else moves for a child without one."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from contract import Event
from dashboard.callbacks.remote_plan import plan_options
from review.block import next_in_plan
from store import open_store
from store.plans import PlannedExercise


def test_the_next_exercise_is_the_first_with_sets_left_today(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.sqlite") as store:
        store.add_child("c-1", "Amara")
        store.add_child("c-2", "Ben")
        store.save_block("c-1", date(2026, 3, 2), date(2026, 3, 13), 2, created_by="sue",
                         exercises=(PlannedExercise("sit-balance-ball", 2, 3),
                                    PlannedExercise("step-onto-block", 1, 6, "knee")))
        nine = datetime(2026, 3, 3, 9).timestamp()
        assert next_in_plan(store, "c-1", nine) == (["sit-balance-ball", "step-onto-block"],
                                                    {"sit-balance-ball": 3,
                                                     "step-onto-block": 6})
        events = [Event(type="session_start", t=nine, session="s1", data={"child": "c-1"},
                        id="e0")]
        for i in range(2):
            events += [Event(type="set_start", t=nine + 60 * i + 1, session="s1", set=f"x{i}",
                             data={"exercise": "sit-balance-ball", "surface": "ball",
                                   "support": "pelvis", "planned_reps": 3}, id=f"e{i}a"),
                       Event(type="set_end", t=nine + 60 * i + 30, session="s1", set=f"x{i}",
                             id=f"e{i}b")]
        for e in events:
            store.apply_event("north", "room-1", e)
        order, _ = next_in_plan(store, "c-1", nine + 600)
        assert order == ["step-onto-block", "sit-balance-ball"]
        # another day of no block, another child: nothing planned
        assert next_in_plan(store, "c-1", datetime(2026, 4, 1, 9).timestamp()) == ([], {})
        assert next_in_plan(store, "c-2", nine) == ([], {})

        options, defaults = plan_options(store.exercises(), order,
                                         {"sit-balance-ball": 3, "step-onto-block": 6})
        assert [o["value"] for o in options[:2]] == ["step-onto-block", "sit-balance-ball"]
        assert options[0]["label"] == "Step onto block"
        assert len(options) == len(store.exercises())
        assert defaults["step-onto-block"] == 6
        assert defaults["floor-to-stand"] == 3
