"""Progress page callback: exercise and sway measure → the figure, for a child the
signed-in principal may see."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State
from dash.exceptions import PreventUpdate

from access import is_staff
from dashboard import auth, cache, ids
from dashboard.callbacks.registry import callback
from dashboard.figures_replay import PROGRESS_METRICS, progress_figure
from dashboard.layouts.progress import SESSIONS
from review.metrics import progress_points


@callback(
    Output(ids.PROGRESS_GRAPH, "figure"),
    Input(ids.PROGRESS_EXERCISE, "value"),
    Input(ids.PROGRESS_METRIC, "value"),
    State(ids.PROGRESS_CHILD, "data"),
    prevent_initial_call=True,
)
def update_progress(exercise: Any, metric: Any, child: Any) -> dict[str, Any]:
    principal = auth.current()
    if not isinstance(child, str) or not is_staff(principal) or \
            not principal.can_see_child(child) or metric not in PROGRESS_METRICS:
        raise PreventUpdate
    points = progress_points(cache.child_history(principal, child, limit=SESSIONS))
    return progress_figure(points, exercise if isinstance(exercise, str) else None, metric)
