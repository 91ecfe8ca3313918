"""Queries over the session model: sessions, sets, reps (with corrections), annotations."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from store import tables
from store.db import Database
from store.errors import UnknownSession, UnknownSet
from store.rows import AnnotationRow, RepRow, SessionRow, SetRow

S, ST, R, A = tables.sessions, tables.sets, tables.reps, tables.annotations


def _session_query() -> sa.Select[Any]:
    rooms, sites = tables.rooms, tables.sites
    columns = (S.c.id, S.c.child_id, sites.c.key.label("site"), rooms.c.key.label("room"))
    joined = S.join(rooms, rooms.c.id == S.c.room_id).join(sites, sites.c.id == rooms.c.site_id)
    return (
        sa.select(*columns).add_columns(S.c.therapist, S.c.started, S.c.ended).select_from(joined)
    )


def _session(row: Any) -> SessionRow:
    return SessionRow(
        row.id, row.child_id, row.site, row.room, row.therapist, row.started, row.ended
    )


def sessions(
    db: Database,
    child: str | None = None,
    room: str | None = None,
    therapist: str | None = None,
    since: float | None = None,
    until: float | None = None,
    site: str | None = None,
) -> list[SessionRow]:
    """Sessions started in ``[since, until)``, newest first."""
    query = _session_query().order_by(S.c.started.desc(), S.c.id)
    if child is not None:
        query = query.where(S.c.child_id == child)
    if room is not None:
        query = query.where(tables.rooms.c.key == room)
    if site is not None:
        query = query.where(tables.sites.c.key == site)
    if therapist is not None:
        query = query.where(S.c.therapist == therapist)
    if since is not None:
        query = query.where(S.c.started >= since)
    if until is not None:
        query = query.where(S.c.started < until)
    with db.read() as conn:
        return [_session(r) for r in conn.execute(query)]


def session(db: Database, session_id: str) -> SessionRow:
    with db.read() as conn:
        row = conn.execute(_session_query().where(S.c.id == session_id)).first()
    if row is None:
        raise UnknownSession(session_id)
    return _session(row)


def sets(db: Database, session_id: str) -> list[SetRow]:
    """The session's sets in the order they started."""
    with db.read() as conn:
        check_session(conn, session_id)
        rows = conn.execute(
            sa.select(ST).where(ST.c.session_id == session_id).order_by(ST.c.started, ST.c.id)
        )
        return [
            SetRow(
                r.id,
                r.session_id,
                r.exercise_key,
                r.surface,
                r.support,
                r.planned_reps,
                r.started,
                r.ended,
                r.quality,
            )  # fmt: skip
            for r in rows
        ]


def reps(db: Database, set_id: str | None = None, *, session_id: str | None = None) -> list[RepRow]:
    """Every rep of one set or of a whole session (revoked ones too), in time order."""
    if (set_id is None) == (session_id is None):
        raise TypeError("reps() takes either a set_id or a session_id")
    query = sa.select(R).order_by(R.c.t, R.c.id)
    with db.read() as conn:
        if set_id is not None:
            _set_exists(conn, set_id)
            query = query.where(R.c.set_id == set_id)
        else:
            assert session_id is not None
            check_session(conn, session_id)
            query = query.join(ST, ST.c.id == R.c.set_id).where(ST.c.session_id == session_id)
        return [
            RepRow(
                r["id"],
                r["event_id"],
                r["set_id"],
                r["t"],
                r["source"],
                r["confidence"],
                r["peak"],
                r["revoked_by"],
            )  # fmt: skip
            for r in conn.execute(query).mappings()
        ]


def rep_count(db: Database, set_id: str) -> int:
    """Reps of the set that stand (not revoked by a −1)."""
    query = (
        sa.select(sa.func.count(R.c.id))
        .select_from(ST.outerjoin(R, sa.and_(R.c.set_id == ST.c.id, R.c.revoked_by.is_(None))))
        .where(ST.c.id == set_id)
        .group_by(ST.c.id)
    )
    with db.read() as conn:
        count = conn.execute(query).scalar()
    if count is None:
        raise UnknownSet(set_id)
    return int(count)


def session_annotations(
    db: Database, session_id: str, *, family_only: bool = False
) -> list[AnnotationRow]:
    query = sa.select(A).where(A.c.session_id == session_id).order_by(A.c.t, A.c.id)
    if family_only:
        query = query.where(A.c.family_visible.is_(True))
    with db.read() as conn:
        check_session(conn, session_id)
        return [
            AnnotationRow(
                r["id"],
                r["session_id"],
                r["set_id"],
                r["t"],
                r["author"],
                r["tag"],
                r["text"],
                bool(r["family_visible"]),
            )  # fmt: skip
            for r in conn.execute(query).mappings()
        ]


def _set_exists(conn: Connection, set_id: str) -> None:
    if conn.execute(sa.select(ST.c.id).where(ST.c.id == set_id)).first() is None:
        raise UnknownSet(set_id)


def check_session(conn: Connection, session_id: str) -> None:
    if conn.execute(sa.select(S.c.id).where(S.c.id == session_id)).first() is None:
        raise UnknownSession(session_id)
