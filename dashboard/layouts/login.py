"""Sign-in page for therapists, supervisors and admins. The form posts to ``/login``.

The same layout serves twice: inside the Dash app (a session that ends while a page is
open) and, for a visitor who is not signed in, as a plain HTML page
(:func:`static_page`), so that the Dash front end — and the callback graph it fetches —
is only ever loaded after signing in.
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html
from markupsafe import Markup, escape

from dashboard import ids

MESSAGES = {
    "failed": "That user name and password do not match. Please try again.",
    "locked": "Too many attempts. Please wait a moment before trying again.",
    "expired": "You were signed out after a while without activity. Please sign in again.",
    "disabled": "This account is disabled. Ask your clinic's administrator.",
    "signed-out": "You were signed out. Please sign in again.",
}
STYLESHEETS = ("/assets/app.css",)


def _message(error: str, wait_s: int) -> str:
    if error == "locked" and wait_s > 0:
        unit = "second" if wait_s == 1 else "seconds"
        return f"Too many attempts. Please wait {wait_s} {unit} before trying again."
    return MESSAGES.get(error, "")


def create_login_layout(*, error: str = "", next_path: str = "/", wait_s: int = 0,
                        username: str = "") -> html.Div:
    """``username``: filled in again after a failed try (the password never is)."""
    message = _message(error, wait_s)
    return html.Div(
        className="login-page",
        children=[
            html.H1("DMI Live"),
            html.P("Sign in to run sessions and review them.", className="login-lead"),
            html.Div(message, id=ids.LOGIN_MESSAGE, className="login-message",
                     hidden=not message, role="alert"),
            html.Form(
                method="POST",
                action="/login",
                className="login-form",
                children=[
                    html.Label("User name", htmlFor=ids.LOGIN_USER),
                    dcc.Input(id=ids.LOGIN_USER, name="username", type="text",
                              autoComplete="username", required=True,
                              autoFocus=not username, value=username or None),
                    html.Label("Password", htmlFor=ids.LOGIN_PASSWORD),
                    dcc.Input(id=ids.LOGIN_PASSWORD, name="password", type="password",
                              autoComplete="current-password", required=True,
                              autoFocus=bool(username)),
                    dcc.Input(type="hidden", name="next", value=next_path),
                    html.Button("Sign in", id=ids.LOGIN_SUBMIT, type="submit",
                                className="button button-primary"),
                ],
            ),
        ],
    )


# ----------------------------------------------------------------------------- plain HTML

_ATTRIBUTES = {"id": "id", "className": "class", "htmlFor": "for", "name": "name",
               "type": "type", "value": "value", "method": "method", "action": "action",
               "role": "role", "autoComplete": "autocomplete", "placeholder": "placeholder"}
_FLAGS = {"required": "required", "autoFocus": "autofocus", "hidden": "hidden",
          "readOnly": "readonly", "disabled": "disabled"}
_TAGS = {("dash_html_components", name): name.lower()
         for name in ("Div", "H1", "H2", "P", "Form", "Label", "Button", "Span", "A")}
_TAGS[("dash_core_components", "Input")] = "input"


def to_html(node: Any) -> Markup:
    """A small Dash tree (the sign-in form, a message page) as HTML, escaped.

    Only the components and properties those pages use are known; anything else is a
    programming error and raises ValueError rather than rendering half a page."""
    if node is None:
        return Markup("")
    if isinstance(node, str | int | float):
        return escape(str(node))
    if isinstance(node, list | tuple):
        return Markup("").join(to_html(child) for child in node)
    tree = node.to_plotly_json()
    tag = _TAGS.get((tree["namespace"], tree["type"]))
    if tag is None:
        raise ValueError(f"no plain HTML for {tree['namespace']}.{tree['type']}")
    props = tree["props"]
    attributes = [Markup(' {}="{}"').format(_ATTRIBUTES[k], v) for k, v in props.items()
                  if k in _ATTRIBUTES and v is not None]
    attributes += [Markup(" ") + _FLAGS[k] for k, v in props.items() if k in _FLAGS and v]
    opening = Markup("<{}{}>").format(tag, Markup("").join(attributes))
    if tag == "input":
        return opening
    return opening + to_html(props.get("children")) + Markup("</{}>").format(tag)


def static_page(body: Any, *, title: str = "DMI Live") -> str:
    """A whole HTML document around ``body`` (a Dash tree), with the site's stylesheet."""
    links = Markup("").join(Markup('<link rel="stylesheet" href="{}">').format(href)
                            for href in STYLESHEETS)
    return str(Markup(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>{}</title>{}</head><body>{}</body></html>"
    ).format(title, links, to_html(body)))
