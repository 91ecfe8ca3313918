"""Time ranges through sample_spans, on SQLite and PostgreSQL: every read of a time window
returns exactly the rows whose host time is in it — whatever the order of host times,
with redelivered and re-cut batches, irregular devices and several boots — and a store
written before the spans existed upgrades in place with the same answers."""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa

from contract import SampleBatch
from store import Store, open_store
from store.db import create_engine, to_url
from store.migrations import MIGRATIONS
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


@pytest.mark.parametrize("device", ["board-1", "board-2"])
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


def test_a_store_written_before_spans_upgrades_with_the_same_answers(store_url: str) -> None:
    with open_store(store_url) as fresh_copy:  # the answers to expect, on a current store
        for b in awkward_batches():
            fresh_copy.insert_batches([b])
        probes = windows(fresh_copy, "board-1")[::4]
        expected = [fresh_copy.read_samples("board-1", a, b)["seq"].tolist() for a, b in probes]
    # the same data as schema version 1 stored it: an index on samples.t, no spans
    old_url = store_url + ("-v1" if "://" not in store_url else "")
    if "://" in store_url:  # PostgreSQL: start the schema again
        engine = create_engine(to_url(store_url))
        with engine.begin() as conn:
            for table in ("schema_version", *reversed(_table_names(conn))):
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table} CASCADE")
        engine.dispose()
    with open_store(old_url, migrations=MIGRATIONS[:1]) as old:
        for b in awkward_batches():
            old.insert_batches([b])
    engine = create_engine(to_url(old_url))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE sample_spans")
        conn.exec_driver_sql("CREATE INDEX ix_samples_stream_id_t ON samples (stream_id, t)")
    engine.dispose()

    with open_store(old_url) as upgraded:
        assert upgraded.schema_version == len(MIGRATIONS)
        got = [upgraded.read_samples("board-1", a, b)["seq"].tolist() for a, b in probes]
        assert got == expected
        upgraded.insert_batches([batch(500, 25)])  # and it goes on recording
        assert upgraded.count_samples("board-1") == 725
    engine = create_engine(to_url(old_url))
    with engine.connect() as conn:
        indexes = [ix["name"] for ix in sa.inspect(conn).get_indexes("samples")]
    engine.dispose()
    assert "ix_samples_stream_id_t" not in indexes


def _table_names(conn: sa.Connection) -> list[str]:
    return [t for t in sa.inspect(conn).get_table_names() if t != "schema_version"]
