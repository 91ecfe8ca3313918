"""Staff sign-ins that the server can revoke, and the sign-in throttle every process shares.

A sign-in is a row: the browser's session cookie carries a random token, the row's id is
its SHA-256. Every request of a signed-in user reads the row; signing out, a new password
and disabling the account set ``revoked_at`` (the last two in the same transaction as the
account change, see :mod:`store.people`), so a copied cookie stops working at once.

The throttle counts failed sign-ins per key; :func:`throttle_failed` takes the caller's
policy (failures → seconds to wait) so that the store only keeps the numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from store import tables
from store.db import Database
from store.errors import Conflict, InvalidData, UnknownUser
from store.rows import SignInRow, ThrottleRow

S, U, T = tables.sign_ins, tables.users, tables.sign_in_throttle


def _id(name: str, value: object, limit: int) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise InvalidData(f"{name} must be text of 1 to {limit} characters, got {value!r}")
    return value


# ----------------------------------------------------------------------------- sign-ins


def _query() -> sa.Select[Any]:
    return sa.select(S, U.c.username).select_from(S.join(U, U.c.id == S.c.user_id))


def _sign_in(row: Any) -> SignInRow:
    return SignInRow(row.id, row.username, row.address, row.created, row.last_seen,
                     row.revoked_at)


def start_sign_in(db: Database, username: str, sign_in_id: str, address: str = "",
                  now: float | None = None) -> SignInRow:
    """Record a new sign-in of ``username``; ``sign_in_id`` is the hash of its token."""
    _id("sign-in id", sign_in_id, 64)
    now = time.time() if now is None else now
    with db.write() as conn:
        user_id = conn.execute(sa.select(U.c.id).where(U.c.username == username)).scalar()
        if user_id is None:
            raise UnknownUser(username)
        if conn.execute(sa.select(S.c.id).where(S.c.id == sign_in_id)).first() is not None:
            raise Conflict("a sign-in with this id exists already")
        conn.execute(S.insert().values(id=sign_in_id, user_id=user_id, address=address[:64],
                                       created=now, last_seen=now))
        return _sign_in(conn.execute(_query().where(S.c.id == sign_in_id)).one())


def get_sign_in(db: Database, sign_in_id: str) -> SignInRow | None:
    """The sign-in with this id, revoked ones too (check ``revoked``)."""
    with db.read() as conn:
        row = conn.execute(_query().where(S.c.id == sign_in_id)).first()
    return None if row is None else _sign_in(row)


def sign_ins(db: Database, username: str | None = None) -> list[SignInRow]:
    """Sign-ins, newest first (of one user, if given)."""
    query = _query().order_by(S.c.created.desc())
    if username is not None:
        query = query.where(U.c.username == username)
    with db.read() as conn:
        return [_sign_in(r) for r in conn.execute(query)]


def touch_sign_in(db: Database, sign_in_id: str, now: float | None = None) -> None:
    """Note that the sign-in was used at ``now`` (the idle timeout counts from there)."""
    now = time.time() if now is None else now
    with db.write() as conn:
        conn.execute(S.update().where(S.c.id == sign_in_id, S.c.last_seen < now)
                     .values(last_seen=now))


def revoke_sign_in(db: Database, sign_in_id: str, now: float | None = None) -> bool:
    """End one sign-in; False if it was unknown or ended already."""
    with db.write() as conn:
        return _revoke(conn, S.c.id == sign_in_id, now) > 0


def revoke_sign_ins(db: Database, username: str, now: float | None = None) -> int:
    """End every sign-in of ``username``; returns how many were still open."""
    with db.write() as conn:
        return revoke_user_sign_ins(conn, username, now)


def revoke_user_sign_ins(conn: Connection, username: str, now: float | None = None) -> int:
    """:func:`revoke_sign_ins` inside the caller's transaction (an account change)."""
    user_id = sa.select(U.c.id).where(U.c.username == username).scalar_subquery()
    return _revoke(conn, S.c.user_id == user_id, now)


def _revoke(conn: Connection, where: sa.ColumnElement[bool], now: float | None) -> int:
    now = time.time() if now is None else now
    result = conn.execute(S.update().where(where, S.c.revoked_at.is_(None))
                          .values(revoked_at=now))
    return int(result.rowcount)


# ----------------------------------------------------------------------------- throttle


def _throttle(row: Any) -> ThrottleRow:
    return ThrottleRow(row.key, row.failures, row.last_failure, row.blocked_until)


def throttle_rows(db: Database, keys: Sequence[str]) -> list[ThrottleRow]:
    """The counts of those ``keys`` that have any (a key with none has no row)."""
    with db.read() as conn:
        return [_throttle(r) for r in conn.execute(sa.select(T).where(T.c.key.in_(keys)))]


def throttle_failed(db: Database, key: str, *, now: float, forget_after: float,
                    delay: Callable[[int], float]) -> ThrottleRow:
    """Count one failure under ``key`` (starting again from 1 when its last failure is
    more than ``forget_after`` s old) and block it for ``delay(failures)`` s.

    Atomic across processes: the count is an ``INSERT … ON CONFLICT DO UPDATE``, which
    also locks the row for the rest of the transaction."""
    _id("throttle key", key, 200)
    with db.write() as conn:
        stale = T.c.last_failure < now - forget_after
        stmt = db.insert(T).values(key=key, failures=1, last_failure=now, blocked_until=0.0)
        conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={
            "failures": sa.case((stale, 1), else_=T.c.failures + 1),
            "last_failure": now,
            "blocked_until": sa.case((stale, 0.0), else_=T.c.blocked_until),
        }))
        failures = int(conn.execute(sa.select(T.c.failures).where(T.c.key == key)).scalar_one())
        wait = delay(failures)
        if wait > 0:
            conn.execute(T.update().where(T.c.key == key, T.c.blocked_until < now + wait)
                         .values(blocked_until=now + wait))
        return _throttle(conn.execute(sa.select(T).where(T.c.key == key)).one())


def throttle_forget(db: Database, before: float) -> int:
    """Delete the counts whose last failure is older than ``before``; how many."""
    with db.write() as conn:
        return int(conn.execute(T.delete().where(T.c.last_failure < before)).rowcount)


def throttle_clear(db: Database, key: str) -> None:
    """Forget the failures under ``key`` (a successful sign-in)."""
    with db.write() as conn:
        conn.execute(T.delete().where(T.c.key == key))
