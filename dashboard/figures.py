"""Figure builders: pure functions from data to plotly figures (no Dash, no I/O)."""

from __future__ import annotations

import plotly.graph_objects as go

WALL_BG = "#0b0f14"
WALL_FG = "#e8eef5"
WALL_GRID = "#243040"
COP_COLOUR = "#4fd1ff"
PITCH_COLOUR = "#ffb347"
ROLL_COLOUR = "#b48cff"


def _wall_layout(fig: go.Figure, **axes: dict) -> go.Figure:
    fig.update_layout(
        paper_bgcolor=WALL_BG,
        plot_bgcolor=WALL_BG,
        font={"color": WALL_FG, "size": 22},
        margin={"l": 70, "r": 20, "t": 10, "b": 60},
        showlegend=False,
        uirevision="wall",
        **axes,
    )
    fig.update_xaxes(gridcolor=WALL_GRID, zerolinecolor=WALL_GRID)
    fig.update_yaxes(gridcolor=WALL_GRID, zerolinecolor=WALL_GRID)
    return fig


def stabilogram_figure(*, limit_cm: float = 6.0) -> go.Figure:
    """Empty live stabilogram: ML (+right) on x, AP (+forward) on y, fixed square range.

    Trace 0 is the fading trail: markers coloured by time, the colour scale running from
    transparent (5 s ago) to bright (now) as the browser moves ``cmin``/``cmax``.
    Trace 1 is the live 95 % prediction ellipse of the last 10 s.
    """
    fig = go.Figure(
        [
            go.Scatter(
                x=[], y=[], mode="markers", name="centre of pressure", hoverinfo="skip",
                marker={"size": 7, "color": [], "cmin": 0, "cmax": 5,
                        "colorscale": [[0, "rgba(79,209,255,0)"], [1, "rgba(79,209,255,1)"]],
                        "showscale": False},
            ),
            go.Scatter(x=[], y=[], mode="lines", name="95 % ellipse", hoverinfo="skip",
                       line={"color": "#ffe066", "width": 3}),
        ]
    )
    return _wall_layout(
        fig,
        xaxis={"range": [-limit_cm, limit_cm], "title": {"text": "left ← ML (cm) → right"},
               "fixedrange": True},
        yaxis={"range": [-limit_cm, limit_cm], "title": {"text": "AP (cm)"},
               "scaleanchor": "x", "fixedrange": True},
    )


def tilt_figure(*, limit_deg: float = 45.0) -> go.Figure:
    """Empty live trunk tilt: pitch and roll (degrees) against seconds."""
    fig = go.Figure(
        [
            go.Scatter(x=[], y=[], mode="lines", line={"color": PITCH_COLOUR, "width": 3},
                       name="forward/back (pitch)", hoverinfo="skip"),
            go.Scatter(x=[], y=[], mode="lines", line={"color": ROLL_COLOUR, "width": 3},
                       name="sideways (roll)", hoverinfo="skip"),
        ]
    )
    fig = _wall_layout(
        fig,
        xaxis={"title": {"text": "seconds ago"}, "range": [-10, 0], "fixedrange": True},
        yaxis={"range": [-limit_deg, limit_deg], "title": {"text": "trunk tilt (°)"},
               "fixedrange": True},
    )
    fig.update_layout(showlegend=True, legend={"orientation": "h", "y": 1.02, "x": 0})
    return fig
