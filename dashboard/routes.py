"""Path → page, with the authorisation rule of each page. Pure: testable without Dash."""

from __future__ import annotations

import re

from dash import html

from dashboard.auth import Principal
from dashboard.layouts.common import (
    create_message_layout,
    create_not_allowed_layout,
    create_not_found_layout,
)
from dashboard.layouts.wall import create_wall_layout

_WALL = re.compile(r"^/wall/([a-z0-9][a-z0-9_-]{0,63})/?$")


def resolve_page(path: str, principal: Principal | None) -> html.Div:
    match = _WALL.match(path)
    if match:
        room = match.group(1)
        if principal is None or not principal.can_see_room(room):
            return create_not_allowed_layout()
        return create_wall_layout(room)
    if path in ("/", ""):
        if principal is None:
            return create_not_allowed_layout()
        rooms = sorted(principal.rooms or [])
        return create_message_layout(
            "DMI Live", "Wall screens: " + (", ".join(f"/wall/{r}" for r in rooms) or "—")
        )
    return create_not_found_layout(path)
