"""Who is asking, and what may they see. Enforced on the server for every route and callback.

A request carries at most one :class:`Principal`, resolved from the signed Flask session
cookie. Kinds:

- ``kiosk`` — a wall screen: one room, nothing else. Created by opening a kiosk link
  (``/wall/<room>?k=<token>``); the token is signed with the app's secret key and names
  a stored link (:mod:`dashboard.kiosk_links`) with its room and expiry. Every request
  checks that link again, so revoking it ends the wall's session.
- ``user`` principals come with a stored sign-in (:mod:`dashboard.signins`), checked on
  every request; ``family`` principals with a family link, checked the same way.

Every Dash callback and every route that returns data names the room or child it
touches and calls :func:`require_room` / :func:`require_child`; anything else gets 403.
"""

from __future__ import annotations

import secrets
import time
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

import flask
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.exceptions import Forbidden

from access import Principal

KIOSK_SALT = "dmi-kiosk-v2"  # v1 tokens named only a room and never expired: refused
KIOSK_DAYS = 180


@dataclass(frozen=True)
class KioskClaim:
    """What a wall-screen token says: which stored link, which room, until when."""

    link_id: str
    room: str
    expires: float


def new_kiosk_link_id() -> str:
    return secrets.token_hex(5)


def kiosk_token(secret_key: str, room: str, *, link_id: str | None = None,
                expires: float | None = None) -> str:
    """A signed wall-screen token for ``room``. Links are made with
    :func:`dashboard.kiosk_links.create`, which stores the link first; a token made here
    alone (a fresh id, :data:`KIOSK_DAYS` days) is recorded when it is first opened."""
    claim = {"id": link_id or new_kiosk_link_id(), "room": room,
             "exp": round(expires if expires is not None else time.time() + KIOSK_DAYS * 86400)}
    return URLSafeSerializer(secret_key, salt=KIOSK_SALT).dumps(claim)


def read_kiosk_token(secret_key: str, token: str) -> KioskClaim | None:
    """The claim of a well-signed token, or None (the stored link decides if it works)."""
    if len(token) > 500:
        return None
    try:
        data = URLSafeSerializer(secret_key, salt=KIOSK_SALT).loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    link_id, room, expires = data.get("id"), data.get("room"), data.get("exp")
    if not (isinstance(link_id, str) and isinstance(room, str) and isinstance(expires, int)):
        return None
    return KioskClaim(link_id, room, float(expires))


def kiosk_principal(room: str) -> Principal:
    return Principal(kind="kiosk", name=f"wall {room}", role="kiosk", rooms=frozenset([room]))


def safe_next(path: object) -> str:
    """``path`` if it is a path on this site, else ``/``: never ``//host``, a scheme, a
    backslash or a control character (browsers drop tabs and newlines, so ``/\t/evil``
    would become ``//evil``)."""
    if not isinstance(path, str) or not path.startswith("/") or len(path) > 2000:
        return "/"
    if "\\" in path or any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in path):
        return "/"
    squeezed = "".join(path.split())
    parts = urlsplit(squeezed)
    if squeezed.startswith("//") or parts.scheme or parts.netloc:
        return "/"
    return path


def current() -> Principal | None:
    """The principal of this request, or None."""
    data = flask.session.get("principal")
    if not isinstance(data, dict):
        return None
    try:
        return Principal.from_session(data)
    except (KeyError, TypeError):
        return None


def sign_in(principal: Principal) -> None:
    flask.session.clear()
    flask.session["principal"] = principal.to_session()
    flask.session.permanent = True


def require_room(room: str) -> Principal:
    principal = current()
    if principal is None or not principal.can_see_room(room):
        raise Forbidden(f"not allowed to see room {room!r}")
    return principal


def require_child(child: str) -> Principal:
    principal = current()
    if principal is None or not principal.can_see_child(child):
        raise Forbidden("not allowed to see this child")
    return principal
