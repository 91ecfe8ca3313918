"""store/replay.py on SQLite and PostgreSQL: columnar reads, room devices, list counts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from store import Store
from store.errors import UnknownDevice
from store.replay import (
    count_between,
    facets,
    iter_samples,
    read_columns,
    room_devices,
    session_counts,
    union_length,
)
from tests.dashboard.replay_session import T0, record_session
from tests.store.conftest import postgres_server, store, store_url  # noqa: F401
from tests.store.factories import batch


def test_read_columns_matches_read_samples(store: Store) -> None:  # noqa: F811
    rec = record_session(store, duration=30.0, imus=("trunk",))
    board = next(d for d, k in rec.devices.items() if k == "board")
    full = store.read_samples(board, T0 + 5, T0 + 20)
    cols = read_columns(store, board, ("fl", "br"), T0 + 5, T0 + 20)
    assert len(cols) == len(full) > 1000
    np.testing.assert_array_equal(cols.t, full["t"].to_numpy())
    np.testing.assert_array_equal(cols.values["fl"], full["fl"].to_numpy())
    np.testing.assert_array_equal(cols.values["br"], full["br"].to_numpy())
    assert np.all(np.diff(cols.t) > 0)


def test_read_columns_merges_boots_and_fills_missing_columns(store: Store) -> None:  # noqa: F811
    store.insert_batches([batch(0, 10, boot="a"), batch(0, 10, boot="b", t_dev0=0.2,
                                                        columns=("fl", "fr", "bl", "br", "extra"))])
    cols = read_columns(store, "board-1", ("fl", "extra"))
    assert len(cols) == 20
    assert np.all(np.diff(cols.t) > 0)
    assert np.isnan(cols.values["extra"][:10]).all()
    assert not np.isnan(cols.values["extra"][10:]).any()
    assert len(read_columns(store, "board-1", ("fl",), T0 + 100, T0 + 200)) == 0
    with pytest.raises(UnknownDevice):
        read_columns(store, "nope", ("fl",))


def test_room_devices_are_those_with_data_in_the_window(store: Store) -> None:  # noqa: F811
    rec = record_session(store, duration=20.0, imus=("trunk", "pelvis"))
    store.upsert_device("demo", "room-1", "spare-imu", "imu", "head")  # set up, never recorded
    store.upsert_device("demo", "room-9", "elsewhere", "board")
    names = [d.device for d in room_devices(store, "demo", "room-1", rec.start, rec.end)]
    assert sorted(names) == sorted(rec.devices)
    assert room_devices(store, "demo", "room-1", rec.end + 10, rec.end + 20) == []
    assert room_devices(store, "other-site", "room-1") == []


def test_session_counts_for_the_list(store: Store) -> None:  # noqa: F811
    record_session(store, duration=60.0)
    record_session(store, session="s-2", start=T0 + 3600, duration=60.0, hole=False,
                   sets=[])
    counts = session_counts(store, ["s-1", "s-2", "missing"])
    assert set(counts) == {"s-1", "s-2"}
    one = counts["s-1"]
    assert (one.sets, one.planned_reps, one.reps, one.manual_reps) == (3, 16, 13, 1)
    assert (one.gaps, one.gap_s) == (1, pytest.approx(1.0))
    two = counts["s-2"]
    assert (two.sets, two.planned_reps, two.reps, two.gaps, two.gap_s) == (0, 0, 0, 0, 0.0)
    assert session_counts(store, []) == {}


def test_iter_samples_and_count_cover_the_window_once(store: Store) -> None:  # noqa: F811
    rec = record_session(store, duration=30.0, hole=False)
    board = next(d for d, k in rec.devices.items() if k == "board")
    chunks = list(iter_samples(store, board, rec.start, rec.end + 1, chunk_s=7.0))
    assert len(chunks) == 5
    assert sum(len(c) for c in chunks) == count_between(store, board, rec.start, rec.end + 1)
    assert count_between(store, board, rec.start, rec.end + 1) == 3001  # 0 s … 30 s
    assert count_between(store, "nope", None, None) == 0
    with pytest.raises(ValueError, match="chunk_s"):
        next(iter_samples(store, board, 0, 1, chunk_s=0))


def test_facets_list_rooms_and_therapists(store: Store) -> None:  # noqa: F811
    record_session(store, duration=10.0, author="ana")
    record_session(store, session="s-2", room="room-2", start=T0 + 100, duration=10.0,
                   author="ben")
    assert facets(store) == (["room-1", "room-2"], ["ana", "ben"])


def test_union_length() -> None:
    assert union_length([]) == 0.0
    assert union_length([(0, 2), (1, 3), (5, 6)]) == 4.0
    assert union_length([(0, 10), (2, 3)]) == 10.0
    assert math.isinf(union_length([(0, math.inf)]))
