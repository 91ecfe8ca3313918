"""Sample storage: idempotent batch inserts and reads.

Layout: a batch is one ``sample_blocks`` row, its columns packed (:mod:`store.blocks`);
a sample is stored once per (device, boot, seq), so a redelivered batch is dropped and
a re-cut one adds only its new rows (:mod:`store.sample_writes`). One ``streams`` row per
(device, boot) lists the columns that boot has sent (at most ``tables.VALUE_SLOTS``), in
first-seen order: a read of a device returns the union over its boots. Host time ``t``
is what time windows select; ``t_dev`` is device time; a batch's ``t`` column (irregular
devices) is its device time, not a value column.

Device and stream ids are cached in memory once their transaction has committed.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contract import SampleBatch
from store import tables
from store.blocks import READ, decode, window
from store.db import Database
from store.errors import InvalidData, UnknownDevice
from store.places import ensure_room
from store.rows import InsertResult
from store.sample_writes import store_batches

log = logging.getLogger(__name__)

RESERVED = frozenset({"t", "t_dev", "boot", "seq"})
"""Names a value column cannot have (they are the frame's own columns in replay)."""

Row = tuple[Any, ...]


Place = tuple[str, str]
"""(site, room)."""


class _DeviceKey(NamedTuple):
    place: Place | None
    name: str


def in_place(place: Place) -> Any:
    """The WHERE clause picking the ``devices`` rows of ``place``."""
    r, s = tables.rooms, tables.sites
    return tables.devices.c.room_id.in_(
        sa.select(r.c.id).join(s, s.c.id == r.c.site_id)
        .where(s.c.key == place[0], r.c.key == place[1]).scalar_subquery())


def device_filter(device: str, place: Place | None) -> Any:
    """The WHERE clause picking ``device`` (in ``place``, if given) from ``devices``."""
    clause = tables.devices.c.name == device
    return clause if place is None else clause & in_place(place)


@dataclass(frozen=True)
class _Stream:
    id: int
    cols: tuple[str, ...]


class _Plan(NamedTuple):
    """A batch's columns."""

    values: tuple[str, ...]  # the batch's value columns (without ``t``)
    reserved: tuple[str, ...]  # value columns with a reserved name


@functools.lru_cache(maxsize=1024)
def _plan_columns(columns: tuple[str, ...]) -> _Plan:
    values = tuple(c for c in columns if c != "t")
    return _Plan(values, tuple(sorted(RESERVED.intersection(values))))


def _plan(index: int, batch: SampleBatch) -> _Plan:
    if not isinstance(batch, SampleBatch):
        raise InvalidData(f"batches[{index}] is a {type(batch).__name__}, not a SampleBatch")
    plan = _plan_columns(batch.columns)
    if plan.reserved:
        raise InvalidData(
            f"batches[{index}] ({batch.device}): column name(s) {list(plan.reserved)} are "
            "reserved"
        )
    if batch.last_seq >= 2**63:
        raise InvalidData(f"batches[{index}] ({batch.device}): seq beyond 2**63 - 1")
    return plan


class SampleStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._device_ids: dict[_DeviceKey, int] = {}
        self._streams: dict[tuple[int, str], _Stream] = {}

    # ------------------------------------------------------------------------- insert

    def insert_batches(
        self, batches: Sequence[SampleBatch], places: Sequence[Place | None] | None = None
    ) -> InsertResult:
        """Store ``batches`` once each. ``places[i]`` is the (site, room) batch ``i`` came
        from (its topic's): a device is (site, room, device id). Without a place, the one
        device of that id in any room (a new one in none) — for imports and tests."""
        plans = [_plan(i, b) for i, b in enumerate(batches)]
        total = sum(len(b.rows) for b in batches)
        if not total:
            return InsertResult(0, 0)
        if places is None:
            places = [None] * len(batches)
        elif len(places) != len(batches):
            raise InvalidData(f"{len(places)} places for {len(batches)} batches")
        keys = [_DeviceKey(p, b.device) for p, b in zip(places, batches, strict=True)]
        new_devices: dict[_DeviceKey, int] = {}
        new_streams: dict[tuple[int, str], _Stream] = {}
        with self._db.write() as conn:
            device_ids = self._resolve_devices(conn, keys, batches, new_devices)
            ids = [device_ids[k] for k in keys]
            self._resolve_streams(conn, batches, plans, ids, new_streams)
            inserted = store_batches(conn, self._db.is_sqlite, batches, ids)
            # only once committed: ids from a rolled-back transaction never get cached
            self._db.after_commit(lambda: self._remember(new_devices, new_streams))
        return InsertResult(inserted, total - inserted)

    def _remember(self, devices: dict[_DeviceKey, int],
                  streams: dict[tuple[int, str], _Stream]) -> None:
        with self._lock:
            self._device_ids.update(devices)
            self._streams.update(streams)

    def _resolve_devices(
        self, conn: Connection, keys: Sequence[_DeviceKey], batches: Sequence[SampleBatch],
        new: dict[_DeviceKey, int],
    ) -> dict[_DeviceKey, int]:
        kinds = {k: b.kind for k, b in zip(keys, batches, strict=True)}
        with self._lock:
            ids = {k: self._device_ids[k] for k in kinds if k in self._device_ids}
        for key in kinds:
            if key not in ids:
                new[key] = ids[key] = self._device_id(conn, key, kinds[key])
        return ids

    def _device_id(self, conn: Connection, key: _DeviceKey, kind: str) -> int:
        d = tables.devices
        if key.place is None:
            found = conn.execute(sa.select(d.c.id).where(d.c.name == key.name)).scalars().all()
            if len(found) > 1:
                raise InvalidData(
                    f"device {key.name!r} is in {len(found)} rooms: say which (site, room)")
            if found:
                return int(found[0])
            return int(conn.execute(d.insert().values(name=key.name, kind=kind)
                                    .returning(d.c.id)).scalar_one())
        room_id = ensure_room(self._db, conn, *key.place)
        conn.execute(self._db.insert(d).values(name=key.name, kind=kind, room_id=room_id)
                     .on_conflict_do_nothing(index_elements=["room_id", "name"]))
        return int(conn.execute(
            sa.select(d.c.id).where(d.c.name == key.name, d.c.room_id == room_id)).scalar_one())

    def _resolve_streams(
        self,
        conn: Connection,
        batches: Sequence[SampleBatch],
        plans: Sequence[_Plan],
        device_ids: Sequence[int],
        new: dict[tuple[int, str], _Stream],
    ) -> None:
        """Register each (device, boot) of ``batches`` with its columns (once per distinct
        (device, boot, columns) of the call)."""
        distinct: dict[tuple[int, str, _Plan], SampleBatch] = {}
        for batch, plan, device_id in zip(batches, plans, device_ids, strict=True):
            distinct.setdefault((device_id, batch.boot, plan), batch)
        for (device_id, boot, plan), batch in distinct.items():
            key = (device_id, boot)
            stream = new.get(key)
            if stream is None:
                with self._lock:
                    stream = self._streams.get(key)
            if stream is None:
                stream = self._load_stream(conn, key, batch.kind, plan.values)
                new[key] = stream
            if not set(plan.values) <= set(stream.cols):
                new[key] = self._extend_stream(conn, stream, batch, plan.values)

    def _load_stream(
        self, conn: Connection, key: tuple[int, str], kind: str, cols: tuple[str, ...]
    ) -> _Stream:
        streams = tables.streams
        conn.execute(
            self._db.insert(streams)
            .values(device_id=key[0], boot=key[1], kind=kind, cols=list(cols))
            .on_conflict_do_nothing(index_elements=["device_id", "boot"])
        )
        row = conn.execute(
            sa.select(streams.c.id, streams.c.cols).where(
                streams.c.device_id == key[0], streams.c.boot == key[1]
            )
        ).one()
        return _Stream(int(row.id), tuple(row.cols))

    def _extend_stream(
        self, conn: Connection, stream: _Stream, batch: SampleBatch, values: tuple[str, ...]
    ) -> _Stream:
        """A boot whose column set grew: append the new names to the stream's slots."""
        streams = tables.streams
        query = sa.select(streams.c.cols).where(streams.c.id == stream.id)
        if not self._db.is_sqlite:
            query = query.with_for_update()
        cols = list(conn.execute(query).scalar_one())  # another process may have extended it
        cols += [c for c in values if c not in cols]
        if len(cols) > tables.VALUE_SLOTS:
            raise InvalidData(
                f"device {batch.device!r} boot {batch.boot!r}: {len(cols)} distinct value "
                f"columns, the store holds at most {tables.VALUE_SLOTS}"
            )
        conn.execute(streams.update().where(streams.c.id == stream.id).values(cols=cols))
        log.info("store: device %s boot %s now has columns %s", batch.device, batch.boot, cols)
        return _Stream(stream.id, tuple(cols))

    # ------------------------------------------------------------------------- read

    def count_samples(self, device: str | None = None, place: Place | None = None) -> int:
        k = tables.sample_blocks
        query = sa.select(sa.func.coalesce(sa.func.sum(k.c.n), 0))
        if device is not None:
            query = query.join(tables.devices, tables.devices.c.id == k.c.device_id)
            query = query.where(device_filter(device, place))
        with self._db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def read_samples(
        self, device: str, t0: float | None = None, t1: float | None = None,
        place: Place | None = None,
    ) -> pd.DataFrame:
        """Samples of ``device`` with host time in ``[t0, t1)``, sorted by time.

        Columns: ``t`` (host time), ``t_dev``, ``boot``, ``seq``, then the device's own
        columns (the union over its boots, in first-seen order; NaN where a boot lacks one).
        """
        with self._db.read() as conn:
            ids, streams = device_streams(conn, device, place)
            rows = fetch_blocks(conn, self._db, ids, t0, t1) if streams else []
        names: list[str] = []
        for _, _, cols in streams:
            names += [c for c in cols if c not in names]
        got = decode(rows, [(d, b) for d, b, _ in streams], names, t0, t1)
        boots = np.array([b for _, b, _ in streams] or [""], dtype=object)
        frame: dict[str, Any] = {
            "t": got.t,
            "t_dev": got.t_dev,
            "boot": pd.Series(boots[got.stream], dtype="str"),
            "seq": got.seq,
        }
        for k, name in enumerate(names):
            frame[name] = got.values[:, k]
        return pd.DataFrame(frame)


# ----------------------------------------------------------------------------- helpers


Stream = tuple[int, str, tuple[str, ...]]
"""(device id, boot, its columns)."""


def device_streams(conn: Connection, device: str, place: Place | None
                   ) -> tuple[list[int], list[Stream]]:
    """The ids of the devices named ``device`` (in ``place``, if given) and their streams,
    oldest first. Raises :class:`UnknownDevice` if there is no such device."""
    s, d = tables.streams, tables.devices
    found = conn.execute(
        sa.select(d.c.id.label("device_id"), s.c.id, s.c.boot, s.c.cols)
        .select_from(d.outerjoin(s, s.c.device_id == d.c.id))
        .where(device_filter(device, place))
        .order_by(s.c.id)
    ).all()
    if not found:
        raise UnknownDevice(device)
    ids = sorted({int(r.device_id) for r in found})
    return ids, [(int(r.device_id), r.boot, tuple(r.cols)) for r in found if r.id is not None]


def fetch_blocks(conn: Connection, db: Database, device_ids: Sequence[int],
                 t0: float | None, t1: float | None) -> list[Row]:
    """The blocks (columns :data:`store.blocks.READ`) of ``device_ids`` that may hold a
    row with host time in ``[t0, t1)``."""
    if not device_ids:
        return []
    where, params = window(device_ids, t0, t1, db.mark)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(f"SELECT {READ} FROM sample_blocks WHERE {where}", params)
        return list(cursor.fetchall())
    finally:
        cursor.close()
