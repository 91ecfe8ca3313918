"""Applying session events from the wire to the session model, idempotently.

Every event is first written to the ``events`` log keyed by its id, in the same
transaction as its effect; a repeat (same id) changes nothing and returns False, and an
event that fails (unknown session, bad data) leaves no trace, so it can be retried.

A session starts only for a child the store knows: children are added by an admin (the
admin page, ``dmi-live`` commands), never by an event, so a forged session start naming
an unknown pseudonym is refused (:class:`~store.errors.UnknownChild`) and leaves no trace.

Reps: ``delta +1`` adds a rep row; ``delta -1`` revokes the latest rep of the set that is
not revoked yet (``revoked_by`` = the correcting event's id). A manual correction wins:
a manual −1 revokes the latest rep whatever its source, while an automatic −1 (the
detector withdrawing a rep) only revokes automatic reps, never one the therapist entered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from contract import Event
from contract.vocab import SUPPORT_POINTS
from store import tables
from store.db import Database
from store.errors import (
    Conflict,
    InvalidEvent,
    UnknownChild,
    UnknownExercise,
    UnknownSession,
    UnknownSet,
)
from store.places import ensure_room
from store.sessions import check_session

log = logging.getLogger(__name__)

S, ST, R, A = tables.sessions, tables.sets, tables.reps, tables.annotations


def apply_event(db: Database, site: str, room: str, event: Event) -> bool:
    if not isinstance(event, Event):
        raise InvalidEvent(f"expected an contract.Event, got {type(event).__name__}")
    with db.write() as conn:
        logged = conn.execute(
            db.insert(tables.events)
            .values(
                id=event.id,
                type=event.type,
                t=event.t,
                site=site,
                room=room,
                session_id=event.session,
                set_id=event.set,
                author=event.author,
                data=event.data,
                received=time.time(),
            )
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(tables.events.c.id)
        ).first()
        if logged is None:
            log.debug("store: event %s (%s) seen before, ignored", event.id, event.type)
            return False
        _HANDLERS[event.type](db, conn, site, room, event)
    return True


# ----------------------------------------------------------------------------- handlers


def _need(event: Event, name: str) -> str:
    value = getattr(event, name)
    if value is None:
        raise InvalidEvent(f"{event.type} event {event.id}: needs a {name} id")
    return str(value)


def _session_start(db: Database, conn: Connection, site: str, room: str, event: Event) -> None:
    session_id = _need(event, "session")
    child = str(event.data["child"])
    known = conn.execute(
        sa.select(tables.children.c.id).where(tables.children.c.id == child)
    ).first()
    if known is None:  # the caller logs or quarantines the refusal: one line, not two
        raise UnknownChild(child)
    room_id = ensure_room(db, conn, site, room)
    existing = conn.execute(
        sa.select(S.c.child_id, S.c.room_id).where(S.c.id == session_id)
    ).first()
    if existing is not None:
        if (existing.child_id, existing.room_id) != (child, room_id):
            raise Conflict(f"session {session_id!r} exists already for another child or room")
        log.info("store: session %s started again (event %s); kept as is", session_id, event.id)
        return
    conn.execute(
        S.insert().values(
            id=session_id, child_id=child, room_id=room_id, therapist=event.author, started=event.t
        )
    )


def _session_end(db: Database, conn: Connection, site: str, room: str, event: Event) -> None:
    session_id = _need(event, "session")
    done = conn.execute(S.update().where(S.c.id == session_id).values(ended=event.t))
    if done.rowcount == 0:
        raise UnknownSession(session_id)


def _set_start(db: Database, conn: Connection, site: str, room: str, event: Event) -> None:
    session_id, set_id = _need(event, "session"), _need(event, "set")
    data = event.data
    check_session(conn, session_id)
    exercise = str(data["exercise"])
    found = conn.execute(
        sa.select(tables.exercises.c.key).where(tables.exercises.c.key == exercise)
    )
    if found.first() is None:
        raise UnknownExercise(exercise)
    if data["support"] not in SUPPORT_POINTS:
        raise InvalidEvent(
            f"set {set_id!r}: support point {data['support']!r} is not one of "
            f"{', '.join(SUPPORT_POINTS)}"
        )
    owner = conn.execute(sa.select(ST.c.session_id).where(ST.c.id == set_id)).scalar()
    if owner is not None:
        if owner != session_id:
            raise Conflict(f"set {set_id!r} belongs to session {owner!r}, not {session_id!r}")
        log.info("store: set %s started again (event %s); kept as is", set_id, event.id)
        return
    conn.execute(
        ST.insert().values(
            id=set_id,
            session_id=session_id,
            exercise_key=exercise,
            surface=str(data["surface"]),
            support=str(data["support"]),
            planned_reps=int(data["planned_reps"]),
            started=event.t,
        )
    )


def _set_end(db: Database, conn: Connection, site: str, room: str, event: Event) -> None:
    set_id = _need(event, "set")
    _set_session(conn, set_id, event)
    quality = event.data.get("quality")
    if quality is not None and quality not in tables.QUALITIES:
        raise InvalidEvent(
            f"set {set_id!r}: quality {quality!r} is not one of {', '.join(tables.QUALITIES)}"
        )
    values: dict[str, Any] = {"ended": event.t}
    if quality is not None:
        values["quality"] = quality
    conn.execute(ST.update().where(ST.c.id == set_id).values(**values))


def _rep(db: Database, conn: Connection, site: str, room: str, event: Event) -> None:
    set_id = event.set if event.set is not None else _open_set(conn, event)
    _set_session(conn, set_id, event)
    source = event.data["source"]
    if event.data["delta"] == 1:
        conn.execute(
            R.insert().values(
                event_id=event.id,
                set_id=set_id,
                t=event.t,
                source=source,
                confidence=_number(event, "confidence"),
                peak=_number(event, "peak"),
            )
        )
        return
    query = sa.select(R.c.id).where(R.c.set_id == set_id, R.c.revoked_by.is_(None))
    if source == "auto":
        query = query.where(R.c.source == "auto")
    latest = conn.execute(query.order_by(R.c.t.desc(), R.c.id.desc()).limit(1)).scalar()
    if latest is None:
        log.warning("store: rep -1 (event %s) in set %s found no rep to revoke", event.id, set_id)
        return
    conn.execute(R.update().where(R.c.id == latest).values(revoked_by=event.id))


def _annotation(db: Database, conn: Connection, site: str, room: str, event: Event) -> None:
    session_id = _need(event, "session")
    check_session(conn, session_id)
    if event.set is not None:
        _set_session(conn, event.set, event)
    data = event.data
    tag = data.get("tag")
    text = data.get("text", "")
    visible = data.get("family_visible", False)
    if tag is not None and not isinstance(tag, str):
        raise InvalidEvent(f"{event.type} event {event.id}: data.tag must be text")
    if not isinstance(text, str):
        raise InvalidEvent(f"{event.type} event {event.id}: data.text must be text")
    if not isinstance(visible, bool):
        raise InvalidEvent(f"{event.type} event {event.id}: data.family_visible must be true/false")
    conn.execute(
        A.insert().values(
            id=event.id,
            session_id=session_id,
            set_id=event.set,
            t=event.t,
            author=event.author,
            tag=tag,
            text=text,
            family_visible=visible,
        )
    )


_Handler = Callable[[Database, Connection, str, str, Event], None]
_HANDLERS: dict[str, _Handler] = {
    "session_start": _session_start,
    "session_end": _session_end,
    "set_start": _set_start,
    "set_end": _set_end,
    "rep": _rep,
    "tag": _annotation,
    "note": _annotation,
}


def _number(event: Event, key: str) -> float | None:
    value = event.data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidEvent(f"{event.type} event {event.id}: data.{key} must be a number")
    return float(value)


def _set_session(conn: Connection, set_id: str, event: Event) -> str:
    owner = conn.execute(sa.select(ST.c.session_id).where(ST.c.id == set_id)).scalar()
    if owner is None:
        raise UnknownSet(set_id)
    if event.session is not None and owner != event.session:
        raise InvalidEvent(
            f"{event.type} event {event.id}: set {set_id!r} belongs to session {owner!r}, "
            f"not {event.session!r}"
        )
    return str(owner)


def _open_set(conn: Connection, event: Event) -> str:
    """The set a rep without a set id belongs to: the session's latest set still open."""
    session_id = _need(event, "session")
    check_session(conn, session_id)
    open_set = conn.execute(
        sa.select(ST.c.id)
        .where(ST.c.session_id == session_id, ST.c.ended.is_(None))
        .order_by(ST.c.started.desc())
        .limit(1)
    ).scalar()
    if open_set is None:
        raise InvalidEvent(f"rep event {event.id}: no set id and no open set in {session_id!r}")
    return str(open_set)
