"""Migration 5: the per-sample rows of schema 4 (``samples``, ``sample_spans``) become
packed blocks (``sample_blocks``, :mod:`store.blocks`), on SQLite and PostgreSQL.

Each stream ((device, boot)) is read in seq order, a slice at a time, and cut into
blocks of consecutive seqs (at most ``BLOCK_ROWS`` rows, ``BLOCK_SPAN`` s of host time).
The old rows kept each sample's host and device time, but not the batches they came in,
so a converted block carries both times as columns (``t``, ``t_dev``): every sample reads
back exactly as before, value for value, NULL (a column its batch lacked) as NaN.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from store import legacy_tables, tables
from store.blocks import BLOCK_ROWS, BLOCK_SPAN, DEVICE, HOST, Block, cut

SLICE = 100_000
"""Rows of a stream read at a time."""


def convert_samples(conn: Connection) -> None:
    """Fill ``sample_blocks`` from ``samples``, then drop ``samples`` and ``sample_spans``."""
    tables.sample_blocks.create(conn, checkfirst=True)
    inspector = sa.inspect(conn)
    if inspector.has_table("samples"):
        s = tables.streams
        for stream_id, device_id, boot, cols in conn.execute(
                sa.select(s.c.id, s.c.device_id, s.c.boot, s.c.cols).order_by(s.c.id)).all():
            _convert_stream(conn, int(stream_id), int(device_id), boot, tuple(cols))
    for table in (legacy_tables.sample_spans, legacy_tables.samples):
        table.drop(conn, checkfirst=True)


def _convert_stream(conn: Connection, stream_id: int, device_id: int, boot: str,
                    cols: tuple[str, ...]) -> None:
    old = legacy_tables.samples
    slots = [old.c[f"v{i}"] for i in range(len(cols))]
    after = -1
    while True:
        rows = conn.execute(
            sa.select(old.c.seq, old.c.t, old.c.t_dev, *slots)
            .where(old.c.stream_id == stream_id, old.c.seq > after)
            .order_by(old.c.seq).limit(SLICE)).all()
        if not rows:
            return
        seq = np.array([r[0] for r in rows], dtype=np.int64)
        values = np.array([r[1:] for r in rows], dtype=np.float64).reshape(len(rows), -1)
        blocks = [_block(device_id, boot, cols, seq[a:b], values[a:b])
                  for a, b in _runs(seq, values[:, 0])]
        conn.execute(tables.sample_blocks.insert(), [b._asdict() for b in blocks])
        after = int(seq[-1])


def _runs(seq: np.ndarray, host: np.ndarray) -> list[tuple[int, int]]:
    """Row ranges of consecutive seqs that fit a block."""
    breaks = np.flatnonzero(np.diff(seq) != 1) + 1
    out: list[tuple[int, int]] = []
    for a, b in zip(np.r_[0, breaks], np.r_[breaks, seq.size], strict=True):
        a, b = int(a), int(b)
        if b - a <= BLOCK_ROWS and host[a:b].max() - host[a:b].min() <= BLOCK_SPAN:
            out.append((a, b))
        else:
            out += [(a + i, a + j) for i, j in cut(host[a:b])]
    return out


def _block(device_id: int, boot: str, cols: tuple[str, ...], seq: np.ndarray,
           values: np.ndarray) -> Block:
    """Rows (columns ``t``, ``t_dev``, the stream's values, NaN for NULL) as a block."""
    host, dev = values[:, 0], values[:, 1]
    n = int(seq.size)
    period = float((dev[-1] - dev[0]) / (n - 1)) if n > 1 else 0.0
    data: Any = values.T.tobytes()
    return Block(device_id, boot, int(seq[0]), n, float(dev[0]), float(host[0]), period,
                 ",".join((HOST, DEVICE, *cols)), float(host.min()), float(host.max()), data)
