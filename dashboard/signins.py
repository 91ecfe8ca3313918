"""Staff sessions the server can end: a stored sign-in behind every signed-in browser.

The Flask session is a signed cookie, so on its own a copy of it would work until it
expires, whatever happens on the server. Signing in therefore also stores a sign-in
(:mod:`store.signins`) under the SHA-256 of a random token kept in the cookie, and every
request of a user checks it: signed out, revoked (a new password, a disabled account),
idle for :data:`IDLE_TIMEOUT_S` or older than :data:`MAX_AGE_S` → the cookie is refused.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from typing import Any

import flask

from dashboard import auth
from store import Store
from store.rows import SignInRow, UserRow

log = logging.getLogger(__name__)

IDLE_TIMEOUT_S = 30 * 60
MAX_AGE_S = 12 * 3600
TOUCH_EVERY_S = 30.0
_KEY = "sign_in"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(store: Store, user: UserRow, address: str) -> None:
    """Sign this browser in as ``user`` (a new session cookie and a stored sign-in)."""
    token = secrets.token_urlsafe(32)
    store.start_sign_in(user.username, _hash(token), address)
    auth.sign_in(auth.Principal(kind="user", name=user.username, role=user.role))
    flask.session[_KEY] = token


def _row(store: Store, session: Mapping[str, Any]) -> SignInRow | None:
    token = session.get(_KEY)
    return store.get_sign_in(_hash(token)) if isinstance(token, str) else None


def _ended(row: SignInRow | None, username: str, now: float, idle_s: float) -> str | None:
    if row is None or row.revoked or row.username != username:
        return "signed-out"
    if now - row.last_seen > idle_s or now - row.created > MAX_AGE_S:
        return "expired"
    return None


def why_ended(store: Store, username: str, session: Mapping[str, Any], now: float, *,
              idle_s: float = IDLE_TIMEOUT_S) -> str | None:
    """Why the sign-in of ``username`` kept in ``session`` (a Flask session or a copy of
    its data, for checks outside a request such as an open live stream) has ended —
    ``signed-out`` (by sign-out, a new password or disabling) or ``expired`` — or None."""
    return _ended(_row(store, session), username, now, idle_s)


def check(store: Store, principal: auth.Principal, now: float) -> str | None:
    """Why this request's user session must end (``signed-out`` / ``expired`` /
    ``disabled``), or None. Notes the use (at most every 30 s) and a changed role."""
    row = _row(store, flask.session)
    reason = _ended(row, principal.name, now, IDLE_TIMEOUT_S)
    if reason == "expired" and row is not None:
        store.revoke_sign_in(row.id)
    if reason is not None or row is None:
        return reason
    user = store.get_user(principal.name)
    if user is None or user.disabled:
        return "disabled"
    if now - row.last_seen > TOUCH_EVERY_S:
        store.touch_sign_in(row.id)
    if user.role != principal.role:  # promoted or demoted since signing in
        flask.session["principal"] = auth.Principal(kind="user", name=user.username,
                                                    role=user.role).to_session()
    return None


def end(store: Store) -> bool:
    """Revoke this browser's stored sign-in, if it has one; the caller clears the cookie."""
    token = flask.session.get(_KEY)
    return isinstance(token, str) and store.revoke_sign_in(_hash(token))
