"""Progress page callbacks: the sway section once the page is open, then exercise and sway
measure → the figure; each for a child the signed-in principal may see."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State
from dash.exceptions import PreventUpdate

from access import is_staff
from dashboard import auth, ids
from dashboard.callbacks.registry import callback
from dashboard.figures_replay import PROGRESS_METRICS, progress_figure
from dashboard.layouts.progress import SESSIONS, sway_section
from dashboard.page_data import sway_points, sway_trends


@callback(
    Output(ids.PROGRESS_GRAPH, "figure"),
    Input(ids.PROGRESS_EXERCISE, "value"),
    Input(ids.PROGRESS_METRIC, "value"),
    State(ids.PROGRESS_CHILD, "data"),
)
def update_progress(exercise: Any, metric: Any, child: Any) -> dict[str, Any]:
    principal = auth.current()
    if not isinstance(child, str) or not is_staff(principal) or \
            not principal.can_see_child(child) or metric not in PROGRESS_METRICS or \
            not isinstance(exercise, str):
        raise PreventUpdate
    return progress_figure(sway_points(principal, child, limit=SESSIONS), exercise, metric)


@callback(
    Output(ids.PROGRESS_TRENDS, "children"),
    Output(ids.PROGRESS_EXERCISE, "options"),
    Output(ids.PROGRESS_EXERCISE, "value"),
    Input(ids.PROGRESS_CHILD, "data"),
)
def load_sway(child: Any) -> tuple[Any, list[dict[str, str]], Any]:
    principal = auth.current()
    if not isinstance(child, str) or principal is None or not is_staff(principal) or \
            not principal.can_see_child(child):
        raise PreventUpdate
    return sway_section(sway_trends(principal, child, limit=SESSIONS))
