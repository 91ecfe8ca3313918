"""Derived series (the replay's tilt, worked out once per session): stored exactly,
refused when malformed, stale as soon as a sample arrives in their window."""

from __future__ import annotations

import numpy as np
import pytest

from store import Store
from store.derived import load_series, save_series, source_of
from store.errors import InvalidData, UnknownDevice
from tests.store.factories import T0, imu_batch

PLACE = ("demo", "room-1")


def _recorded(store: Store) -> str:
    store.upsert_device(*PLACE, "imu-trunk", "imu", "trunk")
    store.insert_batches([imu_batch(i * 25) for i in range(8)], [PLACE] * 8)
    return source_of(store, "imu-trunk", T0, T0 + 10, PLACE)


def test_a_series_comes_back_exactly_as_stored(store: Store) -> None:
    source = _recorded(store)
    t = np.arange(200) / 100.0
    pitch = np.sin(t).astype(np.float32)
    save_series(store, "s-1", "imu-trunk", "tilt", source, {"t": t, "pitch": pitch},
                {"fs": 100.0, "holes": [[0.5, 0.7]]}, PLACE)
    got = load_series(store, "s-1", "imu-trunk", "tilt", source, PLACE)
    assert got is not None
    np.testing.assert_array_equal(got.arrays["t"], t)
    assert got.arrays["pitch"].dtype == np.float32
    np.testing.assert_array_equal(got.arrays["pitch"], pitch)
    assert got.info == {"fs": 100.0, "holes": [[0.5, 0.7]]}
    # another session, another name: nothing
    assert load_series(store, "s-2", "imu-trunk", "tilt", source, PLACE) is None
    assert load_series(store, "s-1", "imu-trunk", "other", source, PLACE) is None


def test_a_sample_arriving_in_the_window_makes_the_series_stale(store: Store) -> None:
    source = _recorded(store)
    save_series(store, "s-1", "imu-trunk", "tilt", source, {"t": np.zeros(3)}, None, PLACE)
    # a batch after the window: the series still stands
    store.insert_batches([imu_batch(2000)], [PLACE])
    assert source_of(store, "imu-trunk", T0, T0 + 10, PLACE) == source
    # a late batch inside it (a spool flushed after the session's end): stale
    store.insert_batches([imu_batch(200)], [PLACE])
    later = source_of(store, "imu-trunk", T0, T0 + 10, PLACE)
    assert later != source
    assert load_series(store, "s-1", "imu-trunk", "tilt", later, PLACE) is None
    # worked out again, it replaces the old one
    save_series(store, "s-1", "imu-trunk", "tilt", later, {"t": np.ones(4)}, None, PLACE)
    again = load_series(store, "s-1", "imu-trunk", "tilt", later, PLACE)
    assert again is not None
    np.testing.assert_array_equal(again.arrays["t"], np.ones(4))


def test_malformed_series_and_unknown_devices_are_refused(store: Store) -> None:
    source = _recorded(store)
    with pytest.raises(InvalidData, match="tilt: t is not a 1-d numeric array"):
        save_series(store, "s-1", "imu-trunk", "tilt", source, {"t": np.zeros((2, 2))},
                    None, PLACE)
    with pytest.raises(InvalidData, match="tilt: info is not plain JSON"):
        save_series(store, "s-1", "imu-trunk", "tilt", source, {"t": np.zeros(2)},
                    {"fs": float("nan")}, PLACE)
    with pytest.raises(UnknownDevice):
        source_of(store, "imu-nowhere", T0, T0 + 10, PLACE)
    assert load_series(store, "s-1", "imu-trunk", "tilt", source, PLACE) is None


def test_a_store_of_schema_7_upgrades_to_derived_series(store_url: str) -> None:
    """Migration 8 adds ``derived_series`` to a store that has none (a new store's
    baseline already has it: the table is dropped to stand for an older store)."""
    from store import open_store
    from store.db import create_engine, to_url
    from store.migrations import MIGRATIONS

    with open_store(store_url, migrations=MIGRATIONS[:7]) as old:
        source = _recorded(old)
    engine = create_engine(to_url(store_url))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE derived_series")
    engine.dispose()
    with open_store(store_url) as upgraded:
        assert upgraded.schema_version == 8
        save_series(upgraded, "s-1", "imu-trunk", "tilt", source, {"t": np.arange(3.0)},
                    None, PLACE)
        got = load_series(upgraded, "s-1", "imu-trunk", "tilt", source, PLACE)
        assert got is not None
        np.testing.assert_array_equal(got.arrays["t"], np.arange(3.0))
