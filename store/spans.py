"""Time ranges of samples through ``sample_spans``: one row per stored batch.

``samples`` is keyed by ``(stream_id, seq)`` and has no index on its host time ``t``:
an index entry per sample was a quarter of SQLite's insert work, and more than a tenth
of the recorder's CPU (``bench/record_throughput.py``). Instead every batch adds one
span row, ``(stream_id, seq0, seq1, t_min, t_max)``, with ``[t_min, t_max]`` holding the
host time of each of its rows (widened by :data:`PAD`). A time range ``[t0, t1)`` then
becomes the seq range of the spans that overlap it (:func:`stream_where`), scanned in
primary-key order with the exact time filter applied to each row.

That stays exact whatever the order of host times: a batch whose clock offset stepped
back, a redelivered or re-cut batch (its span overlaps others; nothing is lost, as
rows are filtered by their own ``t``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contract import SampleBatch
from store import tables

PAD = 1e-3
"""Seconds a span is widened by on each side: far more than the rounding of any time
computation, so a span never misses a row of its batch."""

SpanRow = tuple[int, int, int, float, float]


def span_row(stream_id: int, batch: SampleBatch, t_index: int | None) -> SpanRow:
    """The span of ``batch``: its host times are ``device time + (t_host - t_dev)``, device
    times ``t_dev + i * period`` (increasing) or its ``t`` column (column ``t_index``)."""
    offset = batch.t_host - batch.t_dev
    if t_index is None:
        first = batch.t_dev
        last = batch.t_dev + (len(batch.rows) - 1) * batch.period
    else:
        times = [row[t_index] for row in batch.rows]
        first, last = min(times), max(times)
    return (stream_id, batch.seq, batch.last_seq, first + offset - PAD, last + offset + PAD)


def insert_spans(conn: Connection, rows: list[SpanRow], *, sqlite: bool) -> None:
    """Add span rows; a batch stored before (same stream and first seq) keeps its own."""
    if not rows:
        return
    cursor = conn.connection.cursor()
    try:
        if sqlite:
            cursor.executemany(
                "INSERT INTO sample_spans (stream_id, seq0, seq1, t_min, t_max) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", rows)
        else:
            cursor.execute(
                "INSERT INTO sample_spans (stream_id, seq0, seq1, t_min, t_max) SELECT * FROM "
                "unnest(%s::int4[], %s::int8[], %s::int8[], %s::float8[], %s::float8[]) "
                "ON CONFLICT DO NOTHING", [list(column) for column in zip(*rows, strict=True)])
    finally:
        cursor.close()


_SP = tables.sample_spans


def stream_where(conn: Connection, stream_id: int, t0: float | None, t1: float | None,
                 mark: str) -> tuple[str, list[Any]] | None:
    """A WHERE clause (and its parameters; ``mark`` is the driver's placeholder) for the
    rows of ``stream_id`` with ``t`` in ``[t0, t1)``: the seq range of the spans that
    overlap it, plus the exact time filter unless the whole stream is in range. None if
    no row can be there. One scan of the stream's spans (a 45-minute stream at 100 Hz
    has about 11,000)."""
    overlap: list[sa.ColumnElement[bool]] = [sa.true()]
    if t0 is not None:
        overlap.append(_SP.c.t_max >= float(t0))
    if t1 is not None:
        overlap.append(_SP.c.t_min < float(t1))
    hit = sa.and_(*overlap)
    first, last, hit_lo, hit_hi = conn.execute(
        sa.select(sa.func.min(_SP.c.t_min), sa.func.max(_SP.c.t_max),
                  sa.func.min(sa.case((hit, _SP.c.seq0))),
                  sa.func.max(sa.case((hit, _SP.c.seq1))))
        .where(_SP.c.stream_id == stream_id)
    ).one()
    if hit_lo is None:
        return None
    sql = f"stream_id = {mark} AND seq BETWEEN {mark} AND {mark}"
    params: list[Any] = [stream_id, int(hit_lo), int(hit_hi)]
    if (t0 is None or first >= t0) and (t1 is None or last < t1):
        return sql, params  # every row of the stream is in range (the spans overlap all)
    if t0 is not None:
        sql += f" AND t >= {mark}"
        params.append(float(t0))
    if t1 is not None:
        sql += f" AND t < {mark}"
        params.append(float(t1))
    return sql, params
