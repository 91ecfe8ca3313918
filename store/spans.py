"""Time ranges of samples through ``sample_spans``: one row per stored batch.

``samples`` is keyed by ``(stream_id, seq)`` and has no index on its host time ``t``:
an index entry per sample was a quarter of SQLite's insert work, and more than a tenth
of the recorder's CPU (``bench/record_throughput.py``). Instead every batch adds one
span row, ``(stream_id, seq0, seq1, t_min, t_max)``, with ``[t_min, t_max]`` holding the
host time of each of its rows (widened by :data:`PAD`). A time range ``[t0, t1)`` then
becomes the seq range of the spans that overlap it (:func:`seq_window`), scanned in
primary-key order with the exact time filter applied to each row.

That stays exact whatever the order of host times: a batch whose clock offset stepped
back, a redelivered or re-cut batch (its span overlaps others; nothing is lost, as
rows are filtered by their own ``t``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ingest.schema import SampleBatch

PAD = 1e-3
"""Seconds a span is widened by on each side: far more than the rounding of any time
computation, so a span never misses a row of its batch."""

SpanRow = tuple[int, int, int, float, float]


class Window(NamedTuple):
    """The seq range of a stream that holds every row with ``t`` in a time range."""

    lo: int
    hi: int
    whole: bool  # every row of the stream is in the time range: no time filter needed


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


_SP = sa.table("sample_spans", sa.column("stream_id"), sa.column("seq0"), sa.column("seq1"),
               sa.column("t_min"), sa.column("t_max"))


def seq_window(conn: Connection, stream_id: int, t0: float | None, t1: float | None
               ) -> Window | None:
    """Where the rows of ``stream_id`` with ``t`` in ``[t0, t1)`` lie: a seq range (and
    whether it is the whole stream, all in range), or None if none can be there. One
    scan of the stream's spans (a 45-minute stream at 100 Hz has about 11,000)."""
    overlap: list[sa.ColumnElement[bool]] = [sa.true()]
    if t0 is not None:
        overlap.append(_SP.c.t_max >= float(t0))
    if t1 is not None:
        overlap.append(_SP.c.t_min < float(t1))
    hit = sa.and_(*overlap)
    row = conn.execute(
        sa.select(sa.func.min(_SP.c.t_min), sa.func.max(_SP.c.t_max),
                  sa.func.min(_SP.c.seq0), sa.func.max(_SP.c.seq1),
                  sa.func.min(sa.case((hit, _SP.c.seq0))),
                  sa.func.max(sa.case((hit, _SP.c.seq1))))
        .where(_SP.c.stream_id == stream_id)
    ).one()
    first, last, lo, hi, hit_lo, hit_hi = row
    if hit_lo is None:
        return None
    if (t0 is None or first >= t0) and (t1 is None or last < t1):
        return Window(int(lo), int(hi), True)
    return Window(int(hit_lo), int(hit_hi), False)


def window_sql(window: Window, t0: float | None, t1: float | None, mark: str
               ) -> tuple[str, list[Any]]:
    """``AND …`` terms (after ``stream_id = <mark>``) selecting the rows of ``window`` with
    ``t`` in ``[t0, t1)``, and their parameters; ``mark`` is the driver's placeholder."""
    sql = f" AND seq BETWEEN {mark} AND {mark}"
    params: list[Any] = [window.lo, window.hi]
    if not window.whole:
        if t0 is not None:
            sql += f" AND t >= {mark}"
            params.append(float(t0))
        if t1 is not None:
            sql += f" AND t < {mark}"
            params.append(float(t1))
    return sql, params
