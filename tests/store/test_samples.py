from __future__ import annotations

import random

import numpy as np
import pytest

from contract import SampleBatch
from store import InsertResult, Store
from store.errors import InvalidData, UnknownDevice
from tests.store.factories import BOARD, IMU, T0, batch, batches, imu_batch, value


def test_batches_in_give_exact_row_counts(store: Store) -> None:
    board = batches(40)
    imu = [imu_batch(i * 25) for i in range(8)]

    result = store.insert_batches(board + imu)

    assert result == InsertResult(inserted=1200, duplicates=0)
    assert store.count_samples() == 1200
    assert store.count_samples("board-1") == 1000
    assert store.count_samples("imu-trunk") == 200
    assert store.count_samples("nobody") == 0


def test_redelivered_batches_are_dropped(store: Store) -> None:
    first = batches(4)
    store.insert_batches(first)

    again = store.insert_batches(first)

    assert again == InsertResult(inserted=0, duplicates=100)
    assert store.count_samples() == 100


def test_same_batch_twice_in_one_call_is_stored_once(store: Store) -> None:
    one = batch(0)

    result = store.insert_batches([one, one])

    assert result == InsertResult(inserted=25, duplicates=25)
    assert len(store.read_samples("board-1")) == 25


def test_overlapping_sequence_numbers_keep_the_first_copy(store: Store) -> None:
    store.insert_batches([batch(0, 25)])

    # a replayed spool: rows 10..39 where 10..24 are already stored
    result = store.insert_batches([batch(10, 30)])

    assert result == InsertResult(inserted=15, duplicates=15)
    frame = store.read_samples("board-1")
    assert frame["seq"].tolist() == list(range(40))


def test_a_new_boot_restarts_sequence_numbers_without_clashing(store: Store) -> None:
    store.insert_batches([batch(0, boot="boot-a")])

    result = store.insert_batches([batch(0, boot="boot-b", t_dev0=100.0)])

    assert result == InsertResult(inserted=25, duplicates=0)
    frame = store.read_samples("board-1")
    assert frame["boot"].tolist() == ["boot-a"] * 25 + ["boot-b"] * 25


def test_read_samples_returns_exactly_what_went_in(store: Store) -> None:
    sent = batches(6)
    store.insert_batches(sent)

    frame = store.read_samples("board-1")

    assert list(frame.columns) == ["t", "t_dev", "boot", "seq", *BOARD]
    assert len(frame) == 150
    expected_t = [t for b in sent for t in b.host_times()]
    expected_dev = [t for b in sent for t in b.device_times()]
    assert frame["t"].tolist() == expected_t
    assert frame["t_dev"].tolist() == expected_dev
    assert frame["seq"].tolist() == list(range(150))
    for j, name in enumerate(BOARD):
        assert frame[name].tolist() == [value(s, j) for s in range(150)]
    assert set(frame["boot"]) == {"boot-a"}


def test_read_samples_is_sorted_by_host_time_whatever_the_arrival_order(store: Store) -> None:
    sent = batches(12)
    shuffled = sent[:]
    random.Random(5).shuffle(shuffled)
    for i in range(0, 12, 3):
        store.insert_batches(shuffled[i : i + 3])

    frame = store.read_samples("board-1")

    assert frame["t"].is_monotonic_increasing
    assert frame["seq"].tolist() == list(range(300))


def test_read_samples_range_is_half_open(store: Store) -> None:
    store.insert_batches(batches(8))  # host times T0 + 0.05 + seq * 0.01
    everything = store.read_samples("board-1")
    t = everything["t"].to_numpy()
    t0, t1 = t[50], t[120]

    frame = store.read_samples("board-1", t0, t1)

    assert frame["seq"].tolist() == list(range(50, 120))
    assert store.read_samples("board-1", t0=t[190])["seq"].tolist() == list(range(190, 200))
    assert store.read_samples("board-1", t1=t[3])["seq"].tolist() == [0, 1, 2]
    assert store.read_samples("board-1", T0 + 999, T0 + 1000).empty


def test_read_samples_keeps_devices_apart(store: Store) -> None:
    store.insert_batches([batch(0), imu_batch(0), batch(0, device="board-2")])

    imu = store.read_samples("imu-trunk")

    assert list(imu.columns) == ["t", "t_dev", "boot", "seq", *IMU]
    assert len(imu) == 25
    assert imu["gz"].tolist() == [value(s, 5) for s in range(25)]


