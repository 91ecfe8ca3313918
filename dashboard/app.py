"""The dashboard application: ``create_app(settings)`` → Dash; ``server = app.server``."""

from __future__ import annotations

import importlib
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import dash
import flask
from dash import dcc, html
from werkzeug.exceptions import Forbidden

from dashboard import auth, ids
from dashboard.live import LiveHub
from dmi_live.settings import Settings

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent.parent / "assets"
CALLBACK_MODULES = ("dashboard.callbacks.router",)


def _register_routes(server: flask.Flask, hub: LiveHub) -> None:
    @server.before_request
    def _kiosk_link() -> Any:
        token = flask.request.args.get("k")
        if token is None:
            return None
        principal = auth.kiosk_principal(server.secret_key, token)  # type: ignore[arg-type]
        if principal is None:
            raise Forbidden("this wall-screen link is not valid")
        auth.sign_in(principal)
        return flask.redirect(flask.request.path)

    @server.get("/live/<room>/stream")
    def live_stream(room: str) -> flask.Response:
        auth.require_room(room)
        response = flask.Response(
            flask.stream_with_context(hub.stream(room)), mimetype="text/event-stream"
        )
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Accel-Buffering"] = "no"
        return response

    @server.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"broker_connected": hub.connected.is_set(), "rejected": hub.rejected}

    @server.after_request
    def _security_headers(response: flask.Response) -> flask.Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response


def create_app(settings: Settings, *, hub: LiveHub) -> dash.Dash:
    """Build the Dash app around a running (or about to run) live hub."""
    settings = settings.with_secret_key()
    server = flask.Flask("dmi_live_dashboard")
    server.secret_key = settings.secret_key
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
    )
    _register_routes(server, hub)
    app = dash.Dash(
        __name__,
        server=server,
        assets_folder=str(ASSETS),
        suppress_callback_exceptions=True,
        title="DMI Live",
        update_title=None,
    )
    app.layout = html.Div([dcc.Location(id=ids.URL), html.Div(id=ids.PAGE)])
    for module in CALLBACK_MODULES:
        importlib.import_module(module)
    server.extensions["dmi"] = {"settings": settings, "hub": hub}
    return app
