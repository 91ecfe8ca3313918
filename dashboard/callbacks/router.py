"""The page router: every page goes through one authorised callback."""

from __future__ import annotations

from urllib.parse import parse_qs

import flask
from dash import Input, Output

from dashboard import auth, ids
from dashboard.callbacks.registry import callback
from dashboard.routes import resolve_page


@callback(Output(ids.PAGE, "children"), Input(ids.URL, "pathname"), Input(ids.URL, "search"))
def display_page(pathname: str | None, search: str | None):  # noqa: ANN201 - Dash tree
    query = {k: v[-1] for k, v in parse_qs((search or "").lstrip("?")).items()}
    signed_out = flask.g.get("signed_out")
    if signed_out:
        query["error"] = signed_out
    store = flask.current_app.extensions["dmi"]["store"]
    return resolve_page(pathname or "/", query, auth.current(), store)
