"""Device set-up, recording gaps and the quarantine of messages that failed validation."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from contract import KINDS
from store import tables
from store.db import Database
from store.errors import InvalidData
from store.places import ensure_room
from store.rows import DeviceRow, DeviceState, GapRow, QuarantineRow
from store.samples import Place, in_place


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
        d = tables.devices
        # a device first seen without a room (an import) is adopted by the first room
        conn.execute(d.update().where(
            d.c.name == device, d.c.room_id.is_(None),
            ~sa.exists().where(d.c.name == device, d.c.room_id == room_id)).values(room_id=room_id))
        stmt = db.insert(tables.devices).values(name=device, **values)
        conn.execute(stmt.on_conflict_do_update(index_elements=["room_id", "name"], set_=values))
        row = conn.execute(_device_query().where(d.c.name == device, d.c.room_id == room_id)).one()
        return _device(row)


# ----------------------------------------------------------------------------- gaps


def add_gap(
    db: Database, device: str, boot: str, t_from: float, t_to: float, reason: str,
    place: Place | None = None,
) -> GapRow:
    if not t_to >= t_from:
        raise InvalidData(f"gap of {device!r}: t_to {t_to} is before t_from {t_from}")
    site, room = place if place is not None else (None, None)
    with db.write() as conn:
        gap_id = conn.execute(
            tables.gaps.insert()
            .values(device=device, boot=boot, t_from=t_from, t_to=t_to, reason=reason[:200],
                    site=site, room=room)
            .returning(tables.gaps.c.id)
        ).scalar_one()
    return GapRow(int(gap_id), device, boot, float(t_from), float(t_to), reason[:200], site,
                  room)


def _gap(r: Any) -> GapRow:
    return GapRow(r.id, r.device, r.boot, r.t_from, r.t_to, r.reason, r.site, r.room)


def gaps(
    db: Database, device: str | None = None, t0: float | None = None, t1: float | None = None,
    place: Place | None = None,
) -> list[GapRow]:
    """Gaps overlapping ``[t0, t1)``, oldest first. With ``place``, those of its devices
    (a gap recorded before devices were per room counts where a device of its name is)."""
    g = tables.gaps
    query = sa.select(g).order_by(g.c.t_from, g.c.id)
    if device is not None:
        query = query.where(g.c.device == device)
    if place is not None:
        d = tables.devices
        query = query.where(sa.or_(
            (g.c.site == place[0]) & (g.c.room == place[1]),
            g.c.room.is_(None) & g.c.device.in_(
                sa.select(d.c.name).where(in_place(place)))))
    if t0 is not None:
        query = query.where(g.c.t_to >= t0)
    if t1 is not None:
        query = query.where(g.c.t_from < t1)
    with db.read() as conn:
        return [_gap(r) for r in conn.execute(query)]


# ----------------------------------------------------------------------------- quarantine


def quarantine(db: Database, topic: str, payload: bytes, reason: str) -> int:
    """Keep the first ``QUARANTINE_PAYLOAD`` bytes of a rejected message and at most
    ``QUARANTINE_ROWS`` rejects: every 100th insert drops all but the newest
    ``QUARANTINE_ROWS - 100``, so the table never holds more than the bound."""
    q = tables.quarantine
    with db.write() as conn:
        row_id = int(conn.execute(
            q.insert()
            .values(t=time.time(), topic=topic[:512],
                    payload=bytes(payload[:tables.QUARANTINE_PAYLOAD]), reason=reason[:2000],
                    size=len(payload))
            .returning(q.c.id)
        ).scalar_one())
        if row_id % 100 == 0:
            conn.execute(q.delete().where(q.c.id <= row_id - (tables.QUARANTINE_ROWS - 100)))
    return row_id


def quarantined(db: Database, limit: int = 100) -> list[QuarantineRow]:
    """The latest quarantined messages, newest first."""
    q = tables.quarantine
    query = sa.select(q).order_by(q.c.id.desc()).limit(limit)
    with db.read() as conn:
        return [
            QuarantineRow(r["id"], r["t"], r["topic"], bytes(r["payload"]), r["reason"],
                          len(r["payload"]) if r["size"] is None else int(r["size"]))
            for r in conn.execute(query).mappings()
        ]


def quarantine_size(db: Database) -> tuple[int, int]:
    q = tables.quarantine
    with db.read() as conn:
        count, size = conn.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(sa.func.length(q.c.payload)),
                                                        0))).one()
    return int(count), int(size)


# ----------------------------------------------------------------------------- status


def device_status(db: Database) -> list[DeviceState]:
    """Every device with its place, newest stored sample time and gaps."""
    k, g = tables.sample_blocks, tables.gaps
    last = (sa.select(k.c.device_id, sa.func.max(k.c.t_max).label("t"))
            .group_by(k.c.device_id).subquery())
    with db.read() as conn:
        rows = conn.execute(_device_query().add_columns(last.c.t.label("last_t"))
                            .outerjoin(last, last.c.device_id == tables.devices.c.id)
                            .order_by(tables.devices.c.name)).all()
        all_gaps = [_gap(r) for r in conn.execute(sa.select(g).order_by(g.c.t_from, g.c.id))]
    out = []
    for row in rows:
        mine = [x for x in all_gaps if x.device == row.name
                and (x.room is None or (x.site, x.room) == (row.site, row.room))]
        last_t = None if row.last_t is None else float(row.last_t)
        out.append(DeviceState(row.site, row.room, row.name, row.kind, last_t, None,
                               len(mine), mine[-1] if mine else None))
    return out
