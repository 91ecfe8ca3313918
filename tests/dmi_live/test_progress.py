"""``dmi-live progress`` on a constructed block with known answers, and the demo's history."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

from contract import Event
from dmi_live.demo import DEMO_CHILDREN
from dmi_live.demo_history import seed_history
from store import Store, open_store
from store.plans import Goal, PlannedExercise

MONDAY = date(2026, 3, 2)


def progress(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dmi_live.cli", "progress", *args,
                           "--data-dir", str(data)], capture_output=True, text=True, timeout=60)


def _session(store: Store, sid: str, day: int, hour: int, holds: list[list[float]]) -> None:
    """A session of hold sets on the ball: each inner list is one set's holds (s)."""
    t = datetime(2026, 3, day, hour).timestamp()
    n = 0

    def emit(type_: str, dt: float = 0.0, set_: str | None = None, **data: object) -> None:
        nonlocal t, n
        t += dt
        n += 1
        store.apply_event("north", "room-1", Event(type=type_, t=t, session=sid, set=set_,
                                                   author="sue", data=data, id=f"{sid}-{n}"))

    emit("session_start", child="c-1")
    for k, set_holds in enumerate(holds):
        set_id = f"{sid}-{k}"
        emit("set_start", 30, set_id, exercise="sit-balance-ball", surface="ball",
             support="pelvis", planned_reps=3)
        for hold in set_holds:
            emit("rep", hold, set_id, delta=1, source="manual")
        emit("set_end", 5, set_id, quality="assisted")
    emit("session_end", 45 * 60 - (t - datetime(2026, 3, day, hour).timestamp()))


def test_progress_prints_the_block_per_exercise(tmp_path: Path) -> None:
    with open_store(tmp_path / "dmi-live.sqlite") as store:
        store.add_child("c-1", "Amara")
        store.save_block("c-1", MONDAY, date(2026, 3, 6), 1, created_by="sue",
                         exercises=(PlannedExercise("sit-balance-ball", 2, 3, "none"),),
                         goals=(Goal("sits on the ball for 60 s", gas_start=-2),))
        store.add_outcome(store.blocks("c-1")[0].id, "PBS", 20, MONDAY, "sue")
        # Monday 12 s -> 40 s; Tuesday starts at 40 s (kept); Wednesday missed;
        # Thursday starts at 40 s again (Tuesday's gain 40 -> 50 lost)
        _session(store, "mon", 2, 9, [[12.0, 10.0, 8.0], [40.0, 20.0]])
        _session(store, "tue", 3, 9, [[40.0, 30.0, 20.0], [50.0]])
        _session(store, "thu", 5, 9, [[40.0, 10.0, 9.0]])

    out = progress(tmp_path, "Amara", "--json", "--today", "2026-03-05")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert (data["child"], data["name"], data["sessions"]) == ("c-1", "Amara", 3)
    assert data["block"]["day"] == 4
    assert data["block"]["days"] == 5
    assert (data["sessions_planned"], data["sessions_missed"]) == (4, 1)
    assert data["missed_days"] == ["2026-03-04"]
    (ball,) = data["exercises"]
    assert ball["exercise"] == "sit-balance-ball"
    assert (ball["sessions"], ball["reps_done"], ball["reps_prescribed"]) == (3, 12, 24)
    assert (ball["support_first"], ball["support_latest"]) == ("pelvis", "pelvis")
    assert ball["measure"] == "longest hold (s)"
    assert (ball["first"], ball["latest"]) == (40.0, 40.0)
    # Monday's gain kept (1), Tuesday's 40 -> 50 s gone by Thursday (0): the mean is 0.5
    assert ball["carry_over"] == 0.5
    assert ball["carry_over_next_day"] == 0.5
    assert data["goals"] == [{"goal": "sits on the ball for 60 s", "gas_start": -2,
                              "gas_middle": None, "gas_end": None}]
    assert data["outcomes"] == [{"measure": "PBS", "score": 20.0, "taken": "2026-03-02"}]

    text = progress(tmp_path, "c-1", "--today", "2026-03-05")
    assert "day 4 of 5" in text.stdout
    assert "Sitting balance on ball: 3 sessions, reps 12/24" in text.stdout
    unknown = progress(tmp_path, "Zoe")
    assert unknown.returncode == 2
    assert "unknown child 'Zoe'" in unknown.stderr


def test_the_demo_history_is_a_block_per_child_written_once(tmp_path: Path) -> None:
    with open_store(tmp_path / "dmi-live.sqlite") as store:
        for pseudonym, name in DEMO_CHILDREN:
            store.add_child(pseudonym, name)
        written = seed_history(store, "north", "room-1", today=date(2026, 3, 18))
        assert written == 3 * 17  # ten weekdays, two a day, a missed day and afternoon each
        assert seed_history(store, "north", "room-1", today=date(2026, 3, 18)) == 0
        assert len(store.child_history("c-0417")) == 17
        notes = [a for s in store.child_history("c-0522")
                 for a in store.annotations(s.id)]
        assert notes

    out = progress(tmp_path, "Ben", "--json", "--today", "2026-03-18")
    data = json.loads(out.stdout)
    assert data["sessions_missed"] == 3
    assert len(data["missed_days"]) == 1
    assert len(data["shortened_sessions"]) == 1
    moved = {e["exercise"]: (e["support_first"], e["support_latest"])
             for e in data["exercises"]}
    assert moved["sit-to-stand-foam"] == ("thigh", "ankle-foot")  # distal over the block
    assert moved["step-onto-block"] == ("knee", "knee")  # a gain each session, none kept
    carry = {e["exercise"]: e["carry_over_next_day"] for e in data["exercises"]}
    assert carry["step-onto-block"] == 0.0
    assert carry["stand-foam-pad"] < 0.2  # holds on foam lost overnight
