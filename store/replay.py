"""Reads for replay, the sessions list and exports.

- :func:`read_columns` — a columnar read of chosen device columns over a time range,
  straight into float64 arrays (no DataFrame): the blocks of the window (one index
  range scan per device, :mod:`store.blocks`), unpacked and sliced by numpy.
- :func:`norm_envelope` — per time bucket, the smallest and largest Euclidean norm of
  some columns, first/last time and count: a display-resolution overview.
- :func:`iter_samples` — :meth:`Store.read_samples` in time chunks, for long exports.
- :func:`room_devices` — the devices of a room that recorded something in a time range.
- :func:`session_counts` — per session: sets, planned and done reps, recorded data gaps,
  for many sessions in four queries.

Every function takes an open :class:`store.Store`; none writes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from store import tables
from store.blocks import decode, window
from store.errors import UnknownDevice
from store.rows import DeviceRow
from store.samples import Place, device_streams, fetch_blocks
from store.store import Store

S, ST, R = tables.sessions, tables.sets, tables.reps


@dataclass(frozen=True)
class Columns:
    """Samples of one device, sorted by host time ``t``; NaN where a boot lacks a column
    (the value arrays may be strided views of one array)."""

    device: str
    t: np.ndarray
    values: dict[str, np.ndarray]

    def __len__(self) -> int:
        return int(self.t.size)


@dataclass(frozen=True)
class SessionCounts:
    """What the sessions list shows next to each session."""

    session: str
    sets: int
    planned_reps: int
    reps: int
    manual_reps: int
    gaps: int
    gap_s: float


def read_columns(
    store: Store,
    device: str,
    columns: Sequence[str],
    t0: float | None = None,
    t1: float | None = None,
    place: Place | None = None,
) -> Columns:
    """Host times and the given columns of ``device`` (of room ``place``, (site, room))
    with ``t`` in ``[t0, t1)``.

    Raises :class:`store.errors.UnknownDevice`. A column no boot of the device has comes
    back all NaN.
    """
    return _columns(store, device, columns, t0, t1, place)


def _columns(store: Store, device: str, columns: Sequence[str], t0: float | None,
             t1: float | None, place: Place | None) -> Columns:
    db = store._db
    with db.read() as conn:
        ids, streams = device_streams(conn, device, place)
        rows = fetch_blocks(conn, db, ids, t0, t1) if streams else []
    got = decode(rows, [(d, b) for d, b, _ in streams], columns, t0, t1)
    return Columns(device, got.t, {c: got.values[:, i] for i, c in enumerate(columns)})


@dataclass(frozen=True)
class Envelope:
    """Per time bucket of one device (only buckets holding samples, in time order): the
    bucket index, first and last host time, sample count, and the smallest and largest
    value (NaN where no sample of the bucket has every column)."""

    device: str
    bucket: np.ndarray
    t_first: np.ndarray
    t_last: np.ndarray
    count: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def __len__(self) -> int:
        return int(self.bucket.size)


def norm_envelope(store: Store, device: str, columns: Sequence[str], t0: float, t1: float,
                  *, buckets: int, place: Place | None = None) -> Envelope:
    """Samples of ``device`` with ``t`` in ``[t0, t1)`` in ``buckets`` equal time buckets:
    per bucket the range of ``sqrt(sum(c**2 for c in columns))`` (e.g. the angular speed
    from ``gx, gy, gz``), boots merged; one read of the window's blocks, summed up by
    numpy.

    Raises :class:`store.errors.UnknownDevice`.
    """
    if not buckets >= 1 or not t1 > t0:
        raise ValueError(f"norm_envelope needs buckets >= 1 and t1 > t0, got {buckets}, "
                         f"[{t0}, {t1})")
    cols = _columns(store, device, columns, t0, t1, place)
    width = (t1 - t0) / buckets
    # the last sample may round into bucket `buckets`: clamp it
    bucket = np.minimum(np.floor((cols.t - t0) / width).astype(np.int64), buckets - 1)
    square = sum((cols.values[c] ** 2 for c in columns), np.zeros(len(cols)))
    if not columns:
        square = np.full(len(cols), np.nan)
    order = np.argsort(bucket, kind="stable")
    bucket, t, square = bucket[order], cols.t[order], square[order]
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]]) if bucket.size else bucket
    if not bucket.size:
        empty = np.empty(0)
        return Envelope(device, bucket, empty, empty, bucket.copy(), empty, empty)
    return Envelope(device, bucket[starts], np.minimum.reduceat(t, starts),
                    np.maximum.reduceat(t, starts), np.diff(np.r_[starts, bucket.size]),
                    np.sqrt(np.fmin.reduceat(square, starts)),
                    np.sqrt(np.fmax.reduceat(square, starts)))


def count_between(store: Store, device: str, t0: float | None, t1: float | None,
                  place: Place | None = None) -> int:
    """How many samples of ``device`` have ``t`` in ``[t0, t1)`` (0 for an unknown device)."""
    db = store._db
    with db.read() as conn:
        try:
            ids, streams = device_streams(conn, device, place)
        except UnknownDevice:
            return 0
        rows = fetch_blocks(conn, db, ids, t0, t1) if streams else []
    return len(decode(rows, [(d, b) for d, b, _ in streams], (), t0, t1))


def _fetchone(conn: Any, sql: str, params: list[Any]) -> Any:
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchone()
    finally:
        cursor.close()


def iter_samples(
    store: Store, device: str, t0: float, t1: float, *, chunk_s: float = 120.0,
    place: Place | None = None,
) -> Iterator[pd.DataFrame]:
    """:meth:`Store.read_samples` over ``[t0, t1)`` in chunks of ``chunk_s`` seconds."""
    if not chunk_s > 0:
        raise ValueError(f"chunk_s must be > 0, got {chunk_s!r}")
    start = t0
    while start < t1:
        stop = min(t1, start + chunk_s)
        frame = store.read_samples(device, start, stop, place=place)
        if len(frame):
            yield frame
        start = stop


def room_devices(
    store: Store, site: str, room: str, t0: float | None = None, t1: float | None = None
) -> list[DeviceRow]:
    """Devices set up in ``site``/``room`` that have at least one sample in ``[t0, t1)``."""
    in_room = [d for d in store.devices() if d.site == site and d.room == room]
    if not in_room:
        return []
    db = store._db
    found = []
    with db.read() as conn:
        for row in in_room:
            ids, streams = device_streams(conn, row.device, (site, room))
            if streams and _any_row(conn, db, ids, streams, t0, t1):
                found.append(row)
    return found


def _any_row(conn: Any, db: Any, ids: list[int], streams: Sequence[tuple[int, str, Any]],
             t0: float | None, t1: float | None) -> bool:
    """Whether a sample of the devices ``ids`` has host time in ``[t0, t1)``: a block
    whose first or last time is in it has one; else the blocks that overlap it are read."""
    where, params = window(ids, t0, t1, db.mark)
    bound = [x for x in (t0, t1) if x is not None]
    for end in ("t_min", "t_max"):
        inside = [f"{end} >= {db.mark}"] * (t0 is not None) + [f"{end} < {db.mark}"] * (
            t1 is not None)
        if _fetchone(conn, f"SELECT 1 FROM sample_blocks WHERE {where} AND "
                     f"{' AND '.join(inside) or '1 = 1'} LIMIT 1", [*params, *bound]):
            return True
    return len(decode(fetch_blocks(conn, db, ids, t0, t1), [(d, b) for d, b, _ in streams],
                      (), t0, t1)) > 0


def session_counts(store: Store, session_ids: Sequence[str]) -> dict[str, SessionCounts]:
    """Sets, planned/done reps (done = not revoked) and recorded gaps of each session.

    Gaps are the gap records of the devices in the session's room that overlap the
    session; ``gap_s`` is the length of their union within the session.
    """
    ids = list(dict.fromkeys(session_ids))
    if not ids:
        return {}
    g, d, rm, st = tables.gaps, tables.devices, tables.rooms, tables.sites
    with store._db.read() as conn:
        set_rows = conn.execute(
            sa.select(ST.c.session_id, sa.func.count(), sa.func.sum(ST.c.planned_reps))
            .where(ST.c.session_id.in_(ids))
            .group_by(ST.c.session_id)
        ).all()
        rep_rows = conn.execute(
            sa.select(ST.c.session_id, R.c.source, sa.func.count())
            .select_from(R.join(ST, ST.c.id == R.c.set_id))
            .where(ST.c.session_id.in_(ids), R.c.revoked_by.is_(None))
            .group_by(ST.c.session_id, R.c.source)
        ).all()
        windows = {
            r.id: (float(r.started), math.inf if r.ended is None else float(r.ended))
            for r in conn.execute(
                sa.select(S.c.id, S.c.started, S.c.ended).where(S.c.id.in_(ids))
            )
        }
        gap_rows = conn.execute(
            sa.select(S.c.id, g.c.t_from, g.c.t_to)
            .select_from(S.join(rm, rm.c.id == S.c.room_id).join(st, st.c.id == rm.c.site_id))
            .join(g, sa.or_(
                (g.c.site == st.c.key) & (g.c.room == rm.c.key),
                # a gap from before schema 4 names only its device
                g.c.room.is_(None) & g.c.device.in_(
                    sa.select(d.c.name).where(d.c.room_id == S.c.room_id)),
            ))
            .where(
                S.c.id.in_(ids),
                g.c.t_to >= S.c.started,
                sa.or_(S.c.ended.is_(None), g.c.t_from < S.c.ended),
            )
            .order_by(S.c.id, g.c.t_from)
        ).all()
    sets = {r[0]: (int(r[1]), int(r[2] or 0)) for r in set_rows}
    reps: dict[str, dict[str, int]] = {}
    for session_id, source, count in rep_rows:
        reps.setdefault(session_id, {})[source] = int(count)
    gaps: dict[str, list[tuple[float, float]]] = {}
    for session_id, t_from, t_to in gap_rows:
        start, end = windows[session_id]
        gaps.setdefault(session_id, []).append((max(t_from, start), min(t_to, end)))
    out: dict[str, SessionCounts] = {}
    for session_id in ids:
        if session_id not in windows:
            continue
        n_sets, planned = sets.get(session_id, (0, 0))
        by_source = reps.get(session_id, {})
        spans = gaps.get(session_id, [])
        out[session_id] = SessionCounts(
            session=session_id,
            sets=n_sets,
            planned_reps=planned,
            reps=sum(by_source.values()),
            manual_reps=by_source.get("manual", 0),
            gaps=len(spans),
            gap_s=union_length(spans),
        )
    return out


def union_length(spans: Sequence[tuple[float, float]]) -> float:
    """Total length covered by possibly overlapping ``(start, end)`` intervals."""
    total, reach = 0.0, -math.inf
    for start, end in sorted(spans):
        if end <= reach:
            continue
        total += end - max(start, reach)
        reach = end
    return total


def facets(store: Store) -> tuple[list[str], list[str]]:
    """The rooms and therapists that appear in any session (for filter lists)."""
    rooms, sites = tables.rooms, tables.sites
    with store._db.read() as conn:
        room_keys = conn.execute(
            sa.select(rooms.c.key)
            .select_from(S.join(rooms, rooms.c.id == S.c.room_id).join(
                sites, sites.c.id == rooms.c.site_id))
            .distinct()
            .order_by(rooms.c.key)
        ).scalars().all()
        therapists = conn.execute(
            sa.select(S.c.therapist).where(S.c.therapist.is_not(None)).distinct()
            .order_by(S.c.therapist)
        ).scalars().all()
    return list(room_keys), list(therapists)
