"""Who may see what, decided in one place and without a web framework: the principal a
request carries, the one :func:`is_staff`, and the rules built on them.

Kinds of principal:

- ``user`` — a staff account (therapist, supervisor, admin): every room and child of the
  site unless ``rooms``/``children`` narrow it;
- ``kiosk`` — a wall screen: one room, no child records;
- ``family`` — a family link: one child, no room.

The dashboard resolves the principal of each request (:mod:`dashboard.auth`) and asks
these functions; nothing else decides access.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contract.vocab import ROLES, STAFF_ROLES

__all__ = ["ROLES", "STAFF_ROLES", "Principal", "is_admin", "is_staff", "may_review"]


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


def is_staff(principal: Principal | None) -> bool:
    """A signed-in therapist, supervisor or admin (not a kiosk, not a family link)."""
    return principal is not None and principal.kind == "user" and principal.role in STAFF_ROLES


def is_admin(principal: Principal | None) -> bool:
    return is_staff(principal) and principal is not None and principal.role == "admin"


def may_review(principal: Principal | None, child: str, room: str) -> bool:
    """Staff who may see this child's records and this room's."""
    return (is_staff(principal) and principal is not None and principal.can_see_child(child)
            and principal.can_see_room(room))
