"""The page router: every page goes through one authorised callback."""

from __future__ import annotations

from dash import Input, Output, callback

from dashboard import auth, ids
from dashboard.routes import resolve_page


@callback(Output(ids.PAGE, "children"), Input(ids.URL, "pathname"))
def display_page(pathname: str | None):  # noqa: ANN201 - Dash component tree
    return resolve_page(pathname or "/", auth.current())
