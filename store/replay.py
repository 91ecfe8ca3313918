"""Reads for replay, the sessions list and exports.

- :func:`read_columns` — a columnar read of chosen device columns over a time range,
  only the value slots asked for, straight into float64 arrays (no DataFrame). On
  PostgreSQL the rows come packed as float8 bytes, so nothing is done per row in Python.
  SQLite has no such function, so two C functions registered for the query pack the
  rows (its driver would otherwise make a Python float per value, ≈0.1 µs each); the
  rows are scanned in key order (the ``seq`` range from :mod:`store.spans`, no lookup
  per row).
- :func:`norm_envelope` — per time bucket, the smallest and largest Euclidean norm of
  some columns, first/last time and count, aggregated by the database (no row reaches
  Python, and SQLite runs without the GIL): a display-resolution overview.
- :func:`iter_samples` — :meth:`Store.read_samples` in time chunks, for long exports.
- :func:`room_devices` — the devices of a room that recorded something in a time range.
- :func:`session_counts` — per session: sets, planned and done reps, recorded data gaps,
  for many sessions in four queries.

Every function takes an open :class:`store.Store`; none writes.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from store import tables
from store.errors import UnknownDevice
from store.rows import DeviceRow
from store.samples import Place, device_filter
from store.spans import stream_where
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


def _streams(conn: Any, device: str, place: Place | None) -> list[tuple[int, tuple[str, ...]]]:
    s, d = tables.streams, tables.devices
    found = conn.execute(
        sa.select(d.c.id.label("device_id"), s.c.id, s.c.cols)
        .select_from(d.outerjoin(s, s.c.device_id == d.c.id))
        .where(device_filter(device, place))
        .order_by(s.c.id)
    ).all()
    if not found:
        raise UnknownDevice(device)
    return [(int(r.id), tuple(r.cols)) for r in found if r.id is not None]


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
    db = store._db
    parts_t: list[np.ndarray] = []
    parts_v: list[np.ndarray] = []
    with db.read() as conn:
        for stream_id, cols in _streams(conn, device, place):
            slots = [f"v{cols.index(c)}" if c in cols else None for c in columns]
            if db.is_sqlite:
                data = _select_sqlite(conn, stream_id, slots, t0, t1)
            else:
                data = _bytes_postgres(conn, stream_id, slots, t0, t1)
            if len(data):
                parts_t.append(data[:, 0])
                parts_v.append(data[:, 1:])
    if not parts_t:
        empty = np.empty(0)
        return Columns(device, empty, {c: empty.copy() for c in columns})
    t = np.concatenate(parts_t)
    v = np.concatenate(parts_v)
    if len(parts_t) > 1:  # several boots: merge them in time
        order = np.argsort(t, kind="stable")
        t, v = t[order], v[order]
    return Columns(device, t, {c: v[:, i] for i, c in enumerate(columns)})  # views


_SQLITE_NULL = "-9e999"
"""Stands for NULL in SQLite reads (−inf; stored values are finite), so that every value
packs as a float; turned into NaN after."""


def _select_sqlite(conn: Any, stream_id: int, slots: Sequence[str | None],
                   t0: float | None, t1: float | None) -> np.ndarray:
    """The rows packed into float64 bytes inside the query, by two C functions registered
    for it (``struct.pack`` of a row, ``bytearray.extend``): SQLite calls them once per
    row, so the driver never makes a Python float per value, nor a tuple per row."""
    width = 1 + len(slots)
    raw = conn.connection.driver_connection
    packed = bytearray()
    raw.create_function("dmi_pack", width, struct.Struct(f"{width}d").pack)
    raw.create_function("dmi_keep", 1, packed.extend)
    span = stream_where(conn, stream_id, t0, t1, "?")  # in primary key order
    cursor = raw.cursor()
    try:
        if span is not None:
            names = ", ".join(["t", *(f"ifnull({slot}, {_SQLITE_NULL})" if slot else
                                      _SQLITE_NULL for slot in slots)])
            cursor.execute(f"SELECT count(dmi_keep(dmi_pack({names}))) FROM samples "
                           f"WHERE {span[0]}", span[1])
    finally:
        cursor.close()
        raw.create_function("dmi_keep", 1, None)
        raw.create_function("dmi_pack", width, None)
    data = np.frombuffer(packed, dtype=np.float64).reshape(-1, width)
    data[data == -np.inf] = np.nan
    if data.shape[0] > 1 and not (np.diff(data[:, 0]) >= 0).all():
        data = data[np.argsort(data[:, 0], kind="stable")]  # as ORDER BY t (ties by seq)
    return data


_PG_GROUP = 20_000


def _bytes_postgres(conn: Any, stream_id: int, slots: Sequence[str | None],
                    t0: float | None, t1: float | None) -> np.ndarray:
    """Rows packed server-side into big-endian float8 bytes (``float8send``, NULL → NaN),
    a few thousand rows per value, parsed by numpy: about 2.5× faster than fetching a
    million rows as Python tuples, and no per-row work in Python."""
    span = stream_where(conn, stream_id, t0, t1, "%s")
    if span is None:
        return np.empty((0, 1 + len(slots)))
    where, params = span
    packed = " || ".join(["float8send(t)", *(
        f"float8send(coalesce({slot}, 'NaN'::float8))" if slot else "float8send('NaN'::float8)"
        for slot in slots)])
    sql = (f"SELECT string_agg({packed}, ''::bytea ORDER BY t) FROM samples "
           f"WHERE {where} GROUP BY seq / {_PG_GROUP} ORDER BY seq / {_PG_GROUP}")
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params, binary=True)
        raw = b"".join(bytes(row[0]) for row in cursor.fetchall())
    finally:
        cursor.close()
    width = 1 + len(slots)
    return np.frombuffer(raw, dtype=">f8").astype(np.float64).reshape(-1, width)


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
    from ``gx, gy, gz``), aggregated by the database (boots merged there too).

    Raises :class:`store.errors.UnknownDevice`.
    """
    if not buckets >= 1 or not t1 > t0:
        raise ValueError(f"norm_envelope needs buckets >= 1 and t1 > t0, got {buckets}, "
                         f"[{t0}, {t1})")
    db = store._db
    mark = db.mark
    # the last sample may round into bucket `buckets`: clamp it
    bucket = (f"min(CAST((t - {mark}) / {mark} AS INTEGER), {mark})" if db.is_sqlite else
              f"least(floor((t - {mark}) / {mark})::bigint, {mark})")
    parts: list[str] = []
    params: list[Any] = []
    with db.read() as conn:
        cursor = conn.connection.cursor()
        try:
            for stream_id, cols in _streams(conn, device, place):
                slots = [f"v{cols.index(c)}" if c in cols else None for c in columns]
                square = (" + ".join(f"{s} * {s}" for s in slots) if all(slots)
                          else "CAST(NULL AS DOUBLE PRECISION)")
                span = stream_where(conn, stream_id, t0, t1, mark)
                if span is None:
                    continue
                where, bound = span
                parts.append(f"SELECT {bucket} AS b, min(t) AS a, max(t) AS z, count(*) AS n, "
                             f"min({square}) AS lo, max({square}) AS hi FROM samples "
                             f"WHERE {where} GROUP BY b")
                params += [t0, (t1 - t0) / buckets, buckets - 1, *bound]
            rows: Sequence[Any] = []
            if parts:
                cursor.execute(f"SELECT b, min(a), max(z), sum(n), min(lo), max(hi) FROM "
                               f"({' UNION ALL '.join(parts)}) AS per_boot GROUP BY b ORDER BY b",
                               params)
                rows = cursor.fetchall()
        finally:
            cursor.close()
    table = np.array(rows, dtype=np.float64).reshape(-1, 6)
    return Envelope(device, table[:, 0].astype(np.int64), table[:, 1], table[:, 2],
                    table[:, 3].astype(np.int64), np.sqrt(table[:, 4]), np.sqrt(table[:, 5]))


def count_between(store: Store, device: str, t0: float | None, t1: float | None,
                  place: Place | None = None) -> int:
    """How many samples of ``device`` have ``t`` in ``[t0, t1)`` (0 for an unknown device)."""
    db = store._db
    total = 0
    with db.read() as conn:
        try:
            streams = _streams(conn, device, place)
        except UnknownDevice:
            return 0
        for stream_id, _ in streams:
            span = stream_where(conn, stream_id, t0, t1, db.mark)
            if span is not None:
                total += _fetchone(conn, f"SELECT count(*) FROM samples WHERE {span[0]}",
                                   span[1])[0]
    return total


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
            for stream_id, _ in _streams(conn, row.device, (site, room)):
                span = stream_where(conn, stream_id, t0, t1, db.mark)
                if span is not None and _fetchone(
                        conn, f"SELECT 1 FROM samples WHERE {span[0]} LIMIT 1", span[1]):
                    found.append(row)
                    break
    return found


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
