"""Wall-screen (kiosk) links: one row per link, with its room, expiry and revocation.

The link's URL carries a token signed with the site's secret key that names the row's id
(see :mod:`dashboard.kiosk_links`); the row decides whether it still works.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from store import tables
from store.db import Database
from store.errors import Conflict, InvalidData, NotFound
from store.rows import KioskLinkRow

K = tables.kiosk_links


def _link(row: Any) -> KioskLinkRow:
    return KioskLinkRow(row.id, row.room, row.created_by, row.created, row.expires,
                        row.revoked_at)


def _text(name: str, value: object, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidData(f"{name} must be text of 1 to {limit} characters, got {value!r}")
    return value


def add_kiosk_link(db: Database, link_id: str, room: str, expires: float, created_by: str,
                   now: float | None = None) -> KioskLinkRow:
    _text("kiosk link id", link_id, 32)
    _text("room", room, 64)
    _text("created_by", created_by, 64)
    now = time.time() if now is None else now
    with db.write() as conn:
        stmt = db.insert(K).values(id=link_id, room=room, created_by=created_by, created=now,
                                   expires=float(expires))
        added = conn.execute(stmt.on_conflict_do_nothing(index_elements=["id"])
                             .returning(K.c.id)).first()
        if added is None:
            raise Conflict(f"a wall-screen link {link_id!r} exists already")
        return _link(conn.execute(sa.select(K).where(K.c.id == link_id)).one())


def kiosk_link(db: Database, link_id: str) -> KioskLinkRow | None:
    """The link with this id, revoked or expired ones too (check ``is_valid``)."""
    with db.read() as conn:
        row = conn.execute(sa.select(K).where(K.c.id == link_id)).first()
    return None if row is None else _link(row)


def kiosk_links(db: Database, room: str | None = None) -> list[KioskLinkRow]:
    """Newest first (of one room, if given)."""
    query = sa.select(K).order_by(K.c.created.desc(), K.c.id)
    if room is not None:
        query = query.where(K.c.room == room)
    with db.read() as conn:
        return [_link(r) for r in conn.execute(query)]


def revoke_kiosk_link(db: Database, link_id: str, now: float | None = None) -> KioskLinkRow:
    """Revoke a link; revoking it again keeps the first revocation time."""
    now = time.time() if now is None else now
    with db.write() as conn:
        conn.execute(K.update().where(K.c.id == link_id, K.c.revoked_at.is_(None))
                     .values(revoked_at=now))
        row = conn.execute(sa.select(K).where(K.c.id == link_id)).first()
    if row is None:
        raise NotFound(f"there is no wall-screen link {link_id!r}")
    return _link(row)
