"""What every request and response of the dashboard passes through, besides who is asking.

- **Headers**: a Content-Security-Policy that Dash works with (scripts only from this
  site plus the hashes of Dash's inline scripts, :meth:`dash.Dash.csp_hashes`; no
  ``eval``; inline styles allowed because React components and Plotly set them), no
  framing, ``nosniff``, and ``Referrer-Policy: same-origin`` (with ``no-referrer`` a
  browser sends ``Origin: null`` on its own same-site form posts, which
  :func:`require_same_origin` would refuse).
- **Cross-site posts**: :func:`require_same_origin` refuses a request whose ``Origin``
  (or, without one, ``Referer``) names another site.
- **Anonymous visitors** never load the Dash front end: a page asks them to sign in
  (a plain HTML page, :mod:`dashboard.layouts.login`), ``/_dash-dependencies`` (the
  callback graph, which names the admin callbacks) answers 401 and ``/healthz`` says
  only ``{"ok": true}``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

import dash
import flask
from werkzeug.exceptions import Forbidden

from access import is_staff
from dashboard import auth, routes
from dashboard.layouts import login as login_view
from dashboard.layouts.common import create_not_allowed_layout

log = logging.getLogger(__name__)

_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _origin(scheme: str, netloc: str) -> str:
    """``host[:port]`` in lower case, without the scheme's default port."""
    parts = urlsplit(f"//{netloc}")
    try:
        port = parts.port
    except ValueError:  # not a port: compared as written
        return netloc.lower()
    host = (parts.hostname or "").lower()
    if port is None or str(port) == _DEFAULT_PORTS.get(scheme.lower()):
        return host
    return f"{host}:{port}"


def same_origin() -> bool | None:
    """Whether this request comes from one of our own pages: True or False by its
    ``Origin`` header (else its ``Referer``), None when it sends neither.

    Only host and port are compared, not the scheme: behind a proxy that ends TLS the
    request reaches us as ``http`` while the browser's origin is ``https``."""
    request = flask.request
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if source is None:
        return None
    parts = urlsplit(source.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False  # "null" (a sandboxed or privacy-stripped origin) included
    return _origin(parts.scheme, parts.netloc) == _origin(request.scheme, request.host)


def require_same_origin() -> None:
    """Refuse (403) a request sent by another site's page. One with neither ``Origin``
    nor ``Referer`` (a script, ``curl``) passes: browsers send ``Origin`` on every
    cross-site POST."""
    if same_origin() is False:
        log.info("refused cross-site %s %s from %r", flask.request.method, flask.request.path,
                 flask.request.headers.get("Origin") or flask.request.headers.get("Referer"))
        raise Forbidden("this form may only be sent from DMI Live's own pages")


def content_security_policy(script_hashes: Sequence[str]) -> str:
    return "; ".join([
        "default-src 'self'",
        "script-src " + " ".join(["'self'", *script_hashes]),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


_FAMILY = re.compile(r"^/family(/|$)")
_WALL = re.compile(r"^/wall/")


def _anonymous_page(path: str) -> Any:
    """A Dash page asked for by someone not signed in: a plain page, no Dash."""
    if _FAMILY.match(path):
        return login_view.static_page(routes.link_ended_layout(), title="Link ended")
    if _WALL.match(path):
        return login_view.static_page(create_not_allowed_layout(), title="DMI Live"), 403
    query = {"next": auth.safe_next(flask.request.full_path.rstrip("?"))}
    signed_out = flask.g.get("signed_out")
    if signed_out:
        query["error"] = signed_out
    return flask.redirect("/login?" + urlencode(query))


def install(app: dash.Dash) -> None:
    """Register the checks and headers on ``app``'s server (after who is asking is known)."""
    server = app.server
    prefix = app.config.routes_pathname_prefix
    dash_pages = {prefix, prefix + "<path:path>"}
    dependencies = prefix + "_dash-dependencies"

    @server.before_request
    def _anonymous_visitors() -> Any:
        principal = auth.current()
        endpoint = flask.request.endpoint
        if flask.request.path == "/healthz" and not is_staff(principal):
            return {"ok": True}
        if principal is not None:
            return None
        if endpoint == dependencies:
            return {"error": "sign in first"}, 401
        if endpoint in dash_pages and flask.request.method in ("GET", "HEAD"):
            return _anonymous_page(flask.request.path)
        return None

    @server.after_request
    def _security_headers(response: flask.Response) -> flask.Response:
        headers = response.headers
        headers["Content-Security-Policy"] = content_security_policy(app.csp_hashes())
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        headers["X-Frame-Options"] = "DENY"
        return response
