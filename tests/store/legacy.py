"""A store as schema 4 (or 1) kept samples: a ``samples`` row per sample, a span a batch,
written the way the recorder of those versions did (the first copy of a (device, boot,
seq) kept), for the tests of migration 5."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from contract import SampleBatch
from store import legacy_tables, open_store, tables
from store.db import create_engine, to_url
from store.migrations import MIGRATIONS


def write_old_store(url: str, batches: Sequence[SampleBatch], version: int = 4) -> None:
    """Open ``url`` at schema ``version`` and store ``batches`` as that schema did
    (version 1: no spans but an index on ``samples.t``)."""
    with open_store(url, migrations=MIGRATIONS[:version]):
        pass
    engine = create_engine(to_url(url))
    try:
        with engine.begin() as conn:
            for b in batches:
                _write(conn, b)
            if version == 1:
                conn.exec_driver_sql("DROP TABLE sample_spans")
                conn.exec_driver_sql(
                    "CREATE INDEX ix_samples_stream_id_t ON samples (stream_id, t)")
    finally:
        engine.dispose()


def _write(conn: sa.Connection, b: SampleBatch) -> None:
    d, st = tables.devices, tables.streams
    insert = sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert
    device_id = conn.execute(sa.select(d.c.id).where(d.c.name == b.device)).scalar()
    if device_id is None:
        device_id = conn.execute(d.insert().values(name=b.device, kind=b.kind)
                                 .returning(d.c.id)).scalar_one()
    values = [c for c in b.columns if c != "t"]
    row = conn.execute(sa.select(st.c.id, st.c.cols)
                       .where(st.c.device_id == device_id, st.c.boot == b.boot)).first()
    if row is None:
        stream_id = conn.execute(st.insert().values(device_id=device_id, boot=b.boot,
                                                    kind=b.kind, cols=values)
                                 .returning(st.c.id)).scalar_one()
        cols = values
    else:
        stream_id, cols = row.id, list(row.cols)
        if not set(values) <= set(cols):
            cols += [c for c in values if c not in cols]
            conn.execute(st.update().where(st.c.id == stream_id).values(cols=cols))
    host, dev = b.host_times(), b.device_times()
    rows = []
    for i, r in enumerate(b.rows):
        rec = {"stream_id": stream_id, "seq": b.seq + i, "t": host[i], "t_dev": dev[i]}
        rec.update({f"v{k}": None for k in range(legacy_tables.VALUE_SLOTS)})
        for name, value in zip(b.columns, r, strict=True):
            if name != "t":
                rec[f"v{cols.index(name)}"] = float(value)
        rows.append(rec)
    conn.execute(insert(legacy_tables.samples).on_conflict_do_nothing(), rows)
    pad = legacy_tables.SPAN_PAD
    conn.execute(insert(legacy_tables.sample_spans).on_conflict_do_nothing().values(
        stream_id=stream_id, seq0=b.seq, seq1=b.last_seq, t_min=min(host) - pad,
        t_max=max(host) + pad))
