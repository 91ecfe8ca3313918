"""The wall screen of one room: a TV seen from 3–4 m (1920×1080, also 1280×720 and
3840×2160: sizes scale with the screen, ``assets/wall.css``). Dark, high contrast, large
type, no scrolling. While nobody stands on the board it says so over the last picture.

Live data never goes through a Dash callback: ``assets/live.js`` opens the room's
server-sent-event stream, extends the plots and fills the ``data-live`` fields.
Keyboard: space = +1 rep, backspace = −1 rep, s = start/stop set (repeats the last set).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from dash import dcc, html

from dashboard import figures, ids

GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}


def _field(key: str, text: str = "—", **extra: str) -> html.Span:
    return html.Span(text, className=f"live-{key}", **{"data-live": key}, **extra)


def create_wall_layout(room: str, *, exercise_names: Mapping[str, str] | None = None
                       ) -> html.Div:
    return html.Div(
        id=ids.WALL_ROOT,
        className="wall",
        tabIndex="0",
        **{"data-live-room": room, "data-live-keys": "wall",
           "data-exercise-names": json.dumps(dict(exercise_names or {}))},
        children=[
            html.Header(className="wall-header", children=[
                html.H1(f"Room {room}", className="wall-title"),
                html.Div(id=ids.WALL_LIGHTS, className="wall-lights",
                         **{"data-live-lights": "1"}),
            ]),
            html.Div(id=ids.WALL_BANNER, className="wall-banner",
                     children="Connecting to the live stream…",
                     **{"data-state": "connecting", "data-live-banner": "1"}),
            html.Section(className="wall-now", children=[
                html.Div(className="wall-exercise", children=[
                    _field("exercise", "No set running"),
                    html.Div(className="wall-setup", children=[
                        _field("surface", ""), _field("support", ""),
                    ]),
                ]),
                html.Div(className="wall-timer", children=[_field("timer", "0:00")]),
                html.Div(className="wall-count", id=ids.WALL_COUNT, children=[
                    _field("reps", "0"), html.Span(" / ", className="live-sep"),
                    _field("planned", "0"), html.Div("reps", className="wall-count-label"),
                ]),
            ]),
            html.Main(className="wall-grid", children=[
                html.Section(className="wall-panel wall-panel-cop", children=[
                    html.H2("Balance — last 5 s, ring = 95 % of the last 10 s"),
                    html.Div(className="wall-board-empty", id=ids.WALL_BOARD_EMPTY,
                             **{"data-live": "board-empty", "role": "status"}),
                    dcc.Graph(id=ids.WALL_COP_GRAPH, className="wall-graph",
                              figure=figures.stabilogram_figure(), config=GRAPH_CONFIG),
                ]),
                html.Div(className="wall-side", children=[
                    html.Section(className="wall-panel wall-panel-gauge", children=[
                        html.H2("Steadiness"),
                        html.Div(className="gauge", id=ids.WALL_GAUGE, children=[
                            html.Div(className="gauge-bar", **{"data-live-gauge": "1"}),
                            _field("score", "–"),
                        ]),
                    ]),
                    html.Section(className="wall-panel wall-panel-tilt", children=[
                        html.H2("Trunk tilt"),
                        dcc.Graph(id=ids.WALL_TILT_GRAPH, className="wall-graph",
                                  figure=figures.tilt_figure(), config=GRAPH_CONFIG),
                    ]),
                ]),
            ]),
            html.Footer(className="wall-note", children=[
                html.Span("Latest note: ", className="wall-note-label"), _field("note", "—"),
            ]),
        ],
    )