def test_irregular_device_time_column_becomes_t_dev(store: Store) -> None:
    times = (10.0, 10.013, 10.019, 10.04)
    rows = tuple((t, 1.0 + i, 2.0 + i) for i, t in enumerate(times))
    irregular = SampleBatch("imu-head", "imu", "b1", 7, 10.0, 0.01, T0, ("t", "ax", "ay"), rows)
    store.insert_batches([irregular])

    frame = store.read_samples("imu-head")

    assert list(frame.columns) == ["t", "t_dev", "boot", "seq", "ax", "ay"]
    assert frame["t_dev"].tolist() == list(times)
    assert frame["t"].tolist() == irregular.host_times()
    assert frame["ax"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert frame["seq"].tolist() == [7, 8, 9, 10]


def test_long_wide_and_irregular_batches_in_one_call_come_back_exactly(store: Store) -> None:
    wide = tuple(f"c{i}" for i in range(16))
    long = batch(7, 1000, device="wide", kind="imu", columns=wide, t_dev0=3.3)
    times = tuple(10.0 + i * 0.0097 + (i % 3) * 0.001 for i in range(130))
    irregular = SampleBatch("imu-head", "imu", "b1", 0, times[0], 0.01, T0 + 0.4, ("ax", "t"),
                            tuple((float(i), t) for i, t in enumerate(times)))

    result = store.insert_batches([long, irregular, batch(0)])

    assert result == InsertResult(inserted=1155, duplicates=0)
    frame = store.read_samples("wide")
    assert frame["seq"].tolist() == list(range(7, 1007))
    assert frame["t"].tolist() == long.host_times()
    assert frame["t_dev"].tolist() == long.device_times()
    for j, name in enumerate(wide):
        assert frame[name].tolist() == [value(s, j) for s in range(7, 1007)]
    head = store.read_samples("imu-head")
    assert head["t_dev"].tolist() == list(times)
    assert head["t"].tolist() == irregular.host_times()
    assert head["ax"].tolist() == [float(i) for i in range(130)]


def test_boots_with_different_columns_read_back_as_one_frame(store: Store) -> None:
    plain = imu_batch(0, 5, boot="b1")
    with_mag = imu_batch(0, 5, boot="b2", t_dev0=50.0, columns=(*IMU, "mx", "my", "mz"))
    store.insert_batches([plain, with_mag])

    frame = store.read_samples("imu-trunk")

    assert list(frame.columns) == ["t", "t_dev", "boot", "seq", *IMU, "mx", "my", "mz"]
    b1 = frame[frame["boot"] == "b1"]
    b2 = frame[frame["boot"] == "b2"]
    assert b1["mx"].isna().all()
    assert b2["mx"].tolist() == [value(s, 6) for s in range(5)]
    assert b1["ax"].tolist() == b2["ax"].tolist() == [value(s, 0) for s in range(5)]


def test_reordered_or_new_columns_within_a_boot_land_under_their_names(store: Store) -> None:
    store.insert_batches([batch(0, 5, columns=("fl", "fr", "bl", "br"))])
    swapped = SampleBatch(
        "board-1", "board", "boot-a", 5, 0.05, 0.01, T0 + 0.1,
        ("br", "bl", "fr", "fl", "temp"), ((4.0, 3.0, 2.0, 1.0, 36.5),),
    )  # fmt: skip
    store.insert_batches([swapped])

    frame = store.read_samples("board-1")

    last = frame.iloc[-1]
    assert (last["fl"], last["fr"], last["bl"], last["br"], last["temp"]) == (1, 2, 3, 4, 36.5)
    assert frame["temp"].iloc[:5].isna().all()


def test_integer_readings_come_back_as_numbers(store: Store) -> None:
    ints = SampleBatch("board-9", "board", "b", 0, 0.0, 0.01, T0, BOARD, ((1, 2, 3, 4),))
    store.insert_batches([ints])

    frame = store.read_samples("board-9")

    assert frame[list(BOARD)].to_numpy().tolist() == [[1.0, 2.0, 3.0, 4.0]]


def test_known_device_without_samples_gives_an_empty_frame(store: Store) -> None:
    store.upsert_device("demo", "room-1", "board-7", "board")

    frame = store.read_samples("board-7")

    assert frame.empty
    assert list(frame.columns)[:4] == ["t", "t_dev", "boot", "seq"]


def test_unknown_device_is_an_error(store: Store) -> None:
    with pytest.raises(UnknownDevice, match="board-404"):
        store.read_samples("board-404")


def test_empty_insert_is_a_no_op(store: Store) -> None:
    assert store.insert_batches([]) == InsertResult(0, 0)
    assert store.count_samples() == 0


def test_a_bad_batch_fails_the_whole_call_and_names_it(store: Store) -> None:
    bad = SampleBatch("board-1", "board", "b", 100, 0.0, 0.01, T0, ("seq", "fl"), ((1.0, 2.0),))

    with pytest.raises(InvalidData, match=r"batches\[1\].*seq"):
        store.insert_batches([batch(0), bad])

    assert store.count_samples() == 0


def test_more_columns_than_the_store_holds_is_refused(store: Store) -> None:
    names = tuple(f"c{i}" for i in range(16))
    store.insert_batches([batch(0, 1, device="wide", kind="imu", columns=names)])
    wider = batch(1, 1, device="wide", kind="imu", columns=("extra",))

    with pytest.raises(InvalidData, match="at most 16"):
        store.insert_batches([wider])

    assert store.count_samples("wide") == 1


def test_large_values_and_sequence_numbers_round_trip(store: Store) -> None:
    big = SampleBatch(
        "imu-x", "imu", "b", 2**40, 1e6, 0.001, T0, ("ax",), ((1e-300,), (-1.7976931348623157e308,))
    )
    store.insert_batches([big])

    frame = store.read_samples("imu-x")

    assert frame["seq"].tolist() == [2**40, 2**40 + 1]
    assert frame["ax"].tolist() == [1e-300, -1.7976931348623157e308]
    assert np.issubdtype(frame["seq"].dtype, np.integer)
