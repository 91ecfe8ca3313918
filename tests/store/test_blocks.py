"""Packed storage on SQLite and PostgreSQL: a batch is one row with its columns packed,
longer ones are cut to what a block may span, and a store of per-sample rows (schema 4,
or 1) converts to blocks (migration 5) with every sample as it was."""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa

from contract import SampleBatch
from store import Store, open_store
from store.blocks import BLOCK_SPAN
from store.db import create_engine, to_url
from store.migrations import MIGRATIONS
from tests.store.factories import BOARD, T0, batch, imu_batch, value
from tests.store.legacy import write_old_store
from tests.store.test_windows import awkward_batches, windows


def _blocks(url: str) -> list[sa.Row]:  # type: ignore[type-arg]
    engine = create_engine(to_url(url))
    try:
        with engine.connect() as conn:
            return list(conn.exec_driver_sql(
                "SELECT seq0, n, cols, t_min, t_max, data FROM sample_blocks ORDER BY seq0"))
    finally:
        engine.dispose()


def test_a_batch_is_one_row_of_packed_little_endian_columns(store_url: str) -> None:
    with open_store(store_url) as store:
        store.insert_batches([batch(0), batch(25), batch(50)])
        store.insert_batches([batch(0)])  # redelivered: no row

    rows = _blocks(store_url)

    assert [(r.seq0, r.n, r.cols) for r in rows] == [(s, 25, "fl,fr,bl,br") for s in (0, 25, 50)]
    packed = np.frombuffer(bytes(rows[1].data), dtype="<f8").reshape(4, 25)  # column-major
    assert packed[2].tolist() == [value(s, 2) for s in range(25, 50)]
    assert rows[1].t_min == batch(25).host_times()[0]
    assert rows[1].t_max == batch(25).host_times()[-1]


def test_a_re_cut_batch_adds_only_its_new_rows_as_blocks(store: Store) -> None:
    store.insert_batches([batch(0, 10), batch(20, 10)])

    result = store.insert_batches([batch(5, 30, latency=0.3)])  # rows 5–34: 10–19, 30–34 new

    assert (result.inserted, result.duplicates) == (15, 15)
    frame = store.read_samples("board-1")  # sorted by host time
    assert sorted(frame["seq"]) == list(range(35))
    recut = batch(5, 30, latency=0.3)
    new = [i for i in range(30) if 10 <= 5 + i < 20 or 5 + i >= 30]
    by_seq = frame.set_index("seq")
    assert by_seq.loc[[5 + i for i in new], "t"].tolist() == [recut.host_times()[i] for i in new]
    assert by_seq.loc[[5 + i for i in new], "t_dev"].tolist() == [
        recut.device_times()[i] for i in new]
    assert by_seq.loc[0:9, "t"].tolist() == batch(0, 10).host_times()  # first copies stay


def test_a_batch_longer_than_a_block_spans_is_cut_and_reads_back_whole(store_url: str) -> None:
    slow = batch(0, 300, period=0.5)  # 150 s of host time
    with open_store(store_url) as store:
        store.insert_batches([slow])
        frame = store.read_samples("board-1")

    rows = _blocks(store_url)
    assert len(rows) == 3
    assert all(r.t_max - r.t_min <= BLOCK_SPAN for r in rows)
    assert sum(r.n for r in rows) == 300
    assert frame["t"].tolist() == slow.host_times()
    assert frame["t_dev"].tolist() == slow.device_times()
    assert frame["fl"].tolist() == [value(s, 0) for s in range(300)]


def _fresh_answers(url: str, batches: list[SampleBatch]) -> tuple[list, list]:  # type: ignore[type-arg]
    with open_store(url) as fresh:
        for b in batches:
            fresh.insert_batches([b])
        probes = {d: windows(fresh, d)[::5] for d in ("board-1", "board-2", "board-3")}
        frames = {d: fresh.read_samples(d)
                  for d in ("board-1", "board-2", "board-3", "imu-trunk")}
        answers = [(d, a, b, fresh.read_samples(d, a, b)["seq"].tolist())
                   for d, ps in probes.items() for a, b in ps]
    return list(frames.items()), answers


def _reset(url: str) -> str:
    """Another SQLite file, or the PostgreSQL schema emptied."""
    if "://" not in url:
        return url + "-old"
    engine = create_engine(to_url(url))
    with engine.begin() as conn:
        for table in sa.inspect(conn).get_table_names():
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table} CASCADE")
    engine.dispose()
    return url


@pytest.mark.parametrize("version", [4, 1])
def test_a_store_of_per_sample_rows_converts_to_blocks(store_url: str, version: int) -> None:
    sent = [*awkward_batches(),
            *(imu_batch(s, boot="b1") for s in range(0, 100, 25)),
            imu_batch(0, 5, boot="b2", t_dev0=50.0, columns=("ax", "ay", "az", "gx", "gy", "gz",
                                                               "mx"))]
    frames, answers = _fresh_answers(store_url, sent)
    old_url = _reset(store_url)
    write_old_store(old_url, sent, version)

    with open_store(old_url) as upgraded:
        assert upgraded.schema_version == len(MIGRATIONS)
        for device, want in frames:
            got = upgraded.read_samples(device)
            assert list(got.columns) == list(want.columns)
            for name in want.columns:  # every time and value as it was, NaN where absent
                assert got[name].astype(object).fillna("-").tolist() == \
                    want[name].astype(object).fillna("-").tolist(), (device, name)
        for device, a, b, seqs in answers:
            assert upgraded.read_samples(device, a, b)["seq"].tolist() == seqs, (device, a, b)
        assert upgraded.count_samples() == sum(len(f) for _, f in frames)
        # it goes on recording, and old rows still count as stored
        assert upgraded.insert_batches([batch(475, 50)]).inserted == 25
        assert upgraded.count_samples("board-1") == 725
    engine = create_engine(to_url(old_url))
    with engine.connect() as conn:
        left = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    assert not left & {"samples", "sample_spans"}


def test_converted_blocks_respect_the_block_bounds(store_url: str) -> None:
    slow = batch(0, 300, period=0.5, device="board-9")
    old_url = _reset(store_url)
    write_old_store(old_url, [slow, batch(0, 30), batch(100, 5)])

    with open_store(old_url) as upgraded:
        assert upgraded.read_samples("board-9")["t"].tolist() == slow.host_times()

    rows = _blocks(old_url)
    assert all(r.t_max - r.t_min <= BLOCK_SPAN and r.n <= 1000 for r in rows)
    board = sorted((r.seq0, r.n) for r in rows if r.cols == "t,t_dev," + ",".join(BOARD)
                   and r.t_min > T0 + 0.5 and r.n < 100)
    assert (100, 5) in board  # a seq gap starts a new block
