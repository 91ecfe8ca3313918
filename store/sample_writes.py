"""Sample inserts with no work per row in Python, for :class:`store.samples.SampleStore`.

A batch goes in as it came: the store binds a few numbers per batch and the batch's
rows, and the database (SQLite) or numpy (PostgreSQL) works out each row's ``seq``,
``t_dev`` and ``t`` with the float operations of :meth:`SampleBatch.device_times` and
:meth:`SampleBatch.host_times`, in the same order, so the stored times are exactly those.

- SQLite: one ``executemany`` of an ``INSERT … VALUES`` per batch shape (rows, columns),
  about 1.5× less CPU than binding a tuple built per row.
- PostgreSQL: a binary ``COPY`` built by numpy a column at a time, straight into
  ``samples`` (about half the server's CPU of the staged path); only if a row is there
  already (a redelivery), into a temporary staging table and one ``INSERT … SELECT … ON
  CONFLICT DO NOTHING``.

On both the return value is exactly the number of rows inserted.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from itertools import chain
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy.engine import Connection

from contract import SampleBatch
from store import tables

_SLOTS = tuple(f"v{i}" for i in range(tables.VALUE_SLOTS))


class Layout(NamedTuple):
    """Where a batch's columns go: its ``k``-th value column (batch order, ``t`` left out)
    into slot ``slots[k]``; ``t_index`` is the position of its ``t`` column, if any."""

    t_index: int | None
    slots: tuple[int, ...]

    @property
    def width(self) -> int:  # values per row in the batch
        return len(self.slots) + (self.t_index is not None)

    @property
    def names(self) -> str:
        return ", ".join(("stream_id", "seq", "t", "t_dev", *(_SLOTS[s] for s in self.slots)))


Run = tuple[Layout, list[tuple[int, SampleBatch]]]  # (layout, [(stream id, batch)])


def group_runs(batches: Iterable[tuple[Layout, int, SampleBatch]]) -> list[Run]:
    """(layout, stream id, batch) → runs of consecutive batches with the same layout, in
    order, so that of two copies of a row the first one stays."""
    runs: list[Run] = []
    for layout, stream_id, batch in batches:
        if runs and runs[-1][0] == layout:
            runs[-1][1].append((stream_id, batch))
        else:
            runs.append((layout, [(stream_id, batch)]))
    return runs


# SQLite: an INSERT per batch (per chunk of _chunk_rows) bound to six numbers and the
# batch's rows as they came: ?1 stream id, ?2 first seq, ?3 t_dev, ?4 period, ?5 t_host -
# t_dev, ?6 index of the chunk's first row. SQLite works out seq and both times per row
# with the float operations of SampleBatch.device_times()/host_times(), in their order.
def _chunk_rows(width: int) -> int:
    return max(1, min(64, (999 - 6) // width))  # 999: SQLITE_MAX_VARIABLE_NUMBER < 3.32


@functools.lru_cache(maxsize=512)
def _sqlite_insert(layout: Layout, rows: int) -> str:
    width, k = layout.width, layout.t_index
    tuples = []
    for j in range(rows):
        first, i = 7 + j * width, f"(?6 + {j})"
        t_dev = f"?{first + k}" if k is not None else f"(?3 + {i} * ?4)"
        cells = [f"?{first + c}" for c in range(width) if c != k]
        tuples.append(f"({', '.join(('?1', f'?2 + {i}', f'{t_dev} + ?5', t_dev, *cells))})")
    values = ", ".join(tuples)
    return f"INSERT INTO samples ({layout.names}) VALUES {values} ON CONFLICT DO NOTHING"


def insert_sqlite(conn: Connection, runs: list[Run]) -> int:
    cursor = conn.connection.cursor()
    inserted, sql = 0, ""
    params: list[list[Any]] = []
    try:
        for layout, members in runs:
            per = _chunk_rows(layout.width)
            for sid, b in members:
                head = (sid, b.seq, b.t_dev, b.period, b.t_host - b.t_dev)
                for i0 in range(0, len(b.rows), per):
                    chunk = b.rows if len(b.rows) <= per else b.rows[i0 : i0 + per]
                    statement = _sqlite_insert(layout, len(chunk))
                    if statement != sql and params:
                        cursor.executemany(sql, params)
                        inserted += int(cursor.rowcount)
                        params.clear()
                    sql = statement
                    params.append([*head, i0, *chain.from_iterable(chunk)])
        cursor.executemany(sql, params)
        return inserted + int(cursor.rowcount)
    finally:
        cursor.close()


_PG_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS samples_in (stream_id int4, seq int8, t float8, "
    f"t_dev float8, {', '.join(f'{v} float8' for v in _SLOTS)}) ON COMMIT DELETE ROWS"
)


def insert_postgres(conn: Connection, runs: list[Run]) -> int:
    """Binary COPY straight into ``samples`` (half the server's work of the staged path);
    if a row is there already (a redelivery), the staged path: COPY into a per-connection
    staging table, then one INSERT … SELECT … ON CONFLICT DO NOTHING."""
    from psycopg.errors import UniqueViolation

    data = [(layout, _pg_copy_data(layout, members)) for layout, members in runs]
    cursor = conn.connection.cursor()
    try:
        cursor.execute("SAVEPOINT samples_copy")
        try:
            inserted = _pg_copy(cursor, "samples", data)
            cursor.execute("RELEASE SAVEPOINT samples_copy")
            return inserted
        except UniqueViolation:
            cursor.execute("ROLLBACK TO SAVEPOINT samples_copy")
        cursor.execute(_PG_STAGE)
        _pg_copy(cursor, "samples_in", data)
        top = max(max(layout.slots, default=-1) for layout, _ in runs) + 1
        names = ", ".join(("stream_id", "seq", "t", "t_dev", *_SLOTS[:top]))
        cursor.execute(
            f"INSERT INTO samples ({names}) SELECT {names} FROM samples_in ON CONFLICT DO NOTHING"
        )
        return int(cursor.rowcount)
    finally:
        cursor.close()


def _pg_copy(cursor: Any, table: str, data: list[tuple[Layout, bytes]]) -> int:
    copied = 0
    for layout, rows in data:
        with cursor.copy(f"COPY {table} ({layout.names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(rows)
        copied += int(cursor.rowcount)
    return copied


def _pg_copy_data(layout: Layout, members: list[tuple[int, SampleBatch]]) -> bytes:
    """COPY's binary format, built by numpy a column at a time: a header, then per row the
    field count and per field its length and big-endian value, then a trailer."""
    batches = [b for _, b in members]
    counts = np.array([len(b.rows) for b in batches])
    n, m = int(counts.sum()), len(layout.slots)
    values = np.array(list(chain.from_iterable(b.rows for b in batches)), dtype=np.float64)
    values = values.reshape(n, layout.width)
    i = np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts)  # row in its batch

    def each(column: list[Any], dtype: type = np.float64) -> np.ndarray:
        return np.repeat(np.array(column, dtype=dtype), counts)

    if layout.t_index is None:  # as SampleBatch.device_times(): t_dev + i * period
        t_dev = each([b.t_dev for b in batches]) + i * each([b.period for b in batches])
    else:
        t_dev = values[:, layout.t_index]
    names = ["stream_id", "seq", "t", "t_dev", *(f"v{k}" for k in range(m))]
    kinds = [">i4", ">i8", ">f8", ">f8", *[">f8"] * m]
    out = np.empty(n, dtype=[("fields", ">i2"), *(
        field for name, kind in zip(names, kinds, strict=True)
        for field in ((f"{name}_size", ">i4"), (name, kind)))])
    out["fields"] = len(names)
    for name, kind in zip(names, kinds, strict=True):
        out[f"{name}_size"] = np.dtype(kind).itemsize
    out["stream_id"] = each([sid for sid, _ in members], np.int64)
    out["seq"] = each([b.seq for b in batches], np.int64) + i
    out["t"] = t_dev + each([b.t_host - b.t_dev for b in batches])  # as host_times()
    out["t_dev"] = t_dev
    for k, c in enumerate(c for c in range(layout.width) if c != layout.t_index):
        out[f"v{k}"] = values[:, c]
    return b"PGCOPY\n\xff\r\n\x00" + bytes(8) + out.tobytes() + b"\xff\xff"
