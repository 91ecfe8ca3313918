"""Signed-in start page: the rooms, each with its wall screen and remote."""

from __future__ import annotations

from collections.abc import Sequence

from dash import dcc, html

from access import Principal


def create_home_layout(principal: Principal, *, rooms: Sequence[str]) -> html.Div:
    cards = [
        html.Li(className="room-card", children=[
            html.H2(f"Room {room}"),
            dcc.Link("Remote (tablet)", href=f"/remote/{room}", className="button button-primary"),
            dcc.Link("Wall screen", href=f"/wall/{room}", className="button"),
        ])
        for room in rooms
    ]
    return html.Div(className="home-page", children=[
        html.Header(className="page-header", children=[
            html.H1("DMI Live"),
            html.Form(method="POST", action="/logout", children=[
                html.Span(f"{principal.name} · {principal.role}", className="who"),
                html.Button("Sign out", type="submit", className="button"),
            ]),
        ]),
        html.Nav(className="home-links", children=[
            dcc.Link("Sessions and replay", href="/sessions", className="button"),
            dcc.Link("Family links", href="/family-links", className="button"),
            *([dcc.Link("Administration", href="/admin", className="button")]
              if principal.role == "admin" else []),
        ]),
        html.Ul(cards, className="room-list") if cards else html.P(
            "No rooms yet: a room appears when its first device connects."),
    ])
