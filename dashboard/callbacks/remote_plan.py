"""The remote offers the plan's next exercise first: picking a child whose block is running
puts the planned exercises at the top of the exercise list (the next one first, and
chosen) and makes the plan's reps the planned reps. The names stay as in the catalog.
Staff who may see the child only."""

from __future__ import annotations

import time
from typing import Any

import flask
from dash import Input, Output, State
from dash.exceptions import PreventUpdate

from access import is_staff
from dashboard import auth, ids
from dashboard.callbacks.registry import callback


def plan_options(exercises: list[Any], order: list[str], reps: dict[str, int]
                 ) -> tuple[list[dict[str, str]], dict[str, int]]:
    """Exercise options with the planned ones first, and default reps."""
    names = {e.key: e.name for e in exercises}
    planned = [{"label": names[k], "value": k} for k in order if k in names]
    rest = [{"label": e.name, "value": e.key} for e in exercises if e.key not in reps]
    defaults = {e.key: e.default_reps for e in exercises}
    defaults.update(reps)
    return planned + rest, defaults


@callback(
    Output(ids.REMOTE_EXERCISE, "options"),
    Output(ids.REMOTE_EXERCISE, "value"),
    Output(ids.REMOTE_DEFAULT_REPS, "data"),
    Input(ids.REMOTE_CHILD, "value"),
    State(ids.REMOTE_EXERCISE, "value"),
    prevent_initial_call=True,
)
def offer_plan(child: Any, current: Any) -> tuple[Any, Any, Any]:
    from review.block import next_in_plan

    principal = auth.current()
    if not isinstance(child, str) or principal is None or not is_staff(principal) or \
            not principal.can_see_child(child):
        raise PreventUpdate
    store = flask.current_app.extensions["dmi"]["store"]
    exercises = store.exercises()
    order, reps = next_in_plan(store, child, time.time())
    options, defaults = plan_options(exercises, order, reps)
    return options, order[0] if order else current, defaults
