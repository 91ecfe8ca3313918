"""Sign-in page for therapists, supervisors and admins. The form posts to ``/login``."""

from __future__ import annotations

from dash import dcc, html

from dashboard import ids

MESSAGES = {
    "failed": "That user name and password do not match. Please try again.",
    "locked": "Too many attempts. Please wait a few minutes before trying again.",
    "expired": "You were signed out after a while without activity. Please sign in again.",
    "disabled": "This account is disabled. Ask your clinic's administrator.",
}


def create_login_layout(*, error: str = "", next_path: str = "/") -> html.Div:
    message = MESSAGES.get(error, "")
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
                              autoComplete="username", required=True, autoFocus=True),
                    html.Label("Password", htmlFor=ids.LOGIN_PASSWORD),
                    dcc.Input(id=ids.LOGIN_PASSWORD, name="password", type="password",
                              autoComplete="current-password", required=True),
                    dcc.Input(type="hidden", name="next", value=next_path),
                    html.Button("Sign in", id=ids.LOGIN_SUBMIT, type="submit",
                                className="button button-primary"),
                ],
            ),
        ],
    )
