"""The wall screen of one room: dark, high contrast, readable from 3–4 m, no scrolling.

Live data never goes through a Dash callback: ``assets/live.js`` opens the room's
server-sent-event stream and extends the traces in the browser.
"""

from __future__ import annotations

from dash import dcc, html

from dashboard import figures, ids

GRAPH_CONFIG = {"displayModeBar": False, "staticPlot": False, "responsive": True}


def create_wall_layout(room: str) -> html.Div:
    return html.Div(
        id=ids.WALL_ROOT,
        className="wall",
        **{"data-live-room": room},
        children=[
            html.Header(
                className="wall-header",
                children=[
                    html.H1(f"Room {room}", className="wall-title"),
                    html.Div(id=ids.WALL_LIGHTS, className="wall-lights"),
                ],
            ),
            html.Div(
                id=ids.WALL_BANNER,
                className="wall-banner",
                children="Connecting to the live stream…",
                **{"data-state": "connecting"},
            ),
            html.Main(
                className="wall-grid",
                children=[
                    html.Section(
                        className="wall-panel wall-panel-cop",
                        children=[
                            html.H2("Balance — centre of pressure, last 10 s"),
                            dcc.Graph(id=ids.WALL_COP_GRAPH, className="wall-graph",
                                      figure=figures.stabilogram_figure(),
                                      config=GRAPH_CONFIG),
                        ],
                    ),
                    html.Section(
                        className="wall-panel wall-panel-tilt",
                        children=[
                            html.H2("Trunk tilt"),
                            dcc.Graph(id=ids.WALL_TILT_GRAPH, className="wall-graph",
                                      figure=figures.tilt_figure(), config=GRAPH_CONFIG),
                        ],
                    ),
                ],
            ),
        ],
    )
