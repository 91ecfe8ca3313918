"""Device set-up, recording gaps and the quarantine of messages that failed validation."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from ingest.schema import KINDS
from store import tables
from store.db import Database
from store.errors import InvalidData
from store.places import ensure_room
from store.rows import DeviceRow, GapRow, QuarantineRow


def _device_query() -> sa.Select[Any]:
    d, r, s = tables.devices, tables.rooms, tables.sites
    return (
        sa.select(d.c.name, d.c.kind, s.c.key.label("site"), r.c.key.label("room"))
        .add_columns(d.c.placement, d.c.calibration)
        .select_from(d.outerjoin(r, r.c.id == d.c.room_id).outerjoin(s, s.c.id == r.c.site_id))
    )


def _device(row: Any) -> DeviceRow:
    return DeviceRow(row.name, row.kind, row.site, row.room, row.placement, row.calibration)


def devices(db: Database) -> list[DeviceRow]:
    with db.read() as conn:
        rows = conn.execute(_device_query().order_by(tables.devices.c.name))
        return [_device(r) for r in rows]


def upsert_device(
    db: Database,
    site: str,
    room: str,
    device: str,
    kind: str,
    placement: str = "",
    calibration: dict[str, Any] | None = None,
) -> DeviceRow:
    if kind not in KINDS:
        raise InvalidData(f"device {device!r}: kind {kind!r} is not one of {', '.join(KINDS)}")
    if not device:
        raise InvalidData("device id must not be empty")
    with db.write() as conn:
        room_id = ensure_room(db, conn, site, room)
        values: dict[str, Any] = {"kind": kind, "room_id": room_id, "placement": placement}
        if calibration is not None:  # None keeps what a calibration run stored
            values["calibration"] = calibration
        stmt = db.insert(tables.devices).values(name=device, **values)
        conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=values))
        row = conn.execute(_device_query().where(tables.devices.c.name == device)).one()
        return _device(row)


# ----------------------------------------------------------------------------- gaps


def add_gap(
    db: Database, device: str, boot: str, t_from: float, t_to: float, reason: str
) -> GapRow:
    if not t_to >= t_from:
        raise InvalidData(f"gap of {device!r}: t_to {t_to} is before t_from {t_from}")
    with db.write() as conn:
        gap_id = conn.execute(
            tables.gaps.insert()
            .values(device=device, boot=boot, t_from=t_from, t_to=t_to, reason=reason[:200])
            .returning(tables.gaps.c.id)
        ).scalar_one()
    return GapRow(int(gap_id), device, boot, float(t_from), float(t_to), reason[:200])


def gaps(
    db: Database, device: str | None = None, t0: float | None = None, t1: float | None = None
) -> list[GapRow]:
    """Gaps overlapping ``[t0, t1)``, oldest first."""
    g = tables.gaps
    query = sa.select(g).order_by(g.c.t_from, g.c.id)
    if device is not None:
        query = query.where(g.c.device == device)
    if t0 is not None:
        query = query.where(g.c.t_to >= t0)
    if t1 is not None:
        query = query.where(g.c.t_from < t1)
    with db.read() as conn:
        return [
            GapRow(r.id, r.device, r.boot, r.t_from, r.t_to, r.reason) for r in conn.execute(query)
        ]


# ----------------------------------------------------------------------------- quarantine


def quarantine(db: Database, topic: str, payload: bytes, reason: str) -> int:
    with db.write() as conn:
        row_id = conn.execute(
            tables.quarantine.insert()
            .values(t=time.time(), topic=topic[:512], payload=bytes(payload), reason=reason)
            .returning(tables.quarantine.c.id)
        ).scalar_one()
    return int(row_id)


def quarantined(db: Database, limit: int = 100) -> list[QuarantineRow]:
    """The latest quarantined messages, newest first."""
    q = tables.quarantine
    query = sa.select(q).order_by(q.c.id.desc()).limit(limit)
    with db.read() as conn:
        return [
            QuarantineRow(r["id"], r["t"], r["topic"], bytes(r["payload"]), r["reason"])
            for r in conn.execute(query).mappings()
        ]
