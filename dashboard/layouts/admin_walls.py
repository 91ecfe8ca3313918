"""The admin page's wall-screen section: make a link for a room, see every link, revoke one.

The ids new to this section are defined here until they move to :mod:`dashboard.ids`
(owned by another change at the time): ``admin-kiosk-days``, ``admin-kiosk-table`` and
the pattern-matching ``{"type": "admin-kiosk-revoke", "link": <id>}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import dcc, html

from dashboard import admin_actions as aa
from dashboard import ids, kiosk_links


def kiosk_table(views: Sequence[aa.KioskView]) -> Any:
    def revoke(view: aa.KioskView) -> Any:
        if view.state != "active":
            return ""
        return html.Button("Revoke", id={"type": ids.ADMIN_KIOSK_REVOKE, "link": view.id},
                           n_clicks=0,
                           type="button", className="button admin-small")

    rows = [html.Tr([html.Td(cell) for cell in (
        v.id, v.room, html.Span(v.state, className=f"admin-state admin-state-{v.state}"),
        v.created_by, aa.when(v.created), aa.when(v.expires), revoke(v))],
        **{"data-kiosk-link": v.id}) for v in views]
    if not rows:
        return html.P("No wall-screen links yet.", className="admin-empty")
    head = ("Link", "Room", "State", "Made by", "Made", "Works until", "")
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(rows)],
                      className="admin-table")


def create_walls_section(rooms: Sequence[str], views: Sequence[aa.KioskView]) -> html.Section:
    def field(label: str, control: Any) -> html.Label:
        return html.Label([html.Span(label, className="admin-label"), control],
                          className="admin-field")

    return html.Section(id=ids.ADMIN_SECTION_WALLS, className="admin-card", children=[
        html.H2("Wall screens"),
        html.P("A wall-screen link signs one screen in for one room, for as many days as "
               f"you choose ({kiosk_links.DEFAULT_DAYS} by default). Revoke a link and its "
               "screen is signed out at once.", className="admin-help"),
        html.Fieldset(className="admin-form admin-inline", children=[
            html.Legend("Make a wall link"),
            field("Room", dcc.Dropdown(id=ids.ADMIN_KIOSK_ROOM,
                                       options=[{"label": r, "value": r} for r in rooms],
                                       placeholder="choose a room")),
            field("Works for (days)", dcc.Input(
                id=ids.ADMIN_KIOSK_DAYS, type="number", value=kiosk_links.DEFAULT_DAYS, min=1,
                max=kiosk_links.MAX_DAYS, step=1, debounce=False, className="admin-input")),
            html.Button("Make link", id=ids.ADMIN_KIOSK_SHOW, n_clicks=0, type="button",
                        className="button button-primary"),
        ]),
        html.Div(id=ids.ADMIN_KIOSK_RESULT, role="status"),
        html.Div(kiosk_table(views), id=ids.ADMIN_KIOSK_TABLE),
    ])
