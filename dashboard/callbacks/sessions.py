"""Sessions list callback: the filters → the rows this principal may see."""

from __future__ import annotations

from typing import Any

import flask
from dash import Input, Output
from dash.exceptions import PreventUpdate

from access import is_staff
from dashboard import auth, ids
from dashboard.callbacks.registry import callback
from dashboard.layouts.sessions import LIMIT, count_text, sessions_table
from dashboard.page_data import filtered_rows


@callback(
    Output(ids.SESSIONS_TABLE, "children"),
    Output(ids.SESSIONS_COUNT, "children"),
    Input(ids.SESSIONS_CHILD, "value"),
    Input(ids.SESSIONS_THERAPIST, "value"),
    Input(ids.SESSIONS_ROOM, "value"),
    Input(ids.SESSIONS_DATES, "start_date"),
    Input(ids.SESSIONS_DATES, "end_date"),
    prevent_initial_call=True,
)
def filter_sessions(child: Any, therapist: Any, room: Any, start: Any, end: Any) -> tuple[Any, str]:
    principal = auth.current()
    if not is_staff(principal):
        raise PreventUpdate
    store = flask.current_app.extensions["dmi"]["store"]
    rows = filtered_rows(store, principal, child, therapist, room, start, end, limit=LIMIT)
    return sessions_table(rows), count_text(rows)
