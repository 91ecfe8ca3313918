"""Children, users, family links, the audit log and the exercise catalog."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from contract.vocab import DOMAINS
from store import tables
from store.db import Database
from store.errors import (
    Conflict,
    DuplicateUser,
    ExerciseLocked,
    InvalidData,
    UnknownChild,
    UnknownFamilyLink,
    UnknownUser,
)
from store.rows import (
    AuditRow,
    ChildRow,
    ExerciseRow,
    FamilyLinkRow,
    UserRow,
)
from store.signins import revoke_user_sign_ins

C, U, F, E = tables.children, tables.users, tables.family_links, tables.exercises


def _text(name: str, value: object, limit: int = 64) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidData(f"{name} must be non-empty text, got {value!r}")
    if len(value) > limit:
        raise InvalidData(f"{name} is longer than {limit} characters")
    return value


# ----------------------------------------------------------------------------- children


def add_child(db: Database, pseudonym: str, display_name: str) -> ChildRow:
    """Register a child, or rename one (a session may have created it with no name)."""
    _text("pseudonym", pseudonym)
    if not isinstance(display_name, str) or len(display_name) > 200:
        raise InvalidData("display_name must be text of at most 200 characters")
    with db.write() as conn:
        stmt = db.insert(C).values(id=pseudonym, display_name=display_name, created=time.time())
        conn.execute(
            stmt.on_conflict_do_update(index_elements=["id"], set_={"display_name": display_name})
        )
        row = conn.execute(sa.select(C).where(C.c.id == pseudonym)).one()
    return ChildRow(row.id, row.display_name, row.created)


def children(db: Database) -> list[ChildRow]:
    with db.read() as conn:
        rows = conn.execute(sa.select(C).order_by(C.c.id))
        return [ChildRow(r.id, r.display_name, r.created) for r in rows]


# ----------------------------------------------------------------------------- users


def _user(row: Any) -> UserRow:
    return UserRow(
        row.id, row.username, row.role, row.password_hash, bool(row.disabled), row.created
    )


def _role(role: str) -> str:
    if role not in tables.ROLES:
        raise InvalidData(f"role {role!r} is not one of {', '.join(tables.ROLES)}")
    return role


def add_user(db: Database, username: str, role: str, password_hash: str) -> UserRow:
    _text("username", username)
    _role(role)
    _text("password_hash", password_hash, limit=512)
    with db.write() as conn:
        result = conn.execute(
            db.insert(U)
            .values(username=username, role=role, password_hash=password_hash, created=time.time())
            .on_conflict_do_nothing(index_elements=["username"])
            .returning(U.c.id)
        ).first()
        if result is None:
            raise DuplicateUser(username)
        return _user(conn.execute(sa.select(U).where(U.c.username == username)).one())


def get_user(db: Database, username: str) -> UserRow | None:
    with db.read() as conn:
        row = conn.execute(sa.select(U).where(U.c.username == username)).first()
    return None if row is None else _user(row)


def users(db: Database) -> list[UserRow]:
    with db.read() as conn:
        return [_user(r) for r in conn.execute(sa.select(U).order_by(U.c.username))]


def _update_user(db: Database, username: str, *, sign_out: bool = False,
                 **values: Any) -> UserRow:
    """Change an account; ``sign_out`` also ends its sign-ins in the same transaction."""
    with db.write() as conn:
        if conn.execute(U.update().where(U.c.username == username).values(**values)).rowcount == 0:
            raise UnknownUser(username)
        if sign_out:
            revoke_user_sign_ins(conn, username)
        return _user(conn.execute(sa.select(U).where(U.c.username == username)).one())


def set_user_disabled(db: Database, username: str, disabled: bool) -> UserRow:
    """Disabling an account also ends every sign-in of it."""
    return _update_user(db, username, sign_out=bool(disabled), disabled=bool(disabled))


def set_password_hash(db: Database, username: str, password_hash: str, *,
                      sign_out: bool = True) -> UserRow:
    """A new password also ends every sign-in of the account (old cookies stop working);
    ``sign_out=False`` only for the same password hashed anew."""
    return _update_user(db, username, sign_out=sign_out,
                        password_hash=_text("password_hash", password_hash, 512))


def set_user_role(db: Database, username: str, role: str) -> UserRow:
    return _update_user(db, username, role=_role(role))


# ----------------------------------------------------------------------------- family links


def _link(row: Any) -> FamilyLinkRow:
    return FamilyLinkRow(
        row.id, row.child_id, row.token_hash, row.created_by, row.created, row.expires,
        row.revoked_at,
    )  # fmt: skip


def add_family_link(
    db: Database, child: str, token_hash: str, expires: float, created_by: str
) -> FamilyLinkRow:
    _text("token_hash", token_hash, limit=256)
    _text("created_by", created_by)
    with db.write() as conn:
        if conn.execute(sa.select(C.c.id).where(C.c.id == child)).first() is None:
            raise UnknownChild(child)
        if conn.execute(sa.select(F.c.id).where(F.c.token_hash == token_hash)).first():
            raise Conflict("a family link with this token hash exists already")
        link_id = conn.execute(
            F.insert()
            .values(
                token_hash=token_hash,
                child_id=child,
                created_by=created_by,
                created=time.time(),
                expires=float(expires),
            )
            .returning(F.c.id)
        ).scalar_one()
        return _link(conn.execute(sa.select(F).where(F.c.id == link_id)).one())


def family_link_by_hash(db: Database, token_hash: str) -> FamilyLinkRow | None:
    """The link with this token hash, revoked or expired ones too (check ``is_valid``)."""
    with db.read() as conn:
        row = conn.execute(sa.select(F).where(F.c.token_hash == token_hash)).first()
    return None if row is None else _link(row)


def family_links(db: Database, child: str | None = None) -> list[FamilyLinkRow]:
    query = sa.select(F).order_by(F.c.created.desc(), F.c.id.desc())
    if child is not None:
        query = query.where(F.c.child_id == child)
    with db.read() as conn:
        return [_link(r) for r in conn.execute(query)]


def revoke_family_link(db: Database, link_id: int) -> FamilyLinkRow:
    """Revoke a link; revoking it again keeps the first revocation time."""
    with db.write() as conn:
        conn.execute(
            F.update()
            .where(F.c.id == link_id, F.c.revoked_at.is_(None))
            .values(revoked_at=time.time())
        )
        row = conn.execute(sa.select(F).where(F.c.id == link_id)).first()
        if row is None:
            raise UnknownFamilyLink(link_id)
        return _link(row)


# ----------------------------------------------------------------------------- audit


def audit(db: Database, who: str, action: str, child: str | None = None, detail: str = "") -> int:
    _text("who", who)
    _text("action", action)
    with db.write() as conn:
        row_id = conn.execute(
            tables.audit.insert()
            .values(t=time.time(), who=who, action=action, child_id=child, detail=detail)
            .returning(tables.audit.c.id)
        ).scalar_one()
    return int(row_id)


def audit_log(db: Database, limit: int = 100, child: str | None = None) -> list[AuditRow]:
    """The latest audit entries, newest first."""
    a = tables.audit
    query = sa.select(a).order_by(a.c.t.desc(), a.c.id.desc()).limit(limit)
    if child is not None:
        query = query.where(a.c.child_id == child)
    with db.read() as conn:
        return [
            AuditRow(r["id"], r["t"], r["who"], r["action"], r["child_id"], r["detail"])
            for r in conn.execute(query).mappings()
        ]


# ----------------------------------------------------------------------------- exercises


def _exercise(row: Any) -> ExerciseRow:
    return ExerciseRow(
        row.key, row.name, row.domain, row.default_reps, row.signal_profile, bool(row.editable)
    )


def exercises(db: Database) -> list[ExerciseRow]:
    """The catalog in developmental order of domain (unknown domains last), then by name."""
    with db.read() as conn:
        rows = [_exercise(r) for r in conn.execute(sa.select(E))]
    order = {d: i for i, d in enumerate(DOMAINS)}
    return sorted(rows, key=lambda e: (order.get(e.domain, len(order)), e.domain, e.name))


def upsert_exercise(
    db: Database, key: str, name: str, domain: str, default_reps: int, signal_profile: str
) -> ExerciseRow:
    """Add a clinic's own exercise or change one; built-in exercises raise ExerciseLocked."""
    _text("exercise key", key)
    _text("exercise name", name, limit=200)
    _text("domain", domain, limit=32)
    _text("signal_profile", signal_profile)
    if isinstance(default_reps, bool) or not isinstance(default_reps, int) or default_reps < 0:
        raise InvalidData(f"default_reps must be a whole number ≥ 0, got {default_reps!r}")
    values = {
        "name": name,
        "domain": domain,
        "default_reps": default_reps,
        "signal_profile": signal_profile,
    }
    with db.write() as conn:
        editable = conn.execute(sa.select(E.c.editable).where(E.c.key == key)).scalar()
        if editable is not None and not editable:
            raise ExerciseLocked(key)
        stmt = db.insert(E).values(key=key, editable=True, **values)
        conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_=values))
        return _exercise(conn.execute(sa.select(E).where(E.c.key == key)).one())
