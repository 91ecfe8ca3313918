"""Who is asking, and what may they see. Enforced on the server for every route and callback.

A request carries at most one :class:`Principal`, resolved from the signed Flask session
cookie. Kinds:

- ``kiosk`` — a wall screen: one room, nothing else. Created by opening a kiosk link
  (``/wall/<room>?k=<token>``); the token is signed with the app's secret key and scoped
  to that room.
- ``user`` and ``family`` principals come with accounts and family links.

Every Dash callback and every route that returns data names the room or child it
touches and calls :func:`require_room` / :func:`require_child`; anything else gets 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import flask
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.exceptions import Forbidden

KIOSK_SALT = "dmi-kiosk-v1"


@dataclass(frozen=True)
class Principal:
    kind: str  # "kiosk" | "user" | "family"
    name: str
    role: str
    rooms: frozenset[str] | None = None  # None: every room of the site
    children: frozenset[str] | None = None  # None: every child of the site

    def can_see_room(self, room: str) -> bool:
        return self.rooms is None or room in self.rooms

    def can_see_child(self, child: str) -> bool:
        return self.children is None or child in self.children

    def to_session(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "role": self.role,
            "rooms": None if self.rooms is None else sorted(self.rooms),
            "children": None if self.children is None else sorted(self.children),
        }

    @classmethod
    def from_session(cls, data: dict[str, Any]) -> Principal:
        rooms, children = data.get("rooms"), data.get("children")
        return cls(
            kind=str(data["kind"]),
            name=str(data["name"]),
            role=str(data["role"]),
            rooms=None if rooms is None else frozenset(rooms),
            children=None if children is None else frozenset(children),
        )


def kiosk_token(secret_key: str, room: str) -> str:
    return URLSafeSerializer(secret_key, salt=KIOSK_SALT).dumps({"room": room})


def kiosk_principal(secret_key: str, token: str) -> Principal | None:
    try:
        data = URLSafeSerializer(secret_key, salt=KIOSK_SALT).loads(token)
    except BadSignature:
        return None
    room = data.get("room") if isinstance(data, dict) else None
    if not isinstance(room, str):
        return None
    return Principal(kind="kiosk", name=f"wall {room}", role="kiosk", rooms=frozenset([room]))


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
