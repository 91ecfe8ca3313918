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
    norm_envelope,
    read_columns,
    room_devices,
    session_counts,
    union_length,
)
from tests.dashboard.replay_session import T0, record_session
from tests.store.conftest import postgres_server, store, store_url  # noqa: F401
from tests.store.factories import T0 as F0
from tests.store.factories import batch, imu_batch


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


def test_read_columns_sorts_times_that_step_back(store: Store) -> None:  # noqa: F811
    # the second batch of the boot arrived with less latency: its host times start
    # before the first batch's end, as a clock correction does
    store.insert_batches([batch(0, 25, latency=0.5), batch(25, 25, latency=0.0)])
    full = store.read_samples("board-1")
    cols = read_columns(store, "board-1", ("fl", "bl"))
    np.testing.assert_array_equal(cols.t, full["t"].to_numpy())
    np.testing.assert_array_equal(cols.values["bl"], full["bl"].to_numpy())
    part = read_columns(store, "board-1", ("fr",), float(full["t"][10]), float(full["t"][40]))
    np.testing.assert_array_equal(part.values["fr"], full["fr"].to_numpy()[10:40])


def _expected_envelope(t: np.ndarray, norm: np.ndarray, t0: float, t1: float,
                       buckets: int) -> dict[int, tuple[float, float, int, float, float]]:
    width = (t1 - t0) / buckets
    index = np.minimum(np.floor((t - t0) / width), buckets - 1).astype(int)
    return {int(b): (float(t[index == b].min()), float(t[index == b].max()),
                     int((index == b).sum()), float(np.nanmin(norm[index == b])),
                     float(np.nanmax(norm[index == b])))
            for b in np.unique(index) if np.isfinite(norm[index == b]).any()}


def test_norm_envelope_is_the_range_of_the_norm_per_bucket(store: Store) -> None:  # noqa: F811
    rec = record_session(store, duration=30.0, imus=("pelvis",))
    imu = next(d for d, k in rec.devices.items() if k == "imu")
    t0, t1 = T0 + 2.0, T0 + 27.0
    env = norm_envelope(store, imu, ("gx", "gy", "gz"), t0, t1, buckets=40)
    cols = read_columns(store, imu, ("gx", "gy", "gz"), t0, t1)
    norm = np.sqrt(cols.values["gx"] ** 2 + cols.values["gy"] ** 2 + cols.values["gz"] ** 2)
    expected = _expected_envelope(cols.t, norm, t0, t1, 40)
    assert env.device == imu
    assert env.bucket.tolist() == sorted(expected) == list(range(40))
    got = list(zip(env.t_first, env.t_last, env.count, env.low, env.high, strict=True))
    assert got == [expected[b] for b in sorted(expected)]  # exactly: same arithmetic
    assert env.count.sum() == len(cols) == 2500
    assert len(norm_envelope(store, imu, ("gx",), T0 + 100, T0 + 200, buckets=4)) == 0


def test_norm_envelope_merges_boots_and_skips_a_missing_column(store: Store) -> None:  # noqa: F811
    # boot a (0.05–0.54 s) has no gz; boot b (0.35–0.84 s) has it
    store.insert_batches([
        imu_batch(0, 50, boot="a", columns=("gx", "gy")),
        imu_batch(0, 50, boot="b", t_dev0=0.3, columns=("gx", "gy", "gz")),
    ])
    env = norm_envelope(store, "imu-trunk", ("gx", "gz"), F0, F0 + 1.0, buckets=10)
    whole = read_columns(store, "imu-trunk", ("gx", "gz"))
    norm = np.sqrt(whole.values["gx"] ** 2 + whole.values["gz"] ** 2)  # NaN for boot a
    expected = _expected_envelope(whole.t, norm, F0, F0 + 1.0, 10)
    assert env.bucket.tolist() == list(range(9))
    assert env.count.sum() == len(whole) == 100
    for b, first, last, count, low, high in zip(env.bucket, env.t_first, env.t_last,
                                                env.count, env.low, env.high, strict=True):
        inside = np.floor((whole.t - F0) / 0.1) == b
        assert (first, last, count) == (whole.t[inside].min(), whole.t[inside].max(),
                                        inside.sum())
        if b >= 3:  # boot b has samples here: its range (boot a's are ignored)
            assert (low, high) == expected[int(b)][3:]
        else:
            assert np.isnan([low, high]).all()
    assert sorted(expected) == list(range(3, 9))


def test_norm_envelope_rejects_bad_requests(store: Store) -> None:  # noqa: F811
    with pytest.raises(UnknownDevice):
        norm_envelope(store, "nope", ("gx",), T0, T0 + 1, buckets=2)
    with pytest.raises(ValueError, match="buckets >= 1"):
        norm_envelope(store, "nope", ("gx",), T0, T0 + 1, buckets=0)
    with pytest.raises(ValueError, match="t1 > t0"):
        norm_envelope(store, "nope", ("gx",), T0, T0, buckets=2)


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
