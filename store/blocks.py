"""The packed sample format: one ``sample_blocks`` row per stored batch.

A block holds ``n`` consecutive samples of one (device, boot), ``seq0 … seq0 + n - 1``:
its columns as little-endian float64 arrays, one column after the other (``n`` values
each, in the order ``cols`` names them), plus the batch's ``t_dev``, ``t_host`` and
``period``. Times are worked out on reading with the float operations of
:meth:`SampleBatch.device_times` and :meth:`SampleBatch.host_times`, in their order, so
they are exactly what the batch says:

- device time of row ``i``: its ``t_dev`` column if the block has one (an irregular
  device's ``t`` column is stored under that name; so is a part of a batch that does not
  start at the batch's first row), else ``t_dev + i * period``;
- host time: its ``t`` column if the block has one (blocks converted from the per-sample
  rows of schema 4), else device time ``+ (t_host - t_dev)``.

``t_min``/``t_max`` are the smallest and largest host time of the block's rows, and a
block never spans more than :data:`BLOCK_SPAN` seconds of host time nor more than
:data:`BLOCK_ROWS` rows (a longer batch is stored as several blocks): a time window is
then a range of ``t_min`` (``ix_sample_blocks_device_id_t_min``), and a batch that
overlaps stored ones is a range of ``seq0`` (the primary key).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from contract import SampleBatch

BLOCK_ROWS = 1000
"""Rows a block holds at most (``contract.MAX_ROWS``: a batch fits in one)."""
BLOCK_SPAN = 60.0
"""Seconds of host time a block spans at most."""
_REACH = BLOCK_SPAN + 1.0  # what a window's lower end looks back in t_min (float slack)

HOST, DEVICE = "t", "t_dev"
"""Names of the time columns a block may carry (value columns never have them)."""

COLUMNS = "device_id, boot, seq0, n, t_dev, t_host, period, cols, t_min, t_max, data"
READ = "device_id, boot, seq0, n, t_dev, t_host, period, cols, data"
"""The columns :func:`decode` takes, in its order."""


class Block(NamedTuple):
    device_id: int
    boot: str
    seq0: int
    n: int
    t_dev: float
    t_host: float
    period: float
    cols: str
    t_min: float
    t_max: float
    data: bytes


# ----------------------------------------------------------------------------- packing


@functools.lru_cache(maxsize=1024)
def _layout(columns: tuple[str, ...]) -> tuple[tuple[str, ...], list[int] | None, str]:
    """A batch's columns as a block stores them (a ``t`` column first, as ``t_dev``), the
    order to take them in (None: as they are) and their ``cols`` text."""
    if HOST not in columns:
        return columns, None, ",".join(columns)
    k = columns.index(HOST)
    order = [k, *(i for i in range(len(columns)) if i != k)]
    names = (DEVICE, *(columns[i] for i in order[1:]))
    return names, order, ",".join(names)


def batch_blocks(device_id: int, batch: SampleBatch, values: np.ndarray,
                 parts: Sequence[tuple[int, int]]) -> list[Block]:
    """The blocks of rows ``[a, b)`` for each ``(a, b)`` in ``parts`` of ``batch``, whose
    rows are ``values`` (float64, one row a sample, the batch's column order)."""
    names, order, text = _layout(batch.columns)
    offset = batch.t_host - batch.t_dev
    n = len(batch.rows)
    if order is None and len(parts) == 1 and parts[0] == (0, n) and n <= BLOCK_ROWS:
        first, last = batch.t_dev + offset, (batch.t_dev + (n - 1) * batch.period) + offset
        if last - first <= BLOCK_SPAN:  # the usual case: the batch as it came
            return [Block(device_id, batch.boot, batch.seq, n, batch.t_dev, batch.t_host,
                          batch.period, text, first, last, values.T.tobytes())]
    out: list[Block] = []
    host: Any
    for a, b in parts:
        if order is not None:  # irregular: the device times are a column
            sub = values[a:b][:, order]
            cols, host = names, sub[:, 0] + offset
            first, last = float(host.min()), float(host.max())
        elif a == 0:  # as the batch came, or its first rows
            sub, cols, host = values[:b], names, None
            first = batch.t_dev + offset
            last = (batch.t_dev + (b - 1) * batch.period) + offset
        else:  # its later rows: their device times go along
            dev = batch.t_dev + np.arange(a, b) * batch.period
            sub = np.column_stack([dev, values[a:b]])
            cols, host = (DEVICE, *names), dev + offset
            first, last = float(host[0]), float(host[-1])
        if b - a > BLOCK_ROWS or not last - first <= BLOCK_SPAN:
            if host is None:  # rows [0, b)
                host = batch.t_dev + np.arange(b) * batch.period + offset
            out += batch_blocks(device_id, batch, values,
                                [(a + i, a + j) for i, j in cut(host)])
            continue
        out.append(Block(device_id, batch.boot, batch.seq + a, b - a, batch.t_dev,
                         batch.t_host, batch.period, ",".join(cols), first, last,
                         sub.T.tobytes()))
    return out


def cut(host: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive row ranges of at most :data:`BLOCK_ROWS` rows whose host times span at
    most :data:`BLOCK_SPAN` s (one row always fits)."""
    out: list[tuple[int, int]] = []
    a = 0
    while a < host.size:
        lo = hi = float(host[a])
        b = a + 1
        while b < host.size and b - a < BLOCK_ROWS:
            t = float(host[b])
            if max(hi, t) - min(lo, t) > BLOCK_SPAN:
                break
            lo, hi = min(lo, t), max(hi, t)
            b += 1
        out.append((a, b))
        a = b
    return out


def window(device_ids: Sequence[int], t0: float | None, t1: float | None, mark: str
           ) -> tuple[str, list[Any]]:
    """A WHERE clause (and its parameters) for the blocks of ``device_ids`` that may hold
    a row with host time in ``[t0, t1)``."""
    sql = f"device_id IN ({', '.join([mark] * len(device_ids))})"
    params: list[Any] = [int(d) for d in device_ids]
    if t0 is not None:
        sql += f" AND t_max >= {mark} AND t_min >= {mark}"
        params += [float(t0), float(t0) - _REACH]
    if t1 is not None:
        sql += f" AND t_min < {mark}"
        params.append(float(t1))
    return sql, params


# ----------------------------------------------------------------------------- reading


@functools.lru_cache(maxsize=1024)
def names_of(cols: str) -> tuple[str, ...]:
    return tuple(cols.split(","))


@dataclass(frozen=True)
class Decoded:
    """Rows of some blocks, sorted by host time (ties: stream, then seq)."""

    t: np.ndarray
    t_dev: np.ndarray
    seq: np.ndarray
    stream: np.ndarray  # the index of each row's (device id, boot) in ``streams``
    values: np.ndarray  # one column per name asked for; NaN where a block lacks it

    def __len__(self) -> int:
        return int(self.t.size)


def decode(rows: Sequence[Sequence[Any]], streams: Sequence[tuple[int, str]],
           columns: Sequence[str], t0: float | None = None, t1: float | None = None
           ) -> Decoded:
    """The rows with host time in ``[t0, t1)`` of the blocks ``rows`` (columns as
    :data:`READ`), with the value columns ``columns``. ``streams`` lists the (device id,
    boot) pairs the rows may belong to, in the order ties are broken."""
    rank = {key: i for i, key in enumerate(streams)}
    ordered = sorted(rows, key=lambda r: (rank[(r[0], r[1])], r[2]))
    groups: dict[str, list[Sequence[Any]]] = {}
    for row in ordered:
        groups.setdefault(row[7], []).append(row)
    parts = [_decode_group(cols, group, rank, columns) for cols, group in groups.items()]
    if not parts:
        empty = np.empty(0)
        return Decoded(empty, empty, np.empty(0, np.int64), np.empty(0, np.int64),
                       np.empty((0, len(columns))))
    t, dev, seq, stream, values = (np.concatenate(p) if len(parts) > 1 else p[0]
                                   for p in zip(*parts, strict=True))
    keep = None
    if t0 is not None:
        keep = t >= t0
    if t1 is not None:
        keep = t < t1 if keep is None else keep & (t < t1)
    if keep is not None and not keep.all():
        t, dev, seq, stream, values = t[keep], dev[keep], seq[keep], stream[keep], values[keep]
    if len(parts) > 1 or (t.size > 1 and not (t[1:] >= t[:-1]).all()):
        order = np.lexsort((seq, stream, t))
        t, dev, seq, stream, values = t[order], dev[order], seq[order], stream[order], values[order]
    return Decoded(t, dev, seq, stream, values)


def _decode_group(cols: str, rows: list[Sequence[Any]], rank: dict[tuple[int, str], int],
                  columns: Sequence[str]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Blocks that share their column names."""
    names = names_of(cols)
    width = len(names)
    device_id, boot, seq0, n_, t_dev_, t_host_, period_, _, data = zip(*rows, strict=True)
    n = np.array(n_, dtype=np.int64)
    total = int(n.sum())
    flat = np.frombuffer(b"".join(data), dtype="<f8")
    if (n == n[0]).all():  # blocks alike (the usual case): a 3-d view
        cube = flat.reshape(len(rows), width, int(n[0]))
        j = np.tile(np.arange(n[0]), len(rows))

        def column(c: int) -> np.ndarray:
            return cube[:, c, :].reshape(-1)
    else:
        starts = np.cumsum(n) - n
        j = np.arange(total) - np.repeat(starts, n)
        base, stride = np.repeat(starts * width, n) + j, np.repeat(n, n)

        def column(c: int) -> np.ndarray:
            return flat[base + c * stride]

    if DEVICE in names:
        dev = column(names.index(DEVICE))
    else:  # as SampleBatch.device_times(): t_dev + i * period
        dev = np.repeat(np.array(t_dev_), n) + j * np.repeat(np.array(period_), n)
    if HOST in names:
        host = column(names.index(HOST))
    else:  # as SampleBatch.host_times(): device time + (t_host - t_dev)
        host = dev + np.repeat(np.array(t_host_) - np.array(t_dev_), n)
    seq = np.repeat(np.array(seq0, dtype=np.int64), n) + j
    stream = np.repeat(np.array([rank[(d, b)] for d, b in zip(device_id, boot, strict=True)],
                                dtype=np.int64), n)
    # one contiguous run per column (``values[:, k]`` is a contiguous view)
    values = np.empty((len(columns), total))
    for k, name in enumerate(columns):
        values[k] = column(names.index(name)) if name in names else np.nan
    return host, dev, seq, stream, values.T
