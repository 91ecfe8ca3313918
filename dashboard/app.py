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
from typing import Any
from urllib.parse import urlencode

import dash
import flask
from dash import dcc, html
from werkzeug.exceptions import Forbidden

from dashboard import accounts, actions, auth, family_links, ids, routes
from dashboard.cache import init_cache
from dashboard.exports import init_exports
from dashboard.live import LiveHub
from dmi_live.settings import Settings

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent.parent / "assets"
CALLBACK_MODULES = (
    "dashboard.callbacks.router",
    "dashboard.callbacks.remote",
    "dashboard.callbacks.replay",
    "dashboard.callbacks.sessions",
    "dashboard.callbacks.progress",
    "dashboard.callbacks.admin",
)
IDLE_TIMEOUT_S = 30 * 60


def _safe_next(path: str | None) -> str:
    """Only same-site relative paths, never ``//host`` or a scheme."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def _register_auth_routes(server: flask.Flask, store: Any, throttle: accounts.Throttle) -> None:
    @server.before_request
    def _resolve_principal() -> Any:
        token = flask.request.args.get("k")
        if token is not None:
            principal = auth.kiosk_principal(server.secret_key, token)  # type: ignore[arg-type]
            if principal is None:
                raise Forbidden("this wall-screen link is not valid")
            auth.sign_in(principal)
            return flask.redirect(flask.request.path)
        principal = auth.current()
        if principal is None:
            return None
        if principal.kind == "family":
            link = store.family_link_by_hash(flask.session.get("link", ""))
            if link is None or not link.is_valid(time.time()):
                flask.session.clear()
                flask.g.signed_out = "link-ended"
            return None
        if principal.kind != "user":
            return None
        now = time.time()
        seen = flask.session.get("seen", 0.0)
        user = store.get_user(principal.name)
        if now - seen > IDLE_TIMEOUT_S or user is None or user.disabled:
            flask.session.clear()
            flask.g.signed_out = "expired" if user is not None and not user.disabled else "disabled"
            return None
        if user.role != principal.role:  # promoted or demoted since signing in
            auth.sign_in(auth.Principal(kind="user", name=user.username, role=user.role))
            seen = 0.0
        if now - seen > 30:  # refresh the cookie at most every 30 s
            flask.session["seen"] = now
        return None

    @server.post("/login")
    def login() -> Any:
        form = flask.request.form
        username = form.get("username", "").strip()
        password = form.get("password", "")
        next_path = _safe_next(form.get("next"))
        keys = [f"user:{username.lower()}", f"addr:{flask.request.remote_addr}"]
        if any(throttle.retry_after(k) > 0 for k in keys):
            return flask.redirect("/login?" + urlencode({"error": "locked", "next": next_path}))
        user = store.get_user(username) if username else None
        ok = accounts.verify_password(password, user.password_hash if user else
                                      accounts.DUMMY_HASH)
        if not ok or user is None:
            for key in keys:
                throttle.failed(key)
            log.info("failed sign-in for %r from %s", username, flask.request.remote_addr)
            return flask.redirect("/login?" + urlencode({"error": "failed", "next": next_path}))
        if user.disabled:
            return flask.redirect("/login?" + urlencode({"error": "disabled"}))
        for key in keys:
            throttle.succeeded(key)
        auth.sign_in(auth.Principal(kind="user", name=user.username, role=user.role))
        flask.session["seen"] = time.time()
        store.audit(user.username, "sign-in")
        return flask.redirect(next_path)

    @server.get("/family/link/<token>")
    def family_link(token: str) -> Any:
        """Open a family link: sign this browser in for the link's one child."""
        secret = str(server.secret_key)
        link = None
        if family_links.signature_ok(secret, token):
            link = store.family_link_by_hash(family_links.token_hash(token))
        if link is None or not link.is_valid(time.time()):
            log.info("refused family link from %s", flask.request.remote_addr)
            return flask.redirect("/family?ended=1")
        auth.sign_in(auth.Principal(kind="family", name=f"family-link-{link.id}", role="family",
                                    rooms=frozenset(), children=frozenset([link.child])))
        flask.session["link"] = link.token_hash
        store.audit(f"family-link-{link.id}", "open family link", link.child)
        return flask.redirect("/family")

    @server.post("/logout")
    def logout() -> Any:
        flask.session.clear()
        return flask.redirect("/login")


def _register_live_routes(server: flask.Flask, hub: LiveHub) -> None:
    @server.get("/live/<room>/stream")
    def live_stream(room: str) -> flask.Response:
        auth.require_room(room)
        response = flask.Response(
            flask.stream_with_context(hub.stream(room)), mimetype="text/event-stream"
        )
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Accel-Buffering"] = "no"
        return response

    @server.get("/live/family/stream")
    def family_stream() -> flask.Response:
        principal = auth.current()
        if principal is None or principal.kind != "family" or not principal.children:
            raise Forbidden("family links only")
        (child,) = principal.children
        response = flask.Response(
            flask.stream_with_context(hub.family_stream(child)), mimetype="text/event-stream"
        )
        response.headers["Cache-Control"] = "no-store"
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


_CALLBACKS: tuple[list[Any], dict[str, Any], list[str]] | None = None


def _attach_callbacks(app: dash.Dash) -> None:
    """Give this app every ``@callback`` of :data:`CALLBACK_MODULES`.

    Dash moves the global ``@callback`` registry into the *first* app that serves a
    request and empties it, so a second app in the same process (an in-process restart,
    the tests) would have no callbacks. We take the registry once and hand each app its
    own copy, leaving the global one empty.
    """
    global _CALLBACKS
    from dash import _callback

    for module in CALLBACK_MODULES:
        importlib.import_module(module)
    if _CALLBACKS is None:
        _CALLBACKS = (list(_callback.GLOBAL_CALLBACK_LIST), dict(_callback.GLOBAL_CALLBACK_MAP),
                      list(_callback.GLOBAL_INLINE_SCRIPTS))  # clientside callbacks' JS
    _callback.GLOBAL_CALLBACK_LIST.clear()
    _callback.GLOBAL_CALLBACK_MAP.clear()
    _callback.GLOBAL_INLINE_SCRIPTS.clear()
    callback_list, callback_map, scripts = _CALLBACKS
    app._callback_list.extend(dict(c) for c in callback_list)
    app.callback_map.update(callback_map)
    app._inline_scripts.extend(scripts)


def _register_action_routes(server: flask.Flask, hub: LiveHub, store: Any) -> None:
    """The wall's keyboard shortcuts: JSON actions for a kiosk of the room or staff."""

    @server.post("/api/rooms/<room>/actions")
    def room_action(room: str) -> Any:
        principal = auth.require_room(room)
        if not (principal.kind == "kiosk" or routes.is_staff(principal)):
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


def create_app(settings: Settings, *, hub: LiveHub, store: Any) -> dash.Dash:
    """Build the Dash app around a live hub and an open :class:`store.Store`."""
    settings = settings.with_secret_key()
    server = flask.Flask("dmi_live_dashboard")
    server.secret_key = settings.secret_key
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.http_tls,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
    )
    _register_auth_routes(server, store, accounts.Throttle())
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
    server.extensions["dmi"] = {"settings": settings, "hub": hub, "store": store}
    init_cache(server, settings)
    init_exports(server, settings)
    return app
