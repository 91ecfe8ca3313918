"""Sample inserts for :class:`store.samples.SampleStore`: every batch once, as blocks.

A sample is stored once per (device, boot, seq), the first copy kept: a redelivered
batch adds nothing, a re-cut one (its rows partly stored under other batches) only the
rows not stored yet, as one block per run of them (:mod:`store.blocks`), and so does a
batch that repeats rows of an earlier batch of the same call.

The stored blocks a call's batches overlap are found in one query (blocks hold at most
``BLOCK_ROWS`` rows, so those of a batch are a short range of the primary key). On
PostgreSQL, where writers run concurrently, each (device, boot) of the call is locked
first (a transaction advisory lock, taken in a fixed order), so that two recorders
storing overlapping batches see each other's blocks; SQLite writers are serialised.
Blocks go in with one ``executemany`` (SQLite) or one ``INSERT … SELECT FROM unnest``
(PostgreSQL).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np
from sqlalchemy.engine import Connection

from contract import SampleBatch
from store.blocks import BLOCK_ROWS, COLUMNS, Block, batch_blocks

StreamKey = tuple[int, str]
"""(device id, boot)."""


def store_batches(conn: Connection, sqlite: bool, batches: Sequence[SampleBatch],
                  device_ids: Sequence[int]) -> int:
    """Store what is new of ``batches`` (``device_ids[i]``: the device of batch ``i``);
    return the number of rows stored."""
    keys = [(d, b.boot) for d, b in zip(device_ids, batches, strict=True)]
    cursor = conn.connection.cursor()
    try:
        if not sqlite:
            _lock(cursor, keys)
        found = _stored_overlaps(cursor, sqlite, keys, batches)
        parts = _new_rows(keys, batches, found)
        blocks: list[Block] = []
        for (device_id, _), batch, values, mine in zip(keys, batches, _values(batches), parts,
                                                       strict=True):
            if mine:
                blocks += batch_blocks(device_id, batch, values, mine)
        if blocks:
            _insert(cursor, sqlite, blocks)
        return sum(b.n for b in blocks)
    finally:
        cursor.close()


def _values(batches: Sequence[SampleBatch]) -> list[np.ndarray]:
    """Each batch's rows as a float64 array; one numpy conversion per width."""
    out: list[np.ndarray | None] = [None] * len(batches)
    by_width: dict[int, list[int]] = {}
    for i, b in enumerate(batches):
        by_width.setdefault(len(b.columns), []).append(i)
    for width, members in by_width.items():
        count = sum(len(batches[i].rows) for i in members)
        # rows are exactly ``width`` wide (the contract checks it): flat values, half the
        # cost of np.array on the nested tuples
        flat = chain.from_iterable(chain.from_iterable(batches[i].rows for i in members))
        every = np.fromiter(flat, dtype=np.float64, count=count * width).reshape(count, width)
        at = 0
        for i in members:
            n = len(batches[i].rows)
            out[i] = every[at : at + n]
            at += n
    return out  # type: ignore[return-value]


def _lock(cursor: Any, keys: Sequence[StreamKey]) -> None:
    ids = sorted({(d << 32) | zlib.crc32(boot.encode()) for d, boot in keys})
    cursor.execute("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%s::int8[]) AS k",
                   [[i - 2**63 if i >= 2**63 else i for i in ids]])


_PROBES = 1000  # batches per overlap query


def _stored_overlaps(cursor: Any, sqlite: bool, keys: Sequence[StreamKey],
                     batches: Sequence[SampleBatch]) -> dict[StreamKey, set[tuple[int, int]]]:
    """Per (device, boot): the seq ranges ``(first, last)`` of the stored blocks that
    overlap any batch of the call."""
    found: dict[StreamKey, set[tuple[int, int]]] = {}
    back = BLOCK_ROWS - 1
    for at in range(0, len(batches), _PROBES):
        chunk = range(at, min(len(batches), at + _PROBES))
        if sqlite:
            values = ", ".join(["(?, ?, ?, ?, ?)"] * len(chunk))
            sql = (f"WITH b(i, d, boot, lo, hi) AS (VALUES {values}) "
                   "SELECT b.d, b.boot, k.seq0, k.n FROM b JOIN sample_blocks k "
                   "ON k.device_id = b.d AND k.boot = b.boot "
                   f"AND k.seq0 BETWEEN b.lo - {back} AND b.hi AND k.seq0 + k.n > b.lo")
            params: Any = list(chain.from_iterable(
                (i, keys[i][0], keys[i][1], batches[i].seq, batches[i].last_seq)
                for i in chunk))
        else:
            sql = ("SELECT b.d, b.boot, k.seq0, k.n FROM unnest(%s::int4[], %s::text[], "
                   "%s::int8[], %s::int8[]) AS b(d, boot, lo, hi) JOIN sample_blocks k "
                   "ON k.device_id = b.d AND k.boot = b.boot "
                   f"AND k.seq0 BETWEEN b.lo - {back} AND b.hi AND k.seq0 + k.n > b.lo")
            params = [[keys[i][0] for i in chunk], [keys[i][1] for i in chunk],
                      [batches[i].seq for i in chunk], [batches[i].last_seq for i in chunk]]
        cursor.execute(sql, params)
        for d, boot, seq0, n in cursor.fetchall():
            found.setdefault((int(d), boot), set()).add((int(seq0), int(seq0) + int(n) - 1))
    return found


def _new_rows(keys: Sequence[StreamKey], batches: Sequence[SampleBatch],
              found: dict[StreamKey, set[tuple[int, int]]]) -> list[list[tuple[int, int]]]:
    """Per batch, in order: the row ranges ``[a, b)`` not stored before it (by the store
    or by an earlier batch of the call)."""
    covered = {key: sorted(spans) for key, spans in found.items()}
    top = {key: spans[-1][1] for key, spans in covered.items()}  # blocks do not overlap
    out: list[list[tuple[int, int]]] = []
    for key, batch in zip(keys, batches, strict=True):
        lo, hi = batch.seq, batch.last_seq
        spans = covered.setdefault(key, [])
        if not spans or lo > top[key]:  # the usual case: after everything stored
            free = [(lo, hi)]
        else:
            free, at = [], lo
            for first, last in spans:
                if last < at or first > hi:
                    continue
                if first > at:
                    free.append((at, first - 1))
                at = max(at, last + 1)
            if at <= hi:
                free.append((at, hi))
        out.append([(a - lo, b - lo + 1) for a, b in free])
        if free:
            in_order = not spans or spans[-1][0] < free[0][0]
            spans += free
            if not in_order:
                spans.sort()
            top[key] = max(top.get(key, free[-1][1]), free[-1][1])
    return out


def _insert(cursor: Any, sqlite: bool, blocks: list[Block]) -> None:
    if sqlite:
        cursor.executemany(
            f"INSERT INTO sample_blocks ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            blocks)
        return
    cursor.execute(
        f"INSERT INTO sample_blocks ({COLUMNS}) SELECT * FROM unnest(%s::int4[], %s::text[], "
        "%s::int8[], %s::int4[], %s::float8[], %s::float8[], %s::float8[], %s::text[], "
        "%s::float8[], %s::float8[], %s::bytea[])",
        [list(column) for column in zip(*blocks, strict=True)], binary=True)
