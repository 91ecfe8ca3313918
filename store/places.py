"""Sites and rooms: created on first mention, by device set-up or by a session event."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from store import tables
from store.db import Database
from store.errors import InvalidData


def ensure_room(db: Database, conn: Connection, site: str, room: str) -> int:
    """The id of ``room`` in ``site``, creating both rows if needed (inside ``conn``'s txn)."""
    for name, value in (("site", site), ("room", room)):
        if not isinstance(value, str) or not value.strip():
            raise InvalidData(f"{name} must be a non-empty id, got {value!r}")
    conn.execute(
        db.insert(tables.sites).values(key=site).on_conflict_do_nothing(index_elements=["key"])
    )
    site_id = conn.execute(
        sa.select(tables.sites.c.id).where(tables.sites.c.key == site)
    ).scalar_one()
    conn.execute(
        db.insert(tables.rooms)
        .values(site_id=site_id, key=room)
        .on_conflict_do_nothing(index_elements=["site_id", "key"])
    )
    room_id: int = conn.execute(
        sa.select(tables.rooms.c.id).where(
            tables.rooms.c.site_id == site_id, tables.rooms.c.key == room
        )
    ).scalar_one()
    return room_id
