"""Signals derived from a device's samples once per session (``derived_series``).

Some signals cost far more to work out than to read: the replay's trunk orientation runs
a recursive filter over every sample of a 45-minute session (a quarter of a second),
where reading the stored result takes a few milliseconds. A series is stored with a
*source*, a summary of the samples it came from (:func:`source_of`: how many blocks and
rows of the device fall in the window, and the latest host time among them); a reader
asks for the series *with the source it sees now*, so samples that arrive after the
series was worked out (a spool flushed late) make it stale, never wrong: the caller works
it out again and stores it over the old one.

Arrays are stored packed, one after the other, each with its dtype (``meta``, JSON);
values come back exactly as stored.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import sqlalchemy as sa

from store import tables
from store.blocks import window
from store.errors import InvalidData
from store.samples import Place, device_streams

if TYPE_CHECKING:
    from store.store import Store

D = tables.derived_series


@dataclass(frozen=True)
class Series:
    """A stored series: its arrays by name (read-only views) and what the caller kept
    beside them (``info``, JSON values)."""

    arrays: Mapping[str, np.ndarray]
    info: Mapping[str, Any]


def source_of(store: Store, device: str, t0: float, t1: float, place: Place | None = None
              ) -> str:
    """A summary of ``device``'s samples with host time in ``[t0, t1)`` (their blocks):
    it changes when a sample is added there. Raises :class:`UnknownDevice`."""
    db = store._db
    with db.read() as conn:
        ids, _ = device_streams(conn, device, place)
        where, params = window(ids, t0, t1, db.mark)
        cursor = conn.connection.cursor()
        try:
            cursor.execute("SELECT count(*), coalesce(sum(n), 0), max(t_max) FROM "
                           f"sample_blocks WHERE {where}", params)
            blocks, rows, last = cursor.fetchone() or (0, 0, None)
        finally:
            cursor.close()
    return f"{int(blocks)}:{int(rows)}:{float(last or 0.0)!r}"


def _device_id(conn: Any, device: str, place: Place | None) -> int:
    ids, _ = device_streams(conn, device, place)
    if len(ids) != 1:
        raise InvalidData(f"device {device!r} is in {len(ids)} rooms: name its room")
    return ids[0]


def load_series(store: Store, session_id: str, device: str, name: str, source: str,
                place: Place | None = None) -> Series | None:
    """The series ``name`` of ``device`` in session ``session_id`` if it was worked out
    from the samples ``source`` sums up (None if missing or stale)."""
    db = store._db
    with db.read() as conn:
        device_id = _device_id(conn, device, place)
        row = conn.execute(sa.select(D.c.source, D.c.meta, D.c.data).where(
            (D.c.session_id == session_id) & (D.c.device_id == device_id) & (D.c.name == name))
        ).first()
    if row is None or row.source != source:
        return None
    meta = json.loads(row.meta)
    data = bytes(row.data)
    arrays, at = {}, 0
    for key, dtype, n in meta["arrays"]:
        size = np.dtype(dtype).itemsize * n
        arrays[key] = np.frombuffer(data, dtype=dtype, count=n, offset=at)
        at += size
    return Series(arrays, meta["info"])


def save_series(store: Store, session_id: str, device: str, name: str, source: str,
                arrays: Mapping[str, np.ndarray], info: Mapping[str, Any] | None = None,
                place: Place | None = None) -> None:
    """Store (or replace) the series ``name`` of ``device`` in session ``session_id``,
    worked out from the samples ``source`` sums up. ``info``: JSON values kept beside."""
    packed = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    for label, array in packed.items():
        if array.ndim != 1 or array.dtype.kind not in "fiu":
            raise InvalidData(f"derived series {name}: {label} is not a 1-d numeric array")
    try:
        meta = json.dumps({"arrays": [[k, v.dtype.str, int(v.size)] for k, v in packed.items()],
                           "info": dict(info or {})}, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidData(f"derived series {name}: info is not plain JSON: {exc}") from None
    data = b"".join(v.tobytes() for v in packed.values())
    db = store._db
    with db.write() as conn:
        device_id = _device_id(conn, device, place)
        key = (D.c.session_id == session_id) & (D.c.device_id == device_id) & (D.c.name == name)
        values = {"source": source[:200], "meta": meta, "data": data, "created": time.time()}
        if conn.execute(D.update().where(key).values(**values)).rowcount == 0:
            conn.execute(D.insert().values(session_id=session_id, device_id=device_id,
                                           name=name, **values))
