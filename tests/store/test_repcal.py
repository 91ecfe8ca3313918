"""The rep counter's settings per child and exercise: calibration JSON and sensitivity,
on SQLite and PostgreSQL, and the migration that adds them to an existing store."""

from __future__ import annotations

import time

import pytest

from analysis.repsettings import Calibration, Sensitivity
from store import Store, open_store
from store.errors import InvalidData, UnknownChild, UnknownExercise
from store.migrations import MIGRATIONS
from store.tables import REP_SENSITIVITIES

SQUAT = "sit-to-stand-foam"


def test_a_learned_calibration_round_trips_and_keeps_the_sensitivity(store: Store) -> None:
    store.add_child("c-1", "Alma")
    assert store.rep_calibration("c-1", SQUAT) is None

    store.set_rep_sensitivity("c-1", SQUAT, "more")
    cal = Calibration(threshold=1.25, period_s=(1.0, 2.2), side="second")
    before = time.time()
    row = store.save_rep_calibration("c-1", SQUAT, cal.to_json())

    assert row.sensitivity == "more"
    assert row.updated_at >= before - 1
    got = store.rep_calibration("c-1", SQUAT)
    assert got == row
    assert got is not None
    assert Calibration.from_json(got.calibration or "") == cal

    # a new sensitivity keeps what was learned; forgetting the calibration keeps the step
    store.set_rep_sensitivity("c-1", SQUAT, "fewer")
    assert store.rep_calibration("c-1", SQUAT).calibration == cal.to_json()  # type: ignore[union-attr]
    store.save_rep_calibration("c-1", SQUAT, None)
    again = store.rep_calibration("c-1", SQUAT)
    assert again is not None
    assert (again.calibration, again.sensitivity) == (None, "fewer")
    assert [(r.child, r.exercise) for r in store.rep_calibrations("c-1")] == [("c-1", SQUAT)]
    assert store.rep_calibrations("c-2") == []


def test_settings_are_per_child_and_exercise(store: Store) -> None:
    store.add_child("c-1", "Alma")
    store.add_child("c-2", "Bo")
    store.set_rep_sensitivity("c-1", SQUAT, "more")
    store.set_rep_sensitivity("c-2", "reach-across-midline", "fewer")

    assert store.rep_calibration("c-2", SQUAT) is None
    assert store.rep_calibration("c-1", "reach-across-midline") is None
    assert [(r.child, r.exercise, r.sensitivity) for r in store.rep_calibrations()] == [
        ("c-1", SQUAT, "more"), ("c-2", "reach-across-midline", "fewer")]


def test_bad_settings_are_refused_with_what_is_wrong(store: Store) -> None:
    store.add_child("c-1", "Alma")
    with pytest.raises(InvalidData, match="sensitivity must be one of fewer, normal, more"):
        store.set_rep_sensitivity("c-1", SQUAT, "max")
    with pytest.raises(InvalidData, match="not JSON"):
        store.save_rep_calibration("c-1", SQUAT, "{threshold")
    with pytest.raises(UnknownChild):
        store.set_rep_sensitivity("c-9", SQUAT, "more")
    with pytest.raises(UnknownExercise):
        store.save_rep_calibration("c-1", "no-such-exercise", "{}")
    assert store.rep_calibrations() == []


def test_the_sensitivity_steps_are_the_counters() -> None:
    assert tuple(s.value for s in Sensitivity) == REP_SENSITIVITIES


def test_migration_6_adds_the_table_to_a_version_4_store(store_url: str) -> None:
    with open_store(store_url, migrations=MIGRATIONS[:4]) as old:
        assert old.schema_version == 4
        old.add_child("c-1", "Alma")
    with open_store(store_url) as store:
        assert store.schema_version == len(MIGRATIONS) >= 6
        store.set_rep_sensitivity("c-1", SQUAT, "fewer")
        assert store.rep_calibration("c-1", SQUAT).sensitivity == "fewer"  # type: ignore[union-attr]
