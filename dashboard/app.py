"""The dashboard application: ``create_app(settings, hub=…, store=…)`` → Dash.

Authorization is on the server. Flask routes check the principal themselves; every
Dash page goes through the router callback, which asks :mod:`dashboard.routes` whether
this principal may see it; every other callback checks the room or child it touches.
"""

from __future__ import annotations

import importlib
import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

import dash
import flask
from dash import dcc, html
from werkzeug.exceptions import Forbidden

from access import is_staff
from dashboard import actions, auth, auth_routes, ids, web_guard
from dashboard.block_routes import init_block_routes
from dashboard.cache import init_cache
from dashboard.exports import init_exports
from dashboard.live import LiveHub
from dashboard.throttle import SignInThrottle
from store import Store

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent.parent / "assets"
CALLBACK_MODULES = (
    "dashboard.callbacks.router",
    "dashboard.callbacks.remote",
    "dashboard.callbacks.replay",
    "dashboard.callbacks.sessions",
    "dashboard.callbacks.progress",
    "dashboard.callbacks.plan",
    "dashboard.callbacks.remote_plan",
    "dashboard.callbacks.admin",
)


class AppSettings(Protocol):
    """What the dashboard reads of the settings (:class:`dmi_live.settings.Settings` is
    one); the command line builds them, the dashboard never loads them itself."""

    @property
    def site(self) -> str: ...
    @property
    def rooms(self) -> tuple[str, ...]: ...
    @property
    def data_dir(self) -> Path: ...
    @property
    def cache_url(self) -> str: ...
    @property
    def http_tls(self) -> bool: ...
    @property
    def secret_key(self) -> str: ...

    def with_secret_key(self) -> AppSettings: ...


def _register_live_routes(server: flask.Flask, hub: LiveHub) -> None:
    """Live streams: limited per principal and process, audited, and re-authorised every
    few seconds while open (:mod:`dashboard.streams`). The streams run outside the
    request: what they need is captured when they open."""
    from dashboard import streams

    opens = streams.OpenAudit()

    def store() -> Any:
        return server.extensions["dmi"]["store"]

    @server.get("/live/<room>/stream")
    def live_stream(room: str) -> flask.Response:
        principal = auth.require_room(room)
        state = hub.room_state(room)
        return streams.open_stream(
            store(), hub.streams, opens, principal, subject=room,
            child=state.child if state is not None and state.session else None,
            make=lambda guard: hub.stream(room, guard=guard))

    @server.get("/live/family/stream")
    def family_stream() -> flask.Response:
        principal = auth.current()
        if principal is None or principal.kind != "family" or not principal.children:
            raise Forbidden("family links only")
        (child,) = principal.children
        return streams.open_stream(
            store(), hub.streams, opens, principal, subject="family", child=child,
            make=lambda guard: hub.family_stream(child, guard=guard))

    @server.get("/healthz")
    def healthz() -> dict[str, Any]:
        body: dict[str, Any] = {"broker_connected": hub.connected.is_set(),
                                "rejected": hub.rejected}
        if is_staff(auth.current()):  # the hub's counters, for staff only
            body["live"] = {**hub.stats.as_dict(), "streams": hub.streams.open_streams()}
        return body

    @server.after_request
    def _security_headers(response: flask.Response) -> flask.Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response


def _attach_callbacks(app: dash.Dash) -> None:
    """Give this app every callback of :data:`CALLBACK_MODULES`
    (:mod:`dashboard.callbacks.registry`)."""
    from dashboard.callbacks import registry

    for module in CALLBACK_MODULES:
        importlib.import_module(module)
    registry.attach(app)


def _register_action_routes(server: flask.Flask, hub: LiveHub, store: Store) -> None:
    """The wall's keyboard shortcuts: JSON actions for a kiosk of the room or staff."""

    @server.post("/api/rooms/<room>/actions")
    def room_action(room: str) -> Any:
        principal = auth.require_room(room)
        if not (principal.kind == "kiosk" or is_staff(principal)):
            raise Forbidden("not allowed to act in this room")
        body = flask.request.get_json(silent=True)
        if not isinstance(body, dict):
            return {"error": "expected a JSON object"}, 400
        from dashboard.callbacks.remote import author_id

        author, now, state = author_id(principal, store), time.time(), hub.room_state(room)
        try:
            if body.get("action") == "rep" and body.get("delta") in (1, -1):
                events = [actions.rep(state, delta=body["delta"], author=author, now=now)]
            elif body.get("action") == "toggle-set":
                events = [actions.toggle_set(state, last=hub.last_set(room), author=author,
                                             now=now)]
            else:
                return {"error": f"unknown action {body.get('action')!r}"}, 400
            for event in events:
                hub.publish_event(room, event)
        except (actions.ActionError, ConnectionError) as exc:
            return {"error": str(exc)}, 409
        return {"ok": True, "events": [e.type for e in events]}


def create_app(settings: AppSettings, *, hub: LiveHub, store: Store,
               throttle: SignInThrottle | None = None) -> dash.Dash:
    """Build the Dash app around a live hub and an open :class:`store.Store`.

    ``throttle``: the sign-in throttle (default: the store's shared one with the standard
    delays; tests give one with other delays)."""
    settings = settings.with_secret_key()
    server = flask.Flask("dmi_live_dashboard")
    server.secret_key = settings.secret_key
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.http_tls,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
    )
    auth_routes.register(server, store, throttle or SignInThrottle(store))
    _register_live_routes(server, hub)
    _register_action_routes(server, hub, store)
    app = dash.Dash(
        __name__,
        server=server,
        assets_folder=str(ASSETS),
        suppress_callback_exceptions=True,
        title="DMI Live",
        update_title=None,
    )
    app.layout = html.Div([dcc.Location(id=ids.URL), html.Div(id=ids.PAGE)])
    _attach_callbacks(app)
    web_guard.install(app)
    server.extensions["dmi"] = {"settings": settings, "hub": hub, "store": store}
    init_cache(server, settings)
    init_exports(server, settings)
    init_block_routes(server)
    return app
