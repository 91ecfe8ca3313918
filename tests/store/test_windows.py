"""Time windows over packed blocks, on SQLite and PostgreSQL: every read of a time window
returns exactly the rows whose host time is in it — whatever the order of host times,
with redelivered and re-cut batches, irregular devices, several boots and batches
longer than a block may span."""

from __future__ import annotations

import numpy as np
import pytest

from contract import SampleBatch
from store import Store
from store.replay import count_between, norm_envelope, read_columns, room_devices
from tests.store.factories import BOARD, T0, batch


def awkward_batches() -> list[SampleBatch]:
    """A board whose host clock offset steps back and forth between batches (so host time
    is not monotone in seq), a batch redelivered and one re-cut across two others, a
    second boot, and an irregular device with its own time column."""
    out = [batch(seq, 25, latency=0.05 + 0.3 * (k % 3 == 1) - 0.2 * (k % 4 == 3))
           for k, seq in enumerate(range(0, 500, 25))]
    out.append(out[3])  # redelivered as it was
    out.append(batch(110, 30, latency=0.35))  # re-cut: rows 110–139 again, other times
    out += [batch(seq, 25, boot="boot-b", t_dev0=3.0) for seq in range(0, 200, 25)]
    irregular = tuple((0.013 * i - 0.02 * (i % 5 == 4), 1.0 * i, 2.0, 3.0, 4.0) for i in range(40))
    out.append(SampleBatch("board-2", "board", "b1", 0, 0.0, 0.01, T0 + 1.0, ("t", *BOARD),
                           irregular))
    # slow and irregular rows over more host time than one block spans (BLOCK_SPAN)
    out.append(batch(0, 300, device="board-3", period=0.5))
    jumps = tuple((200.0 * (i % 3) - 7.0 * i, float(i), 0.0, 0.0, 0.0) for i in range(30))
    out.append(SampleBatch("board-3", "board", "b2", 0, 0.0, 0.01, T0 + 900.0, ("t", *BOARD),
                           jumps))
    return out


@pytest.fixture
def filled(store: Store) -> Store:
    for b in awkward_batches():
        store.insert_batches([b])
    return store


def edges(store: Store, device: str) -> list[float]:
    """Window edges where a span that misses a row would show: the time of each row at
    either end of a batch (and every row of a short device), one ulp either side of it,
    and midway to the next time."""
    frame = store.read_samples(device)
    ends = frame if len(frame) <= 50 else frame[frame["seq"] % 25 % 24 == 0]
    t = np.sort(ends["t"].to_numpy())
    near = [*np.nextafter(t, np.inf), *np.nextafter(t, -np.inf), *((t[1:] + t[:-1]) / 2)]
    return sorted({*t.tolist(), *map(float, near), float(t[0]) - 1, float(t[-1]) + 1})


def windows(store: Store, device: str) -> list[tuple[float | None, float | None]]:
    e = edges(store, device)
    pairs = [(e[i], e[j]) for i in range(0, len(e), 11) for j in range(i + 1, len(e), 17)]
    return [(None, None), *((x, None) for x in e), *((None, x) for x in e), *pairs]


@pytest.mark.parametrize("device", ["board-1", "board-2", "board-3"])
def test_every_time_window_reads_exactly_its_rows(filled: Store, device: str) -> None:
    everything = filled.read_samples(device)
    t_all = everything["t"].to_numpy()
    for t0, t1 in windows(filled, device):
        inside = np.ones(len(t_all), dtype=bool)
        if t0 is not None:
            inside &= t_all >= t0
        if t1 is not None:
            inside &= t_all < t1
        want = everything[inside]
        got = filled.read_samples(device, t0, t1)
        assert got["seq"].tolist() == want["seq"].tolist(), (t0, t1)
        assert got["t"].tolist() == want["t"].tolist(), (t0, t1)
        cols = read_columns(filled, device, ("fl", "br"), t0, t1)
        assert np.array_equal(np.sort(cols.t), np.sort(want["t"].to_numpy())), (t0, t1)
        assert count_between(filled, device, t0, t1) == int(inside.sum()), (t0, t1)


def test_the_awkward_board_is_what_the_test_claims(filled: Store) -> None:
    frame = filled.read_samples("board-1")
    one_boot = frame[frame["boot"] == "boot-a"].sort_values("seq")
    assert (np.diff(one_boot["t"].to_numpy()) < 0).any()  # host time steps back
    assert len(one_boot) == 500
    assert one_boot["seq"].is_unique


def test_envelope_and_room_devices_see_the_window_only(filled: Store) -> None:
    frame = filled.read_samples("board-1")
    t = frame["t"].to_numpy()
    t0, t1 = float(np.quantile(t, 0.3)), float(np.quantile(t, 0.6))
    env = norm_envelope(filled, "board-1", ("fl",), t0, t1, buckets=1)
    assert int(env.count.sum()) == int(((t >= t0) & (t < t1)).sum())
    filled.upsert_device("site", "room-1", "board-1", "board")
    filled.upsert_device("site", "room-1", "board-2", "board")
    late = float(filled.read_samples("board-2")["t"].max()) + 0.001
    assert [d.device for d in room_devices(filled, "site", "room-1", late, t.max() + 1)] == [
        "board-1"]
    assert room_devices(filled, "site", "room-1", t.max() + 1, t.max() + 2) == []
