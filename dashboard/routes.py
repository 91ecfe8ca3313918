"""Path → page, with each page's authorization rule. Pure: testable without Dash or a browser.

Rules:

- ``/login`` — anyone.
- ``/wall/<room>`` — a kiosk of that room, or a signed-in user (therapist, supervisor, admin).
- ``/remote/<room>`` — a signed-in therapist, supervisor or admin.
- ``/`` — a kiosk goes to its wall; a user sees the rooms; anyone else signs in.

A page a principal may not see renders as "not allowed" (or the sign-in page when no one
is signed in); the data routes and callbacks behind each page check again on their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from dash import dcc

from dashboard.auth import Principal
from dashboard.layouts.common import create_not_allowed_layout, create_not_found_layout
from dashboard.layouts.home import create_home_layout
from dashboard.layouts.login import create_login_layout
from dashboard.layouts.remote import create_remote_layout
from dashboard.layouts.wall import create_wall_layout

_ROOM = r"([a-z0-9][a-z0-9_-]{0,63})"
STAFF = frozenset({"therapist", "supervisor", "admin"})

Page = Callable[[re.Match[str], dict[str, str], Principal, Any], Any]


def is_staff(principal: Principal | None) -> bool:
    return principal is not None and principal.kind == "user" and principal.role in STAFF


def _wall(match: re.Match[str], query: dict[str, str], who: Principal, store: Any) -> Any:
    room = match.group(1)
    if not (who.can_see_room(room) and (who.kind == "kiosk" or is_staff(who))):
        return create_not_allowed_layout()
    return create_wall_layout(room)


def _remote(match: re.Match[str], query: dict[str, str], who: Principal, store: Any) -> Any:
    room = match.group(1)
    if not (is_staff(who) and who.can_see_room(room)):
        return create_not_allowed_layout()
    return create_remote_layout(room, children=store.children(), exercises=store.exercises())


def _home(match: re.Match[str], query: dict[str, str], who: Principal, store: Any) -> Any:
    if who.kind == "kiosk" and who.rooms:
        return dcc.Location(id="home-redirect", href=f"/wall/{sorted(who.rooms)[0]}")
    if not is_staff(who):
        return create_not_allowed_layout()
    rooms = sorted({d.room for d in store.devices()})
    return create_home_layout(who, rooms=rooms)


PAGES: list[tuple[re.Pattern[str], Page]] = [
    (re.compile(rf"^/wall/{_ROOM}/?$"), _wall),
    (re.compile(rf"^/remote/{_ROOM}/?$"), _remote),
    (re.compile(r"^/?$"), _home),
]


def resolve_page(path: str, query: dict[str, str], principal: Principal | None,
                 store: Any) -> Any:
    if path.rstrip("/") == "/login":
        return create_login_layout(error=query.get("error", ""),
                                   next_path=query.get("next", "/"))
    for pattern, page in PAGES:
        match = pattern.match(path)
        if match is None:
            continue
        if principal is None:
            if pattern.pattern.startswith("^/wall/"):
                return create_not_allowed_layout()
            return create_login_layout(error=query.get("error", ""), next_path=path)
        return page(match, query, principal, store)
    return create_not_found_layout(path)
